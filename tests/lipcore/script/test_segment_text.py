"""Segment ``text``/``speaker``: optional schema-2 fields, saved and loaded, absent = empty."""

from __future__ import annotations

import json

from lipcore.project import Project, Segment, load_project, project_to_dict, save_project


def test_text_and_speaker_round_trip_and_default_when_absent(tmp_path):
    project = Project(
        frame_count=100,
        segments=[
            Segment(id="a", start_frame=0, end_frame=10, text="Grüß Gott", speaker="Eva"),
            Segment(id="b", start_frame=20, end_frame=30),
        ],
    )
    path = save_project(project, tmp_path / "p.lsproj")
    loaded = load_project(path)
    assert [(s.text, s.speaker) for s in loaded.segments] == [("Grüß Gott", "Eva"), ("", "")]
    assert project_to_dict(loaded, tmp_path) == project_to_dict(project, tmp_path)
    data = json.loads(path.read_text())
    for seg in data["segments"]:  # a file written before the fields existed
        del seg["text"], seg["speaker"]
    data["schema_version"] = 1
    path.write_text(json.dumps(data))
    assert [(s.text, s.speaker) for s in load_project(path).segments] == [("", ""), ("", "")]
