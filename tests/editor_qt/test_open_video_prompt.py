"""Opening a video while a clip is open asks first: new project, replace the clip, or cancel.

The real question box is answered by clicking its buttons from a timer, as a user would.
"""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


@pytest.fixture(scope="module")
def other_clip(shared_media, tmp_path_factory):
    """One second of the shared clip A07 (another speaker, 524 px)."""
    src = next((shared_media / "video").glob("A07_*.mp4"))
    out = tmp_path_factory.mktemp("other") / "a07_1s.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-t", "1", "-c:v", "libx264"]
        + ["-pix_fmt", "yuv420p", "-c:a", "aac", str(out)],
        check=True,
    )
    return out


def _click_later(qtbot, button_text: str, seen: list) -> None:
    def click():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        seen.append(box.text())
        [button] = [b for b in box.buttons() if b.text().replace("&", "") == button_text]
        button.click()

    QTimer.singleShot(300, click)


@pytest.fixture
def edited(window, clip_3s, dub_wav):
    """A window with the 3 s clip, a dub and one segment."""
    assert window.open_video(clip_3s)
    assert window.import_audio(dub_wav)
    window.document.add_segment(5, 25)
    del window._ask_new_project  # the fixture's "no prompts" answer: use the real box here
    return window


def test_new_project_starts_empty_with_the_new_clip(edited, other_clip, qtbot):
    w = edited
    seen: list = []
    _click_later(qtbot, "New Project", seen)
    assert w.open_video(other_clip)
    assert seen and "a07_1s.mp4" in seen[0]
    p = w.document.project
    assert p.video.path == other_clip and p.width == 524
    assert p.segments == [] and [t.name for t in p.audio_tracks] == ["Original"]
    assert w.document.path is None and w.trackset is None
    assert "a07_1s.mp4" in w.windowTitle()


def test_cancel_keeps_everything(edited, other_clip, clip_3s, qtbot):
    w = edited
    seen: list = []
    _click_later(qtbot, "Cancel", seen)
    assert not w.open_video(other_clip)
    assert seen
    p = w.document.project
    assert p.video.path == clip_3s and len(p.segments) == 1 and len(p.audio_tracks) == 2


def test_replace_keeps_segments_and_is_undoable(edited, other_clip, clip_3s, qtbot):
    w = edited
    seen: list = []
    _click_later(qtbot, "Replace Clip", seen)
    assert w.open_video(other_clip)
    p = w.document.project
    assert p.video.path == other_clip and len(p.segments) == 1 and len(p.audio_tracks) == 2
    w.undo_action.trigger()
    assert w.document.project.video.path == clip_3s


def test_first_clip_opens_without_a_question(window, clip_3s):
    window._ask_new_project = lambda path: pytest.fail("asked with nothing open")
    assert window.open_video(clip_3s)
