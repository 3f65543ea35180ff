"""Make the README screenshots of the editor with a real clip and a rendered segment.

Run under a real X server (Xvfb) so fonts and styles match a desktop::

    Xvfb :99 -screen 0 1600x900x24 -nolisten tcp &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python packaging/screenshots.py \\
        --clip clip.mp4 --dub dub.wav --out resources/screenshots

Writes ``main_window.png`` (split wipe over a rendered segment) and ``timeline.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _spin(app, until, timeout_sec: float) -> bool:
    start = time.monotonic()
    while time.monotonic() - start < timeout_sec:
        app.processEvents()
        if until():
            return True
        time.sleep(0.02)
    return False


def _save_png(image, path: Path, max_bytes: int = 400_000) -> None:
    """Save ``image``; scale it down until the PNG is under ``max_bytes``."""
    from PySide6.QtCore import Qt

    scale = 1.0
    while True:
        scaled = (
            image
            if scale == 1.0
            else image.scaledToWidth(
                int(image.width() * scale), Qt.TransformationMode.SmoothTransformation
            )
        )
        scaled.save(str(path), "PNG", 9)
        if path.stat().st_size <= max_bytes or scale < 0.5:
            return
        scale *= 0.9


def main(argv: list[str] | None = None) -> int:
    """Open the clip, import the dub, render one segment and save screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, required=True)
    parser.add_argument("--dub", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "screenshots")
    parser.add_argument("--segment", type=int, nargs=2, default=(12, 62))
    parser.add_argument("--frame", type=int, default=40)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))

    from PySide6.QtWidgets import QApplication

    from editor.__main__ import load_stylesheet
    from editor.qt.main_window import QtMainWindow
    from editor.settings import Settings

    app = QApplication.instance() or QApplication(["lipsync-editor"])
    app.setStyle("Fusion")
    app.setStyleSheet(load_stylesheet())
    tmp = Path(tempfile.mkdtemp(prefix="lipsync-shots-"))
    window = QtMainWindow(settings=Settings(), autosave_dir=tmp, save_settings_on_change=False)
    window._ask_save_changes = lambda: "discard"
    window.resize(1600, 900)
    window.show()
    window.open_video(args.clip)
    window.import_audio(args.dub)
    if not _spin(app, lambda: window.trackset is not None and len(window._waves) >= 2, 300):
        print("faces or waveforms not ready", file=sys.stderr)
        return 1
    first, last = args.segment
    window.timeline.canvas.segment_drawn.emit(first, last)
    seg_id = window.selected_segments[0]
    window.document.set_segment_options(seg_id, label="Take 1 — dub line")
    done: list = []
    window.segment_rendered.connect(lambda *a: done.append(a))
    window.render_failed.connect(lambda *a: done.append(a))
    window.render_segments([seg_id])
    if not _spin(app, lambda: bool(done), 600) or not isinstance(done[0][1], Path):
        print(f"render failed: {done}", file=sys.stderr)
        return 1
    _spin(app, lambda: window._sync_source is not None and bool(window._sync_results), 180)
    window.set_view_mode("split")
    window.viewer.set_wipe(0.5)
    window.playback.seek(args.frame)
    _spin(app, lambda: window.viewer._result is not None, 20)
    _spin(app, lambda: False, 1.0)
    args.out.mkdir(parents=True, exist_ok=True)
    _save_png(window.grab().toImage(), args.out / "main_window.png")
    _save_png(window.timeline.grab().toImage(), args.out / "timeline.png")
    print(f"wrote {args.out / 'main_window.png'} and {args.out / 'timeline.png'}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
