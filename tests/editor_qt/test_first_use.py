"""Fixes from a first-use review of the editor: action states, offline media, export dialog.

Each test follows what a dubbing editor saw on the real window: toolbar buttons that did
nothing, a moved clip that left the viewer on "decoding…" with one error per background job,
a truncated export path, leftover job rows from the previous project, invisible check boxes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CLIP_ACTIONS = (
    "export_action",
    "split_action",
    "render_selected_action",
    "render_all_action",
    "region_action",
    "segment_inout_action",
)


def test_actions_follow_what_can_act(window, clip_3s, dub_wav, qtbot):
    # Nothing open: clip actions are greyed out, so is cancelling renders that do not exist.
    for name in CLIP_ACTIONS:
        assert not getattr(window, name).isEnabled(), name
    assert not window.cancel_action.isEnabled()
    assert not window.speech_action.isEnabled()
    assert not window.relink_action.isEnabled()

    assert window.open_video(clip_3s)
    for name in CLIP_ACTIONS:
        assert getattr(window, name).isEnabled(), name
    assert not window.speech_action.isEnabled()  # needs a dub track
    assert not window.cancel_action.isEnabled()  # nothing renders yet
    window.import_audio(dub_wav)
    assert window.speech_action.isEnabled()
    assert window.nudge_right_action.isEnabled()


def test_moved_clip_is_offline_and_relinks(window, clip_3s, tmp_path, qtbot):
    folder = tmp_path / "job"
    folder.mkdir()
    clip = folder / "clip.mp4"
    shutil.copy(clip_3s, clip)
    assert window.open_video(clip)
    qtbot.waitUntil(lambda: window.trackset is not None, timeout=120_000)
    project = window.save_project(folder / "job.lsproj")
    moved = folder / "renamed.mp4"
    clip.rename(moved)

    asked: list[Path] = []
    window._ask_relink_path = lambda old: asked.append(old) or None  # user cancels the picker
    assert window.open_project(project)
    assert asked == [clip]  # the relink prompt came up, naming the missing file
    assert "Media offline" in window.viewer._message and "clip.mp4" in window.viewer._message
    last = window.notifications.last.text
    assert "Relink" in last and "clip.mp4" in last
    assert window.relink_action.isEnabled()
    assert not window.export_action.isEnabled()
    qtbot.wait(500)
    # One message about the missing file, not one per background job.
    assert window.notifications.last.level == "error"
    assert window.notifications.last.text.startswith("Missing media")

    window._ask_relink_path = lambda old: moved
    window.relink_action.trigger()
    assert window.document.project.video.path == moved
    assert "Relinked clip.mp4" in window.notifications.last.text
    assert not window.relink_action.isEnabled()
    assert window.export_action.isEnabled()
    qtbot.waitUntil(lambda: window.trackset is not None, timeout=120_000)
    qtbot.waitUntil(lambda: window.viewer._original is not None, timeout=20_000)


def test_open_project_clears_finished_job_rows(window):
    window.jobs.job_queued("a", "Segment 1–10")
    window.jobs.job_ended("a", "done")
    window.jobs.job_queued("b", "Segment 11–20")  # still running: kept
    window.set_document(window._new_document())
    assert "a" not in window.jobs.rows
    assert "b" in window.jobs.rows
    window.jobs.job_ended("b", "cancelled")
    window.jobs.clear_finished()
    assert not window.jobs.rows
    assert not window.jobs._empty.isHidden()  # "No render jobs…" again


def test_export_dialog_shows_the_whole_path(qtbot, tmp_path):
    from editor.qt.dialogs import QtExportDialog

    out = tmp_path / "a_long_project_folder_name" / "A07_frontal_woman_glasses_lipsync.mp4"
    dialog = QtExportDialog(out)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    edit = dialog.path_edit
    assert edit.cursorPosition() == 0  # the folder is in view, not only the file name
    assert edit.width() >= edit.fontMetrics().horizontalAdvance(str(out))


def test_theme_draws_check_and_radio_indicators():
    from editor.__main__ import load_stylesheet

    qss = load_stylesheet()
    assert "QCheckBox::indicator" in qss and "QRadioButton::indicator:checked" in qss
    assert "QSpinBox::up-arrow" in qss
    for line in qss.splitlines():
        if "url(" in line:
            path = line.split("url(")[1].split(")")[0]
            assert Path(path).is_file(), path


def test_every_shortcut_is_unique(window):
    """An ambiguous shortcut fires neither action (Save As and Segments from Speech did)."""
    from collections import defaultdict

    from PySide6.QtGui import QAction

    owners: dict[str, list[str]] = defaultdict(list)
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            owners[key.toString()].append(action.text())
    clashes = {key: names for key, names in owners.items() if len(names) > 1}
    assert not clashes
