"""How long the editor's event loop stalls while a segment render and an export run.

Opens the real main window (:class:`editor.qt.main_window.QtMainWindow`, offscreen unless a
display is set) on a real clip and dub from the shared media, waits for the faces, then runs,
each under the real Qt event loop (``QEventLoop.exec``):

1. ``idle``: nothing running (the floor of the measurement on this machine);
2. ``render``: a segment render through the render queue, the playhead moving as a user would
   scrub while waiting (a seek every 200 ms);
3. ``export``: an export of the whole clip with its progress dialog.

A 5-ms ``QTimer`` stamps ``time.perf_counter()`` on every tick; a gap is the time between two
ticks, so a stall of the GUI thread (work done in a slot, or the GIL held by a worker running
pure Python) shows as a long gap. On a shared machine a gap also holds the time the GUI thread
was ready to run but waited for a core (other programs' load): Linux counts that wait per
thread (``/proc/thread-self/schedstat``), so each gap is also reported *less* it, the editor's
own share ("own"): work in slots, and waits for the GIL held by the editor's other threads.
Each phase prints the longest gap, the 99th percentile and how
many gaps passed 50 ms. With ``--why``, a watchdog thread samples every thread's Python stack
whenever the GUI thread has not ticked for 30 ms, and the places seen most during stalls are
printed (the GUI thread's own frames for work in slots, the workers' for the GIL).

Beside the editor, in the same seconds, run two outside processes (bench/stall_probe.py): a
bare Qt application ticking the same 5-ms timer at the same niceness, the *baseline* (its
gaps are what the machine's load alone does to an event loop; each phase prints the editor's
longest gap and its "own" share as a ratio to the bare timer's), and a sampler that reads the
GUI thread's scheduler state from ``/proc`` during every stall (running or waiting for a core,
asleep on a futex: the GIL or a lock, on a socket, on the disk) and which other threads of the
editor were runnable. GC pauses of the editor are timed with ``gc.callbacks``. ``--ab-switch
1,5`` alternates the GIL switch interval every second and splits the gaps by it: a paired
comparison under the same load.

Usage::

    nice -n 10 python bench/editor_stall.py [--seconds 10] [--why] [--no-scrub] [--ab-switch 1,5]

The last line reads ``stall_ms render_max=... render_p99=... export_max=... export_p99=...
idle_max=... render_own_max=... export_own_max=...`` (``own``: the longest gap less the GUI
thread's wait for a core; equal to the plain figure where schedstat is missing); the line
before it, ``baseline_ms ... ratio idle=... render=... export=...``, the bare timer's longest
gaps and the editor's over them.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import stall_probe  # noqa: E402 - beside this file

sys.path.pop(0)
MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", REPO.parent / "shared" / "media"))
DEFAULT_CLIP = "A05_frontal_woman_flagbg_590p25_retalking3.mp4"
DEFAULT_DUB = "B19_en_48k_retalking2.wav"
TICK_MS = 5
STALL_MS = 50.0


@dataclass
class Gaps:
    """Tick gaps of one phase, in milliseconds."""

    name: str
    gaps_ms: list[float] = field(default_factory=list)
    #: CPU time the GUI thread itself used within each gap (work done in slots and paints;
    #: the rest of a long gap is waiting: for the GIL or, on a loaded machine, for a core).
    gui_cpu_ms: list[float] = field(default_factory=list)
    #: CPU time the whole process (every thread) used within each gap: near the gap's length,
    #: the GUI waited for the GIL while workers ran; far below it, for a core (machine load).
    proc_cpu_ms: list[float] = field(default_factory=list)
    #: Time the GUI thread was ready but waited for a core within each gap (machine load).
    queue_wait_ms: list[float] = field(default_factory=list)
    #: The longest wait for a core of any *other* Python thread of the editor within each gap:
    #: a thread preempted while it holds the GIL makes the GUI thread wait as long (that wait
    #: is the machine's load too, but it shows in the "own" share).
    other_wait_ms: list[float] = field(default_factory=list)
    #: The ``perf_counter`` time at which each gap ended (the tick that closed it).
    ends_s: list[float] = field(default_factory=list)
    #: The GIL switch interval (ms) in force when each gap ended (``--ab-switch`` varies it).
    switch_ms: list[float] = field(default_factory=list)

    def subset(self, keep: list[bool], name: str) -> Gaps:
        """The gaps where ``keep`` is true, as a phase of their own."""

        def pick(values: list) -> list:
            return [v for v, k in zip(values, keep, strict=True) if k] if values else []

        return Gaps(
            name, pick(self.gaps_ms), pick(self.gui_cpu_ms), pick(self.proc_cpu_ms),
            pick(self.queue_wait_ms), pick(self.other_wait_ms), pick(self.ends_s),
            pick(self.switch_ms),
        )  # fmt: skip

    def own_ms(self) -> list[float]:
        """Each gap less the GUI thread's wait for a core: the stall the editor itself caused."""
        waits = self.queue_wait_ms or [0.0] * len(self.gaps_ms)
        return [max(0.0, g - w) for g, w in zip(self.gaps_ms, waits, strict=True)]

    def own_max_ms(self) -> float:
        """The longest gap less its wait for a core."""
        return max(self.own_ms(), default=0.0)

    def max_ms(self) -> float:
        """The longest gap."""
        return max(self.gaps_ms, default=0.0)

    def percentile_ms(self, q: float) -> float:
        """The ``q``-th percentile gap (nearest rank)."""
        if not self.gaps_ms:
            return 0.0
        ordered = sorted(self.gaps_ms)
        return ordered[min(len(ordered) - 1, int(q / 100.0 * len(ordered)))]

    def line(self) -> str:
        """One summary line."""
        over = sum(g > STALL_MS for g in self.gaps_ms)
        worst = sorted(range(len(self.gaps_ms)), key=lambda i: -self.gaps_ms[i])[:3]
        waits = self.queue_wait_ms or [0.0] * len(self.gaps_ms)
        detail = ", ".join(
            f"{self.gaps_ms[i]:.0f} ms (GUI CPU {self.gui_cpu_ms[i]:.0f}, process CPU "
            f"{self.proc_cpu_ms[i]:.0f}, waiting for a core {waits[i]:.0f})"
            for i in worst
        )
        own = self.own_ms()
        others = self.other_wait_ms or [0.0] * len(own)
        worst_own = sorted(range(len(own)), key=lambda i: -own[i])[:3]
        detail += "\n        longest own: " + ", ".join(
            f"{own[i]:.0f} ms (another Python thread waited {others[i]:.0f} ms for a core)"
            for i in worst_own
        )
        own_over = sum(g > STALL_MS for g in own)
        own_p99 = sorted(own)[min(len(own) - 1, int(0.99 * len(own)))] if own else 0.0
        return (
            f"{self.name:7s} ticks {len(self.gaps_ms):6d}  max {self.max_ms():7.1f} ms  "
            f"p99 {self.percentile_ms(99):6.1f} ms  p50 {self.percentile_ms(50):5.1f} ms  "
            f"gaps > {STALL_MS:g} ms: {over}  GUI-thread CPU in one gap: max "
            f"{max(self.gui_cpu_ms, default=0.0):.1f} ms\n"
            f"        less the wait for a core: max {self.own_max_ms():.1f} ms  "
            f"p99 {own_p99:.1f} ms  gaps > {STALL_MS:g} ms: {own_over}\n        longest: {detail}"
        )


