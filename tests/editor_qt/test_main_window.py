"""The main window driven like a user would, on the first 3 s of the real clip A05.

Every gesture goes through real widgets (mouse events on the viewer and the timeline, key
presses, menu actions); results are checked in the document, in the views and on disk.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

FRAMES = 75  # 3 s at 25 fps


def _lane_y(canvas, kind: str, key: str = "") -> int:
    return int(canvas.lane_rect(kind, key).center().y())


def _drag(qtbot, widget, start: QPoint, end: QPoint, steps: int = 6) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        x = start.x() + (end.x() - start.x()) * i // steps
        y = start.y() + (end.y() - start.y()) * i // steps
        qtbot.mouseMove(widget, QPoint(x, y))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def _draw_segment(qtbot, window, first: int, last: int) -> None:
    canvas = window.timeline.canvas
    y = _lane_y(canvas, "segments")
    a = QPoint(int(canvas.frame_to_x(first)) + 1, y)
    b = QPoint(int(canvas.frame_to_x(last)) + 1, y)
    _drag(qtbot, canvas, a, b)


def test_open_import_then_pick_face_by_clicking_in_the_viewer(opened, qtbot):
    w = opened
    p = w.document.project
    assert p.frame_count == FRAMES and float(p.fps) == 25.0
    assert [t.name for t in p.audio_tracks][0] == "Original"
    assert len(p.audio_tracks) == 2
    lanes = w.timeline.canvas.waves
    assert [lane.movable for lane in lanes] == [False, True]
    assert all(lane.peaks is not None and len(lane.peaks) > 100 for lane in lanes)
    assert len(w.timeline.canvas.thumbnails) >= 20
    assert w.viewer._original is not None and w.viewer._original.width() == 590
    assert "a05_3s.mp4" in w.windowTitle()

    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    assert w.trackset.tracks, "A05 has one frontal face"
    track = w.trackset.tracks[0]
    row = track.index_of(w.playback.position)
    x0, y0, x1, y1 = (float(v) for v in track.boxes[row])
    # A click beside the face picks nothing and says so.
    outside = w.viewer.to_widget(5, 5).toPoint()
    qtbot.mouseClick(w.viewer, Qt.MouseButton.LeftButton, pos=outside)
    assert w.notifications.last.level == "warning"
    centre = w.viewer.to_widget((x0 + x1) / 2, (y0 + y1) / 2).toPoint()
    qtbot.mouseClick(w.viewer, Qt.MouseButton.LeftButton, pos=centre)
    assert w._target_face == track.track_id
    # A segment drawn afterwards re-syncs that face.
    _draw_segment(qtbot, w, 10, 40)
    seg = w.document.project.segments[0]
    assert seg.face_track_id == track.track_id
    assert w.timeline.canvas.faces[0].selected

    # Choose the face by a box drawn on the picture (B toggles the face-area tool).
    qtbot.keyClick(w, Qt.Key.Key_B)
    a = w.viewer.to_widget(x0, (y0 + y1) / 2).toPoint()
    b = w.viewer.to_widget(x1, y1 + 20).toPoint()
    _drag(qtbot, w.viewer, a, b)
    region = w.document.project.segments[0].options.region
    assert region is not None
    assert abs(region[0] - x0) < 4 and abs(region[3] - (y1 + 20)) < 4
    assert w.viewer._region == region
    qtbot.mouseClick(w.viewer, Qt.MouseButton.LeftButton, pos=centre)  # a click clears it
    assert w.document.project.segments[0].options.region is None
    w.undo_action.trigger()
    assert w.document.project.segments[0].options.region == region
    qtbot.keyClick(w, Qt.Key.Key_B)


def test_draw_trim_split_merge_delete_with_undo(opened, qtbot):
    w = opened
    doc = w.document
    canvas = w.timeline.canvas
    _draw_segment(qtbot, w, 10, 50)
    assert [(s.start_frame, s.end_frame) for s in doc.project.segments] == [(10, 50)]
    seg_id = doc.project.segments[0].id
    assert w.selected_segments == [seg_id]
    assert doc.project.segments[0].audio_track_id == doc.project.audio_tracks[1].id
    assert w.undo_action.isEnabled() and "Add segment" in w.undo_action.text()

    # Trim: drag the right edge from frame 50 to frame 44.
    y = _lane_y(canvas, "segments")
    _drag(
        qtbot, canvas, QPoint(int(canvas.frame_to_x(50)), y), QPoint(int(canvas.frame_to_x(44)), y)
    )
    assert (doc.project.segments[0].start_frame, doc.project.segments[0].end_frame) == (10, 44)

    # Split at the playhead with the S key.
    w.playback.seek(30)
    qtbot.keyClick(w, Qt.Key.Key_S)
    assert sorted((s.start_frame, s.end_frame) for s in doc.project.segments) == [
        (10, 30),
        (30, 44),
    ]

    # Select both (ctrl-click) and merge with M.
    left = QPoint(int(canvas.frame_to_x(20)), y)
    right = QPoint(int(canvas.frame_to_x(37)), y)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=left)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, right)
    assert len(w.selected_segments) == 2
    qtbot.keyClick(w, Qt.Key.Key_M)
    assert [(s.start_frame, s.end_frame) for s in doc.project.segments] == [(10, 44)]

    # Undo the merge, the split and the trim; redo the trim.
    for _ in range(3):
        w.undo_action.trigger()
    assert [(s.start_frame, s.end_frame) for s in doc.project.segments] == [(10, 50)]
    w.redo_action.trigger()
    assert [(s.start_frame, s.end_frame) for s in doc.project.segments] == [(10, 44)]
    # The timeline follows the document.
    assert [(i.start_frame, i.end_frame) for i in canvas.segments] == [(10, 44)]

    # Delete and undo.
    w.select_segments([doc.project.segments[0].id])
    qtbot.keyClick(w, Qt.Key.Key_Delete)
    assert doc.project.segments == []
    w.undo_action.trigger()
    assert len(doc.project.segments) == 1

    # Segments from the dub's speech (voice activity), one undo step for all of them.
    w.select_segments([])
    w.delete_action.trigger()
    w.document.delete_segments([s.id for s in doc.project.segments])
    ids = w.segments_from_speech(doc.project.audio_tracks[1].id, pad_sec=0.1, gap_sec=0.3)
    # B19 talks through the whole clip (its pauses are shorter than the VAD's gap): one segment
    # over the clip, clamped to the picture although the dub is 5 s long.
    ranges = [(s.start_frame, s.end_frame) for s in doc.project.sorted_segments()]
    assert len(ids) == 1 and ranges == [(0, FRAMES)]
    w.undo_action.trigger()
    assert doc.project.segments == []

    # Zoom in with "=", back to fit with Shift+Z.
    fit = canvas.px_per_frame()
    qtbot.keyClick(w, Qt.Key.Key_Equal)
    assert canvas.px_per_frame() > 1.4 * fit
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.px_per_frame() == pytest.approx(fit)

    # The dub track: slide by dragging, nudge by keys, mute from the header.
    dub = doc.project.audio_tracks[1]
    y = _lane_y(canvas, "wave", dub.id)
    # Drag the dub clip 10 frames to the right.
    start = QPoint(int(canvas.frame_to_x(20)), y)
    end = QPoint(int(canvas.frame_to_x(30)), y)
    _drag(qtbot, canvas, start, end)
    assert doc.track(dub.id).offset_samples == doc.frames_to_samples(10)
    # Nudge one frame left with Alt+Left, twice: one merged undo step.
    qtbot.keyClick(w, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(w, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert doc.track(dub.id).offset_samples == doc.frames_to_samples(8)
    assert canvas.waves[1].offset_frames == 8
    w.undo_action.trigger()
    assert doc.track(dub.id).offset_samples == doc.frames_to_samples(10)
    # Mute from the lane header's M button.
    mute = canvas._mute_rect(next(lane for lane in canvas._lanes if lane.key == dub.id))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=mute.center().toPoint())
    assert doc.track(dub.id).muted and canvas.waves[1].muted


def test_playback_keys_step_shuttle_in_out_and_loop(opened, qtbot):
    w = opened
    pb = w.playback
    qtbot.keyClick(w, Qt.Key.Key_Right)
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert pb.position == 2
    with qtbot.waitSignal(w.frame_shown, timeout=5000, check_params_cb=lambda f: f == 12):
        qtbot.keyClick(w, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(w, Qt.Key.Key_I)
    pb.seek(20)
    qtbot.keyClick(w, Qt.Key.Key_O)
    assert (pb.in_point, pb.out_point) == (12, 21)
    # Loop the in/out range and play: the playhead stays inside it.
    w.loop_action.trigger()
    assert pb.loop_range == (12, 21)
    qtbot.keyClick(w, Qt.Key.Key_L)
    assert pb.is_playing and pb.rate == 1.0
    seen = set()
    pb.position_changed.connect(seen.add)
    qtbot.wait(1200)  # 30 frames of playback: more than the 9-frame loop
    assert seen and min(seen) >= 12 and max(seen) <= 20
    qtbot.keyClick(w, Qt.Key.Key_L)
    assert pb.rate == 2.0
    qtbot.keyClick(w, Qt.Key.Key_K)
    assert not pb.is_playing
    w.loop_action.trigger()
    qtbot.keyClick(w, Qt.Key.Key_J)
    assert pb.rate == -1.0
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not pb.is_playing
    # Segment from in/out.
    w.segment_inout_action.trigger()
    assert [(s.start_frame, s.end_frame) for s in w.document.project.segments] == [(12, 21)]

    # Refused edits and missing selections end up in the notification area.
    w.playback.seek(60)
    w.split_action.trigger()
    assert w.notifications.last.level == "warning"
    assert "inside a segment" in w.notifications.last.text
    w.select_segments([])
    w.render_selected_action.trigger()
    assert "Select segments" in w.notifications.last.text
    # A segment without a dub track cannot render: it turns "failed" with the reason.
    seg_id = w.document.project.segments[0].id
    w.select_segments([seg_id])
    w.inspector.audio_combo.setCurrentIndex(w.inspector.audio_combo.findData(None))
    assert w.document.segment(seg_id).audio_track_id is None
    w.render_selected_action.trigger()
    assert w.document.segment(seg_id).render.status == "failed"
    assert w.timeline.canvas.segments[0].status == "failed"
    assert "no dub track" in w.notifications.last.text


def test_save_reopen_and_crash_recovery(opened, make_window, qtbot, tmp_path):
    w = opened
    _draw_segment(qtbot, w, 5, 25)
    w.inspector.feather_spin.setValue(20)
    w.document.seal()
    project = tmp_path / "proj" / "dub.lsproj"
    project.parent.mkdir()
    assert w.save_project(project) == project
    assert not w.document.dirty and "•" not in w.windowTitle()
    data = json.loads(project.read_text())
    assert data["segments"][0]["start_frame"] == 5
    assert w.settings.recent_projects[0] == str(project)

    # An edit after saving, then an autosave backup, then a "crash" (no save).
    w.inspector.feather_spin.setValue(30)
    backup = w.autosaver.write()
    assert backup.exists()

    other = make_window()
    other._ask_restore = lambda recovery: True
    assert other.open_project(project)
    seg = other.document.project.segments[0]
    assert seg.options.feather_px == 30, "the autosave's newer state was restored"
    assert other.has_unsaved_changes and "•" in other.windowTitle(), "restored work is unsaved"
    assert (seg.start_frame, seg.end_frame) == (5, 25)
    qtbot.waitUntil(lambda: other.viewer._original is not None, timeout=20000)

    third = make_window()
    assert third.open_project(project)
    assert third.document.project.segments[0].options.feather_px == 20


def test_render_cancel_undo_reopen_and_export(opened, make_window, qtbot, tmp_path):
    """The whole path with the built-in engine: cancel a render, render while the UI answers,
    compare original and result, undo/redo an option, save, reopen, export and probe the file."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QPushButton

    from lipcore.media.probe import probe

    w = opened
    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    _draw_segment(qtbot, w, 10, 45)
    seg_id = w.selected_segments[0]

    # Start a render and cancel it from the inspector.
    with qtbot.waitSignal(w.render_queue.job_progressed, timeout=60000):
        qtbot.keyClick(w, Qt.Key.Key_R)
    assert w.timeline.canvas.segments[0].status in ("queued", "rendering")
    with qtbot.waitSignal(w.render_cancelled, timeout=60000):
        qtbot.mouseClick(w.inspector.cancel_button, Qt.MouseButton.LeftButton)
    assert w.document.segment(seg_id).render.status == "none"
    assert w.jobs.state_of(seg_id) == "cancelled"

    # Render for real; a timer must keep firing and keys must keep working meanwhile.
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    start = time.monotonic()
    with qtbot.waitSignal(w.segment_rendered, timeout=240000) as rendered:
        w.render_selected_action.trigger()
        qtbot.waitUntil(lambda: w.timeline.canvas.segments[0].status == "rendering", timeout=60000)
        before = w.playback.position
        qtbot.keyClick(w, Qt.Key.Key_Right)
        assert w.playback.position == before + 1, "the UI stopped answering while rendering"
    timer.stop()
    elapsed = time.monotonic() - start
    gaps = np.diff(ticks)
    assert len(ticks) >= 0.5 * elapsed / 0.05, (
        f"timer starved: {len(ticks)} ticks in {elapsed:.1f} s"
    )
    assert gaps.max() < 1.5, f"GUI thread blocked for {gaps.max():.2f} s"
    output = rendered.args[1]
    assert output.exists()
    assert w.document.segment(seg_id).render.status == "done"
    assert w.timeline.canvas.segments[0].status == "done"
    assert w.jobs.state_of(seg_id) == "done"

    # The result differs from the original inside the segment, around the mouth only.
    w.set_view_mode("result")
    with qtbot.waitSignal(w.frame_shown, timeout=10000, check_params_cb=lambda f: f == 25):
        w.playback.seek(25)
    qtbot.waitUntil(lambda: w.viewer._result is not None, timeout=10000)
    original = _pixels(w.viewer._original)
    result = _pixels(w.viewer._result)
    diff = np.abs(original.astype(int) - result.astype(int)).sum(axis=2)
    track = w.trackset.tracks[0]
    x0, y0, x1, y1 = (int(v) for v in track.boxes[track.index_of(25)])
    # The lower half of the face box (mouth and jaw) against the picture above the face: both
    # carry the same re-encoding noise (a few levels), only the mouth carries the edit.
    inside = diff[(y0 + y1) // 2 : y1, x0:x1].mean()
    outside = diff[: max(1, y0 - 20), :].mean()
    assert inside > 3 * outside + 0.5, (inside, outside)

    # An option change makes the render stale; undo brings back "done" (from the cache).
    w.inspector.feather_spin.setValue(24)
    w.document.seal()
    assert w.document.segment(seg_id).render.status == "stale"
    w.undo_action.trigger()
    assert w.document.segment(seg_id).render.status == "done"
    w.redo_action.trigger()
    assert w.timeline.canvas.segments[0].status == "stale"
    w.undo_action.trigger()

    project = tmp_path / "render.lsproj"
    w.save_project(project)
    again = make_window()
    assert again.open_project(project)
    assert again.document.segment(seg_id).render.status == "done"

    # Export: MP4 H.264/AAC of the whole clip, checked with the media probe.
    out = tmp_path / "export.mp4"
    with qtbot.waitSignal(again.export_finished, timeout=240000) as exported:
        assert again.export(out, "mp4_h264_aac", "mix")
    assert exported.args[0] == out
    info = probe(out)
    assert info.video.codec == "h264" and info.video.frame_count == FRAMES
    assert float(info.video.fps) == 25.0 and (info.video.width, info.video.height) == (590, 590)
    assert info.audio is not None and info.audio.codec == "aac"
    assert again._export_dialog is None

    # A second export cancelled from its progress dialog leaves no file behind.
    out2 = tmp_path / "cancelled.mp4"
    with qtbot.waitSignal(again.export_failed, timeout=60000) as failed:
        assert again.export(out2)
        qtbot.waitUntil(lambda: again.render_queue.model.current is not None, timeout=10000)
        cancel = again._export_dialog.findChild(QPushButton)
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert failed.args[0] == "cancelled"
    assert not out2.exists() and again._export_dialog is None


def _pixels(image) -> np.ndarray:
    """A QImage (RGB888) as an (H, W, 3) uint8 array."""
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    return data.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()
