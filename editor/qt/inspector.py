"""Inspector dock: the selected segment's render options and the selected dub track's placement.

The inspector shows document state and reports edits as signals; the main window applies them
through :class:`editor.model.document.Document` methods (so they are undoable and mark renders
stale). Slider drags pass ``merge=True`` so that a drag is one undo step.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

SAMPLES_PER_MS = 16  # project audio offsets are 16 kHz samples

_STATUS_TEXT = {
    "none": "not rendered",
    "stale": "stale: options changed since the last render",
    "queued": "queued",
    "rendering": "rendering…",
    "done": "rendered",
    "failed": "failed",
}


#: Engines a segment's mouth cues can drive.
CUE_ENGINES = ("oneshot", "auto")


class QtSegmentInspector(QWidget):
    """Edits the options of one segment and one dub track.

    Signals:
        segment_edited(str segment_id, dict changes, bool merge): option changes for
            :meth:`Document.set_segment_options`.
        edit_finished(): a slider drag ended (seal the undo step).
        render_requested(str segment_id), cancel_requested(str segment_id).
        track_offset_edited(str track_id, int offset_frames).
        track_nudged(str track_id, int frames).
        track_face_edited(str track_id, object face_track_id).
        track_actor_edited(str track_id, object path): an actor file (``lipsync adapt``) picked
            for the track's face, or None (Clear) for the generic models.
        track_mute_edited(str track_id, bool), track_solo_edited(str track_id, bool).
    """

    segment_edited = Signal(str, dict, bool)
    edit_finished = Signal()
    render_requested = Signal(str)
    cancel_requested = Signal(str)
    playhead_wanted = Signal()
    track_offset_edited = Signal(str, int)
    track_nudged = Signal(str, int)
    track_face_edited = Signal(str, object)
    track_actor_edited = Signal(str, object)
    track_mute_edited = Signal(str, bool)
    track_solo_edited = Signal(str, bool)

    def __init__(self, engines: tuple[str, ...], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtSegmentInspector")
        self._segment_id: str | None = None
        self._track_id: str | None = None
        self._updating = False
        self._playhead = 0
        self._fps = 25.0

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(10)

        self.segment_box = QGroupBox("Segment")
        form = QFormLayout(self.segment_box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.range_label = QLabel("—")
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("optional note or subtitle line")
        self.engine_combo = QComboBox()
        self.engine_combo.addItems(list(engines))
        self.face_combo = QComboBox()
        self.audio_combo = QComboBox()
        self.drive_combo = QComboBox()
        self.drive_combo.addItem("speech", "audio")
        self.drive_combo.addItem("mouth cues", "cues")
        self.drive_combo.setToolTip(
            "What moves the mouth: the dub's speech, or the dub track's mouth cues as edited "
            "in the cue lane (one-shot and auto engines only)."
        )
        self.feather_spin = QSpinBox()
        self.feather_spin.setRange(0, 64)
        self.feather_spin.setSuffix(" px")
        self.strength_slider = QSlider(Qt.Orientation.Horizontal)
        self.strength_slider.setRange(0, 200)
        self.strength_value = QLabel("1.00")
        self.strength_value.setMinimumWidth(34)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength_slider, 1)
        strength_row.addWidget(self.strength_value)
        self.reference_combo = QComboBox()
        self.reference_combo.addItem("neutral frame", "neutral")
        self.reference_combo.addItem("same frame (Wav2Lip)", "self")
        self.neutral_spin = QSpinBox()
        self.neutral_spin.setRange(-1, 10**7)
        self.neutral_spin.setSpecialValueText("auto")
        # Sized for real frame numbers, not the range's 8 digits: keeps the dock from clipping.
        self.neutral_spin.setMinimumWidth(72)
        self.neutral_here = QPushButton("Use playhead")
        neutral_row = QHBoxLayout()
        neutral_row.addWidget(self.neutral_spin, 1)
        neutral_row.addWidget(self.neutral_here)
        self.offset_spin = QDoubleSpinBox()
        self.offset_spin.setRange(-5000, 5000)
        self.offset_spin.setDecimals(1)
        self.offset_spin.setSuffix(" ms")
        self.offset_spin.setSingleStep(40)
        self.region_label = QLabel("any face")
        self.region_clear = QPushButton("Clear")
        region_row = QHBoxLayout()
        region_row.addWidget(self.region_label, 1)
        region_row.addWidget(self.region_clear)
        form.addRow("Frames", self.range_label)
        form.addRow("Label", self.label_edit)
        form.addRow("Engine", self.engine_combo)
        self.engine_used_label = QLabel("")
        self.engine_used_label.setObjectName("engineUsed")
        self.engine_used_label.setWordWrap(True)
        self.engine_used_label.setToolTip("The engine the last render ran, and why auto chose it")
        form.addRow(self.engine_used_label)
        form.addRow("Face", self.face_combo)
        form.addRow("Audio", self.audio_combo)
        form.addRow("Mouth driven by", self.drive_combo)
        form.addRow("Mask feather", self.feather_spin)
        form.addRow("Mouth strength", strength_row)
        form.addRow("Reference", self.reference_combo)
        form.addRow("Neutral frame", neutral_row)
        self.offset_spin.setToolTip(
            "Sync nudge for this segment: shifts which part of the dub drives the mouth. "
            "The exported sound stays where its track is; slide the track to move it."
        )
        form.addRow("Audio offset", self.offset_spin)
        self.region_label.setToolTip(
            "Face area: only a face inside this box is re-synced (B, then drag on the picture). "
            "It chooses the face; the edit follows that face, not the box."
        )
        form.addRow("Face area", region_row)

        self.status_label = QLabel("")
        self.status_label.setObjectName("renderStatus")
        self.status_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.render_button = QPushButton("Render segment")
        self.render_button.setObjectName("primaryButton")
        self.cancel_button = QPushButton("Cancel")
        buttons = QHBoxLayout()
        buttons.addWidget(self.render_button, 1)
        buttons.addWidget(self.cancel_button)
        form.addRow(self.status_label)
        form.addRow(self.progress)
        form.addRow(buttons)
        outer.addWidget(self.segment_box)

        self.track_box = QGroupBox("Dub track")
        tform = QFormLayout(self.track_box)
        tform.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.track_combo = QComboBox()
        self.track_offset_spin = QSpinBox()
        self.track_offset_spin.setRange(-(10**6), 10**6)
        self.track_offset_spin.setSuffix(" f")
        self.track_offset_spin.setMinimumWidth(72)
        self.nudge_left = QPushButton("◀ 1 f")
        self.nudge_right = QPushButton("1 f ▶")
        nudge_row = QHBoxLayout()
        nudge_row.addWidget(self.track_offset_spin, 1)
        nudge_row.addWidget(self.nudge_left)
        nudge_row.addWidget(self.nudge_right)
        self.track_face_combo = QComboBox()
        self.mute_check = QCheckBox("Mute")
        self.solo_check = QCheckBox("Solo")
        ms_row = QHBoxLayout()
        ms_row.addWidget(self.mute_check)
        ms_row.addWidget(self.solo_check)
        ms_row.addStretch(1)
        tform.addRow("Track", self.track_combo)
        tform.addRow("Offset", nudge_row)
        tform.addRow("Drives face", self.track_face_combo)
        self.actor_label = QLabel("generic")
        self.actor_choose = QPushButton("Choose…")
        self.actor_clear = QPushButton("Clear")
        actor_row = QHBoxLayout()
        actor_row.addWidget(self.actor_label, 1)
        actor_row.addWidget(self.actor_choose)
        actor_row.addWidget(self.actor_clear)
        tform.addRow("Actor", actor_row)
        tform.addRow("", ms_row)
        outer.addWidget(self.track_box)
        outer.addStretch(1)

        self.label_edit.editingFinished.connect(self._on_label_edit_finished)
        self.engine_combo.currentTextChanged.connect(lambda v: self._emit_segment({"engine": v}))
        self.face_combo.currentIndexChanged.connect(
            lambda _i: self._emit_segment({"face_track_id": self.face_combo.currentData()})
        )
        self.audio_combo.currentIndexChanged.connect(
            lambda _i: self._emit_segment({"audio_track_id": self.audio_combo.currentData()})
        )
        self.drive_combo.currentIndexChanged.connect(
            lambda _i: self._emit_segment({"drive": self.drive_combo.currentData()})
        )
        self.feather_spin.valueChanged.connect(
            lambda v: self._emit_segment({"feather_px": int(v)}, merge=True)
        )
        self.strength_slider.valueChanged.connect(self._on_strength_slider_value_changed)
        self.strength_slider.sliderReleased.connect(self.edit_finished)
        self.reference_combo.currentIndexChanged.connect(
            lambda _i: self._emit_segment({"reference": self.reference_combo.currentData()})
        )
        self.neutral_spin.valueChanged.connect(
            lambda v: self._emit_segment({"neutral_frame": None if v < 0 else int(v)}, merge=True)
        )
        self.neutral_here.clicked.connect(self._on_neutral_here_clicked)
        self.offset_spin.valueChanged.connect(
            lambda v: self._emit_segment(
                {"audio_offset_samples": int(round(v * SAMPLES_PER_MS))}, merge=True
            )
        )
        self.region_clear.clicked.connect(lambda: self._emit_segment({"region": None}))
        self.render_button.clicked.connect(
            lambda: self._segment_id and self.render_requested.emit(self._segment_id)
        )
        self.cancel_button.clicked.connect(
            lambda: self._segment_id and self.cancel_requested.emit(self._segment_id)
        )
        self.track_combo.currentIndexChanged.connect(self._on_track_combo_changed)
        self.track_offset_spin.valueChanged.connect(self._on_track_offset_spin_changed)
        self.nudge_left.clicked.connect(lambda: self._emit_nudge(-1))
        self.nudge_right.clicked.connect(lambda: self._emit_nudge(1))
        self.track_face_combo.currentIndexChanged.connect(self._on_track_face_combo_changed)
        self.actor_choose.clicked.connect(self._on_actor_choose_clicked)
        self.actor_clear.clicked.connect(
            lambda: self._track_id and self.track_actor_edited.emit(self._track_id, None)
        )
        self.mute_check.toggled.connect(
            lambda on: (
                self._track_id
                and not self._updating
                and self.track_mute_edited.emit(self._track_id, on)
            )
        )
        self.solo_check.toggled.connect(
            lambda on: (
                self._track_id
                and not self._updating
                and self.track_solo_edited.emit(self._track_id, on)
            )
        )
        self._project: Any = None
        self.show_segment(None, None)

    # ------------------------------------------------------------------ data in
    def set_playhead(self, frame: int) -> None:
        """Remember the playhead for "Use playhead"."""
        self._playhead = int(frame)

    def show_segment(
        self,
        project: Any,
        segment: Any,
        face_ids: list[str] | None = None,
        status: str | None = None,
        progress: float = 0.0,
    ) -> None:
        """Fill the form from ``segment`` (a :class:`lipcore.project.Segment`) or disable it."""
        self._project = project
        self._updating = True
        try:
            self._fill_faces(
                self.face_combo, face_ids or [], segment.face_track_id if segment else None
            )
            self._fill_tracks(project, segment)
            self._segment_id = segment.id if segment is not None else None
            enabled = segment is not None
            for w in self.segment_box.findChildren(QWidget):
                w.setEnabled(enabled)
            if segment is None:
                self.range_label.setText("select a segment on the timeline")
                self.status_label.setText("")
                self._show_engine_used("")
                self.progress.setValue(0)
                # Disabled fields show the defaults a new segment gets, not leftovers.
                from lipcore.project import SegmentOptions

                d = SegmentOptions()
                self.label_edit.clear()
                self.drive_combo.setCurrentIndex(0)
                self.feather_spin.setValue(d.feather_px)
                self.strength_slider.setValue(int(round(d.mouth_strength * 100)))
                self.strength_value.setText(f"{d.mouth_strength:.2f}")
                self.reference_combo.setCurrentIndex(
                    max(0, self.reference_combo.findData(d.reference))
                )
                self.neutral_spin.setValue(-1)
                self.offset_spin.setValue(0.0)
                self.region_label.setText("any face")
                return
            o = segment.options
            fps = float(project.fps) if project is not None else 25.0
            self._fps = fps
            from editor.model.timecode import clip_timecode

            self.range_label.setText(
                f"{clip_timecode(project, segment.start_frame)} – "
                f"{clip_timecode(project, segment.end_frame)}\n"
                f"{segment.start_frame} – {segment.end_frame}  "
                f"({segment.duration_frames} f, {segment.duration_frames / fps:.2f} s)"
            )
            line = getattr(segment, "text", "")
            speaker = getattr(segment, "speaker", "")
            self.range_label.setToolTip(f"{speaker}: {line}" if speaker else line)
            self.label_edit.setText(segment.label)
            idx = self.engine_combo.findText(segment.engine)
            if idx < 0:
                self.engine_combo.addItem(segment.engine)
                idx = self.engine_combo.findText(segment.engine)
            self.engine_combo.setCurrentIndex(idx)
            self._show_engine_used(
                engine_choice_text(segment.engine, getattr(segment.render, "engines", ()))
            )
            drive = getattr(segment, "drive", "audio")
            self.drive_combo.setCurrentIndex(max(0, self.drive_combo.findData(drive)))
            # Only the one-shot engine follows cues ("auto" then means it); a segment already
            # driven by cues can still be switched back to speech
            self.drive_combo.setEnabled(segment.engine in CUE_ENGINES or drive != "audio")
            self.feather_spin.setValue(int(o.feather_px))
            self.strength_slider.setValue(int(round(o.mouth_strength * 100)))
            self.strength_value.setText(f"{o.mouth_strength:.2f}")
            self.reference_combo.setCurrentIndex(
                max(0, self.reference_combo.findData(o.reference))
            )
            self.neutral_spin.setValue(-1 if o.neutral_frame is None else int(o.neutral_frame))
            self.offset_spin.setValue(o.audio_offset_samples / SAMPLES_PER_MS)
            if o.region is None:
                self.region_label.setText("any face")
            else:
                x0, y0, x1, y1 = o.region
                self.region_label.setText(f"{x0},{y0} – {x1},{y1}")
            self.set_status(status or segment.render.status, progress, segment.render.message)
        finally:
            self._updating = False

    def set_status(self, status: str, progress: float = 0.0, message: str = "") -> None:
        """Show the render state of the shown segment."""
        text = _STATUS_TEXT.get(status, status)
        if status == "failed" and message:
            from editor.model.gui_wording import gui_wording

            text += f": {gui_wording(message)}"
        self.status_label.setText(text)
        self.status_label.setProperty("status", status)
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)
        self.progress.setValue(int(1000 * (1.0 if status == "done" else progress)))
        running = status in ("rendering", "queued")
        self.cancel_button.setEnabled(running and self._segment_id is not None)
        self.render_button.setText("Re-render segment" if status == "done" else "Render segment")

    def _on_actor_choose_clicked(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        if self._track_id is None:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Actor file", "", "Actor files (*.lsactor);;All files (*)"
        )
        if path:
            self.track_actor_edited.emit(self._track_id, path)

    def show_track(self, project: Any, track_id: str | None, face_ids: list[str]) -> None:
        """Fill the dub-track group (``track_id`` None: the first dub track)."""
        self._updating = True
        try:
            dubs = [t for t in project.audio_tracks if not t.is_original] if project else []
            self.track_combo.clear()
            for t in dubs:
                self.track_combo.addItem(t.name, t.id)
            if track_id is None and dubs:
                track_id = dubs[0].id
            self._track_id = track_id if any(t.id == track_id for t in dubs) else None
            for w in self.track_box.findChildren(QWidget):
                w.setEnabled(self._track_id is not None)
            if self._track_id is None:
                return
            track = next(t for t in dubs if t.id == self._track_id)
            self.track_combo.setCurrentIndex(self.track_combo.findData(track.id))
            fps = project.fps
            self.track_offset_spin.setValue(
                int(round(track.offset_samples * fps / SAMPLES_PER_MS / 1000))
            )
            self._fill_faces(self.track_face_combo, face_ids, track.face_track_id)
            actor = getattr(track, "actor", None)
            self.actor_label.setText(actor.path.name if actor is not None else "generic")
            self.actor_label.setToolTip(str(actor.path) if actor is not None else "")
            self.mute_check.setChecked(track.muted)
            self.solo_check.setChecked(track.solo)
        finally:
            self._updating = False

    @property
    def segment_id(self) -> str | None:
        """The segment shown."""
        return self._segment_id

    @property
    def track_id(self) -> str | None:
        """The dub track shown."""
        return self._track_id

    # ------------------------------------------------------------------ helpers
    def _fill_faces(self, combo: QComboBox, face_ids: list[str], current: str | None) -> None:
        combo.clear()
        combo.addItem("auto (main face)", None)
        for fid in face_ids:
            combo.addItem(fid, fid)
        if current is not None and combo.findData(current) < 0:
            combo.addItem(current, current)
        combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)

    def _fill_tracks(self, project: Any, segment: Any) -> None:
        self.audio_combo.clear()
        self.audio_combo.addItem("none (mouth rests)", None)
        if project is not None:
            for t in project.audio_tracks:
                if not t.is_original:
                    self.audio_combo.addItem(t.name, t.id)
        current = segment.audio_track_id if segment is not None else None
        self.audio_combo.setCurrentIndex(
            max(0, self.audio_combo.findData(current)) if current else 0
        )

    def _emit_segment(self, changes: dict, merge: bool = False) -> None:
        if self._updating or self._segment_id is None:
            return
        self.segment_edited.emit(self._segment_id, changes, merge)

    def _on_label_edit_finished(self) -> None:
        self._emit_segment({"label": self.label_edit.text()})

    def _on_strength_slider_value_changed(self, value: int) -> None:
        self.strength_value.setText(f"{value / 100:.2f}")
        self._emit_segment({"mouth_strength": value / 100}, merge=True)

    def _on_neutral_here_clicked(self) -> None:
        self._emit_segment({"neutral_frame": self._playhead, "reference": "neutral"})

    def _on_track_combo_changed(self, _index: int) -> None:
        if self._updating or self._project is None:
            return
        self.show_track(
            self._project,
            self.track_combo.currentData(),
            [self.track_face_combo.itemData(i) for i in range(1, self.track_face_combo.count())],
        )

    def _on_track_offset_spin_changed(self, frames: int) -> None:
        if self._updating or self._track_id is None or self._project is None:
            return
        self.track_offset_edited.emit(self._track_id, int(frames))

    def _emit_nudge(self, frames: int) -> None:
        if self._track_id is not None:
            self.track_nudged.emit(self._track_id, frames)

    def _show_engine_used(self, text: str) -> None:
        # The row holds only this label: hidden until a render has run, so an unrendered
        # segment shows no empty line under the engine choice
        self.engine_used_label.setText(text)
        self.engine_used_label.setVisible(bool(text))

    def _on_track_face_combo_changed(self, _index: int) -> None:
        if self._updating or self._track_id is None:
            return
        self.track_face_edited.emit(self._track_id, self.track_face_combo.currentData())


def engine_choice_text(engine: str, engines: Any) -> str:
    """``Engine: auto -> oneshot (why)``: the engines a segment's last render ran ("" if none)."""
    parts = []
    for name, why in engines or ():
        shown = f"{engine} -> {name}" if engine != name else name
        parts.append(f"{shown} ({why})" if why else shown)
    return ("Engine: " + "; ".join(parts)) if parts else ""
