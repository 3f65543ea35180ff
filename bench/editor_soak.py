"""Soak the real editor window: a scripted editing session, then check nothing kept growing.

The session drives :class:`editor.qt.main_window.QtMainWindow` on a real clip and dub: open the
clip, import the dub, wait for the faces, make segments, then loop: change a render option,
re-render a segment (a real render through the render queue), play, scrub, switch the viewer
mode, undo and redo, and save the project and an autosave every few rounds.

After every round it samples, with garbage collected: ``sys.getrefcount(None)`` (the PySide6
6.12 ``none_dealloc`` leak makes it fall by one per void Qt call), resident memory (RSS), the
number of threads and of open file descriptors. The first rounds are a warm-up (caches, thread
pools, decoders fill up); the verdict compares the end of the run to the plateau the warm-up
reached:

- ``None`` refcount: must not fall by more than ``NONE_DROP_LIMIT`` below the plateau;
- RSS: at most ``RSS_GROWTH_MB`` above it;
- threads and open files: at most ``THREAD_GROWTH`` / ``FD_GROWTH`` above it.

With ``--other-clip`` the session opens the other clip as a new project every
``--switch-every`` rounds (dub, segments, first renders and frames shown again), and each
worker process's memory is printed per round as RSS / anonymous / file-backed (a leak grows
the anonymous part; mapped tracks and scratch files are page cache).

Usage (the long run; works offscreen and under Xvfb with ``QT_QPA_PLATFORM=xcb``)::

    nice -n 10 .venv/bin/python bench/editor_soak.py --minutes 10 [--renders 100]
    DISPLAY=:99 QT_QPA_PLATFORM=xcb nice -n 10 .venv/bin/python bench/editor_soak.py --minutes 10
    QT_QPA_PLATFORM=xcb nice -n 10 xvfb-run -a .venv/bin/python bench/editor_soak.py --minutes 12 \
        --seconds 20 --other-clip ../shared/media/video/A07_*.mp4 --switch-every 6 \
        --export-every 4 --screenshots /tmp/soak-shots

Exit status 0 when nothing grew, 1 otherwise. tests/editor_qt/test_soak.py runs a short version.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run this checkout's editor, not whichever copy the environment has installed.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", REPO.parent / "shared" / "media"))
DEFAULT_CLIP = "A05_frontal_woman_flagbg_590p25_retalking3.mp4"
DEFAULT_DUB = "B19_en_48k_retalking2.wav"

NONE_DROP_LIMIT = 1000
RSS_GROWTH_MB = 60.0
THREAD_GROWTH = 2
FD_GROWTH = 4


@dataclass
class Sample:
    """Process figures after one round."""

    round: int
    elapsed_sec: float
    renders: int
    none_refs: int
    rss_mb: float
    threads: int
    fds: int
    #: Resident memory of the editor's worker processes (renders, background jobs) together.
    worker_rss_mb: float = 0.0
    #: Longest tick gap of the event loop in the round, and the same less the GUI thread's wait
    #: for a core (other programs' load; see bench/editor_stall.py).
    max_gap_ms: float = 0.0
    own_gap_ms: float = 0.0
    #: Per worker process (role -> (RSS, anonymous RSS, file-backed RSS) in MiB): anonymous
    #: memory is what a leak grows; file-backed pages (mapped tracks, scratch files, libraries)
    #: are page cache the kernel takes back under pressure.
    workers: dict[str, tuple[float, float, float]] = field(default_factory=dict)


@dataclass
class SoakReport:
    """What a session measured, and the verdict."""

    samples: list[Sample] = field(default_factory=list)
    warmup_rounds: int = 0
    renders: int = 0
    render_failures: int = 0
    saves: int = 0
    undo_redo: int = 0
    seeks: int = 0
    exports: int = 0
    clip_switches: int = 0

    def _plateau(self, attr: str) -> float:
        warm = self.samples[: self.warmup_rounds]
        tail = warm[-3:] if len(warm) >= 3 else warm
        return statistics.median(getattr(s, attr) for s in tail)

    def _end(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples[-3:])

    def growth(self) -> dict[str, float]:
        """End of run minus the warm-up plateau, per figure (``none_refs`` as a drop)."""
        return {
            "none_drop": self._plateau("none_refs") - self._end("none_refs"),
            "rss_mb": self._end("rss_mb") - self._plateau("rss_mb"),
            "threads": self._end("threads") - self._plateau("threads"),
            "fds": self._end("fds") - self._plateau("fds"),
        }

    def problems(self, rss_growth_mb: float = RSS_GROWTH_MB) -> list[str]:
        """What grew beyond its tolerance (empty = the session is sound).

        Args:
            rss_growth_mb: Allowed RSS growth over the plateau (a short run, whose plateau is
                still settling, passes a looser one).
        """
        if len(self.samples) <= self.warmup_rounds:
            return [f"only {len(self.samples)} rounds: nothing after the warm-up to compare"]
        g = self.growth()
        out = []
        # The leak makes the count fall steadily, so the lowest sample counts too.
        lowest = min(s.none_refs for s in self.samples[self.warmup_rounds :])
        none_drop = max(g["none_drop"], self._plateau("none_refs") - lowest)
        if none_drop > NONE_DROP_LIMIT:
            out.append(f"None refcount fell by {none_drop:.0f} (limit {NONE_DROP_LIMIT})")
        if g["rss_mb"] > rss_growth_mb:
            out.append(f"RSS grew by {g['rss_mb']:.1f} MB (limit {rss_growth_mb:g})")
        if g["threads"] > THREAD_GROWTH:
            out.append(f"threads grew by {g['threads']:.0f} (limit {THREAD_GROWTH})")
        if g["fds"] > FD_GROWTH:
            out.append(f"open files grew by {g['fds']:.0f} (limit {FD_GROWTH})")
        if self.render_failures:
            out.append(f"{self.render_failures} render(s) failed")
        return out

    def table(self) -> str:
        """The samples as a text table plus the growth line."""
        lines = [
            "round  min    renders  None refs   RSS MB  threads  fds  workers MB  gap ms  own ms"
        ]
        step = max(1, len(self.samples) // 25)
        shown = self.samples[::step]
        if self.samples and shown[-1] is not self.samples[-1]:
            shown.append(self.samples[-1])
        for s in shown:
            mark = "w" if s.round < self.warmup_rounds else " "
            lines.append(
                f"{s.round:5d}{mark} {s.elapsed_sec / 60:5.1f}  {s.renders:7d}  {s.none_refs:9d}"
                f"  {s.rss_mb:7.1f}  {s.threads:7d}  {s.fds:4d}  {s.worker_rss_mb:10.1f}"
                f"  {s.max_gap_ms:6.0f}  {s.own_gap_ms:6.0f}"
            )
        if len(self.samples) > self.warmup_rounds:
            g = self.growth()
            lines.append(
                f"growth after warm-up ({self.warmup_rounds} rounds): None refs "
                f"{-g['none_drop']:+.0f}, RSS {g['rss_mb']:+.1f} MB, threads "
                f"{g['threads']:+.0f}, open files {g['fds']:+.0f}"
            )
        lines.append(
            f"renders {self.renders} (failed {self.render_failures}), saves {self.saves}, "
            f"undo/redo {self.undo_redo}, seeks {self.seeks}, exports {self.exports}, "
            f"clips opened {self.clip_switches}"
        )
        roles = sorted({r for s in self.samples for r in s.workers})
        if roles:
            lines.append("worker processes, MiB (RSS = anonymous + file-backed):")
            lines.append("round  min   " + "".join(f"{r + ' RSS/anon/file':>28s}" for r in roles))
            for s in shown:
                cells = "".join(
                    f"{' / '.join(f'{v:.0f}' for v in s.workers[r]):>28s}"
                    if r in s.workers
                    else f"{'-':>28s}"
                    for r in roles
                )
                lines.append(f"{s.round:5d} {s.elapsed_sec / 60:5.1f} {cells}")
        if self.samples:
            lines.append(
                f"event loop: longest gap {max(s.max_gap_ms for s in self.samples):.0f} ms, "
                f"less the wait for a core {max(s.own_gap_ms for s in self.samples):.0f} ms"
            )
        return "\n".join(lines)


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux ``/proc``)."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker_rss_mb() -> float:
    """Resident memory of the editor's shared worker processes together, in MiB."""
    return sum(rss for rss, _anon, _file in worker_memory_mb().values())


