"""Entry point of the ``lipsync-editor`` GUI: ``lipsync-editor [clip | project.lsproj] [dub…]``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any


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
    parser.add_argument(
        "--self-test",
        nargs=2,
        type=Path,
        metavar=("CLIP", "AUDIO"),
        help="open CLIP, import AUDIO, render one segment, print the result as JSON and quit "
        "(checks an installation or a desktop bundle)",
    )
    return parser.parse_args(argv)


def apply_cache_dir(settings: Any, environ: MutableMapping[str, str] | None = None) -> Path | None:
    """Point lipcore's on-disk cache at the "Cache folder" setting, when one is set.

    lipcore has no settings object: it reads ``LIPSYNC_CACHE_DIR`` (see
    :func:`lipcore.cache.cache_root`), so the setting is applied through that variable before
    any lipcore work starts. The variable is also the setting's environment override, so when it
    is already set it wins and is left alone.

    Args:
        settings: The editor settings (:class:`editor.settings.Settings`).
        environ: Environment to update (default ``os.environ``).

    Returns:
        The cache folder in use when it comes from the setting or the variable, else None
        (lipcore's default folder).
    """
    env = os.environ if environ is None else environ
    if env.get("LIPSYNC_CACHE_DIR"):
        return Path(env["LIPSYNC_CACHE_DIR"])
    folder = str(getattr(settings, "cache_dir", "") or "").strip()
    if not folder:
        return None
    path = Path(folder).expanduser().absolute()
    env["LIPSYNC_CACHE_DIR"] = str(path)
    return path


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
    from editor.binding_check import BindingError, check_binding
    from editor.settings import load_settings

    try:  # the installed versions first, before Qt is imported
        check_binding(probe=False)
    except BindingError as exc:
        print(f"lipsync-editor: error: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    apply_cache_dir(settings)  # before anything computes or reads derived data
    if settings.device != "auto":  # lipcore's pick_device reads the variable
        os.environ.setdefault("LIPSYNC_DEVICE", settings.device)
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        check_binding(probe=True)
    except BindingError as exc:
        print(f"lipsync-editor: error: {exc}", file=sys.stderr)
        QMessageBox.critical(None, "Lipsync Editor cannot start", str(exc))
        return 2
    from editor.qt.main_window import QtMainWindow

    app.setApplicationName("Lipsync Editor")
    app.setOrganizationName("lipsync")
    app.setStyle("Fusion")
    app.setStyleSheet(load_stylesheet())
    from PySide6.QtCore import QTimer

    window = QtMainWindow(settings=settings)
    window.show()

    def _after_show() -> None:
        if args.self_test:
            from editor.qt.self_test import run_self_test

            window._ask_save_changes = lambda: "discard"  # a scripted session keeps nothing
            run_self_test(window, *(p.expanduser().resolve() for p in args.self_test))
            return
        # Checked once the window is up: importing torch takes a moment.
        for note in soft_dependency_notes():
            window.notifications.notify(note)
        recovered = window.offer_recovery()  # an untitled project lost in a crash
        if args.paths and recovered:
            names = ", ".join(p.name for p in args.paths)
            window.notifications.notify(f"Recovered work is open; not opened: {names}", "warning")
        elif args.paths:
            window.open_paths_in_background([p.expanduser().resolve() for p in args.paths])

    QTimer.singleShot(0, _after_show)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
