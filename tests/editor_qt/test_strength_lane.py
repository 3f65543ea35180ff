"""The blend-strength curve on the segment lane of the real main window: add, drag, undo, delete.

Set ``LIPSYNC_STRENGTH_SCREENSHOT=path.png`` to save an offscreen grab of the timeline with a
curve (the README's).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QPoint, Qt


def _pt(p) -> QPoint:
    return QPoint(round(p.x()), round(p.y()))


def test_drag_a_key_then_undo(opened, qtbot):
    w = opened
    doc = w.document
    seg_id = doc.add_segment(5, 70)
    doc.add_strength_key(seg_id, 20, 1.0)
    doc.add_strength_key(seg_id, 30, 0.0)
    doc.add_strength_key(seg_id, 50, 0.0)
    doc.add_strength_key(seg_id, 60, 1.0)
    doc.seal()
    canvas = w.timeline.canvas
    editor = canvas.strength_editor
    qtbot.waitUntil(lambda: any(s.strength_keys for s in canvas.segments), timeout=5000)
    keys_before = doc.project.segment(seg_id).strength_keys

    # drag the 0 % key at frame 30 right and half way up, in several mouse moves
    start = _pt(editor.key_point(seg_id, 1))
    block = editor.block_rect(seg_id)
    end = QPoint(round(canvas.frame_to_x(40)), round(block.bottom() - block.height() / 2))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 5):
        qtbot.mouseMove(canvas, start + (end - start) * k / 4)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    frame, strength = doc.project.segment(seg_id).strength_keys[1]
    assert frame == 40 and 0.4 <= strength <= 0.6
    assert doc.project.segment(seg_id).render.status in ("none", "stale")

    # the whole drag is one undo step
    w.undo_action.trigger()
    assert doc.project.segment(seg_id).strength_keys == keys_before

    # a click on the flat 100 % stretch of the line adds a key there
    block = editor.block_rect(seg_id)
    qtbot.mouseClick(
        canvas,
        Qt.MouseButton.LeftButton,
        pos=QPoint(round(canvas.frame_to_x(12)), round(block.top())),
    )
    assert (12, 1.0) in doc.project.segment(seg_id).strength_keys

    shot = os.environ.get("LIPSYNC_STRENGTH_SCREENSHOT")
    if shot:
        editor.picked = (seg_id, 2)
        canvas.update()
        qtbot.wait(50)
        w.timeline.grab().save(shot)

    # right-click on a key removes it
    n = len(doc.project.segment(seg_id).strength_keys)
    qtbot.mouseClick(canvas, Qt.MouseButton.RightButton, pos=_pt(editor.key_point(seg_id, 0)))
    assert len(doc.project.segment(seg_id).strength_keys) == n - 1
    # and Delete removes a picked one
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_pt(editor.key_point(seg_id, 0)))
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(doc.project.segment(seg_id).strength_keys) == n - 2
    assert doc.project.segments  # Delete removed the key, not the segment
