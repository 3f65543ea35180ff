"""The Render menu's "Render Draft" action: a small review render of the selected segments.

Drafts run on the window's render queue (keyed ``draft:<segment id>``, so a draft never replaces
or is taken for a segment's real render), land in ``<render cache>/drafts/`` and are marked on
the segment lane ("· draft"); the segments' render state is left alone, so an export renders
the full-quality chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from editor.model.drafts import DRAFT_PREFIX, DraftJob, DraftShelf, draft_job


class QtDraftTools(QObject):
    """Owns the draft action, the planned drafts and the shelf of finished ones.

    Signals:
        draft_rendered(str key, str path): a draft finished and was written to ``path``.
    """

    draft_rendered = Signal(str, str)

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.shelf = DraftShelf(getattr(window, "document", None))
        self._planned: dict[str, DraftJob] = {}
        self.action = QAction("Render &Draft (Half Size)", window)
        self.action.setShortcut("Shift+D")
        self.action.setStatusTip(
            "A fast half-size render of the selected segments for review; export still renders "
            "them at full quality"
        )
        self.action.triggered.connect(self.render_selected_draft)
        window.addAction(self.action)
        from PySide6.QtWidgets import QMenu

        render_menu = next(
            (m for m in window.render_stale_action.associatedObjects() if isinstance(m, QMenu)),
            None,
        )
        if render_menu is not None:  # Render menu: after Render Selected
            render_menu.insertAction(window.render_stale_action, self.action)
        window.render_queue.job_finished.connect(self._on_job_finished)

    def set_document(self, document: Any) -> None:
        """Forget drafts of the previous document."""
        self.shelf = DraftShelf(document)
        self._planned.clear()

    def render_selected_draft(self) -> str | None:
        """Queue a draft of the selected segments; returns its queue key (None if refused)."""
        from lipcore.errors import LipsyncError

        w = self.window
        ids = [i for i in w._selected if w._has_segment(i)]
        if not ids:
            w.notifications.notify("Select segments on the timeline first", "warning")
            return None
        try:
            job = draft_job(w.planner, ids)
        except LipsyncError as exc:
            w.notifications.notify(str(exc), "error")
            return None
        self._planned[job.key] = job
        w.render_queue.request(job.key, "-".join(job.params_hashes), job.run, job.label)
        return job.key

    def _on_job_finished(self, key: str, _job: Any, result: Any) -> None:
        job = self._planned.pop(key, None)
        if job is None:
            return
        path = self.shelf.record(job)
        self.window.notifications.notify(
            f"Draft of frames {job.first_frame}–{job.end_frame} written to {path} "
            "(for review; export renders full quality)"
        )
        self.window._refresh_segments()
        self.draft_rendered.emit(key, str(Path(result.output)))


def is_draft_key(key: str) -> bool:
    """Whether a render-queue key is a draft's (not a segment's)."""
    return key.startswith(DRAFT_PREFIX)
