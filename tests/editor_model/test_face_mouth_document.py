"""The hand-drawn face's parametric mouth: placed per key, undoable, saved, hashed, requested.

A user who drew a face box moves its mouth points (corners, upper and lower lip); they are kept
relative to the box, interpolate between keys, survive a redrawn box, go through undo/redo and
the project file, make rendered segments stale and reach the render request.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from editor.model.document import Document
from lipcore.face.boxes import box_at, default_mouth, key_mouth
from lipcore.project import dumps_project, load_project, save_project

MOUTH_PX = ((40.0, 100.0), (80.0, 104.0), (60.0, 95.0), (60.0, 118.0))


def state(doc: Document) -> dict:
    return json.loads(dumps_project(doc.project, None))


def test_mouth_points_do_undo_redo_and_follow_the_box(doc):
    doc.set_face_box(0, (10, 20, 110, 140), None)
    before = state(doc)
    doc.set_face_mouth(0, MOUTH_PX, None)
    after = state(doc)
    (key,) = doc.project.boxes_for(None)
    assert len(key) == 13 and key[:5] == (0, 10.0, 20.0, 100.0, 120.0)
    # Stored relative to the box: the left corner at 30 % of its width, 2/3 of its height
    assert np.allclose(key_mouth(key)[0], [0.3, 80 / 120], atol=1e-4)
    _, at = box_at(list(doc.project.boxes_for(None)), 0)
    assert np.allclose(at, MOUTH_PX, atol=0.02)
    doc.undo()
    assert state(doc) == before
    doc.redo()
    assert state(doc) == after
    # A box redrawn on that frame keeps the mouth where it sat in the box
    doc.set_face_box(0, (20, 20, 220, 260), None)
    _, moved = box_at(list(doc.project.boxes_for(None)), 0)
    assert np.allclose(moved[0], [20 + 0.3 * 200, 20 + (80 / 120) * 240], atol=0.05)
    doc.undo()
    assert state(doc) == after


def test_mouth_on_an_unkeyed_frame_keys_the_interpolated_box_and_interpolates(doc):
    doc.set_face_box(0, (0, 0, 100, 100), None)
    doc.set_face_box(40, (40, 0, 140, 100), None)
    doc.set_face_mouth(20, ((30, 70), (70, 70), (50, 65), (50, 80)), None)
    keys = doc.project.boxes_for(None)
    assert [k[0] for k in keys] == [0, 20, 40]
    assert keys[1][1:5] == (20.0, 0.0, 100.0, 100.0)  # the box interpolated there
    # Halfway to the next key (which has the mean face's mouth) the points are halfway
    _, at10 = box_at(list(keys), 10)
    box10, _ = box_at(list(keys), 10)
    rel = (at10 - box10[:2]) / 100.0
    want = (np.array([[0.1, 0.7], [0.5, 0.7], [0.3, 0.65], [0.3, 0.8]]) + default_mouth()) / 2
    assert np.allclose(rel, want, atol=1e-3)
    doc.set_face_mouth(20, None, None)  # back to the mean face's mouth
    assert len(doc.project.boxes_for(None)[1]) == 5


def test_unusable_mouth_points_are_refused(doc):
    with pytest.raises(ValueError, match="draw the face box"):
        doc.set_face_mouth(0, MOUTH_PX, None)
    doc.set_face_box(0, (10, 20, 110, 140), None)
    crossed = ((80.0, 100.0), (40.0, 104.0), (60.0, 95.0), (60.0, 118.0))
    with pytest.raises(ValueError, match="left corner"):
        doc.set_face_mouth(0, crossed, None)
    assert len(doc.project.boxes_for(None)[0]) == 5


def test_mouth_points_round_trip_make_segments_stale_and_reach_the_request(doc, tmp_path):
    track = next(t.id for t in doc.project.audio_tracks if not t.is_original)
    seg = doc.add_segment(0, 20, audio_track_id=track)
    doc.set_face_box(0, (10, 20, 110, 140), None)
    doc.set_face_box(30, (12, 20, 112, 140), None)
    h_box = doc.project.segment_params_hash(doc.project.segment(seg))
    doc.set_face_mouth(0, MOUTH_PX, None)
    assert doc.project.segment_params_hash(doc.project.segment(seg)) != h_box
    back = load_project(save_project(doc.project, tmp_path / "p.lsproj"))
    assert back.face_boxes == doc.project.face_boxes
    assert [len(k) for k in back.boxes_for(None)] == [13, 5]  # one key with, one without
    req = back.render_request([seg], tmp_path / "o.mp4")
    assert req.face.boxes == doc.project.boxes_for(None)


def test_bad_mouth_points_in_the_file_name_the_field(doc, tmp_path):
    from lipcore.errors import ProjectError

    path = save_project(doc.project, tmp_path / "p.lsproj")
    data = json.loads(Path(path).read_text())
    data["face_boxes"] = {"auto": [[3, 10, 10, 50, 50, 0.3, 0.7, 0.7, 0.7, 0.5, 0.6, 0.5, 1.7]]}
    Path(path).write_text(json.dumps(data))
    with pytest.raises(ProjectError, match=r"face_boxes.auto \(frame 3\).*outside the box"):
        load_project(path)