def worker_memory_mb() -> dict[str, tuple[float, float, float]]:
    """Each running worker process's (RSS, anonymous RSS, file-backed RSS) in MiB, by role."""
    from editor.model.job_process import _shared

    out = {}
    for role, proc in _shared.items():
        pid = proc.pid
        if pid is None:
            continue
        fields = {}
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    key, _, value = line.partition(":")
                    if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                        fields[key] = int(value.split()[0]) / 1024.0
        except OSError:
            continue
        file_mb = fields.get("RssFile", 0.0) + fields.get("RssShmem", 0.0)
        out[role] = (fields.get("VmRSS", 0.0), fields.get("RssAnon", 0.0), file_mb)
    return out


def _tick_meter():
    """The stall bench's tick meter (its gaps, and their wait for a core), or None."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from editor_stall import TickMeter
    except ImportError:
        return None
    finally:
        sys.path.pop(0)
    return TickMeter()


def thread_count() -> int:
    """Threads of this process (every native thread, Qt's and ffmpeg's included)."""
    return len(os.listdir(f"/proc/{os.getpid()}/task"))


def fd_count() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir(f"/proc/{os.getpid()}/fd"))


def trim_clip(src: Path, out: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``src``, looped where it is shorter (H.264/AAC)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), "-t", str(seconds)]
        + ["-c:v", "libx264", "-crf", "16", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)],
        check=True,
    )
    return out


def _spin(app) -> None:
    """One turn of the event loop as ``app.exec()`` would run it, deferred deletes included
    (``processEvents`` alone never runs ``deleteLater``, which would look like a leak)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    app.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _wait(app, predicate, timeout_sec: float, what: str) -> None:
    deadline = time.monotonic() + timeout_sec
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_sec:.0f} s waiting for {what}")
        _spin(app)
        time.sleep(0.005)


