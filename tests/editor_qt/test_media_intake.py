"""Opening a clip and a dub by drop or menu probes them off the GUI thread, then applies them.

The ffprobe processes are counted by wrapping subprocess.run (they still run) and noting the
thread each starts from; the clip is a fresh copy so no earlier probe is remembered.
"""

from __future__ import annotations

import shutil
import subprocess
import threading


def test_dropped_clip_and_dub_are_probed_off_the_gui_thread(
    make_window, qtbot, clip_3s, dub_wav, tmp_path, monkeypatch
):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    clip = tmp_path / "fresh_clip.mp4"
    dub = tmp_path / "fresh_dub.wav"
    shutil.copy(clip_3s, clip)
    shutil.copy(dub_wav, dub)
    w = make_window()
    runs: list[tuple[str, bool]] = []
    real_run = subprocess.run

    def counting_run(cmd, *args, **kwargs):
        if isinstance(cmd, (list, tuple)) and "ffprobe" in str(cmd[0]):
            runs.append((str(cmd[-1]), threading.current_thread() is threading.main_thread()))
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    w.open_paths_in_background([clip, dub])  # what a drop of both files does
    # The call returns at once: nothing applied yet, and the user sees that files are opening.
    assert w.document.project.video is None
    assert w.viewer._message == "Opening fresh_clip.mp4, fresh_dub.wav…"
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BusyCursor
    with qtbot.waitSignal(w.frame_shown, timeout=30000):
        pass
    p = w.document.project
    assert p.video is not None and p.video.path == clip and p.frame_count == 75
    assert [t.name for t in p.audio_tracks] == ["Original", "fresh_dub"]
    assert QApplication.overrideCursor() is None
    assert sorted(path for path, _ in runs) == sorted([str(clip), str(dub)])  # once each
    assert not [path for path, on_gui in runs if on_gui], runs  # none on the GUI thread
    # One undo step per file, as before.
    w.document.undo()
    assert [t.name for t in w.document.project.audio_tracks] == ["Original"]
    w.document.undo()
    assert w.document.project.video is None


def test_an_unreadable_dropped_file_warns_and_clears_the_busy_state(
    make_window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QApplication

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    w = make_window()
    shown: list[tuple[str, str]] = []
    notify = w.notifications.notify

    def noting_notify(text: str, level: str = "info") -> None:
        shown.append((text, level))
        notify(text, level)

    monkeypatch.setattr(w.notifications, "notify", noting_notify)
    w.open_paths_in_background([bad])
    qtbot.waitUntil(lambda: not w.intake.busy, timeout=30000)
    assert w.document.project.video is None
    assert any("broken.mp4" in text and level == "warning" for text, level in shown), shown
    assert w.viewer._message.startswith("Open a video")
    assert QApplication.overrideCursor() is None