class TickMeter:
    """Stamps a 5-ms ``QTimer`` on the GUI thread; optional watchdog samples stalls' stacks."""

    def __init__(self, why: bool = False, stamp=None):
        from PySide6.QtCore import Qt, QTimer

        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._last_proc = time.process_time()
        self._gaps: list[float] = []
        self._cpu: list[float] = []
        self._proc: list[float] = []
        self._wait: list[float] = []
        self._other: list[float] = []
        self._ends: list[float] = []
        self._switch: list[float] = []
        self._thread_fds: dict[int, int] = {}
        self._last_thread_waits: dict[int, float] = {}
        self._sched_fd: int | None = None
        self._last_wait = 0.0
        self._why = why
        self._gui_ident = threading.get_ident()
        self._stop = threading.Event()
        self.stall_places: collections.Counter[str] = collections.Counter()
        #: (stall length in ms, places sampled during it) for every stall the watchdog saw.
        self.episodes: list[tuple[float, collections.Counter[str]]] = []
        self._watchdog: threading.Thread | None = None
        #: A mapped stamp (bench/stall_probe.py) the ticks write for an outside sampler.
        self._stamp = stamp
        #: What each gap is tagged with for a paired comparison (``--ab-switch``, ``--ab-poll``).
        self.tag = lambda: sys.getswitchinterval() * 1000.0
        #: (phase name, first perf_counter, last perf_counter) of every ``take``.
        self.windows: list[tuple[str, float, float]] = []
        self._phase_start = 0.0

    def _queue_wait_ms(self) -> float:
        """The GUI thread's total wait for a core so far (0 where Linux does not count it)."""
        if self._sched_fd is None:
            return 0.0
        try:
            return int(os.pread(self._sched_fd, 128, 0).split()[1]) / 1e6
        except (OSError, IndexError, ValueError):
            return 0.0

    def _thread_waits_ms(self) -> dict[int, float]:
        """Each other Python thread's total wait for a core so far (native id -> ms)."""
        out = {}
        for t in threading.enumerate():
            tid = t.native_id
            if tid is None or t.ident == self._gui_ident:
                continue
            fd = self._thread_fds.get(tid)
            try:
                if fd is None:
                    fd = self._thread_fds[tid] = os.open(
                        f"/proc/self/task/{tid}/schedstat", os.O_RDONLY
                    )
                out[tid] = int(os.pread(fd, 128, 0).split()[1]) / 1e6
            except (OSError, IndexError, ValueError):
                continue
        return out

    def _tick(self) -> None:
        now, cpu, proc = time.perf_counter(), time.thread_time(), time.process_time()
        if self._stamp is not None:
            stall_probe.write_stamp(self._stamp, now)
        wait = self._queue_wait_ms()
        self._gaps.append((now - self._last) * 1000.0)
        self._ends.append(now)
        self._switch.append(self.tag())
        self._cpu.append((cpu - self._last_cpu) * 1000.0)
        self._proc.append((proc - self._last_proc) * 1000.0)
        self._wait.append(wait - self._last_wait)
        if self._sched_fd is not None:
            waits = self._thread_waits_ms()
            last = self._last_thread_waits
            self._other.append(max((w - last.get(t, w) for t, w in waits.items()), default=0.0))
            self._last_thread_waits = waits
        self._last, self._last_cpu, self._last_proc = now, cpu, proc
        self._last_wait = wait

    def start(self) -> None:
        """Start ticking (and the watchdog)."""
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._last_proc = time.process_time()
        self._phase_start = self._last
        if self._sched_fd is None:
            try:  # per-thread scheduler statistics: cpu ns, run-queue wait ns, slices
                self._sched_fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
            except OSError:
                self._sched_fd = None
        self._last_wait = self._queue_wait_ms()
        name_threads()
        self._last_thread_waits = self._thread_waits_ms() if self._sched_fd is not None else {}
        self._timer.start()
        if self._why and self._watchdog is None:
            self._watchdog = threading.Thread(target=self._watch, daemon=True)
            self._watchdog.start()

    def take(self, name: str) -> Gaps:
        """The gaps since the last ``take`` (or ``start``), as one phase."""
        gaps, self._gaps = self._gaps, []
        cpu, self._cpu = self._cpu, []
        proc, self._proc = self._proc, []
        wait, self._wait = self._wait, []
        other, self._other = self._other, []
        ends, self._ends = self._ends, []
        switch, self._switch = self._switch, []
        now = time.perf_counter()
        self.windows.append((name, self._phase_start, now))
        self._phase_start = now
        waits = wait if self._sched_fd is not None else []
        return Gaps(name, gaps, cpu, proc, waits, other, ends, switch)

    def stop(self) -> None:
        """Stop ticking and the watchdog."""
        self._timer.stop()
        self._stop.set()
        if self._sched_fd is not None:
            os.close(self._sched_fd)
            self._sched_fd = None
        for fd in self._thread_fds.values():
            os.close(fd)
        self._thread_fds.clear()
        if self._watchdog is not None:
            self._watchdog.join(timeout=2)

    def _watch(self) -> None:
        names = {}
        episode: collections.Counter[str] | None = None
        episode_start = 0.0
        while not self._stop.wait(0.01):
            last = self._last
            stalled_ms = (time.perf_counter() - last) * 1000.0
            if stalled_ms < 30.0:
                if episode is not None:
                    self.episodes.append(((last - episode_start) * 1000.0, episode))
                    episode = None
                continue
            if episode is None:
                episode, episode_start = collections.Counter(), last
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                stack = traceback.extract_stack(frame)
                # The innermost frames of this project (or the top one when none is ours).
                ours = [f for f in stack if str(REPO) in f.filename] or stack[-1:]
                where = " < ".join(
                    f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(ours[-3:])
                )
                who = "GUI" if ident == self._gui_ident else names.get(ident, str(ident))
                self.stall_places[f"[{who}] {where}"] += 1
                episode[f"[{who}] {where}"] += 1


