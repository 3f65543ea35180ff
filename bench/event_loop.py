"""How long the editor's event loop stalls while a segment renders and while it exports.

An offscreen main window opens a clip and a dub, waits for the face tracks, adds a segment, and
then renders it and exports, while a 10 ms QTimer records when it really fires. The figure is
the longest gap between two timer ticks minus the 10 ms period (the time the GUI thread could
not answer), during the render and during the export; the same timer with nothing running is
the baseline, measured in the same run.

Usage::

    nice -n 10 python bench/event_loop.py [--clip CLIP] [--dub DUB]

The last line reads ``render_stall_ms=<...> export_stall_ms=<...> idle_stall_ms=<...>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", REPO.parent / "shared" / "media"))
PERIOD_MS = 10


def _wait(app, condition, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.002)


def _stall_ms(ticks: list[float]) -> float:
    if len(ticks) < 2:
        return float("nan")
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    return max(0.0, 1000.0 * max(gaps) - PERIOD_MS)


def main() -> None:
    """Run the bench and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--clip", type=Path, default=MEDIA / "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"
    )
    ap.add_argument("--dub", type=Path, default=MEDIA / "audio/B19_en_48k_retalking2.wav")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lipsync-eventloop-"))
    os.environ.setdefault("LIPSYNC_CACHE_DIR", str(work / "cache"))

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from editor.qt.main_window import QtMainWindow
    from editor.settings import Settings

    app = QApplication.instance() or QApplication([])
    w = QtMainWindow(
        settings=Settings(), autosave_dir=work / "autosave", save_settings_on_change=False
    )
    w.show()
    assert w.open_video(args.clip)
    dub = w.import_audio(args.dub)
    _wait(app, lambda: w.trackset is not None, 300)
    n = w.document.project.frame_count
    sid = w.document.add_segment(n // 4, n // 4 + 75, audio_track_id=dub)

    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(PERIOD_MS)

    ticks.clear()
    t_end = time.monotonic() + 2.0
    _wait(app, lambda: time.monotonic() > t_end, 10)
    idle = _stall_ms(ticks)

    done: list[str] = []
    w.segment_rendered.connect(lambda key, path: done.append(key))
    ticks.clear()
    w.render_segments([sid])
    _wait(app, lambda: done, 600)
    render = _stall_ms(ticks)

    exported: list[Path] = []
    w.export_finished.connect(lambda path: exported.append(path))
    ticks.clear()
    assert w.export(work / "export.mp4", show_dialog=False)
    _wait(app, lambda: exported, 600)
    export = _stall_ms(ticks)
    timer.stop()
    w.shutdown()
    w.close()
    print(f"render_stall_ms={render:.0f} export_stall_ms={export:.0f} idle_stall_ms={idle:.0f}")


if __name__ == "__main__":
    main()
