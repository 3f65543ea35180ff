"""Placing the hand-drawn face's mouth in the real viewer: drag a handle, undo, redo.

A user opens a drawn robot head (a still no detector fits), turns on Draw Face Box, drags the
box, sees four mouth handles (corners, upper and lower lip), drags the right corner out and the
lower lip down; the project keys those points relative to the box, and undo puts the handle back
where it was.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from lipcore.face.boxes import default_mouth, key_mouth
from tests.lipcore.face.test_face_boxes import _cartoon


def _drag(qtbot, v, a: QPointF, b: QPointF) -> None:
    qtbot.mousePress(v, Qt.MouseButton.LeftButton, pos=QPoint(round(a.x()), round(a.y())))
    qtbot.mouseMove(v, QPoint(round((a.x() + b.x()) / 2), round((a.y() + b.y()) / 2)))
    qtbot.mouseMove(v, QPoint(round(b.x()), round(b.y())))
    qtbot.mouseRelease(v, Qt.MouseButton.LeftButton, pos=QPoint(round(b.x()), round(b.y())))


def test_dragging_a_mouth_handle_places_the_mouth_and_undoes(make_window, qtbot, tmp_path):
    png = tmp_path / "robot.png"
    x, y, w, h = _cartoon(png)
    win = make_window()
    win.resize(1000, 800)
    win.open_paths([png])
    v = win.viewer
    qtbot.waitUntil(lambda: v._original is not None, timeout=20000)
    assert v.mouth_handles() == []  # no box yet: no handles
    win.face_box_action.trigger()
    _drag(qtbot, v, v.to_widget(x, y), v.to_widget(x + w, y + h))
    (key,) = win.document.project.boxes_for(None)
    assert abs(key[1] - x) < 3 and abs(key[3] - w) < 4, key
    handles = v.mouth_handles()
    assert len(handles) == 4  # at the mean face's mouth in the box
    box = (key[1], key[2], key[1] + key[3], key[2] + key[4])
    want = default_mouth() * [key[3], key[4]] + [key[1], key[2]]
    assert np.allclose([v.to_source(p) for p in handles], want, atol=1.0)
    before = win.document.project.boxes_for(None)

    # Drag the right corner 40 px (source) to the right: a key with mouth points
    right = handles[1]
    target = v.to_widget(want[1, 0] + 40, want[1, 1])
    _drag(qtbot, v, right, target)
    (key,) = win.document.project.boxes_for(None)
    mouth = key_mouth(key)
    assert mouth is not None
    moved_px = mouth[1, 0] * key[3] + key[1]
    assert abs(moved_px - (want[1, 0] + 40)) < 2.0, (moved_px, want[1, 0] + 40)
    assert np.allclose(mouth[[0, 2, 3]], default_mouth()[[0, 2, 3]], atol=2e-3)
    assert key[1:5] == before[0][1:5]  # the box itself did not move
    # The handle is drawn where it was dropped
    assert abs(v.to_source(v.mouth_handles()[1])[0] - (want[1, 0] + 40)) < 2.0
    # A drag that starts on the lower lip handle moves that one, not a new box
    _drag(qtbot, v, v.mouth_handles()[3], v.to_widget(want[3, 0], want[3, 1] + 25))
    (key,) = win.document.project.boxes_for(None)
    assert abs(key_mouth(key)[3, 1] * key[4] + key[2] - (want[3, 1] + 25)) < 2.0
    assert abs(key_mouth(key)[1, 0] * key[3] + key[1] - (want[1, 0] + 40)) < 2.0
    # Dropped outside the box, a point stays on its edge
    _drag(qtbot, v, v.mouth_handles()[1], v.to_widget(box[2] + 60, want[1, 1]))
    (key,) = win.document.project.boxes_for(None)
    assert abs(key_mouth(key)[1, 0] - 1.0) < 0.01
    win.grab().save(str(tmp_path / "mouth_handles.png"))

    # Undo, step by step, back to the plain box; the handles follow
    win.document.undo()
    win.document.undo()
    (key,) = win.document.project.boxes_for(None)
    assert abs(key_mouth(key)[1, 0] * key[3] + key[1] - (want[1, 0] + 40)) < 2.0
    assert abs(v.to_source(v.mouth_handles()[1])[0] - (want[1, 0] + 40)) < 2.0
    win.document.undo()
    assert win.document.project.boxes_for(None) == before
    assert np.allclose(v.to_source(v.mouth_handles()[1]), want[1], atol=1.0)
    win.document.redo()
    assert key_mouth(win.document.project.boxes_for(None)[0]) is not None
    # Outside face-box mode the handles are hidden and a drag there draws nothing
    win.face_box_action.trigger()
    assert v.mouth_handles() == []


def test_face_box_label_does_not_cover_the_detected_faces_label(qtbot):
    """A box drawn over a detected face: both labels stay readable (they did overlap)."""
    from PySide6.QtGui import QImage

    from editor.qt.viewer.viewer import FaceBox, QtViewer

    v = QtViewer()
    qtbot.addWidget(v)
    v.resize(800, 600)
    image = QImage(640, 480, QImage.Format.Format_RGB888)
    image.fill(0x404040)
    v.set_frames(image)
    box = (200.0, 120.0, 420.0, 360.0)
    v.set_faces([FaceBox("face-0", box, "face-0")], "face-0")
    v.set_manual_box(box, keyed=True)
    v.grab()  # paints
    tags = dict(v.drawn_tags)
    face, manual = tags["face-0  ✓ target"], tags["face box (key)"]
    assert not face.intersects(manual), (face, manual)
    top_left = v.to_widget(box[0], box[1])
    assert abs(manual.left() - top_left.x()) < 1  # still at the box's own corner