class Observers:
    """The outside observers of one run (bench/stall_probe.py) and the editor's GC pauses.

    ``bare``: a bare ``QTimer`` process at the same niceness, the baseline; ``sample``: the GUI
    thread's scheduler state during stalls; the GC pauses come from ``gc.callbacks`` in this
    process (a full collection holds the GIL and the GUI thread).
    """

    def __init__(self, workdir: Path, sample: bool = True):
        import subprocess

        self._dir = workdir
        self.stamp_path = workdir / "gui.stamp"
        self.stamp = stall_probe.stamp_file(self.stamp_path)
        probe = str(Path(__file__).resolve().parent / "stall_probe.py")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        self._procs = [
            subprocess.Popen([sys.executable, probe, "bare", str(workdir / "bare.npy")], env=env)
        ]
        if sample:
            self._procs.append(
                subprocess.Popen(
                    [sys.executable, probe, "sample", str(os.getpid()),
                     str(threading.get_native_id()), str(self.stamp_path),
                     str(workdir / "episodes.json")]
                )
            )  # fmt: skip
        #: (start perf_counter, ms, generation) of every collection that took over 2 ms.
        self.gc_pauses: list[tuple[float, float, int]] = []
        self._gc_start = 0.0
        import gc

        gc.callbacks.append(self._on_gc)
        self.bare_ticks = None
        self.episodes: list[dict] = []

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        ms = (time.perf_counter() - self._gc_start) * 1000.0
        if ms > 2.0:
            self.gc_pauses.append((self._gc_start, ms, info.get("generation", -1)))

    def finish(self) -> None:
        """Stop the observers and read what they saw."""
        import gc
        import json

        import numpy as np

        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            proc.wait(timeout=30)
        bare = self._dir / "bare.npy"
        self.bare_ticks = np.load(bare) if bare.exists() else None
        episodes = self._dir / "episodes.json"
        self.episodes = json.loads(episodes.read_text()) if episodes.exists() else []

    def baseline(self, start: float, end: float) -> Gaps:
        """The bare timer's gaps within ``[start, end]`` (perf_counter seconds)."""
        import numpy as np

        gaps = Gaps("bare")
        if self.bare_ticks is None:
            return gaps
        t = self.bare_ticks
        ticks = t[(t[:, 0] >= start) & (t[:, 0] <= end)]
        gaps.gaps_ms = [float(g) for g in np.diff(ticks[:, 0]) * 1000.0]
        gaps.queue_wait_ms = [float(w) for w in np.diff(ticks[:, 1])]
        gaps.gui_cpu_ms = gaps.proc_cpu_ms = [0.0] * len(gaps.gaps_ms)
        gaps.ends_s = [float(e) for e in ticks[1:, 0]]
        return gaps

    def gc_within(self, start: float, end: float) -> list[tuple[float, float, int]]:
        """The GC pauses that began within ``[start, end]``."""
        return [p for p in self.gc_pauses if start <= p[0] <= end]


