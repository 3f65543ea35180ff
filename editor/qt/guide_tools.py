"""Edit > Align Dub to Guide…: warp a dub track onto the clip's dialogue (or another track).

The warped take is added as a new track at the take's place (one undo step), named
"<take> aligned", and the amount of warp (mean shift, largest stretch and squeeze, whether the
cap was reached) is shown in the notification area. The planning and warping is
:mod:`editor.model.guide_align`; this file only asks which tracks and reports.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu


class QtGuideTools(QObject):
    """Owns the "Align Dub to Guide…" action.

    Signals:
        aligned(str track_id, str summary): a new aligned track was added.
    """

    aligned = Signal(str, str)

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.action = QAction("Align Dub to &Guide…", window)
        self.action.setStatusTip(
            "Time-warp a dub take onto the original dialogue's timing (pitch kept) and add it "
            "as a new track"
        )
        self.action.triggered.connect(self._on_triggered)
        window.addAction(self.action)
        edit_menu = next(
            (m for m in window.nudge_left_action.associatedObjects() if isinstance(m, QMenu)),
            None,
        )
        if edit_menu is not None:  # Edit menu: before the dub nudges
            edit_menu.insertAction(window.nudge_left_action, self.action)

    def _on_triggered(self) -> None:
        tracks = self.window.document.project.audio_tracks
        dubs = [t for t in tracks if not t.is_original]
        if not dubs:
            self.window.notifications.notify("Import a dub track first", "warning")
            return
        take, ok = QInputDialog.getItem(
            self.window, "Align Dub to Guide", "Take to warp:", [t.name for t in dubs], 0, False
        )
        if not ok:
            return
        take_id = next(t.id for t in dubs if t.name == take)
        guides = [t for t in tracks if t.id != take_id]
        guide, ok = QInputDialog.getItem(
            self.window,
            "Align Dub to Guide",
            "Guide (whose timing to follow):",
            [t.name for t in guides],
            0,
            False,
        )
        if ok:
            self.align(take_id, next(t.id for t in guides if t.name == guide))

    def align(self, take_id: str, guide_id: str, max_warp: float = 1.5) -> str | None:
        """Warp ``take_id`` onto ``guide_id`` and add the result; returns the new track id.

        A take of a few lines aligns in a second or two, so this runs on the GUI thread under a
        busy cursor rather than on the render queue.
        """
        from editor.model.guide_align import iter_align_track
        from lipcore.errors import LipsyncError
        from lipcore.progress import drain

        w = self.window
        out_dir = w.document.render_cache.root / "aligned"
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = drain(
                iter_align_track(w.document, take_id, guide_id, out_dir, max_warp), show=False
            )
        except LipsyncError as exc:
            w.notifications.notify(f"Guide alignment: {exc}", "error")
            return None
        finally:
            QApplication.restoreOverrideCursor()
        track_id = w._edit(
            w.document.add_audio_track,
            result.path,
            name=result.name,
            offset_samples=result.offset_samples,
        )
        if track_id is None:
            return None
        summary = f"{result.name}: {result.summary()}"
        w.notifications.notify(summary)
        self.aligned.emit(track_id, summary)
        return track_id
