"""The mouth-cue lane in the real main window: analyse a dub, edit blocks by mouse and keys, undo.

Set ``LIPSYNC_CUE_SCREENSHOT=path.png`` to save an offscreen grab of the timeline (the README's).
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from lipcore.cues.make import shape_at


def _dub(w):
    return next(t for t in w.document.project.audio_tracks if not t.is_original)


def _cues(w):
    return _dub(w).mouth_cues.cues


def _wide_cue(editor, track_id, cues, shape_not=None, min_px=24):
    """A visible block at least ``min_px`` wide (not the first, not ``shape_not``)."""
    left, right = editor.canvas.frame_to_x(editor.canvas.visible_range()[0]), editor.canvas.width()
    for i, c in enumerate(cues):
        r = editor.cue_rect(track_id, i)
        visible = r.left() > left + 10 and r.right() < right - 10
        if i and c.shape != shape_not and r.width() >= min_px and visible:
            return i
    raise AssertionError("no cue wide enough to click")


def test_cue_lane_edit_and_undo(opened, qtbot, tmp_path):
    w = opened
    canvas = w.timeline.canvas
    editor = canvas.cue_editor
    tid = _dub(w).id
    assert canvas.lane_rect("cues", tid).isEmpty()
    started: list = []
    w.background.model.listeners.append(
        lambda event, job: started.append(job.payload) if event == "started" else None
    )
    w.cue_tools.analyse()
    qtbot.waitUntil(lambda: _dub(w).mouth_cues is not None, timeout=60000)
    # Made in the background worker process (the recogniser would hold the GUI's GIL).
    from editor.model.cue_job import iter_file_cues

    assert any(getattr(p, "target", None) is iter_file_cues for p in started)
    assert w.background.process.pid
    assert w.document.undo_log.undo_text == "Mouth cues from speech"
    lane = canvas.lane_rect("cues", tid)
    wave = canvas.lane_rect("wave", tid)
    assert not lane.isEmpty() and lane.top() == pytest.approx(wave.bottom(), abs=1)
    cues = _cues(w)
    assert {c.shape for c in cues} >= {"A", "X"} and len(cues) > 10
    canvas.zoom(4.0, anchor_x=canvas.frame_to_x(20))
    qtbot.wait(10)

    # click a block, press a shape key; undo puts the old shape back
    i = _wide_cue(editor, tid, cues, shape_not="H")
    old = cues[i].shape
    qtbot.mouseClick(
        canvas, Qt.MouseButton.LeftButton, pos=editor.cue_rect(tid, i).center().toPoint()
    )
    assert editor.selected == (tid, i)
    qtbot.keyClick(canvas, Qt.Key.Key_H)
    assert _cues(w)[i].shape == "H"
    w.undo_action.trigger()
    assert _cues(w)[i].shape == old

    # drag the block's left boundary right by two cue frames: one undo step
    before = _cues(w)
    r = editor.cue_rect(tid, i)
    frame_px = editor.sample_to_x(editor.lanes[tid], 16000 * 2 // 25) - editor.sample_to_x(
        editor.lanes[tid], 0
    )
    start = QPoint(int(r.left()), int(r.center().y()))
    end = QPoint(int(r.left() + min(frame_px, r.width() - frame_px / 2)), start.y())
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 5):
        qtbot.mouseMove(canvas, QPoint(start.x() + (end.x() - start.x()) * k // 4, start.y()))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    moved = _cues(w)
    assert moved[i].start_sample > before[i].start_sample
    assert moved[i - 1].end_sample == moved[i].start_sample
    assert w.document.undo_log.undo_text == "Move cue"
    w.undo_action.trigger()
    assert _cues(w) == before

    # split with S, merge back with M, each undoable
    qtbot.mouseClick(
        canvas, Qt.MouseButton.LeftButton, pos=editor.cue_rect(tid, i).center().toPoint()
    )
    n = len(_cues(w))
    qtbot.keyClick(canvas, Qt.Key.Key_S)
    assert len(_cues(w)) == n + 1 and _cues(w)[i].shape == _cues(w)[i + 1].shape
    qtbot.keyClick(canvas, Qt.Key.Key_M)
    assert len(_cues(w)) == n
    w.undo_action.trigger()
    assert len(_cues(w)) == n + 1
    w.undo_action.trigger()
    assert _cues(w) == before

    # the context menu offers every shape
    pos = editor.cue_rect(tid, i).center().toPoint()
    qtbot.mouseClick(canvas, Qt.MouseButton.RightButton, pos=pos)
    menu = editor.menu
    labels = [a.text() for a in menu.actions() if a.text()]
    assert [t[0] for t in labels[:9]] == list("ABCDEFGHX")
    next(a for a in menu.actions() if a.text().startswith("X")).trigger()
    menu.close()
    menu.deleteLater()
    assert _cues(w)[i].shape == "X"
    w.undo_action.trigger()
    assert _cues(w) == before

    # the shape beside the viewer follows the playhead
    dub = _dub(w)
    for frame in (5, 20, 40):
        w.playback.seek(frame)
        qtbot.wait(5)
        want = shape_at(dub.mouth_cues.cues, frame * 16000 // 25 - dub.offset_samples)
        assert w.cue_tools.view.shape == want
    assert w.cue_tools.dock.isVisible()

    shot = os.environ.get("LIPSYNC_CUE_SCREENSHOT")
    if shot:
        canvas.zoom_to_fit()
        canvas.zoom(2.2, anchor_x=canvas.frame_to_x(0))
        editor.selected = (tid, i)
        w.playback.seek(30)
        qtbot.wait(50)
        w.grab().save(shot)

    # the user's drawings: small pictures in the lane, the picture in the shape panel, frames
    mouths = tmp_path / "mouths"
    mouths.mkdir()
    for k, shape in enumerate("ABCDEFGHX"):
        img = np.zeros((64, 64, 4), np.uint8)
        cv2.circle(img, (32, 32), 4 + 3 * k, (40, 40, 200, 255), -1)
        cv2.imwrite(str(mouths / f"{shape}.png"), img)
    w.cue_tools.load_drawings(mouths)
    assert set(editor.lanes[tid].drawings) == set("ABCDEFGHX")
    w.playback.seek(20)
    qtbot.wait(5)
    assert w.cue_tools.view.drawing is not None
    if shot:
        w.grab().save(shot.replace(".png", "_drawings.png"))
    frames = w.cue_tools.export_frames(tid, tmp_path / "frames")
    assert len(list(frames.glob("*.png"))) == -(-dub.mouth_cues.duration_samples * 25 // 16000)

    # export from the editor: a Rhubarb TSV Rhubarb's scripts read
    out = w.cue_tools.export(tid, tmp_path / "dub.tsv")
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert rows[0] == ["0.00", before[0].shape] and rows[-1][1] == "X"
