"""A backup that cannot be written is reported in the notification area; editing goes on."""

from __future__ import annotations


def test_failing_autosave_is_reported_not_raised(make_window, clip_3s, qtbot, tmp_path):
    # The autosave folder of the window fixture is taken by a plain file: writing must fail.
    (tmp_path / "autosave").write_text("not a folder")
    w = make_window()
    assert w.open_video(clip_3s)  # an edit: the document is dirty and a backup is scheduled
    assert w.document.dirty and w.autosaver is not None
    w.autosaver.clock = lambda: 1e12  # the debounce delay has long passed
    qtbot.waitUntil(
        lambda: (
            w.notifications.last is not None and w.notifications.last.text.startswith("Autosave:")
        ),
        timeout=5000,
    )
    assert w.notifications.last.level == "error"
    assert str(tmp_path / "autosave") in w.notifications.last.text
    # The editor still works: the next edit is accepted and undoable.
    w.undo_action.trigger()
    assert w.document.project.video is None
