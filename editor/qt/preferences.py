"""Edit > Preferences: a form generated from the settings' field metadata (STYLE.md section 7).

Each visible field of :class:`editor.settings.Settings` becomes one row, chosen by its ``kind``:
a check box, a spin box, a combo box, or a line edit with a Browse button for files and
folders. Fields set by a ``LIPSYNC_*`` variable for this run are shown read-only, saying so.
OK writes the settings file and applies what takes effect at once (device, cache folder).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from editor.settings import FieldInfo, Settings, settings_fields


def _limits(name: str) -> tuple[int, int]:
    meta = next(f.metadata for f in dataclasses.fields(Settings) if f.name == name)
    return int(meta.get("minimum", 0)), int(meta.get("maximum", 10**6))


class QtPreferencesDialog(QDialog):
    """The preferences form for ``settings`` (edited in place on :meth:`accept`).

    Args:
        settings: The editor settings.
        parent: Parent widget.

    Attributes:
        editors: Field name -> the widget editing it.
        changed: Field names whose value OK changed (set by :meth:`accept`).
    """

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtPreferencesDialog")
        self.setWindowTitle("Preferences")
        self.resize(620, 0)
        self.settings = settings
        self.editors: dict[str, QWidget] = {}
        self.changed: list[str] = []
        self._fields = settings_fields()
        overridden = set(settings.env_overridden)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        for info in self._fields:
            editor, row = self._make_editor(info, getattr(settings, info.name))
            tip = info.help
            if info.name in overridden:
                row.setEnabled(False)
                tip += f"\nSet by ${info.env_var} for this run (unset it to edit here)."
            editor.setToolTip(tip)
            label = QLabel(info.label)
            label.setToolTip(tip)
            self.editors[info.name] = editor
            form.addRow(label, row)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(buttons)

    def _make_editor(self, info: FieldInfo, value: Any) -> tuple[QWidget, QWidget]:
        if info.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            return box, box
        if info.kind == "int":
            spin = QSpinBox()
            spin.setRange(*_limits(info.name))
            spin.setValue(int(value))
            return spin, spin
        if info.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(info.choices))
            combo.setCurrentText(str(value))
            return combo, combo
        edit = QLineEdit(str(value))
        edit.setPlaceholderText(
            "default" if info.kind == "folder" else "not set" if info.kind == "file" else ""
        )
        if info.kind not in ("file", "folder"):
            return edit, edit
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(edit, 1)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda _c=False, i=info, e=edit: self._browse(i, e))
        h.addWidget(browse)
        return edit, row

    def _browse(self, info: FieldInfo, edit: QLineEdit) -> None:
        start = edit.text() or str(Path.home())
        if info.kind == "folder":
            path = QFileDialog.getExistingDirectory(self, info.label, start)
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, info.label, start, "Weights (*.pth *.pt *.safetensors);;All files (*)"
            )
        if path:
            edit.setText(path)

    def value_of(self, name: str) -> Any:
        """The value the form holds for field ``name``."""
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox):
            return editor.value()
        if isinstance(editor, QComboBox):
            return editor.currentText()
        return editor.text().strip()

    def accept(self) -> None:
        """Copy the form into the settings (fields overridden by the environment excepted)."""
        overridden = set(self.settings.env_overridden)
        self.changed = []
        for info in self._fields:
            if info.name in overridden:
                continue
            value = self.value_of(info.name)
            if value != getattr(self.settings, info.name):
                setattr(self.settings, info.name, value)
                self.changed.append(info.name)
        super().accept()


def apply_preferences(
    settings: Settings, changed: list[str], environ: dict[str, str] | None = None
) -> list[str]:
    """Make changed settings take effect in this run, where lipcore reads them from variables.

    lipcore has no settings object: the device comes from ``LIPSYNC_DEVICE`` and the cache
    folder from ``LIPSYNC_CACHE_DIR``. Fields overridden by the environment are left alone.

    Args:
        settings: The settings after the dialog.
        changed: Field names the dialog changed.
        environ: Environment to update (default ``os.environ``).

    Returns:
        Notes for the user about what applies when.
    """
    import os

    env = os.environ if environ is None else environ
    overridden = set(settings.env_overridden)
    notes = []
    if "device" in changed and "device" not in overridden:
        if settings.device == "auto":
            env.pop("LIPSYNC_DEVICE", None)
        else:
            env["LIPSYNC_DEVICE"] = settings.device
        notes.append(f"Device: {settings.device} for the next render")
    if "cache_dir" in changed and "cache_dir" not in overridden:
        folder = settings.cache_dir.strip()
        if folder:
            env["LIPSYNC_CACHE_DIR"] = str(Path(folder).expanduser().absolute())
        else:
            env.pop("LIPSYNC_CACHE_DIR", None)
        notes.append("Cache folder: used for projects opened from now on")
    return notes
