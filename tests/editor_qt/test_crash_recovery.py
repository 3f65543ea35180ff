"""Crash recovery in the window: an untitled project's autosave left by a real crash (SIGKILL)
is offered at the next start; a declined one is not offered again but stays in File > Recover;
"Don't save" leaves nothing to recover; a declined project backup is not offered on reopen."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def crashed_backup(clip_3s, dub_wav, tmp_path) -> Path:
    """Run the editor in a child process, edit an untitled project, autosave, then SIGKILL it."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from PySide6.QtWidgets import QApplication
        from editor.qt.main_window import QtMainWindow
        from editor.settings import Settings
        app = QApplication([])
        w = QtMainWindow(settings=Settings(), autosave_dir=Path({str(tmp_path / "autosave")!r}),
                         save_settings_on_change=False)
        assert w.open_video({str(clip_3s)!r}) and w.import_audio({str(dub_wav)!r})
        w.document.add_segment(5, 25)
        print(w.autosaver.write(), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "LIPSYNC_CONFIG_DIR": str(tmp_path / "child-config"),
        "LIPSYNC_CACHE_DIR": str(tmp_path / "child-cache"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=180,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    backup = Path(done.stdout.strip().splitlines()[-1])
    assert backup.is_file() and backup.name.startswith("untitled-")
    return backup


def test_untitled_autosave_is_offered_at_next_start_and_recovered(
    crashed_backup, make_window, qtbot
):
    w = make_window()
    asked = []
    w._ask_recover_untitled = lambda entry, others: asked.append(entry) or True
    assert w.offer_recovery()
    assert len(asked) == 1 and "a05_3s.mp4, 1 segment" in asked[0].describe()
    p = w.document.project
    assert p.video is not None and p.video.path.name == "a05_3s.mp4"
    assert [(s.start_frame, s.end_frame) for s in p.segments] == [(5, 25)]
    assert len(p.audio_tracks) == 2
    assert w.document.path is None and w.has_unsaved_changes
    assert w.windowTitle().startswith("•") or "•" in w.windowTitle()
    qtbot.waitUntil(lambda: w.viewer._original is not None, timeout=20000)


def test_declined_recovery_is_not_offered_again_but_file_recover_lists_it(
    crashed_backup, make_window, qtbot, tmp_path
):
    first = make_window()
    first._ask_recover_untitled = lambda entry, others: False
    assert not first.offer_recovery()
    assert not crashed_backup.exists(), "declined: renamed out of the start-up offer"
    dismissed = crashed_backup.with_name(crashed_backup.name + ".dismissed")
    assert dismissed.is_file(), "declined work is kept, not deleted"

    second = make_window()

    def never(entry, others):
        raise AssertionError("a declined autosave was offered again")

    second._ask_recover_untitled = never
    assert not second.offer_recovery()

    # File > Recover… lists it; pick it in the dialog and press Recover.
    seen = []

    def answer():
        dialog = second._recovery_dialog
        seen.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        dialog.select(0)
        qtbot.mouseClick(dialog.recover_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(200, answer)
    second.recover_action.trigger()
    assert len(seen) == 1 and len(seen[0]) == 1
    assert "Untitled" in seen[0][0] and "declined before" in seen[0][0]
    p = second.document.project
    assert p.video is not None and len(p.segments) == 1 and second.has_unsaved_changes

    # Saving it makes the backups obsolete: nothing is left to recover.
    saved = second.save_project(tmp_path / "recovered.lsproj")
    assert saved is not None
    assert not list((tmp_path / "autosave").glob("untitled-*"))


def test_dont_save_at_close_leaves_no_recovery(make_window, clip_3s, tmp_path):
    w = make_window()
    assert w.open_video(clip_3s)
    backup = w.autosaver.write()
    assert backup.is_file()
    w._ask_save_changes = lambda: "discard"
    w.close()
    assert not backup.exists(), "changes thrown away on purpose came back as a crash"
    again = make_window()
    again._ask_recover_untitled = lambda entry, others: pytest.fail("offered discarded work")
    assert not again.offer_recovery()


def test_declined_project_backup_is_not_offered_on_reopen(make_window, clip_3s, tmp_path):
    w = make_window()
    assert w.open_video(clip_3s)
    w.document.add_segment(5, 25)
    project = w.save_project(tmp_path / "p.lsproj")
    w.document.add_segment(40, 60)
    backup = w.autosaver.write()
    w.autosaver.detach()
    w.autosaver = None  # the process "died": nothing removes the backup

    other = make_window()
    asked = []
    other._ask_restore = lambda recovery: asked.append(recovery) or False
    assert other.open_project(project)
    assert asked == [backup] and len(other.document.project.segments) == 1
    assert other.open_project(project)
    assert len(asked) == 1, "a declined backup was offered again"
    # Still listed under File > Recover (from the recent projects), and recoverable.
    from editor.model.recovery import recoverable

    entries = recoverable(tmp_path / "autosave", [str(project)])
    assert [e.project_path for e in entries] == [project] and entries[0].dismissed
    assert other.recover_backup(entries[0].backup)
    assert len(other.document.project.segments) == 2
    assert other.document.path == project and other.has_unsaved_changes
