"""The thin Qt adapter over the Qt-free document: its change events become Qt signals.

The document and its undo log know nothing of Qt (STYLE.md section 6); views and QActions connect
to this object instead (OpenShot's ``UpdateWatcher`` idea).
"""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import QObject, Signal


class QtDocumentWatcher(QObject):
    """Re-emits :attr:`editor.model.document.Document.changed` events as Qt signals.

    Signals:
        document_changed(str event, object payload): every event, as the document names it.
        can_undo_changed(bool), can_redo_changed(bool): for the Undo/Redo actions.
        undo_text_changed(str), redo_text_changed(str): labels of the next undo/redo step.
        dirty_changed(bool): unsaved changes appeared or were saved.
    """

    document_changed = Signal(str, object)
    can_undo_changed = Signal(bool)
    can_redo_changed = Signal(bool)
    undo_text_changed = Signal(str)
    redo_text_changed = Signal(str)
    dirty_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._doc: Any = None

    def watch(self, doc: Any) -> None:
        """Observe ``doc`` (and stop observing the previous one)."""
        if self._doc is not None:
            with contextlib.suppress(ValueError):
                self._doc.changed.remove(self._on_document_event)
        self._doc = doc
        doc.changed.append(self._on_document_event)
        log = doc.undo_log
        self.can_undo_changed.emit(log.can_undo)
        self.can_redo_changed.emit(log.can_redo)
        self.undo_text_changed.emit(log.undo_text)
        self.redo_text_changed.emit(log.redo_text)
        self.dirty_changed.emit(doc.dirty)

    def _on_document_event(self, event: str, payload: dict[str, Any]) -> None:
        if event == "undo_changed":
            self.can_undo_changed.emit(bool(payload["can_undo"]))
            self.can_redo_changed.emit(bool(payload["can_redo"]))
            self.undo_text_changed.emit(payload.get("undo_text") or "")
            self.redo_text_changed.emit(payload.get("redo_text") or "")
        elif event == "dirty_changed":
            self.dirty_changed.emit(bool(payload["dirty"]))
        self.document_changed.emit(event, payload)