class SwitchAlternator:
    """Alternate a setting between ``values`` every second, from a Python thread (not the
    GUI's timers, which the editor's stalls would delay): by default the GIL switch interval
    (``sys.setswitchinterval``, seconds); with ``poll=True`` how often a paused worker wakes
    (``LipcoreWorker.PAUSED_WAKE_SEC``: 0.01 is superqt's own 10-ms polling)."""

    def __init__(self, values: list[float], poll: bool = False):
        import editor.qt.workers

        if not poll:
            # The window sets its own interval when it opens: keep it from undoing ours.
            editor.qt.workers.GIL_SWITCH_INTERVAL_SEC = max(values)
        self._worker_class = editor.qt.workers.LipcoreWorker
        self._poll = poll
        self._values = values
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ab-switch", daemon=True)
        self._thread.start()

    def tag(self) -> float:
        """The value in force, in ms."""
        if self._poll:
            return self._worker_class.PAUSED_WAKE_SEC * 1000.0
        return sys.getswitchinterval() * 1000.0

    def _run(self) -> None:
        k = 0
        while not self._stop.wait(1.0 if k else 0.0):
            value = self._values[k % len(self._values)]
            if self._poll:
                self._worker_class.PAUSED_WAKE_SEC = value
            else:
                sys.setswitchinterval(value)
            k += 1

    def stop(self) -> None:
        """Stop alternating."""
        self._stop.set()
        self._thread.join(timeout=2)


