"""Hand-drawn face boxes, the engine a render ran and still clips in the project and document.

Face boxes are keyed per face target, undoable, saved and loaded, make rendered segments stale
and reach the render request; the engines of a render are stored with the segment's render
state; a still image opens as a clip with its still fps.
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

from editor.model.document import Document
from lipcore.project import dumps_project, load_project, save_project


def state(doc: Document) -> dict:
    return json.loads(dumps_project(doc.project, None))


def test_face_box_keys_do_undo_redo_and_interpolate(doc):
    before = state(doc)
    doc.set_face_box(0, (10, 20, 110, 140), None)
    after_one = state(doc)
    assert after_one != before
    assert doc.project.boxes_for(None) == ((0, 10.0, 20.0, 100.0, 120.0),)
    doc.set_face_box(40, (30, 20, 130, 140), None)  # a key on another frame
    doc.set_face_box(40, (40, 20, 140, 140), None)  # redrawn there: replaces that key
    assert [k[0] for k in doc.project.boxes_for(None)] == [0, 40]
    assert doc.project.boxes_for(None)[1][1] == 40.0
    doc.undo()
    assert doc.project.boxes_for(None)[1][1] == 30.0
    doc.undo()
    assert state(doc) == after_one
    doc.undo()
    assert state(doc) == before
    doc.redo()
    assert state(doc) == after_one
    doc.redo()
    doc.delete_face_box(0, None)
    assert [k[0] for k in doc.project.boxes_for(None)] == [40]
    doc.delete_face_box(None, None)
    assert doc.project.boxes_for(None) == ()
    doc.undo()
    assert [k[0] for k in doc.project.boxes_for(None)] == [40]


def test_face_boxes_engines_still_fps_round_trip(doc, tmp_path):
    seg = doc.add_segment(
        0, 20, audio_track_id=next(t.id for t in doc.project.audio_tracks if not t.is_original)
    )
    h_before = doc.project.segment_params_hash(doc.project.segment(seg))
    doc.set_face_box(5, (10.5, 20, 110, 140), None)
    doc.set_face_box(0, (1, 2, 50, 60), "track-7")
    h_after = doc.project.segment_params_hash(doc.project.segment(seg))
    assert h_after != h_before, "drawing a box makes the segment's render stale"
    doc.mark_rendered(seg, tmp_path / "x.lschunk", h_after, [("oneshot", "no speaking footage")])
    doc.project.still_fps = Fraction(30000, 1001)
    path = save_project(doc.project, tmp_path / "p.lsproj")
    back = load_project(path)
    assert back.face_boxes == doc.project.face_boxes
    assert back.still_fps == Fraction(30000, 1001)
    assert back.segment(seg).render.engines == (("oneshot", "no speaking footage"),)
    # The request carries the boxes (the box track replaces detection) and the still fps.
    req = back.render_request([seg], tmp_path / "o.mp4")
    assert req.face.boxes == ((5, 10.5, 20.0, 99.5, 120.0),)
    assert req.face.track_id == "auto"
    assert req.still_fps == Fraction(30000, 1001)


def test_project_without_new_fields_loads_with_defaults(doc, tmp_path):
    path = save_project(doc.project, tmp_path / "p.lsproj")
    data = json.loads(Path(path).read_text())
    for key in ("still_fps", "face_boxes"):
        data.pop(key)
    for s in data["segments"]:
        s["render"].pop("engines", None)
    Path(path).write_text(json.dumps(data))
    back = load_project(path)
    assert back.still_fps is None and back.face_boxes == {}


def test_still_image_opens_as_a_clip_with_its_fps(shared_media, tmp_path):
    src = next((shared_media / "video").glob("A04_*.mp4"))
    png = tmp_path / "a04.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", "1", "-i", str(src), "-frames:v", "1", str(png)],
        check=True,
    )
    doc = Document()
    doc.open_video(png)
    p = doc.project
    assert p.still_fps == Fraction(25)
    assert p.frame_count == 250  # 10 s of timeline at the still's 25 fps
    assert not p.video_has_audio
    doc.undo()
    assert doc.project.video is None and doc.project.still_fps is None


def test_bad_face_boxes_in_the_file_name_the_field(doc, tmp_path):
    import pytest

    from lipcore.errors import ProjectError

    path = save_project(doc.project, tmp_path / "p.lsproj")
    data = json.loads(Path(path).read_text())
    data["face_boxes"] = {"auto": [[0, 10, 10, 0, 50]]}  # no width
    Path(path).write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="face_boxes.auto"):
        load_project(path)


def test_planner_renders_a_boxed_face_from_its_boxes_not_detection(media, tmp_path):
    """With a drawn box, the job ignores the window's detected tracks (the box track replaces
    them); the request names the box keys."""
    from editor.model.planner import RenderPlanner, new_render_cache

    doc = Document.load(media / "template.lsproj", render_cache=new_render_cache(tmp_path / "r"))
    track = next(t.id for t in doc.project.audio_tracks if not t.is_original)
    seg = doc.add_segment(0, 20, audio_track_id=track)
    detected = object()  # stands for the window's detected face tracks
    planner = RenderPlanner(doc)

    def tracks_used(job):  # the job is a ProcessCall: (request, tracks, ...) are its arguments
        return job.run.args[1]

    assert tracks_used(planner.segment_job(seg, detected)) is detected
    doc.set_face_box(0, (10, 20, 110, 140), None)
    job = planner.segment_job(seg, detected)
    assert job.request.face.boxes == ((0, 10.0, 20.0, 100.0, 120.0),)
    assert tracks_used(job) is None, "the detected tracks would replace the drawn box"
