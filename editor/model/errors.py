"""Errors a user can cause while editing (refused edits), shown in the notification area."""

from __future__ import annotations

from lipcore.errors import LipsyncError


class EditError(LipsyncError):
    """An edit cannot be applied as asked (overlap, empty range, unknown id, invalid option).

    The document is left unchanged when it is raised.
    """
