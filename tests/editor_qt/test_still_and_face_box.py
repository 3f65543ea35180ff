"""The editor on faces the detector cannot fit and on still images, as a user drives it.

A PNG taken from a shared clip opens as a clip, takes a dub and renders a segment whose mouth
changes; on the anime/CGI clip H02 the user draws a face box in the viewer, the segment renders
through it and the pixels inside the box change; the inspector names the engine auto chose.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt


def _pixels(image) -> np.ndarray:
    image = image.convertToFormat(image.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3)


def _render_selected(qtbot, w, seg_id: str) -> Path:
    w.select_segments([seg_id])
    with qtbot.waitSignal(w.segment_rendered, timeout=300000) as rendered:
        w.render_selected_action.trigger()
    assert w.document.segment(seg_id).render.status == "done"
    return rendered.args[1]


def _result_vs_original(qtbot, w, frame: int) -> np.ndarray:
    w.set_view_mode("result")
    with qtbot.waitSignal(w.frame_shown, timeout=20000, check_params_cb=lambda f: f == frame):
        w.playback.seek(frame)
    qtbot.waitUntil(lambda: w.viewer._result is not None, timeout=20000)
    a = _pixels(w.viewer._original).astype(int)
    b = _pixels(w.viewer._result).astype(int)
    return np.abs(a - b).sum(axis=2)


@pytest.fixture(scope="module")
def still_png(shared_media, tmp_path_factory) -> Path:
    src = next((shared_media / "video").glob("A04_*.mp4"))
    out = tmp_path_factory.mktemp("still") / "a04_still.png"
    cmd = ["ffmpeg", "-v", "error", "-y", "-ss", "1", "-i", str(src), "-frames:v", "1", str(out)]
    subprocess.run(cmd, check=True)
    return out


@pytest.fixture(scope="module")
def h02_2s(shared_media, tmp_path_factory) -> Path:
    src = next((shared_media / "video").glob("H02_*.mp4"))
    out = tmp_path_factory.mktemp("h02") / "h02_2s.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-t", "2", "-c:v", "libx264"]
    subprocess.run(cmd + ["-crf", "16", "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def test_still_image_opens_takes_a_dub_and_renders(
    make_window, still_png, dub_wav, qtbot, tmp_path
):
    w = make_window()
    w.open_paths([still_png])  # as a drop does
    p = w.document.project
    assert p.video is not None and p.video.path == still_png
    assert p.still_fps is not None and p.frame_count > 50
    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    track = w.import_audio(dub_wav)
    seg = w.document.add_segment(10, 40, audio_track_id=track)
    w.select_segments([seg])
    assert w.inspector.engine_used_label.isHidden()  # no empty line before the first render
    _render_selected(qtbot, w, seg)
    assert not w.inspector.engine_used_label.isHidden()
    used = w.document.segment(seg).render.engines
    assert used and used[0][0] == "oneshot", used  # one picture: no speaking footage
    assert w.inspector.engine_used_label.text().startswith("Engine: auto -> oneshot (")
    combo = w.inspector.engine_combo
    offered = [combo.itemText(i) for i in range(combo.count())]
    assert offered == ["auto", "retime", "oneshot", "wav2lip"]
    diff = _result_vs_original(qtbot, w, 25)
    w.grab().save(str(tmp_path / "still_result.png"))
    face = w.trackset.tracks[0]
    x0, y0, x1, y1 = (int(v) for v in face.boxes[face.index_of(0)])
    inside = diff[(y0 + y1) // 2 : y1, x0:x1].mean()
    outside = diff[: max(1, y0 - 20), :].mean()
    assert inside > 3 * outside + 0.5, (inside, outside)


def test_face_box_drawn_in_the_viewer_drives_the_render(
    make_window, h02_2s, dub_wav, qtbot, tmp_path
):
    w = make_window()
    assert w.open_video(h02_2s)
    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    track = w.import_audio(dub_wav)
    seg = w.document.add_segment(5, 45, audio_track_id=track)
    w.select_segments([seg])
    w.playback.seek(0)
    qtbot.waitUntil(lambda: w.viewer._original is not None, timeout=20000)
    # Drag the box around the face on frame 0, then a second key on frame 40.
    w.face_box_action.trigger()
    assert w.viewer._face_box_mode
    v = w.viewer
    for frame, (bx0, by0, bx1, by1) in ((0, (200, 240, 500, 560)), (40, (210, 240, 510, 560))):
        if frame:
            w.playback.seek(frame)
        a, b = v.to_widget(bx0, by0), v.to_widget(bx1, by1)
        qtbot.mousePress(v, Qt.MouseButton.LeftButton, pos=QPoint(int(a.x()), int(a.y())))
        qtbot.mouseMove(v, QPoint(int(b.x()), int(b.y())))
        qtbot.mouseRelease(v, Qt.MouseButton.LeftButton, pos=QPoint(int(b.x()), int(b.y())))
    keys = w.document.project.boxes_for(None)
    assert [k[0] for k in keys] == [0, 40]
    assert abs(keys[0][1] - 200) < 6 and abs(keys[0][3] - 300) < 8, keys
    assert v._manual_box is not None and v._manual_box_keyed
    w.playback.seek(20)
    w._refresh_viewer_faces()
    assert not v._manual_box_keyed and abs(v._manual_box[0] - (keys[0][1] + keys[1][1]) / 2) < 1
    # Undo takes the second key back; redo restores it.
    w.document.undo()
    assert [k[0] for k in w.document.project.boxes_for(None)] == [0]
    w.document.redo()
    w.face_box_action.trigger()

    request = w.planner.request([seg], Path("unused.mp4"))
    assert request.face.boxes == keys
    _render_selected(qtbot, w, seg)
    assert w.inspector.engine_used_label.text().startswith("Engine: auto -> ")
    diff = _result_vs_original(qtbot, w, 25)
    w.grab().save(str(tmp_path / "face_box_result.png"))
    x0, y0, x1, y1 = (int(c) for c in v._manual_box)
    lower = (slice((y0 + y1) // 2, y1), slice(x0, x1))  # the mouth and chin, to look at
    w.viewer._original.copy(x0, (y0 + y1) // 2, x1 - x0, (y1 - y0) // 2).save(
        str(tmp_path / "mouth_original.png")
    )
    w.viewer._result.copy(x0, (y0 + y1) // 2, x1 - x0, (y1 - y0) // 2).save(
        str(tmp_path / "mouth_result.png")
    )
    inside = diff[lower].mean()
    outside = diff[: max(1, y0 - 20), :].mean()
    assert inside > 3 * outside + 0.5, (inside, outside)
    # Deleting the key on this frame (none here: the whole box) leaves no box.
    w.delete_face_box_action.trigger()
    assert w.document.project.boxes_for(None) == ()
    w.grab().save(str(tmp_path / "face_box_deleted.png"))


def test_a_still_shows_its_face_on_every_frame_and_is_not_scored_against_the_dub(
    make_window, still_png, dub_wav, qtbot
):
    """A still is tracked on its one picture: its face box is outlined (and can be clicked) on
    every frame, not only the first. The source sync lane scores the clip's mouth against the
    dub; a still's picture cannot follow speech, and scoring it only showed a "Sync meter
    (source) failed" warning."""
    w = make_window()
    submitted: list[str] = []
    real_submit = w.background.submit

    def spy(kind, *args, **kwargs):
        submitted.append(kind)
        return real_submit(kind, *args, **kwargs)

    w.background.submit = spy
    w.open_paths([still_png])
    qtbot.waitUntil(lambda: w.trackset is not None and bool(w.trackset.tracks), timeout=120000)
    w.import_audio(dub_wav)
    w._schedule_source_sync()  # what a new dub or new faces trigger
    assert "sync-source" not in submitted, submitted
    w.playback.seek(40)
    w._refresh_viewer_faces()
    assert [f.track_id for f in w.viewer._faces] == ["face-0"]
    x0, y0, x1, y1 = w.viewer._faces[0].box
    w._on_viewer_face_clicked((x0 + x1) / 2, (y0 + y1) / 2)
    assert w._target_face == "face-0"
    assert w.notifications.last.text == "Re-sync target: face-0"
    assert not any("Sync meter" in n.text for n in w.notifications.notices)


def test_a_clip_without_a_face_says_so_and_where_to_draw_one(
    make_window, shared_media, dub_wav, qtbot, tmp_path
):
    """The face lane said "not tracked yet" forever on a clip where tracking found no face."""
    clip = tmp_path / "background.mp4"  # A04's map behind the actor: no face anywhere
    src = next((shared_media / "video").glob("A04_*.mp4"))
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-t", "1", "-vf", "crop=200:150:0:0"]
    subprocess.run(cmd + ["-c:v", "libx264", "-crf", "16", str(clip)], check=True)
    w = make_window()
    assert w.timeline.canvas.faces_note == "faces: not tracked yet"
    assert w.open_video(clip)
    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    assert w.trackset.tracks == []
    assert "View ▸ Draw Face Box (Shift+B)" in w.timeline.canvas.faces_note
    w.timeline.canvas.grab().save(str(tmp_path / "no_face_lane.png"))
