"""Mouth cues in the editor: the Cues menu, the cue lanes' edits, the current-shape panel.

:class:`QtCueTools` is built by the main window with itself as parent and needs two hooks there:
construction, and :meth:`refresh_lanes` whenever the waveform lanes are rebuilt. Everything else
(menu, analysis jobs on the background queue, export, the "Mouth shape" dock beside the viewer)
lives here, and every edit goes through the document's undoable cue methods.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QDockWidget, QFileDialog, QSizePolicy, QWidget

from editor.qt.timeline.cue_lane import SHAPE_COLORS, CueLane

SAMPLE_RATE = 16000
JOB_KIND = "cues"


class QtMouthShapeView(QWidget):
    """The shape showing at the playhead: the user's drawing if any, else the letter."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtMouthShapeView")
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.shape: str | None = None
        self.drawing: QImage | None = None

    def show_shape(self, shape: str | None, drawing: QImage | None = None) -> None:
        """Show ``shape`` (None: no cues under the playhead)."""
        if (shape, drawing) != (self.shape, self.drawing):
            self.shape, self.drawing = shape, drawing
            self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        from lipcore.cues.shapes import SHAPE_MEANINGS

        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 26, 30))
        if self.shape is None:
            p.setPen(QColor(130, 136, 146))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no mouth cues")
            p.end()
            return
        r = QRectF(self.rect()).adjusted(8, 8, -8, -26)
        if self.drawing is not None:
            img = self.drawing.size().scaled(r.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            x = r.left() + (r.width() - img.width()) / 2
            p.drawImage(QRectF(x, r.top(), img.width(), img.height()), self.drawing)
        else:
            p.fillRect(r, SHAPE_COLORS.get(self.shape, SHAPE_COLORS["X"]))
            font = QFont(self.font())
            font.setPixelSize(int(min(r.height(), r.width()) * 0.6))
            font.setBold(True)
            p.setFont(font)
            p.setPen(QColor(245, 246, 248))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.shape)
        p.setFont(self.font())
        p.setPen(QColor(196, 201, 210))
        caption = QRectF(0, self.height() - 24, self.width(), 22)
        p.drawText(
            caption, Qt.AlignmentFlag.AlignCenter, f"{self.shape}: {SHAPE_MEANINGS[self.shape]}"
        )
        p.end()


