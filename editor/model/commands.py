"""The reversible edits a :class:`~editor.model.document.Document` pushes onto its undo log.

Three generic commands cover the whole project model: insert an item into a list (audio track or
segment), remove one, and set fields on an object (project, export settings, a track, a segment).
Each remembers exactly what it replaced, emits the document's change events on do *and* undo
(so views follow undo/redo without knowing about it), and asks the document to re-derive the
render states (a segment whose parameters return to the rendered ones becomes "done" again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from editor.model.undo import Command

if TYPE_CHECKING:
    from editor.model.document import Document

#: Kinds of objects commands address, with the event-name stem each emits.
KINDS = ("track", "segment", "project", "export")


def _target(doc: Document, kind: str, obj_id: str | None) -> Any:
    p = doc.project
    if kind == "track":
        return p.track(obj_id)  # type: ignore[arg-type]
    if kind == "segment":
        return p.segment(obj_id)  # type: ignore[arg-type]
    if kind == "project":
        return p
    if kind == "export":
        return p.export
    raise ValueError(f"unknown kind {kind!r}")


def _items(doc: Document, kind: str) -> list[Any]:
    if kind == "track":
        return doc.project.audio_tracks
    if kind == "segment":
        return doc.project.segments
    raise ValueError(f"{kind!r} is not a list kind")


class DocCommand(Command):
    """Base of document commands: applies, emits events, refreshes derived render state."""

    def __init__(self, doc: Document, text: str):
        self.doc = doc
        self.text = text

    def do(self) -> None:
        """Apply the edit, then emit and refresh."""
        self._apply()
        self.doc._after_edit()

    def undo(self) -> None:
        """Revert the edit, then emit and refresh."""
        self._revert()
        self.doc._after_edit()

    def _apply(self) -> None:
        raise NotImplementedError

    def _revert(self) -> None:
        raise NotImplementedError


class InsertItem(DocCommand):
    """Insert an audio track or a segment at ``index`` (default: the end).

    Emits ``track_added`` / ``segment_added`` with ``{"id", "index"}`` on do and the matching
    ``*_removed`` on undo.
    """

    def __init__(self, doc: Document, text: str, kind: str, item: Any, index: int | None = None):
        super().__init__(doc, text)
        self.kind, self.item, self.index = kind, item, index

    def _apply(self) -> None:
        items = _items(self.doc, self.kind)
        index = len(items) if self.index is None else self.index
        items.insert(index, self.item)
        self.doc._emit(f"{self.kind}_added", {"id": self.item.id, "index": index})

    def _revert(self) -> None:
        items = _items(self.doc, self.kind)
        items.remove(self.item)
        self.doc._emit(f"{self.kind}_removed", {"id": self.item.id})


class RemoveItem(DocCommand):
    """Remove the audio track or segment ``item_id``; undo puts it back at its old index."""

    def __init__(self, doc: Document, text: str, kind: str, item_id: str):
        super().__init__(doc, text)
        self.kind, self.item_id = kind, item_id
        self.item: Any = None
        self.index = -1

    def _apply(self) -> None:
        items = _items(self.doc, self.kind)
        self.item = _target(self.doc, self.kind, self.item_id)
        self.index = items.index(self.item)
        del items[self.index]
        self.doc._emit(f"{self.kind}_removed", {"id": self.item_id})

    def _revert(self) -> None:
        _items(self.doc, self.kind).insert(self.index, self.item)
        self.doc._emit(f"{self.kind}_added", {"id": self.item_id, "index": self.index})


class SetFields(DocCommand):
    """Set attributes of a track, segment, the project or its export settings.

    Emits ``<kind>_changed`` with ``{"id", "fields"}`` (``id`` is None for project/export).

    Args:
        doc: The document.
        text: Undo label.
        kind: "track", "segment", "project" or "export".
        obj_id: Track/segment id (None for project/export).
        changes: ``{attribute: new value}``; values are stored as given (pass new objects, never
            mutate a stored one).
        mergeable: Whether a following SetFields on the same object and the same attributes may
            merge into this one (nudges, slider drags).
    """

    def __init__(
        self,
        doc: Document,
        text: str,
        kind: str,
        obj_id: str | None,
        changes: dict[str, Any],
        mergeable: bool = False,
    ):
        super().__init__(doc, text)
        self.kind, self.obj_id, self.mergeable = kind, obj_id, mergeable
        self.new = dict(changes)
        self.old: dict[str, Any] = {}

    def _apply(self) -> None:
        obj = _target(self.doc, self.kind, self.obj_id)
        if not self.old:
            self.old = {k: getattr(obj, k) for k in self.new}
        for k, v in self.new.items():
            setattr(obj, k, v)
        self.doc._emit(f"{self.kind}_changed", {"id": self.obj_id, "fields": sorted(self.new)})

    def _revert(self) -> None:
        obj = _target(self.doc, self.kind, self.obj_id)
        for k, v in self.old.items():
            setattr(obj, k, v)
        self.doc._emit(f"{self.kind}_changed", {"id": self.obj_id, "fields": sorted(self.old)})

    def merge(self, other: Command) -> bool:
        """Merge a following mergeable edit of the same fields of the same object."""
        if not (
            isinstance(other, SetFields)
            and self.mergeable
            and other.mergeable
            and other.kind == self.kind
            and other.obj_id == self.obj_id
            and other.new.keys() == self.new.keys()
        ):
            return False
        self.new = dict(other.new)  # keep self.old: undo returns to before the first nudge
        return True
