"""Entry point of the ``lipsync-editor`` GUI: ``lipsync-editor [clip | project.lsproj] [dub…]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="lipsync-editor",
        description="Offline lip-sync video editor: re-sync a face in a clip to new speech.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="a video clip or a .lsproj project, then optional dub audio files to import",
    )
    return parser.parse_args(argv)


def load_stylesheet() -> str:
    """The dark theme (resources/style.qss), with icon paths made absolute."""
    from editor.qt.main_window import RESOURCES

    qss = RESOURCES / "style.qss"
    if not qss.exists():
        return ""
    return qss.read_text(encoding="utf-8").replace("@ICONS@", (RESOURCES / "icons").as_posix())


def soft_dependency_notes() -> list[str]:
    """What the user should know about this machine (pitivi ``check.py``), e.g. no CUDA."""
    notes = []
    try:
        import torch

        if not torch.cuda.is_available():
            notes.append("No CUDA device: neural engines render on the CPU (slower).")
    except ImportError:
        notes.append("PyTorch is not installed: only the retime engine is available.")
    try:
        from PySide6.QtMultimedia import QMediaDevices

        if not QMediaDevices.audioOutputs():
            notes.append("No audio output device: preview plays without sound.")
    except ImportError:
        notes.append("QtMultimedia is missing: preview plays without sound.")
    return notes


def main(argv: list[str] | None = None) -> int:
    """Start the editor window; returns the process exit code."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QApplication

    from editor.qt.main_window import QtMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Lipsync Editor")
    app.setOrganizationName("lipsync")
    app.setStyle("Fusion")
    app.setStyleSheet(load_stylesheet())
    from PySide6.QtCore import QTimer

    window = QtMainWindow()
    window.show()

    def _after_show() -> None:
        # Checked once the window is up: importing torch takes a moment.
        for note in soft_dependency_notes():
            window.notifications.notify(note)
        if args.paths:
            window.open_paths([p.expanduser().resolve() for p in args.paths])

    QTimer.singleShot(0, _after_show)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
