"""Wires the timeline's strength-curve gestures to the document's undoable key edits."""

from __future__ import annotations

from typing import Any

from editor.model.errors import EditError


def connect_strength_editor(window: Any) -> None:
    """Connect ``window.timeline.canvas.strength_editor`` to ``window.document``.

    Adding and removing keys go through the window's ``_edit`` (a refusal is notified); a drag's
    moves that the ramp rule refuses are skipped quietly, so the key stops at the last allowed
    place instead of flooding the notification area on every mouse move.
    """
    editor = window.timeline.canvas.strength_editor

    def moved(segment_id: str, index: int, frame: int, strength: float) -> None:
        try:
            window.document.move_strength_key(segment_id, index, frame, strength)
        except (EditError, IndexError, KeyError):
            pass

    editor.key_added.connect(
        lambda sid, frame, v: window._edit(window.document.add_strength_key, sid, frame, v)
    )
    editor.key_moved.connect(moved)
    editor.key_removed.connect(
        lambda sid, index: window._edit(window.document.delete_strength_key, sid, index)
    )
    editor.drag_finished.connect(lambda: window.document.seal())
