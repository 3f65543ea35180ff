"""User-facing errors: every failure names the file involved and what the user can do about it."""

from __future__ import annotations

from pathlib import Path


class LipsyncError(Exception):
    """Base class for errors shown to users (CLI one-liner, GUI notification).

    Args:
        message: What went wrong, in user words.
        path: The file concerned, if any.
        fix: What the user can do about it.
    """

    def __init__(self, message: str, path: str | Path | None = None, fix: str | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path is not None else self.message
        if self.fix:
            text += f" ({self.fix})"
        return text


class MediaError(LipsyncError):
    """A media file cannot be read, decoded or written."""


class NoFaceError(LipsyncError):
    """No usable face where one is needed."""


class CheckpointError(LipsyncError):
    """A model checkpoint is missing, truncated or does not fit the network."""


class ProjectError(LipsyncError):
    """A project file cannot be read or written."""


class FootageError(LipsyncError):
    """Not enough usable footage to build what was asked for."""
