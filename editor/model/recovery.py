"""Which crash backups can be recovered, and remembering the ones the user turned down (no Qt).

A backup (``*.lsproj.autosave``, see :mod:`editor.model.autosave`) is left behind when the editor
dies with unsaved changes. Backups of never-saved projects live in the autosave folder as
``untitled-<id>.lsproj.autosave``; those of saved projects sit next to the project.

- At start the editor offers the newest *pending* untitled backup (:func:`pending_untitled`).
- A backup the user declines is *dismissed*: renamed to ``….autosave.dismissed``, so it is not
  offered again, but File > Recover still lists it (a wrong click loses nothing).
- File > Recover lists every backup found (:func:`recoverable`): untitled ones, and those of the
  recent projects that are newer than their project file.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from editor.model.autosave import AUTOSAVE_SUFFIX, default_autosave_dir

DISMISSED_SUFFIX = ".dismissed"


@dataclass(frozen=True)
class Recoverable:
    """One backup that can be opened.

    Attributes:
        backup: The backup file.
        project_path: The project it belongs to, or None for a never-saved project.
        modified: Modification time of the backup (seconds since the epoch).
        dismissed: The user declined it once (it is no longer offered at start).
        summary: One line for a list: clip name and segment count, or why it cannot be read.
    """

    backup: Path
    project_path: Path | None
    modified: float
    dismissed: bool
    summary: str

    @property
    def title(self) -> str:
        """The project's name as the window title shows it."""
        return self.project_path.stem if self.project_path else "Untitled"

    def describe(self) -> str:
        """A line for the File > Recover list."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.modified))
        state = "  (declined before)" if self.dismissed else ""
        return f"{self.title} — {self.summary} — autosaved {when}{state}"


def _summary(backup: Path) -> str:
    from lipcore.errors import LipsyncError
    from lipcore.project import load_project

    try:
        project = load_project(backup)
    except (LipsyncError, OSError, ValueError) as exc:
        return f"unreadable ({exc})"
    clip = project.video.path.name if project.video is not None else "no clip"
    n = len(project.segments)
    return f"{clip}, {n} segment{'s' if n != 1 else ''}"


def project_of(backup: Path) -> Path | None:
    """The project a backup belongs to (None for ``untitled-…`` backups)."""
    name = backup.name
    if name.endswith(DISMISSED_SUFFIX):
        name = name[: -len(DISMISSED_SUFFIX)]
    if name.startswith("untitled-") or not name.endswith(AUTOSAVE_SUFFIX):
        return None
    return backup.with_name(name[: -len(AUTOSAVE_SUFFIX)])


def _entry(backup: Path) -> Recoverable:
    return Recoverable(
        backup=backup,
        project_path=project_of(backup),
        modified=backup.stat().st_mtime,
        dismissed=backup.name.endswith(DISMISSED_SUFFIX),
        summary=_summary(backup),
    )


def pending_untitled(autosave_dir: Path | None = None) -> list[Recoverable]:
    """Backups of never-saved projects not yet declined, newest first (offered at start)."""
    folder = autosave_dir or default_autosave_dir()
    if not folder.is_dir():
        return []
    found = [_entry(p) for p in folder.glob(f"untitled-*.lsproj{AUTOSAVE_SUFFIX}")]
    return sorted(found, key=lambda r: r.modified, reverse=True)


def recoverable(
    autosave_dir: Path | None = None, recent_projects: list[str] | None = None
) -> list[Recoverable]:
    """Every backup the user could recover, newest first (the File > Recover list).

    Args:
        autosave_dir: Folder of the never-saved projects' backups.
        recent_projects: Project files whose backups are looked for next to them.

    Returns:
        Untitled backups (pending and declined) and the backups of recent projects that are
        newer than the project file.
    """
    folder = autosave_dir or default_autosave_dir()
    backups: list[Path] = []
    if folder.is_dir():
        for suffix in (AUTOSAVE_SUFFIX, AUTOSAVE_SUFFIX + DISMISSED_SUFFIX):
            backups += folder.glob(f"untitled-*.lsproj{suffix}")
    for project in recent_projects or []:
        project = Path(project)
        for suffix in (AUTOSAVE_SUFFIX, AUTOSAVE_SUFFIX + DISMISSED_SUFFIX):
            backup = project.with_name(project.name + suffix)
            if not backup.is_file():
                continue
            if project.is_file() and backup.stat().st_mtime_ns <= project.stat().st_mtime_ns:
                continue  # saved after the backup: nothing to recover
            backups.append(backup)
    unique = {os.path.abspath(b): b for b in backups if b.is_file()}
    return sorted((_entry(b) for b in unique.values()), key=lambda r: r.modified, reverse=True)


def dismiss(backup: Path) -> Path:
    """Mark a backup as declined: it is kept (File > Recover) but not offered again.

    Returns:
        The renamed file (unchanged when it was dismissed already or is gone).
    """
    if backup.name.endswith(DISMISSED_SUFFIX) or not backup.exists():
        return backup
    target = backup.with_name(backup.name + DISMISSED_SUFFIX)
    os.replace(backup, target)
    return target


def delete(backup: Path) -> None:
    """Delete a backup for good (the Delete button of File > Recover)."""
    with contextlib.suppress(FileNotFoundError):
        backup.unlink()