class QtCueTools(QObject):
    """Wires the cue lanes of the main window's timeline to its document.

    Args:
        window: The main window (its ``document``, ``timeline``, ``background``, ``playback``,
            ``notifications`` and ``_edit`` are used).
    """

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.drawings: dict[str, QImage] = {}
        self.drawings_dir: Path | None = None
        self.view = QtMouthShapeView()
        self.dock = QDockWidget("Mouth shape", window)
        self.dock.setObjectName("mouthShapeDock")
        self.dock.setWidget(self.view)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self._build_menu()
        editor = window.timeline.canvas.cue_editor
        editor.boundary_moved.connect(self._on_editor_boundary_moved)
        editor.drag_finished.connect(lambda: self.window.document.seal())
        editor.shape_picked.connect(self._on_editor_shape_picked)
        editor.split_requested.connect(self._on_editor_split_requested)
        editor.merge_requested.connect(self._on_editor_merge_requested)
        window.background.job_finished.connect(self._on_background_job_finished)
        window.background.job_failed.connect(self._on_background_job_failed)
        window.playback.position_changed.connect(self._on_playback_position_changed)

    # ------------------------------------------------------------------ building
    def _build_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Cues")
        self.analyse_action = menu.addAction("Mouth Cues from &Speech", self.analyse)
        self.analyse_words_action = menu.addAction(
            "Mouth Cues from English &Words (slower)", lambda: self.analyse(recogniser="words")
        )
        self.analyse_text_action = menu.addAction(
            "Mouth Cues from Speech and &Text…", self._on_analyse_text_triggered
        )
        menu.addSeparator()
        self.export_action = menu.addAction("&Export Mouth Cues…", self._on_export_triggered)
        self.frames_action = menu.addAction(
            "Export Mouth &Frames (PNG)…", self._on_export_frames_triggered
        )
        self.drawings_action = menu.addAction(
            "Mouth &Drawings Folder…", self._on_drawings_triggered
        )
        self.dock_action = self.dock.toggleViewAction()
        menu.addAction(self.dock_action)

    # ------------------------------------------------------------------ state
    def _dub_tracks(self) -> list[Any]:
        return [t for t in self.window.document.project.audio_tracks if not t.is_original]

    def _cue_fps(self) -> Fraction:
        fps = Fraction(self.window.document.project.fps)
        return fps if 1 <= fps <= 120 else Fraction(24)

    def refresh_lanes(self) -> None:
        """Rebuild the cue lanes from the document (call when the waveform lanes change)."""
        lanes = [
            CueLane(t.id, t.offset_samples, t.mouth_cues, self.drawings)
            for t in self._dub_tracks()
            if t.mouth_cues is not None
        ]
        self.window.timeline.canvas.set_cue_lanes(lanes)
        self._on_playback_position_changed(self.window.playback.position)

    def shape_at_frame(self, frame: int) -> str | None:
        """The shape of the first audible dub track with cues at clip ``frame``."""
        from lipcore.cues.make import shape_at

        fps = Fraction(self.window.document.project.fps)
        for track in self.window.document.audible_tracks():
            if track.is_original or track.mouth_cues is None:
                continue
            sample = int(frame * SAMPLE_RATE / fps) - track.offset_samples
            return shape_at(track.mouth_cues.cues, sample)
        return None

    # ------------------------------------------------------------------ actions
    def analyse(self, text: str | None = None, recogniser: str = "phones") -> None:
        """Make mouth cues for every dub track whose file is on disk (background jobs).

        Args:
            text: Dialogue text to follow (English), or None.
            recogniser: Without text: "phones" or "words" (English, slower).
        """
        tracks = [t for t in self._dub_tracks() if t.media is not None and t.media.exists()]
        if not tracks:
            self.window.notifications.notify("Import a dub track first (File ▸ Import Audio)")
            return
        from editor.model.cue_job import iter_file_cues
        from editor.model.job_process import ProcessCall

        fps = self._cue_fps()
        for track in tracks:
            key = f"{track.id}|{track.media.fingerprint}|{fps}|{hash(text)}|{recogniser}"
            # In the background worker process: the recogniser would hold the GUI's GIL.
            job = ProcessCall(iter_file_cues, (track.media.path, fps, text, recogniser))
            self.window.background.submit(JOB_KIND, key, job, priority=0)
        self.window.notifications.notify(f"Making mouth cues for {len(tracks)} track(s)…")

    def _on_analyse_text_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Dialogue text", "", "Text (*.txt);;All files (*)"
        )
        if path:
            self.analyse(Path(path).read_text(encoding="utf-8", errors="replace"))

    def export(self, track_id: str, path: str | Path) -> Path | None:
        """Write a track's cues to ``path`` (format from the suffix); errors are notified."""
        from lipcore.cues.export import FORMATS, ExportOptions, write_cues

        track = self.window.document.track(track_id)
        fmt = Path(path).suffix.lower().lstrip(".")
        if track.mouth_cues is None or fmt not in FORMATS:
            self.window.notifications.notify(
                f"Cannot export: {'no cues on this track' if track.mouth_cues is None else ''}"
                f"{'' if fmt in FORMATS else 'use a .tsv/.json/.xml/.dat/.pgo name'}",
                "warning",
            )
            return None
        sound = str(track.media.path) if track.media is not None else ""
        try:
            out = write_cues(track.mouth_cues, path, fmt, ExportOptions(sound_path=sound))
        except OSError as exc:
            self.window.notifications.notify(f"{path}: cannot write ({exc})", "error")
            return None
        self.window.notifications.notify(f"Wrote {out}")
        return out

    def _on_export_triggered(self) -> None:
        tracks = [t for t in self._dub_tracks() if t.mouth_cues is not None]
        if not tracks:
            self.window.notifications.notify(
                "Make mouth cues first (Cues ▸ Mouth Cues from Speech)"
            )
            return
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            f"Export mouth cues of {tracks[0].name}",
            f"{tracks[0].name}.tsv",
            "Rhubarb TSV (*.tsv);;Rhubarb JSON (*.json);;Rhubarb XML (*.xml);;"
            "Moho switch (*.dat);;Papagayo (*.pgo)",
        )
        if path:
            self.export(tracks[0].id, path)

    def load_drawings(self, folder: str | Path) -> None:
        """Use a folder of A.png..X.png mouth drawings in the lanes and the shape panel."""
        from lipcore.cues.images import load_mouth_drawings
        from lipcore.errors import LipsyncError

        try:
            images = load_mouth_drawings(folder, (96, 96))
        except LipsyncError as exc:
            self.window.notifications.notify(str(exc), "warning")
            return
        self.drawings_dir = Path(folder)
        self.drawings = {
            shape: QImage(
                img.data, img.shape[1], img.shape[0], img.strides[0], QImage.Format.Format_ARGB32
            ).copy()  # fmt: skip
            for shape, img in images.items()
        }
        self.refresh_lanes()

    def export_frames(self, track_id: str, folder: str | Path) -> Path | None:
        """Write a track's cues as PNG frames of the drawings folder (at the cue rate)."""
        from lipcore.cues.images import export_png_sequence
        from lipcore.errors import LipsyncError

        track = self.window.document.track(track_id)
        if track.mouth_cues is None or self.drawings_dir is None:
            self.window.notifications.notify(
                "Make mouth cues and choose a drawings folder first (Cues menu)", "warning"
            )
            return None
        try:
            out = export_png_sequence(track.mouth_cues, self.drawings_dir, folder)
        except (LipsyncError, OSError) as exc:
            self.window.notifications.notify(str(exc), "warning")
            return None
        self.window.notifications.notify(f"Wrote mouth frames to {out}")
        return out

    def _on_export_frames_triggered(self) -> None:
        tracks = [t for t in self._dub_tracks() if t.mouth_cues is not None]
        if not tracks:
            self.window.notifications.notify(
                "Make mouth cues first (Cues ▸ Mouth Cues from Speech)"
            )
            return
        folder = QFileDialog.getExistingDirectory(self.window, "New or empty folder for frames")
        if folder:
            self.export_frames(tracks[0].id, folder)

    def _on_drawings_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Folder of A.png … X.png")
        if folder:
            self.load_drawings(folder)

    # ------------------------------------------------------------------ slots
    def _on_editor_boundary_moved(self, track_id: str, index: int, sample: int) -> None:
        self.window._edit(self.window.document.move_cue_boundary, track_id, index, sample)

    def _on_editor_shape_picked(self, track_id: str, index: int, shape: str) -> None:
        self.window._edit(self.window.document.set_cue_shape, track_id, index, shape)

    def _on_editor_split_requested(self, track_id: str, index: int, sample: int) -> None:
        self.window._edit(self.window.document.split_cue, track_id, index, sample)

    def _on_editor_merge_requested(self, track_id: str, index: int) -> None:
        self.window._edit(self.window.document.merge_cues, track_id, index)

    def _on_background_job_finished(self, kind: str, key: str, result: Any) -> None:
        if kind != JOB_KIND:
            return
        track_id = key.split("|", 1)[0]
        if not any(t.id == track_id for t in self._dub_tracks()):
            return  # the track went away while it was analysed
        self.window._edit(self.window.document.set_track_cues, track_id, result)
        note = {"text": " following the dialogue text", "words": " from English words"}.get(
            result.source, ""
        )
        self.window.notifications.notify(f"Mouth cues ready ({len(result.cues)} cues{note})")

    def _on_background_job_failed(self, kind: str, key: str, exc: Any) -> None:
        if kind == JOB_KIND:
            self.window.notifications.notify(f"Mouth cues failed: {exc}", "error")

    def _on_playback_position_changed(self, frame: int) -> None:
        shape = self.shape_at_frame(frame)
        self.view.show_shape(shape, self.drawings.get(shape) if shape else None)
