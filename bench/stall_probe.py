"""Observers for ``bench/editor_stall.py`` that run outside the editor's process.

Two separate processes, so neither depends on the editor's GIL or its event loop:

- ``bare``: a bare Qt application whose only work is a 5-ms ``QTimer`` stamping its ticks.
  Started beside the editor at the same niceness, its gaps are what the machine's load alone
  does to an event loop in the same seconds: the baseline the editor's gaps are divided by.
  With each tick it stores its own wait for a core so far, so its gaps less that wait (the
  same "own" figure as the editor's) come out too.
- ``sample``: watches the editor's GUI thread through a shared stamp the tick meter writes
  (8 bytes in a mapped file). Whenever the stamp is 30 ms old or more it reads, every 5 ms,
  the GUI thread's scheduler state from ``/proc`` (running ``R``, sleeping ``S`` with the
  kernel function it sleeps in, disk ``D``), its system call and its kernel stack, the state
  of every other thread of the editor, and the other threads that ran. Each stall becomes one
  episode: its length and what the GUI thread was doing during it, which tells a GUI thread
  doing work (R) from one waiting for a core (R, counted as run-queue wait), for the GIL or a
  lock (S in ``futex_wait``), for a socket or pipe (S in ``poll``/``read``), or for the disk.

Usage (started by ``bench/editor_stall.py``)::

    python bench/stall_probe.py bare OUT.npy
    python bench/stall_probe.py sample PID TID STAMP_FILE OUT.json
"""

from __future__ import annotations

import collections
import json
import mmap
import os
import signal
import struct
import sys
import time
from pathlib import Path

TICK_MS = 5
#: A stall starts when the GUI thread's stamp is this old.
STALL_START_MS = 30.0
SAMPLE_EVERY_SEC = 0.005
#: Syscall numbers (x86-64) worth naming in the report.
SYSCALLS = {
    0: "read", 1: "write", 7: "poll", 23: "select", 202: "futex", 232: "epoll_wait",
    270: "pselect6", 271: "ppoll", 281: "epoll_pwait", 45: "recvfrom", 47: "recvmsg",
    9: "mmap", 11: "munmap", 10: "mprotect", 12: "brk", 3: "close", 257: "openat",
    230: "clock_nanosleep", 35: "nanosleep", 16: "ioctl", 44: "sendto", 46: "sendmsg",
}  # fmt: skip


def stamp_file(path: Path) -> mmap.mmap:
    """A mapped 8-byte file holding one float64 (the tick meter's last ``perf_counter``)."""
    with open(path, "a+b") as fh:
        if os.fstat(fh.fileno()).st_size < 8:
            fh.write(b"\0" * 8)
            fh.flush()
        return mmap.mmap(fh.fileno(), 8)


def write_stamp(stamp: mmap.mmap, value: float) -> None:
    """Store ``value`` in the stamp."""
    struct.pack_into("d", stamp, 0, value)


def bare_timer(out: Path) -> None:
    """Tick a 5-ms precise ``QTimer`` in a bare application until SIGTERM; save the tick times."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, Qt, QTimer

    app = QCoreApplication(sys.argv[:1])
    ticks: list[tuple[float, float]] = []
    sched = os.open("/proc/thread-self/schedstat", os.O_RDONLY)

    def tick() -> None:
        # The time and this thread's total wait for a core so far (ms), as the editor's meter.
        wait_ms = int(os.pread(sched, 128, 0).split()[1]) / 1e6
        ticks.append((time.perf_counter(), wait_ms))

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    # Python runs signal handlers only between bytecodes: a 50-ms timer lets it look.
    poke = QTimer()
    poke.start(50)
    poke.timeout.connect(lambda: None)
    app.exec()
    import numpy as np

    np.save(out, np.asarray(ticks, dtype=np.float64).reshape(-1, 2))


def _read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def _state(task: str) -> str:
    stat = _read(f"{task}/stat")
    # Fields after the command's closing parenthesis: state is the first.
    return stat.rpartition(")")[2].split()[0] if ")" in stat else "?"


def _kernel_top(task: str, depth: int = 3) -> str:
    frames = []
    for line in _read(f"{task}/stack").splitlines():
        name = line.split("] ", 1)[-1].split("+", 1)[0]
        if name and not name.startswith(("entry_SYSCALL", "do_syscall")):
            frames.append(name)
    return " < ".join(frames[:depth])


def _syscall(task: str) -> str:
    text = _read(f"{task}/syscall").split()
    if not text:
        return "?"
    if text[0] == "running":
        return "user space"
    try:
        number = int(text[0])
    except ValueError:
        return text[0]
    return SYSCALLS.get(number, f"syscall {number}")


def sample(pid: int, gui_tid: int, stamp_path: Path, out: Path) -> None:
    """Watch the GUI thread's stamp until SIGTERM; write the stall episodes to ``out``."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    stamp = stamp_file(stamp_path)
    gui = f"/proc/{pid}/task/{gui_tid}"
    episodes = []
    current = None
    while not stop:
        time.sleep(SAMPLE_EVERY_SEC)
        last = struct.unpack_from("d", stamp, 0)[0]
        now = time.perf_counter()
        if last <= 0 or now - last < STALL_START_MS / 1000.0:
            if current is not None:
                current["ms"] = (current["end"] - current["start"]) * 1000.0
                episodes.append(current)
                current = None
            continue
        if current is None or current["start"] != last:
            if current is not None:
                current["ms"] = (current["end"] - current["start"]) * 1000.0
                episodes.append(current)
            current = {"start": last, "end": now, "gui": collections.Counter(),
                       "others_running": collections.Counter(), "samples": 0}  # fmt: skip
        current["end"] = now
        current["samples"] += 1
        state = _state(gui)
        where = _syscall(gui) if state != "R" else "on a core or waiting for one"
        kernel = _kernel_top(gui) if state != "R" else ""
        current["gui"][f"{state} {where} [{kernel}]"] += 1
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            break
        for tid in tids:
            if int(tid) == gui_tid:
                continue
            task = f"/proc/{pid}/task/{tid}"
            if _state(task) == "R":
                current["others_running"][_read(f"{task}/comm").strip()] += 1
    if current is not None:
        current["ms"] = (current["end"] - current["start"]) * 1000.0
        episodes.append(current)
    out.write_text(json.dumps(episodes))


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring)."""
    if argv[0] == "bare":
        bare_timer(Path(argv[1]))
    elif argv[0] == "sample":
        sample(int(argv[1]), int(argv[2]), Path(argv[3]), Path(argv[4]))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}: bare or sample")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
