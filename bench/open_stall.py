"""How long opening a clip and a dub holds the editor's GUI thread, and how often ffprobe runs.

Opens the real main window (offscreen) and drops a fresh copy of a shared clip and dub onto it
(fresh copies: nothing is remembered from an earlier probe), twice each way:

- ``sync``: :meth:`QtMainWindow.open_paths`, the files probed on the GUI thread (the old drop);
- ``background``: :meth:`QtMainWindow.open_paths_in_background` (what a drop, File ▸ Open and
  the command line do now): ffprobe runs in a worker thread, the edit is applied after.

A 5-ms ``QTimer`` stamps ``time.perf_counter()`` on every tick while the window opens the files
(until the first frame shows); the longest gap is how long the GUI could not answer. Each line
also counts the ffprobe processes started and how many of them on the GUI thread. The ratio
line compares the longest gaps of the two ways measured in this run; the load average is
printed because the gaps hold the machine's load as well.

Run: ``PYTHONPATH=. python bench/open_stall.py [CLIP] [DUB]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LIPSYNC_CONFIG_DIR", tempfile.mkdtemp(prefix="open_stall_cfg_"))

MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", "/work/shared/media"))
TICK_MS = 5
TRIALS = 2


def _count_ffprobe(runs: list[bool]) -> None:
    real_run = subprocess.run

    def counting_run(cmd, *args, **kwargs):
        if isinstance(cmd, (list, tuple)) and "ffprobe" in str(cmd[0]):
            runs.append(threading.current_thread() is threading.main_thread())
        return real_run(cmd, *args, **kwargs)

    subprocess.run = counting_run


def _trial(app, method: str, clip: Path, dub: Path, k: int, runs: list[bool]) -> float:
    from PySide6.QtCore import Qt, QTimer

    from editor.qt.unattended import unattended_window

    folder = Path(tempfile.mkdtemp(prefix="open_stall_"))
    v, a = folder / f"clip{k}{clip.suffix}", folder / f"dub{k}{dub.suffix}"
    shutil.copy(clip, v)
    shutil.copy(dub, a)
    w = unattended_window(folder / "autosave")
    w.show()
    app.processEvents()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    shown: list[int] = []
    w.frame_shown.connect(lambda *_: shown.append(1))
    del runs[:]
    app.processEvents()
    last[0] = t0 = time.perf_counter()
    getattr(w, method)([v, a])
    while not shown and time.perf_counter() - t0 < 60:
        app.processEvents()
        time.sleep(0.002)
    opened_sec = time.perf_counter() - t0
    timer.stop()
    w.close()
    app.processEvents()
    shutil.rmtree(folder, ignore_errors=True)
    longest_ms = max(gaps) * 1000 if gaps else opened_sec * 1000
    print(
        f"{method:26s} first frame after {opened_sec:5.2f} s; longest GUI gap "
        f"{longest_ms:6.0f} ms; ffprobe runs {len(runs)} ({sum(runs)} on the GUI thread)"
    )
    return longest_ms


def main() -> int:
    from PySide6.QtWidgets import QApplication

    clip = Path(sys.argv[1]) if len(sys.argv) > 1 else next((MEDIA / "video").glob("A04_*"))
    dub = Path(sys.argv[2]) if len(sys.argv) > 2 else next((MEDIA / "audio").glob("B01_*"))
    app = QApplication.instance() or QApplication([])
    runs: list[bool] = []
    _count_ffprobe(runs)
    worst = {"open_paths": 0.0, "open_paths_in_background": 0.0}
    for k in range(TRIALS):
        for method in worst:
            worst[method] = max(worst[method], _trial(app, method, clip, dub, k, runs))
    ratio = worst["open_paths_in_background"] / max(worst["open_paths"], 1e-9)
    print(f"longest gap, background / sync: {ratio:.2f}; load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip Qt's teardown of the worker processes' pipes at exit
