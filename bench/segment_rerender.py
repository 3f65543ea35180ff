"""Re-render one 3-s segment of a 30-s and of a 5-minute clip, caches warm, as the editor does.

The path is the editor's: a :class:`editor.model.document.Document` with the clip and a dub, a
:class:`editor.model.planner.RenderPlanner` (one warm state for the session), and per edit a
``segment_job`` drained as the worker would, then ``record_segment``. Caches are warmed first
(face tracks, the face's footage library, one render and one re-render of the segment, which
also pays the engine's lazy imports); each timed re-render
follows an edit of the segment's mouth strength, so the engine really runs on the segment's
frames. Also timed in the same run: the export of the 30-s clip (one splice pass, nothing
re-rendered) against a plain ffmpeg decode + encode of the same clip with the same encoder
settings.

Usage (the clips are made with ffmpeg from the shared A04 clip if missing)::

    nice -n 10 python bench/segment_rerender.py [--work /tmp/lipsync-bench] [--repeats 3]
        [--profile] [--no-export] [--no-cold]

Also timed (unless ``--no-cold``): the first re-render in a fresh process (caches on disk warm,
nothing in memory), as an editor's first edit after opening the project, once with the
background preload the editor starts when a clip opens (:mod:`lipcore.render.preload`) run
before the edit, once without it.

The last line reads ``rerender_s=<30-s clip> long_rerender_s=<5-min clip>`` (medians).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from lipcore.media.encode import X264_ARGS  # noqa: E402

MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", REPO.parent / "shared" / "media"))
CLIP = MEDIA / "video/A04_frontal_man_mapbg_844p25_retalking2.mp4"  # 5 s, 844x844, 25 fps
DUB = MEDIA / "audio/B21_en_16k_20s_latentsync_demo2.wav"
SEGMENT_SEC = (10.0, 13.0)


def make_clip(out: Path, seconds: int) -> Path:
    """``seconds`` of A04 looped, re-encoded at 25 fps (x264 veryfast, CRF 18)."""
    if out.exists():
        return out
    loops = seconds // 5 + 1
    tmp = out.with_name(f".{out.name}")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", str(loops), "-i", str(CLIP),
         "-t", str(seconds), "-r", "25", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mp4", str(tmp)],
        check=True,
    )  # fmt: skip
    tmp.rename(out)
    return out


class StackSampler:
    """A small sampling profiler over every thread (cProfile sees the calling thread only).

    The re-render's work runs in worker threads (decode, engine, frame pool, compositor); every
    ``interval_s`` this reads all threads' Python stacks and counts, for the threads that are
    not parked in a wait (a queue, a lock, a pool's result), each function on the stack
    (inclusive) and the innermost line (self). Shares are of those busy samples, so they
    compare within one run even on a loaded machine.
    """

    #: Innermost functions that mean a thread is waiting, not working.
    IDLE = {"wait", "get", "put", "acquire", "_wait_for_tstate_lock", "result", "select"}

    def __init__(self, interval_s: float = 0.005):
        import collections
        import threading

        self.interval_s = interval_s
        self.inclusive: collections.Counter = collections.Counter()
        self.innermost: collections.Counter = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sampling (in a daemon thread)."""
        import threading

        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling (the counts are kept for :meth:`report`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        import threading

        me = threading.get_ident()
        while not self._stop.wait(self.interval_s):
            for ident, frame in sys._current_frames().items():
                if ident == me or frame.f_code.co_name in self.IDLE:
                    continue
                self.samples += 1
                code = frame.f_code
                self.innermost[
                    f"{Path(code.co_filename).name}:{frame.f_lineno} {code.co_name}"
                ] += 1
                seen = set()
                while frame is not None:
                    code = frame.f_code
                    seen.add(f"{Path(code.co_filename).name} {code.co_name}")
                    frame = frame.f_back
                self.inclusive.update(seen)

    def report(self, top: int = 45) -> str:
        """The busiest functions (inclusive) and lines (innermost), as shares of busy samples."""
        total = max(self.samples, 1)
        lines = [
            f"{self.samples} busy samples every {self.interval_s * 1000:.0f} ms",
            "",
            "inclusive:",
        ]
        lines += [f"{100 * n / total:5.1f}%  {k}" for k, n in self.inclusive.most_common(top)]
        lines += ["", "innermost line:"]
        lines += [f"{100 * n / total:5.1f}%  {k}" for k, n in self.innermost.most_common(top)]
        return "\n".join(lines) + "\n"


def ffmpeg_baseline(clip: Path, out: Path) -> float:
    """Seconds for a plain ffmpeg decode + encode with the export's x264 settings."""
    t0 = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-c:v", "libx264", "-preset", "medium",
         "-crf", "12", "-pix_fmt", "yuv420p", *X264_ARGS, "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - t0


def segment_project(clip: Path, renders: Path):
    """``(document, segment id, planner)``: ``clip`` opened with the dub and the one segment of
    :data:`SEGMENT_SEC`, as an editor user sets it up, its renders cached in ``renders``."""
    from editor.model.document import Document
    from editor.model.planner import RenderPlanner, new_render_cache

    doc = Document(render_cache=new_render_cache(renders))
    doc.open_video(clip)
    dub = doc.add_audio_track(DUB, name="Dub", offset_samples=8 * 16000)
    fps = doc.project.fps
    start, end = (int(s * fps) for s in SEGMENT_SEC)
    sid = doc.add_segment(start, end, audio_track_id=dub)
    return doc, sid, RenderPlanner(doc)


def session(
    clip: Path, repeats: int, work: Path, export: bool = True, profile: Path | None = None
) -> dict[str, float]:
    """Warm the caches for ``clip``, then time ``repeats`` segment re-renders (and an export).

    With ``profile``, the timed re-renders are sampled (:class:`StackSampler`, every thread) and
    the shares of time per function are written there.
    """
    from editor.model.planner import iter_export
    from lipcore.face.track import track_faces
    from lipcore.progress import drain

    t0 = time.perf_counter()
    tracks = track_faces(clip)  # cached on disk after the first run
    track_s = time.perf_counter() - t0
    doc, sid, planner = segment_project(clip, work / "renders")

    cpu_times: list[float] = []

    def rerender(must_render: bool = True) -> float:
        t, c = time.perf_counter(), time.process_time()
        job = planner.segment_job(sid, tracks)
        result = drain(job.run(), show=False)
        planner.record_segment(sid, job.params_hash, result)
        took = time.perf_counter() - t
        cpu_times.append(time.process_time() - c)
        if must_render:
            assert result.rendered_segments == 1, "the edit must make the segment render again"
        return took

    t0 = time.perf_counter()
    rerender(must_render=False)  # library (from disk when built before), chunk
    first_s = time.perf_counter() - t0
    # Strengths never used before on this cache (a chunk of an earlier run would be reused).
    rng = random.Random(time.time_ns())
    # One untimed edit: the first render may have come from an earlier run's chunk, so the
    # engine's lazy imports (librosa and its JIT for the mel features) are paid here.
    doc.set_segment_options(sid, mouth_strength=round(rng.uniform(0.5, 0.95), 4))
    rerender()
    times = []
    sampler = StackSampler() if profile is not None else None
    for _ in range(repeats):
        doc.set_segment_options(sid, mouth_strength=round(rng.uniform(0.5, 0.95), 4))
        if sampler is not None:
            sampler.start()
        times.append(rerender())
        if sampler is not None:
            sampler.stop()
    if sampler is not None:
        profile.write_text(sampler.report())
    export_s = float("nan")
    if export:
        plan = planner.export_plan(work / f"{clip.stem}_export.mp4", "dub")
        t0 = time.perf_counter()
        exported = drain(iter_export(plan, tracks, planner.warm), show=False)
        export_s = time.perf_counter() - t0
        assert exported.rendered_segments == 0
    return {
        "frames": doc.project.frame_count,
        "track_s": track_s,
        "first_s": first_s,
        "rerender_s": statistics.median(times),
        # CPU seconds of this process (all its threads): less swayed by other load than wall.
        "rerender_cpu_s": statistics.median(cpu_times[2:]),
        "export_s": export_s,
        "export": work / f"{clip.stem}_export.mp4",
    }


def cold_child(clip: Path, work: Path, preload: bool) -> None:
    """In this (fresh) process: open the project, optionally preload, time the first re-render."""
    import json

    from lipcore.face.track import track_faces
    from lipcore.progress import drain

    tracks = track_faces(clip)
    doc, sid, planner = segment_project(clip, work / "renders-cold")
    if preload:  # what the editor's background queue runs when the clip opens
        from lipcore.render.preload import preload_render

        drain(preload_render(), show=False)
    doc.set_segment_options(sid, mouth_strength=round(random.uniform(0.5, 0.95), 5))
    t, c = time.perf_counter(), time.process_time()
    job = planner.segment_job(sid, tracks)
    result = drain(job.run(), show=False)
    planner.record_segment(sid, job.params_hash, result)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    assert result.rendered_segments == 1
    print(json.dumps({"wall_s": wall, "cpu_s": cpu}))


def cold_first_rerender(clip: Path, work: Path, preload: bool) -> tuple[float, float]:
    """``(wall, cpu)`` seconds of a fresh process's first re-render (see :func:`cold_child`)."""
    import json

    cmd = [sys.executable, __file__, "--work", str(work), "--cold-child", str(clip)]
    out = subprocess.run(
        cmd + (["--preload"] if preload else []), check=True, capture_output=True, text=True
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return float(got["wall_s"]), float(got["cpu_s"])


def main() -> None:
    """Run the bench and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/lipsync-bench"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also sample the timed re-renders' stacks (all threads; to <work>/profile_*.txt)",
    )
    ap.add_argument("--no-export", action="store_true", help="skip the export timing")
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-process timings")
    ap.add_argument("--cold-child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--preload", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LIPSYNC_CACHE_DIR", str(args.work / "cache"))
    if args.cold_child is not None:
        cold_child(args.cold_child, args.work, args.preload)
        return
    short = make_clip(args.work / "a04_30s.mp4", 30)
    long = make_clip(args.work / "a04_300s.mp4", 300)

    def prof(name: str) -> Path | None:
        return args.work / f"profile_{name}.txt" if args.profile else None

    s = session(short, args.repeats, args.work, not args.no_export, prof("30s"))
    base_s = float("nan")
    if not args.no_export:
        base_s = ffmpeg_baseline(short, args.work / "ffmpeg_30s.mp4")
    seg_frames = int(round((SEGMENT_SEC[1] - SEGMENT_SEC[0]) * 25))
    print(
        f"30-s clip ({s['frames']} frames): tracking {s['track_s']:.1f} s (0 = cached), first "
        f"render {s['first_s']:.2f} s, re-render of {seg_frames} frames {s['rerender_s']:.2f} s"
    )
    print(
        f"export (splice, nothing re-rendered) {s['export_s']:.2f} s = "
        f"{s['frames'] / s['export_s']:.1f} fps; plain ffmpeg decode+encode {base_s:.2f} s = "
        f"{s['frames'] / base_s:.1f} fps; ratio {s['export_s'] / base_s:.2f}x"
    )
    if not args.no_cold:
        bare = cold_first_rerender(short, args.work, preload=False)
        warmed = cold_first_rerender(short, args.work, preload=True)
        print(
            f"first re-render in a fresh process: {bare[0]:.2f} s ({bare[1]:.2f} cpu s); after "
            f"the editor's background preload {warmed[0]:.2f} s ({warmed[1]:.2f} cpu s); warm "
            f"session {s['rerender_s']:.2f} s ({s['rerender_cpu_s']:.2f} cpu s)"
        )
    lg = session(long, args.repeats, args.work, export=False, profile=prof("300s"))
    print(
        f"5-min clip ({lg['frames']} frames): tracking {lg['track_s']:.1f} s, first render "
        f"{lg['first_s']:.2f} s, re-render {lg['rerender_s']:.2f} s "
        f"({lg['rerender_s'] / s['rerender_s']:.2f}x the 30-s clip's)"
    )
    print(
        f"cpu seconds per re-render (all threads): 30 s {s['rerender_cpu_s']:.2f}, 5 min "
        f"{lg['rerender_cpu_s']:.2f} ({lg['rerender_cpu_s'] / s['rerender_cpu_s']:.2f}x); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"rerender_s={s['rerender_s']:.2f} long_rerender_s={lg['rerender_s']:.2f}")


if __name__ == "__main__":
    main()