def name_threads() -> None:
    """Give this process's Python threads their names at the OS level (``comm``), so an
    outside sampler (bench/stall_probe.py) can tell them apart: "GUI" for the main thread."""
    for t in threading.enumerate():
        if t.native_id is None:
            continue
        name = "GUI" if t is threading.main_thread() else t.name
        try:
            with open(f"/proc/self/task/{t.native_id}/comm", "w") as fh:
                fh.write(name[:15])
        except OSError:
            pass


def run_loop_until(predicate, timeout_sec: float, what: str, every=None) -> None:
    """Run the real event loop (``QEventLoop.exec``) until ``predicate()`` or the timeout.

    ``every``, when given, is called from a 200-ms timer inside the loop (a user's actions).
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_sec
    timed_out = []

    def check() -> None:
        if predicate():
            loop.quit()
        elif time.monotonic() > deadline:
            timed_out.append(True)
            loop.quit()

    checker = QTimer()
    checker.setInterval(20)
    checker.timeout.connect(check)
    checker.start()
    actor = None
    if every is not None:
        actor = QTimer()
        actor.setInterval(200)
        actor.timeout.connect(every)
        actor.start()
    loop.exec()
    checker.stop()
    if actor is not None:
        actor.stop()
    if timed_out:
        raise TimeoutError(f"timed out after {timeout_sec:.0f} s waiting for {what}")


def trim_clip(src: Path, out: Path, seconds: float) -> Path:
    """``seconds`` of ``src`` looped if needed (H.264/AAC, 25 fps)."""
    import subprocess

    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), "-t", f"{seconds}",
         "-r", "25", "-c:v", "libx264", "-crf", "16", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(out)],
        check=True,
    )  # fmt: skip
    return out


def measure(
    clip: Path,
    dub: Path,
    workdir: Path,
    segment_sec: float = 3.0,
    why: bool = False,
    log=print,
    profile=None,
    scrub: bool = True,
    observers: Observers | None = None,
    tag=None,
) -> tuple[dict[str, Gaps], TickMeter]:
    """Open the editor on ``clip`` + ``dub`` and measure tick gaps while idle, rendering and
    exporting. Needs (or makes) a ``QApplication``; settings and autosaves go to ``workdir``.

    ``profile``, a ``cProfile.Profile``, profiles the GUI thread during the render and export.
    ``scrub`` False leaves the playhead alone during the render (no decoding for the viewer).
    ``observers``, when given, gets the meter's stamps (its sampler watches the GUI thread).
    ``tag``, when given, is called on every tick; its value tags the gap (``Gaps.switch_ms``).

    Returns:
        The phases' gaps by name, and the meter (its ``stall_places`` with ``why``).
    """
    from PySide6.QtWidgets import QApplication

    from editor.qt.unattended import unattended_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = unattended_window(workdir / "autosave")
    rendered: list[str] = []
    failed: list[str] = []
    exported: list[object] = []
    window.segment_rendered.connect(lambda sid, _path: rendered.append(sid))
    window.render_failed.connect(lambda sid, text: failed.append(f"{sid}: {text}"))
    window.export_finished.connect(exported.append)
    window.export_failed.connect(lambda text: failed.append(f"export: {text}"))
    meter = TickMeter(why=why, stamp=observers.stamp if observers is not None else None)
    if tag is not None:
        meter.tag = tag
    phases: dict[str, Gaps] = {}
    try:
        assert window.open_video(clip), f"could not open {clip}"
        assert window.import_audio(dub), f"could not import {dub}"
        run_loop_until(lambda: window.trackset is not None, 600, "face tracking")
        # Let the background jobs of the import (waveforms, thumbnails) finish first.
        bg = window.background
        run_loop_until(lambda: not bg._workers and not bg.model.queued, 300, "background jobs")
        doc = window.document
        fps = float(doc.project.fps)
        frames = doc.project.frame_count
        length = min(int(segment_sec * fps), frames - 4)
        sid = doc.add_segment(2, 2 + length)
        doc.seal()
        meter.start()
        t_end = time.monotonic() + 1.5
        run_loop_until(lambda: time.monotonic() > t_end, 10, "idle")
        phases["idle"] = meter.take("idle")

        seek = {"frame": 0}

        def scrub_step() -> None:
            seek["frame"] = (seek["frame"] + 7) % frames
            window.playback.seek(seek["frame"])

        if profile is not None:
            profile.enable()
        t0 = time.perf_counter()
        assert window.render_segments([sid]) == 1
        run_loop_until(
            lambda: rendered or failed, 900, "the render", every=scrub_step if scrub else None
        )
        render_s = time.perf_counter() - t0
        phases["render"] = meter.take("render")
        if failed:
            raise RuntimeError(f"render failed: {failed[0]}")
        log(f"render: {length} frames in {render_s:.1f} s")
        # The sync curve of the new result runs in the background after a render: let it end.
        run_loop_until(lambda: not bg._workers and not bg.model.queued, 300, "sync curve")
        meter.take("between")

        t0 = time.perf_counter()
        assert window.export(workdir / "export.mp4", show_dialog=True)
        run_loop_until(lambda: exported or failed, 1800, "the export")
        export_s = time.perf_counter() - t0
        phases["export"] = meter.take("export")
        if profile is not None:
            profile.disable()
        if failed:
            raise RuntimeError(f"export failed: {failed[0]}")
        log(f"export: {frames} frames in {export_s:.1f} s")
    finally:
        meter.stop()
        window._ask_save_changes = lambda: "discard"
        window.close()
        window.deleteLater()
        app.processEvents()
    return phases, meter


def print_observed(phases: dict[str, Gaps], meter: TickMeter, observers: Observers) -> None:
    """Each phase beside the bare timer's gaps in the same seconds, and what the outside
    sampler and the GC callbacks saw in the editor's longest gaps."""
    windows = {name: (start, end) for name, start, end in meter.windows}
    print("the same seconds in a bare QTimer process at the same niceness (the baseline):")
    for name, gaps in phases.items():
        if name not in windows:
            continue
        base = observers.baseline(*windows[name])
        over = sum(g > STALL_MS for g in gaps.gaps_ms)
        base_over = sum(g > STALL_MS for g in base.gaps_ms)
        ratio = gaps.max_ms() / max(base.max_ms(), 1e-9)
        own_ratio = gaps.own_max_ms() / max(base.own_max_ms(), 1e-9)
        pauses = observers.gc_within(*windows[name])
        longest = max((p[1] for p in pauses), default=0.0)
        print(
            f"  {name:7s} editor max {gaps.max_ms():6.0f} ms (> {STALL_MS:g}: {over:3d}), own "
            f"{gaps.own_max_ms():5.0f} | bare max {base.max_ms():6.0f} ms (> {STALL_MS:g}: "
            f"{base_over:3d}), own {base.own_max_ms():5.0f} | ratio {ratio:.2f}, own "
            f"{own_ratio:.2f} | GC pauses > 2 ms: {len(pauses)}, longest {longest:.0f} ms"
        )
    pauses = observers.gc_pauses
    episodes = sorted(observers.episodes, key=lambda e: -e["ms"])
    for name, gaps in phases.items():
        if name not in ("render", "export") or not gaps.gaps_ms:
            continue
        own = gaps.own_ms()
        worst = sorted(range(len(gaps.gaps_ms)), key=lambda i: -gaps.gaps_ms[i])[:5]
        worst += [i for i in sorted(range(len(own)), key=lambda i: -own[i])[:5] if i not in worst]
        print(
            f"{name}: the longest gaps and the longest own shares, and what the GUI thread was "
            "doing (sampled every 5 ms)"
        )
        for i in worst:
            end, gap = gaps.ends_s[i], gaps.gaps_ms[i]
            start = end - gap / 1000.0
            gc_ms = sum(ms for t, ms, _g in pauses if start - 0.001 <= t <= end)
            print(
                f"  {gap:6.0f} ms: GUI CPU {gaps.gui_cpu_ms[i]:.0f} ms, waiting for a core "
                f"{(gaps.queue_wait_ms or [0.0] * len(gaps.gaps_ms))[i]:.0f} ms, GC {gc_ms:.0f} ms"
            )
            for ep in episodes:
                if start - 0.002 <= ep["start"] <= end:
                    for place, n in sorted(ep["gui"].items(), key=lambda kv: -kv[1])[:4]:
                        print(f"      {n:4d} x GUI {place}")
                    running = sorted(ep["others_running"].items(), key=lambda kv: -kv[1])[:4]
                    if running:
                        print(
                            "           other threads on a core: "
                            + ", ".join(f"{k} x{n}" for k, n in running)
                        )
                    break


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=MEDIA / "video" / DEFAULT_CLIP)
    parser.add_argument("--dub", type=Path, default=MEDIA / "audio" / DEFAULT_DUB)
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length (looped)")
    parser.add_argument("--segment", type=float, default=3.0, help="segment length, seconds")
    parser.add_argument("--why", action="store_true", help="sample stacks during stalls")
    parser.add_argument(
        "--no-scrub", action="store_true", help="no seeks during the render (viewer idle)"
    )
    parser.add_argument(
        "--switch-ms", type=float, default=0.0, help="set sys.setswitchinterval (0 = as is)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the GUI thread (render + export)"
    )
    parser.add_argument(
        "--ab-switch",
        help="two GIL switch intervals in ms, e.g. 1,5: alternated every second during the "
        "run, each gap counted under the one in force (a paired comparison under the same load)",
    )
    parser.add_argument(
        "--ab-poll",
        help="two paused-worker wake intervals in ms, e.g. 10,1000 (10 = superqt's polling), "
        "alternated every second like --ab-switch",
    )
    parser.add_argument(
        "--no-sampler", action="store_true", help="no outside sampler of the GUI thread's state"
    )
    args = parser.parse_args(argv)
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
    if args.switch_ms > 0:
        import editor.qt.workers

        # The editor sets its own interval when its window opens: this one replaces it.
        editor.qt.workers.GIL_SWITCH_INTERVAL_SEC = args.switch_ms / 1000.0
        sys.setswitchinterval(args.switch_ms / 1000.0)
    os.environ.setdefault(
        "QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb"
    )
    with tempfile.TemporaryDirectory(prefix="lipsync-stall-") as tmp:
        workdir = Path(tmp)
        os.environ.setdefault("LIPSYNC_CACHE_DIR", str(workdir / "cache"))
        os.environ["LIPSYNC_CONFIG_DIR"] = str(workdir / "config")
        clip = trim_clip(args.clip, workdir / "clip.mp4", args.seconds)
        print(
            f"stall: {args.clip.name} ({args.seconds:g} s) + {args.dub.name}, "
            f"platform {os.environ['QT_QPA_PLATFORM']}, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        observers = Observers(workdir, sample=not args.no_sampler)
        alternate = None
        if args.ab_switch or args.ab_poll:
            spec = args.ab_switch or args.ab_poll
            alternate = SwitchAlternator(
                [float(v) / 1000.0 for v in spec.split(",")], poll=bool(args.ab_poll)
            )
        try:
            phases, meter = measure(
                clip,
                args.dub,
                workdir,
                args.segment,
                args.why,
                lambda s: print(s, flush=True),
                profile,
                not args.no_scrub,
                observers,
                alternate.tag if alternate is not None else None,
            )
        finally:
            observers.finish()
            if alternate is not None:
                alternate.stop()
        load_end = os.getloadavg()
    print(f"GIL switch interval {sys.getswitchinterval() * 1000:g} ms (the editor's setting)")
    for gaps in phases.values():
        print(gaps.line())
    if profile is not None:
        import pstats

        pstats.Stats(profile).sort_stats("cumtime").print_stats("editor|lipcore", 40)
    if args.why and meter.stall_places:
        print("where the process was during stalls (samples every 10 ms):")
        for place, n in meter.stall_places.most_common(25):
            print(f"{n:5d}  {place}")
    if args.why and meter.episodes:
        print("the longest stalls, with what each thread was doing (samples every 10 ms):")
        for length_ms, places in sorted(meter.episodes, key=lambda e: -e[0])[:6]:
            print(f"  stall of about {length_ms:.0f} ms:")
            for place, n in places.most_common(6):
                print(f"    {n:4d}  {place}")
    print_observed(phases, meter, observers)
    if args.ab_switch or args.ab_poll:
        what = "GIL switch interval" if args.ab_switch else "paused-worker wake interval"
        print(f"by {what} (alternated every second, same run):")
        for name in ("render", "export"):
            gaps = phases[name]
            for ms in sorted(set(gaps.switch_ms)):
                part = gaps.subset([abs(v - ms) < 1e-6 for v in gaps.switch_ms], name)
                own = sorted(part.own_ms())
                p99 = own[min(len(own) - 1, int(0.99 * len(own)))] if own else 0.0
                print(
                    f"  {name:7s} {ms:5g} ms: ticks {len(part.gaps_ms):5d}  max "
                    f"{part.max_ms():6.0f}  p99 {part.percentile_ms(99):5.0f}  > {STALL_MS:g}: "
                    f"{sum(g > STALL_MS for g in part.gaps_ms):3d}  | own max "
                    f"{part.own_max_ms():5.0f}  own p99 {p99:5.1f}  own > {STALL_MS:g}: "
                    f"{sum(g > STALL_MS for g in own):3d}"
                )
    print(f"load average at the end {load_end[0]:.1f} / {load_end[1]:.1f} (1 / 5 min)")
    r, e = phases["render"], phases["export"]
    base = {w[0]: observers.baseline(w[1], w[2]) for w in meter.windows}
    print(
        "baseline_ms "
        + " ".join(f"{n}_max={base[n].max_ms():.0f}" for n in ("idle", "render", "export"))
        + " ratio "
        + " ".join(
            f"{n}={phases[n].max_ms() / max(base[n].max_ms(), 1e-9):.2f}"
            for n in ("idle", "render", "export")
        )
    )
    print(
        f"stall_ms render_max={r.max_ms():.0f} render_p99={r.percentile_ms(99):.0f} "
        f"export_max={e.max_ms():.0f} export_p99={e.percentile_ms(99):.0f} "
        f"idle_max={phases['idle'].max_ms():.0f} render_own_max={r.own_max_ms():.0f} "
        f"export_own_max={e.own_max_ms():.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
