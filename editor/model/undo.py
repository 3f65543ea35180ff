"""A Qt-free undo log: commands with do/undo/merge, transactions, and change listeners.

Modelled on pitivi's ``UndoableActionLog``: edits are recorded where the model changes (document
methods), not in widgets, so the timeline, menus and scripts share one undo history. The Qt side
wraps it in a thin adapter that turns :attr:`UndoLog.listeners` calls into ``can_undo_changed`` /
``undo_text_changed`` signals; nothing here imports Qt.

Usage::

    with log.transaction("Split segment"):
        log.push(SomeCommand(...))     # executed immediately
        log.push(OtherCommand(...))
    # -> one undo step "Split segment"; on an exception every pushed command is undone

Consecutive mergeable commands (a slider drag, arrow-key nudges) collapse into one step through
:meth:`Command.merge` until :meth:`UndoLog.seal` is called (mouse release, focus change) or any
other command is pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Command:
    """One reversible edit.

    Subclasses implement :meth:`do` and :meth:`undo`; :meth:`do` is called again for redo, so it
    must be repeatable from the state :meth:`undo` leaves.

    Attributes:
        text: User-facing label ("Trim segment") shown in Edit > Undo.
    """

    text: str = ""

    def do(self) -> None:
        """Apply the edit."""
        raise NotImplementedError

    def undo(self) -> None:
        """Revert the edit exactly."""
        raise NotImplementedError

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (already done, pushed right after self) into this command.

        Args:
            other: The newer command.

        Returns:
            True when merged: undoing self then reverts both, and ``other`` is dropped.
        """
        return False


class CompoundCommand(Command):
    """Several commands undone and redone as one step (what a transaction records)."""

    def __init__(self, text: str, commands: list[Command] | None = None):
        self.text = text
        self.commands: list[Command] = list(commands or [])

    def do(self) -> None:
        """Redo every child in order."""
        for c in self.commands:
            c.do()

    def undo(self) -> None:
        """Undo every child in reverse order."""
        for c in reversed(self.commands):
            c.undo()


class UndoLog:
    """Undo/redo stacks with transactions, merging, a clean mark and plain-callback listeners.

    Args:
        limit: Most undo steps kept (oldest dropped first); None = unlimited.

    Attributes:
        listeners: Callables ``f(log)`` invoked after every change of the stacks or clean state.
    """

    def __init__(self, limit: int | None = 500):
        self.limit = limit
        self.listeners: list[Callable[[UndoLog], None]] = []
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._open: list[CompoundCommand] = []  # nested transactions, innermost last
        self._sealed = True  # whether the next push may merge into the top of the undo stack
        # Depth of the undo stack at the last save; None when that state can no longer be
        # reached (it was dropped, merged into, or cleared from the redo stack).
        self._clean_depth: int | None = 0
        self._busy = False

    # -- state

    @property
    def can_undo(self) -> bool:
        """Whether there is a step to undo (false while a transaction is open)."""
        return bool(self._undo) and not self._open

    @property
    def can_redo(self) -> bool:
        """Whether there is a step to redo (false while a transaction is open)."""
        return bool(self._redo) and not self._open

    @property
    def undo_text(self) -> str:
        """Label of the step :meth:`undo` would revert, or ""."""
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        """Label of the step :meth:`redo` would apply, or ""."""
        return self._redo[-1].text if self._redo else ""

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return bool(self._open)

    @property
    def busy(self) -> bool:
        """Whether an undo or redo is being applied right now."""
        return self._busy

    @property
    def is_clean(self) -> bool:
        """Whether the model is in the state it had at the last :meth:`mark_clean`."""
        return self._clean_depth == len(self._undo) and not self._open

    def mark_clean(self) -> None:
        """Remember the current state as saved (the document is not dirty here)."""
        self._clean_depth = len(self._undo)
        self._sealed = True  # edits after a save must not merge into the saved step
        self._notify()

    def clear(self) -> None:
        """Forget all history (after opening another project); the state becomes clean."""
        self._undo.clear()
        self._redo.clear()
        self._open.clear()
        self._clean_depth = 0
        self._sealed = True
        self._notify()

    def seal(self) -> None:
        """End merging: the next pushed command starts a new undo step (call on mouse release)."""
        self._sealed = True

    # -- recording

    def push(self, command: Command) -> Command:
        """Execute ``command`` and record it.

        Inside a transaction it joins the transaction's step. Otherwise it may merge into the
        previous step (see :meth:`Command.merge`). Pushing clears the redo stack.

        Args:
            command: The edit to apply.

        Returns:
            The command.

        Raises:
            Exception: Whatever ``command.do()`` raises; nothing is recorded then.
        """
        if self._busy:
            raise RuntimeError("cannot push a command while undoing or redoing")
        command.do()
        if self._open:
            self._open[-1].commands.append(command)
            return command
        self._record(command, mergeable=True)
        return command

    def _record(self, command: Command, mergeable: bool) -> None:
        if self._redo:
            if self._clean_depth is not None and self._clean_depth > len(self._undo):
                self._clean_depth = None  # the saved state was in the redo stack
            self._redo.clear()
        top = self._undo[-1] if self._undo else None
        if mergeable and not self._sealed and top is not None and top.merge(command):
            if self._clean_depth == len(self._undo):
                self._clean_depth = None  # the saved step now contains unsaved changes
        else:
            self._undo.append(command)
            if self.limit is not None and len(self._undo) > self.limit:
                del self._undo[0]
                if self._clean_depth is not None:
                    self._clean_depth -= 1
                    if self._clean_depth < 0:
                        self._clean_depth = None
        self._sealed = not mergeable
        self._notify()

    @contextmanager
    def transaction(self, text: str) -> Iterator[CompoundCommand]:
        """Group the commands pushed inside the block into one undo step.

        Commits when the block ends normally (an empty transaction records nothing) and rolls
        back (undoing what was pushed, newest first) when it raises. Nested transactions join
        the outermost one.

        Args:
            text: Label of the step.

        Yields:
            The compound command being filled.
        """
        group = CompoundCommand(text)
        self._open.append(group)
        try:
            yield group
        except BaseException:
            self._open.pop()
            for c in reversed(group.commands):
                c.undo()
            self._notify()
            raise
        self._open.pop()
        if not group.commands:
            return
        if self._open:
            self._open[-1].commands.append(group)
            return
        self._record(group, mergeable=False)

    def undo(self) -> str:
        """Revert the last step.

        Returns:
            Its label.

        Raises:
            RuntimeError: Nothing to undo, or a transaction is open.
        """
        if not self.can_undo:
            raise RuntimeError("nothing to undo")
        command = self._undo.pop()
        self._busy = True
        try:
            command.undo()
        finally:
            self._busy = False
        self._redo.append(command)
        self._sealed = True
        self._notify()
        return command.text

    def redo(self) -> str:
        """Re-apply the last undone step.

        Returns:
            Its label.

        Raises:
            RuntimeError: Nothing to redo, or a transaction is open.
        """
        if not self.can_redo:
            raise RuntimeError("nothing to redo")
        command = self._redo.pop()
        self._busy = True
        try:
            command.do()
        finally:
            self._busy = False
        self._undo.append(command)
        self._sealed = True
        self._notify()
        return command.text

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener(self)
