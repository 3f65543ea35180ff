"""Edit > Align Dub to Guide…: warp a dub track onto the clip's dialogue (or another track).

The warped take is added as a new track at the take's place (one undo step), named
"<take> aligned", and the amount of warp (mean shift, largest stretch and squeeze, whether the
cap was reached) is shown in the notification area. The planning and warping is
:mod:`editor.model.guide_align`, run on the window's background queue; this file only asks which
tracks, queues the job and reports.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu

#: Kind of the alignment jobs on the window's background queue.
JOB_KIND = "guide-align"


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
        # The warp runs on the background queue (files only), the new track lands here.
        # (a failure is reported by the window, as for every background job)
        window.background.job_finished.connect(self._on_background_job_finished)
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

    def align(self, take_id: str, guide_id: str, max_warp: float = 1.5) -> bool:
        """Warp ``take_id`` onto ``guide_id`` on the background queue; :attr:`aligned` follows.

        Returns:
            True when the job was queued (the choice of tracks is checked at once).
        """
        from editor.model.guide_align import align_track_job
        from lipcore.errors import LipsyncError

        w = self.window
        out_dir = w.document.render_cache.root / "aligned"
        try:
            job = align_track_job(w.document, take_id, guide_id, out_dir, max_warp)
        except LipsyncError as exc:
            w.notifications.notify(f"Guide alignment: {exc}", "error")
            return False
        # A ProcessCall: the background queue runs it in its worker process.
        w.background.submit(JOB_KIND, f"{take_id}|{guide_id}|{max_warp}", job)
        w.notifications.notify("Aligning the take to the guide…")
        return True

    def _on_background_job_finished(self, kind: str, key: str, result: Any) -> None:
        if kind != JOB_KIND:
            return
        w = self.window
        track_id = w._edit(
            w.document.add_audio_track,
            result.path,
            name=result.name,
            offset_samples=result.offset_samples,
        )
        if track_id is None:
            return
        summary = f"{result.name}: {result.summary()}"
        w.notifications.notify(summary)
        self.aligned.emit(track_id, summary)