def _pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        _spin(app)
        time.sleep(0.005)


def _idle(window) -> bool:
    """No render and no background job (sync curves, mixes) waiting or running."""
    bg = window.background
    return not window.render_queue.busy and not bg._workers and not bg.model.queued


def run_session(
    clip: Path,
    dub: Path,
    workdir: Path,
    minutes: float = 0.0,
    max_renders: int = 20,
    warmup_rounds: int = 4,
    segment_frames: int = 0,
    log=print,
    export_every: int = 0,
    screenshots: Path | None = None,
    other_clip: Path | None = None,
    switch_every: int = 0,
) -> SoakReport:
    """Drive one editing session in a real main window and sample the process after each round.

    Needs a ``QApplication`` (made here when there is none). Settings, autosaves and the project
    go to ``workdir``; the render cache follows ``LIPSYNC_CACHE_DIR``.

    Args:
        clip: The video clip.
        dub: The dub audio.
        workdir: Scratch folder.
        minutes: Keep going until this much time has passed after the warm-up's first renders
            (0 = stop after ``max_renders``).
        max_renders: Stop after this many renders (0 = no limit; needs ``minutes``).
        warmup_rounds: Rounds that only fill caches and set the plateau.
        segment_frames: Length of each of the three segments (0 = a third of the clip).
        log: Progress lines go here.
        export_every: Export the whole clip every this many rounds (0 = never).
        screenshots: Save a picture of the window here after every export round (and the
            first round).
        other_clip: A second clip; every ``switch_every`` rounds the session opens the other
            clip as a new project (dub, segments, renders and frames shown again).
        switch_every: See ``other_clip`` (0 = never switch).

    Returns:
        The samples and counts; :meth:`SoakReport.problems` is the verdict.
    """
    from PySide6.QtWidgets import QApplication

    from editor.qt.unattended import unattended_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    report = SoakReport(warmup_rounds=warmup_rounds)
    window = unattended_window(workdir / "autosave", (1280, 760))
    rendered: list[str] = []
    failed: list[str] = []
    window.segment_rendered.connect(lambda sid, _path: rendered.append(sid))
    window.render_failed.connect(lambda sid, text: failed.append(f"{sid}: {text}"))
    exported: list[object] = []
    window.export_finished.connect(exported.append)
    window.export_failed.connect(lambda text: failed.append(f"export: {text}"))
    meter = _tick_meter()
    start = time.monotonic()
    clips = [clip] + ([other_clip] if other_clip is not None else [])

    def open_clip(path: Path) -> list[str]:
        """Open ``path`` as a new project with the dub and three segments, render them all and
        show its frames; returns the segment ids."""
        assert window.open_video(path), f"could not open {path}"
        assert window.import_audio(dub), f"could not import {dub}"
        _wait(app, lambda: window.trackset is not None, 3600, "face tracking")
        doc = window.document
        frames = doc.project.frame_count
        # Three segments over the clip; each is re-rendered in turn.
        third = frames // 3
        length = min(segment_frames or third - 2, third - 2)
        bounds = [(k * third + 2, k * third + 2 + length) for k in range(3)]
        ids = [doc.add_segment(a, b) for a, b in bounds]
        doc.seal()
        # One render of each segment, then every frame shown in the split view (the viewer's
        # frame cache holds originals and results).
        before = len(rendered) + len(failed)
        window.render_segments(ids)
        _wait(app, lambda: len(rendered) + len(failed) >= before + len(ids), 600, "renders")
        window.set_view_mode("split")
        # Every frame of a short clip (the frame cache fills); about 600 of a long one.
        for f in range(0, frames, max(1, frames // 600)):
            window.playback.seek(f)
            _wait(app, lambda f=f: window._frames.get(("original", f)) is not None, 30, "frames")
        report.renders, report.render_failures = len(rendered), len(failed)
        return ids

    try:
        # Fill what is meant to fill before measuring: every clip of the session opened once.
        for path in reversed(clips):
            seg_ids = open_clip(path)
        clip_no = 0
        project = workdir / "soak.lsproj"
        log(f"warm: {len(rendered)} first renders on {len(clips)} clip(s)")
        if meter is not None:
            meter.start()
        start = time.monotonic()  # the session's minutes count from here (a long clip's
        # tracking and first renders can take longer than the session itself)
        round_no = 0
        while True:
            is_switch_round = switch_every > 0 and round_no % switch_every == switch_every - 1
            if is_switch_round and len(clips) > 1:
                clip_no = (clip_no + 1) % len(clips)
                seg_ids = open_clip(clips[clip_no])
                report.clip_switches += 1
            doc = window.document
            frames = doc.project.frame_count
            sid = seg_ids[round_no % len(seg_ids)]
            # A real change of a render option, so each render is a new one, not a cache hit.
            doc.set_segment_options(sid, feather_px=8 + (round_no % 9) * 2)
            doc.seal()
            before = len(rendered) + len(failed)
            assert window.render_segments([sid]) == 1
            # Play and scrub while the render runs, as a user waiting for it would.
            window.set_view_mode(("original", "result", "split")[round_no % 3])
            window.playback.play(1.0)
            _pump(app, 0.3)
            window.playback.pause()
            for f in range(0, frames, max(1, frames // 12)):
                window.playback.seek(f)
                _spin(app)
                report.seeks += 1
            _wait(app, lambda b=before: len(rendered) + len(failed) > b, 600, "a render")
            report.renders = len(rendered)
            report.render_failures = len(failed)
            # Undo the option change and redo it: the render goes stale and comes back.
            window.undo_action.trigger()
            window.redo_action.trigger()
            report.undo_redo += 2
            if round_no % 4 == 1:
                window.save_project(project)
                report.saves += 1
                doc.set_segment_options(sid, label=f"round {round_no}")
                window.autosaver.write()
            is_export_round = export_every > 0 and round_no % export_every == export_every - 1
            if is_export_round:
                n = len(exported) + len(failed)
                assert window.export(workdir / "soak_export.mp4", show_dialog=True)
                _wait(app, lambda n=n: len(exported) + len(failed) > n, 1800, "an export")
                report.exports = len(exported)
            if screenshots is not None and (round_no == 0 or is_export_round):
                screenshots.mkdir(parents=True, exist_ok=True)
                window.grab().save(str(screenshots / f"round_{round_no:03d}.png"))
            # Sample at a quiet moment: the sync curve and mix of this round are done.
            _wait(app, lambda: _idle(window), 300, "background jobs")
            _pump(app, 0.05)
            gc.collect()
            _spin(app)
            gaps = meter.take(f"round {round_no}") if meter is not None else None
            report.samples.append(
                Sample(
                    round=round_no,
                    elapsed_sec=time.monotonic() - start,
                    renders=report.renders,
                    none_refs=sys.getrefcount(None),
                    rss_mb=rss_mb(),
                    threads=thread_count(),
                    fds=fd_count(),
                    worker_rss_mb=worker_rss_mb(),
                    workers=worker_memory_mb(),
                    max_gap_ms=gaps.max_ms() if gaps is not None else 0.0,
                    own_gap_ms=gaps.own_max_ms() if gaps is not None else 0.0,
                )
            )
            s = report.samples[-1]
            log(
                f"round {round_no:4d}  {s.elapsed_sec / 60:5.1f} min  renders {s.renders:4d}  "
                f"None {s.none_refs}  RSS {s.rss_mb:.1f} MB  threads {s.threads}  fds {s.fds}  "
                f"workers {s.worker_rss_mb:.0f} MB  gap {s.max_gap_ms:.0f} ms "
                f"(own {s.own_gap_ms:.0f} ms)  "
                + "  ".join(
                    f"{r} {v[0]:.0f}/{v[1]:.0f}/{v[2]:.0f}" for r, v in sorted(s.workers.items())
                )
            )
            round_no += 1
            time_done = minutes <= 0 or time.monotonic() - start >= minutes * 60
            done = report.renders + report.render_failures
            if time_done and (max_renders <= 0 or done >= max_renders):
                break
    finally:
        if meter is not None:
            meter.stop()
        for text in failed[:3]:
            log(f"render failed: {text}")
        window._ask_save_changes = lambda: "discard"
        window.close()
        window.deleteLater()
        app.processEvents()
    return report


def main(argv: list[str] | None = None) -> int:
    """Run the soak session and print its figures; exit 1 when something grew."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the session")
    parser.add_argument(
        "--renders",
        type=int,
        default=0,
        help="at least this many renders (0 = as many as fit in --minutes)",
    )
    parser.add_argument("--clip", type=Path, default=MEDIA / "video" / DEFAULT_CLIP)
    parser.add_argument("--dub", type=Path, default=MEDIA / "audio" / DEFAULT_DUB)
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="trim the clip to this (0 = use it as is)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="warm-up rounds")
    parser.add_argument(
        "--segment-frames", type=int, default=0, help="segment length (0 = a third of the clip)"
    )
    parser.add_argument(
        "--export-every", type=int, default=0, help="export every this many rounds (0 = never)"
    )
    parser.add_argument("--screenshots", type=Path, help="save window pictures here")
    parser.add_argument("--other-clip", type=Path, help="a second clip, opened now and then")
    parser.add_argument(
        "--switch-every", type=int, default=0, help="open the other clip every this many rounds"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault(
        "QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb"
    )
    with tempfile.TemporaryDirectory(prefix="lipsync-soak-") as tmp:
        workdir = Path(tmp)
        os.environ.setdefault("LIPSYNC_CACHE_DIR", str(workdir / "cache"))
        os.environ["LIPSYNC_CONFIG_DIR"] = str(workdir / "config")
        clip = args.clip
        other_clip = args.other_clip
        if args.seconds > 0:
            clip = trim_clip(args.clip, workdir / "clip.mp4", args.seconds)
            if other_clip is not None:
                other_clip = trim_clip(other_clip, workdir / "other.mp4", args.seconds)
        print(
            f"soak: {args.clip.name} (first {args.seconds:g} s) + {args.dub.name}, "
            f"{args.minutes:g} min, platform {os.environ['QT_QPA_PLATFORM']}, "
            f"Python {sys.version.split()[0]}",
            flush=True,
        )
        report = run_session(
            clip,
            args.dub,
            workdir,
            minutes=args.minutes,
            max_renders=args.renders,
            warmup_rounds=args.warmup,
            segment_frames=args.segment_frames,
            log=lambda line: print(line, flush=True),
            export_every=args.export_every,
            screenshots=args.screenshots,
            other_clip=other_clip,
            switch_every=args.switch_every,
        )
    print(report.table())
    problems = report.problems()
    for p in problems:
        print("GREW:", p)
    print("verdict:", "nothing grew" if not problems else "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
