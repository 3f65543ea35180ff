"""Small dialogs: export settings, segments-from-speech padding, crash recovery."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

#: Export presets: id -> (label, file suffix).
EXPORT_PRESETS = {
    "mp4_h264_aac": ("MP4 — H.264 / AAC (delivery)", ".mp4"),
    "mov_prores_pcm": ("MOV — ProRes / PCM (mezzanine for editing)", ".mov"),
}


class QtExportDialog(QDialog):
    """Asks where and how to export: file, preset, which audio goes out, quality.

    Args:
        output_path: Suggested output file.
        preset: Preset id (see :data:`EXPORT_PRESETS`).
        audio_mix: "dub" or "mix".
        crf: x264 quality.
    """

    def __init__(
        self,
        output_path: Path,
        preset: str = "mp4_h264_aac",
        audio_mix: str = "dub",
        crf: int = 12,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("QtExportDialog")
        self.setWindowTitle("Export video")
        # Wide enough for a full path: the folder is what users check before exporting.
        self.setMinimumWidth(760)
        form = QFormLayout()
        self.path_edit = QLineEdit(str(output_path))
        self.path_edit.setCursorPosition(0)
        self.path_edit.setMinimumWidth(
            min(900, self.path_edit.fontMetrics().horizontalAdvance(str(output_path)) + 80)
        )
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.preset_combo = QComboBox()
        for key, (label, _suffix) in EXPORT_PRESETS.items():
            self.preset_combo.addItem(label, key)
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(preset)))
        self.preset_combo.currentIndexChanged.connect(self._on_preset_combo_changed)
        self.dub_radio = QRadioButton("Dub only")
        self.mix_radio = QRadioButton("Dub over the original (original ducked −12 dB)")
        group = QButtonGroup(self)
        group.addButton(self.dub_radio)
        group.addButton(self.mix_radio)
        (self.mix_radio if audio_mix == "mix" else self.dub_radio).setChecked(True)
        audio_box = QVBoxLayout()
        audio_box.addWidget(self.dub_radio)
        audio_box.addWidget(self.mix_radio)
        self.crf_spin = QSpinBox()
        self.crf_spin.setRange(0, 40)
        self.crf_spin.setValue(crf)
        self.crf_spin.setToolTip("x264 constant rate factor: lower is better and bigger")
        form.addRow("File", row)
        form.addRow("Format", self.preset_combo)
        form.addRow("Audio", audio_box)
        form.addRow("Quality (CRF)", self.crf_spin)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    @property
    def output_path(self) -> Path:
        """Chosen file, with the preset's suffix."""
        suffix = EXPORT_PRESETS[self.preset][1]
        return Path(self.path_edit.text()).with_suffix(suffix)

    @property
    def preset(self) -> str:
        """Chosen preset id."""
        return self.preset_combo.currentData()

    @property
    def audio_mix(self) -> str:
        """ "dub" or "mix"."""
        return "mix" if self.mix_radio.isChecked() else "dub"

    @property
    def crf(self) -> int:
        """Chosen x264 quality."""
        return self.crf_spin.value()

    def _on_preset_combo_changed(self, _index: int) -> None:
        self.path_edit.setText(str(self.output_path))
        self.crf_spin.setEnabled(self.preset == "mp4_h264_aac")

    def _on_browse_clicked(self) -> None:
        suffix = EXPORT_PRESETS[self.preset][1]
        path, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.path_edit.text(), f"Video (*{suffix})"
        )
        if path:
            self.path_edit.setText(path)


class QtSpeechDialog(QDialog):
    """Asks for the padding and minimum gap of segments made from speech."""

    def __init__(self, track_names: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Segments from speech")
        form = QFormLayout(self)
        self.track_combo = QComboBox()
        for track_id, name in track_names:
            self.track_combo.addItem(name, track_id)
        self.pad_spin = QDoubleSpinBox()
        self.pad_spin.setRange(0.0, 2.0)
        self.pad_spin.setSingleStep(0.05)
        self.pad_spin.setValue(0.15)
        self.pad_spin.setSuffix(" s")
        self.gap_spin = QDoubleSpinBox()
        self.gap_spin.setRange(0.0, 5.0)
        self.gap_spin.setSingleStep(0.1)
        self.gap_spin.setValue(0.4)
        self.gap_spin.setSuffix(" s")
        form.addRow(QLabel("Voice activity in a dub track becomes segments."))
        form.addRow("Dub track", self.track_combo)
        form.addRow("Pad before/after", self.pad_spin)
        form.addRow("Join pauses shorter than", self.gap_spin)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create Segments")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
