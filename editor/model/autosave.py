"""Autosave backups with pitivi's debounce, crash recovery lookup, and the recent-projects list.

Timing is computed from injected time (seconds on any monotonic clock), never from Qt timers: the
Qt layer calls :meth:`Autosaver.tick` from a one-second ``QTimer`` and decides itself whether to
offer a restore (``find_recovery``) when a project opens.

Debounce (pitivi ``ProjectManager``): the first change after a backup schedules one 10 s later;
every further change pushes it back by 5 s, but never past 60 s after that first change, so a
user who edits continuously still gets a backup every minute.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lipcore.project import save_project

if TYPE_CHECKING:
    from editor.model.document import Document

AUTOSAVE_SUFFIX = ".autosave"
#: Events of :attr:`Document.changed` that do not change the saved content.
_NEUTRAL_EVENTS = {"undo_changed", "dirty_changed", "saved", "loaded"}


class AutosaveSchedule:
    """Debounce arithmetic: when the next backup is due.

    Args:
        initial_sec: Delay after the first change.
        step_sec: Added per further change.
        max_sec: Cap, counted from the first change.
    """

    def __init__(self, initial_sec: float = 10.0, step_sec: float = 5.0, max_sec: float = 60.0):
        self.initial_sec, self.step_sec, self.max_sec = initial_sec, step_sec, max_sec
        self.first_change: float | None = None
        self.due_at: float | None = None

    @property
    def pending(self) -> bool:
        """Whether a backup is scheduled."""
        return self.due_at is not None

    def changed(self, now: float) -> float:
        """Register a change at time ``now``; returns the new due time."""
        if self.first_change is None or self.due_at is None:
            self.first_change = now
            self.due_at = now + self.initial_sec
        else:
            self.due_at = min(self.due_at + self.step_sec, self.first_change + self.max_sec)
        return self.due_at

    def is_due(self, now: float) -> bool:
        """Whether the backup should be written at ``now``."""
        return self.due_at is not None and now >= self.due_at

    def reset(self) -> None:
        """Forget the pending backup (after writing it, or after a real save)."""
        self.first_change = None
        self.due_at = None


def default_autosave_dir() -> Path:
    """Folder for backups of never-saved projects (``<lipsync cache>/autosave``)."""
    from lipcore.cache import cache_root

    return cache_root() / "autosave"


def autosave_path(
    doc_path: Path | None, project_id: str, autosave_dir: Path | None = None
) -> Path:
    """Where the backup of a project goes.

    Args:
        doc_path: The project file, or None for an unsaved project.
        project_id: The project's id (names the backup of an unsaved project).
        autosave_dir: Folder for unsaved projects' backups (default :func:`default_autosave_dir`).

    Returns:
        ``<project>.lsproj.autosave`` next to the project, or
        ``<autosave_dir>/untitled-<id>.lsproj.autosave``.
    """
    if doc_path is not None:
        return doc_path.with_name(doc_path.name + AUTOSAVE_SUFFIX)
    folder = autosave_dir or default_autosave_dir()
    return folder / f"untitled-{project_id}.lsproj{AUTOSAVE_SUFFIX}"


def find_recovery(project_path: str | Path) -> Path | None:
    """The backup to offer when opening ``project_path``, if one is newer than the project.

    Args:
        project_path: The ``*.lsproj`` file about to be opened.

    Returns:
        The ``.autosave`` file, or None when there is none or it is older (a normal save after
        the last backup makes it obsolete).
    """
    project_path = Path(project_path)
    backup = project_path.with_name(project_path.name + AUTOSAVE_SUFFIX)
    if not backup.is_file():
        return None
    if project_path.is_file() and backup.stat().st_mtime_ns <= project_path.stat().st_mtime_ns:
        return None
    return backup


def find_untitled_recoveries(autosave_dir: Path | None = None) -> list[Path]:
    """Backups of never-saved projects left by a crash, newest first."""
    folder = autosave_dir or default_autosave_dir()
    if not folder.is_dir():
        return []
    found = list(folder.glob(f"untitled-*.lsproj{AUTOSAVE_SUFFIX}"))
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


class Autosaver:
    """Writes backups of a document on the debounce schedule.

    Args:
        doc: The document (its :attr:`Document.changed` is observed).
        clock: Returns the current time in seconds (injected; default ``time.monotonic``).
        autosave_dir: Folder for backups of unsaved projects.
        schedule: Debounce parameters.
        enabled: When False, changes are ignored (the preference "autosave off").

    Attributes:
        last_written: Path of the last backup written, or None.
    """

    def __init__(
        self,
        doc: Document,
        clock: Callable[[], float] = time.monotonic,
        autosave_dir: Path | None = None,
        schedule: AutosaveSchedule | None = None,
        enabled: bool = True,
    ):
        self.doc = doc
        self.clock = clock
        self.autosave_dir = autosave_dir
        self.schedule = schedule or AutosaveSchedule()
        self.enabled = enabled
        self.last_written: Path | None = None
        doc.changed.append(self._on_doc_changed)

    def detach(self) -> None:
        """Stop observing the document (on close)."""
        with contextlib.suppress(ValueError):
            self.doc.changed.remove(self._on_doc_changed)

    @property
    def path(self) -> Path:
        """Where the next backup goes."""
        return autosave_path(self.doc.path, self.doc.project.id, self.autosave_dir)

    def _on_doc_changed(self, event: str, payload: dict[str, Any]) -> None:
        if event == "saved":
            self.schedule.reset()
            self.discard()
            return
        if event in _NEUTRAL_EVENTS or not self.enabled:
            return
        self.schedule.changed(self.clock())

    def tick(self, now: float | None = None) -> Path | None:
        """Write the backup if it is due.

        Args:
            now: Current time (default: the clock).

        Returns:
            The backup written, or None.

        Raises:
            ProjectError: The backup cannot be written (the schedule is reset first, so a
                read-only folder does not make every tick fail again until the next change).
        """
        now = self.clock() if now is None else now
        if not self.schedule.is_due(now):
            return None
        self.schedule.reset()
        if not self.doc.dirty:
            return None
        return self.write()

    def write(self) -> Path:
        """Write the backup now (atomically). Unsaved projects keep absolute media paths."""
        target = self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        save_project(self.doc.project, target, relative_paths=self.doc.path is not None)
        self.last_written = target
        return target

    def discard(self) -> None:
        """Delete the backups of this document (after a save, a clean close or "Don't save"),
        declined ones (``….dismissed``, see :mod:`editor.model.recovery`) included."""
        for p in {self.path, autosave_path(None, self.doc.project.id, self.autosave_dir)}:
            for backup in (p, p.with_name(p.name + ".dismissed")):
                with contextlib.suppress(OSError):
                    backup.unlink()


def push_recent(recent: list[str], path: str | Path, limit: int = 10) -> list[str]:
    """Put ``path`` first in a recent-projects list (no duplicates, at most ``limit``).

    Args:
        recent: Current list, most recent first.
        path: The project just opened or saved.
        limit: Longest list kept.

    Returns:
        A new list.
    """
    p = os.path.abspath(path)
    return [p] + [r for r in recent if os.path.abspath(r) != p][: max(0, limit - 1)]


def existing_recent(recent: list[str]) -> list[str]:
    """The recent projects that still exist (for the File > Open Recent menu)."""
    return [r for r in recent if Path(r).is_file()]
