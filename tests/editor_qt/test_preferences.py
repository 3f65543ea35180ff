"""Edit > Preferences: a form generated from the settings metadata, persisted, applied; and a
render error in the GUI points at it instead of a command-line flag."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from editor.settings import load_settings, settings_fields, settings_path


def _answer_later(window, qtbot, fill) -> list:
    seen = []

    def run():
        dialog = window._preferences_dialog
        seen.append(dialog)
        fill(dialog)
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(200, run)
    return seen


def test_form_is_generated_from_the_field_metadata(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("LIPSYNC_DEVICE", raising=False)
    checkpoint = tmp_path / "wav2lip_gan.pth"
    cache = tmp_path / "my-cache"

    def fill(dialog):
        kinds = {f.name: f.kind for f in settings_fields()}
        assert list(dialog.editors) == [f.name for f in settings_fields()]
        expected = {"bool": QCheckBox, "int": QSpinBox, "choice": QComboBox}
        for name, editor in dialog.editors.items():
            assert isinstance(editor, expected.get(kinds[name], QLineEdit)), name
        assert "recent_projects" not in dialog.editors  # hidden field
        dialog.editors["wav2lip_checkpoint"].setText(str(checkpoint))
        dialog.editors["device"].setCurrentText("cpu")
        dialog.editors["cache_dir"].setText(str(cache))
        dialog.editors["autosave"].setChecked(False)

    seen = _answer_later(window, qtbot, fill)
    window.preferences_action.trigger()
    assert seen, "the dialog did not open"
    s = window.settings
    assert s.wav2lip_checkpoint == str(checkpoint) and s.device == "cpu"
    assert s.cache_dir == str(cache) and s.autosave is False
    assert window.autosaver.enabled is False
    assert os.environ["LIPSYNC_DEVICE"] == "cpu"
    assert os.environ["LIPSYNC_CACHE_DIR"] == str(cache)
    # Persisted: a fresh load of the settings file has the new values.
    again = load_settings(settings_path(), environ={})
    assert again.wav2lip_checkpoint == str(checkpoint) and again.device == "cpu"
    assert again.cache_dir == str(cache) and again.autosave is False
    assert "Preferences saved" in window.notifications.last.text


def test_a_field_set_by_the_environment_is_read_only(make_window, qtbot, monkeypatch):
    monkeypatch.setenv("LIPSYNC_DEVICE", "cpu")
    window = make_window()
    window.settings = load_settings(settings_path())
    assert "device" in window.settings.env_overridden

    def fill(dialog):
        combo = dialog.editors["device"]
        assert not combo.isEnabled() and "$LIPSYNC_DEVICE" in combo.toolTip()
        combo.setCurrentText("cuda")  # a script could; accept() must still ignore it

    _answer_later(window, qtbot, fill)
    window.preferences_action.trigger()
    assert window.settings.device == "cpu"


def test_missing_checkpoint_error_says_preferences_not_a_flag(window, clip_3s, dub_wav, qtbot):
    assert window.open_video(clip_3s) and window.import_audio(dub_wav)
    sid = window.document.add_segment(10, 30, engine="wav2lip")
    with qtbot.waitSignal(window.render_failed, timeout=240000) as failed:
        window.render_segments([sid])
    text = failed.args[1]
    assert "--checkpoint" in text  # lipcore's own wording, for the CLI
    shown = window.notifications.last.text
    assert "Edit ▸ Preferences" in shown and "--" not in shown, shown
    window.select_segments([sid])
    assert "Edit ▸ Preferences" in window.inspector.status_label.text()
    assert "--checkpoint" not in window.inspector.status_label.text()
