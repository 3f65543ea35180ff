"""A main window that never asks: for benches and tests that drive the editor unattended.

Every modal prompt gets the answer a script wants (unsaved changes discarded, autosaves not
restored or recovered, a dropped clip opens a new project), so a run never blocks on a dialog.
"""

from __future__ import annotations

from pathlib import Path

from editor.qt.main_window import QtMainWindow


def unattended_window(autosave_dir: Path, size: tuple[int, int] = (1400, 860)) -> QtMainWindow:
    """A shown main window with default settings whose prompts answer themselves.

    Args:
        autosave_dir: Folder for its autosaves (a temporary one; settings are not written).
        size: Window size in pixels.

    Returns:
        The window (shown; the caller owns it).
    """
    from editor.settings import Settings

    window = QtMainWindow(
        settings=Settings(), autosave_dir=Path(autosave_dir), save_settings_on_change=False
    )
    window._ask_save_changes = lambda: "discard"
    window._ask_restore = lambda recovery: False
    window._ask_new_project = lambda path: "new"
    window._ask_recover_untitled = lambda entry, others: False
    window.resize(*size)
    window.show()
    return window
