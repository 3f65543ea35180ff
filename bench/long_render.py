"""Peak memory of a long render against a 1-minute one: segments through the clip plus export.

The clips are the shared talking faces concatenated and repeated to each length
(:mod:`long_media`: 360 p by default so that a 30-minute render finishes on a 2-core machine),
with a dub of the same length (shared English speech, concatenated). Each length runs in a fresh
Python process that does what a lecture translator's session ends with: the clip's face tracks
(from the disk cache when tracked before; ``--track`` times and measures the tracking too), one
3-s segment re-synced per minute of clip on the most-seen face (the same density at every
length), then the export: every segment rendered into a chunk and one pass splicing the chunks
onto the whole clip with the whole dub as its sound.

Peak memory is sampled every 50 ms over the process and its children (the ffmpeg encoders
and decoders), as the sum of their resident sets; the anonymous part (leaving out pages of
mapped files, which the kernel can drop and read again), the child's own peak (``wait4``), the
peak of each stage (the memory curve), the wall and CPU time of tracking and rendering are
printed too.

Usage::

    nice -n 10 python bench/long_render.py [--minutes 1,10,30] [--height 360] [--track]

The last line reads ``peak_mb=<per length> ratio=<longest / first> anon_ratio=<the same for
the anonymous memory>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

CHILD = r"""
import os, sys, threading, time
from pathlib import Path
sys.path.insert(0, "bench")
from long_render import tree_memory_mb
from lipcore.face.track import iter_track_faces
from lipcore.render.pipeline import iter_render
from lipcore.render.request import FaceChoice, RenderRequest, SegmentSpec
clip, dub, out, store = (Path(a) for a in sys.argv[1:5])
stage, curve, done = ["faces"], {}, threading.Event()
def sample():  # the memory curve: the peak of each stage, in the order the stages came
    while not done.wait(0.05):
        rss, anon = tree_memory_mb(os.getpid())
        got = curve.setdefault(stage[0], [0.0, 0.0])
        got[0], got[1] = max(got[0], rss), max(got[1], anon)
threading.Thread(target=sample, daemon=True).start()
def drain(gen):
    while True:
        try:
            p = next(gen)
        except StopIteration as stop:
            return stop.value
        stage[0] = p.stage
t0, c0 = time.perf_counter(), time.process_time()
tracks = drain(iter_track_faces(clip))
t1, c1 = time.perf_counter(), time.process_time()
face = tracks.tracks[0]  # the most-seen face
fps = float(tracks.fps)
minute, length = int(60 * fps), int(3 * fps)
# One 3-s segment per minute: the first run of the face that long from 10 s into the minute.
segments = []
for m in range(max(1, tracks.frame_count // minute)):
    for first, last in face.ranges():
        start = max(first, m * minute + int(10 * fps))
        if last + 1 - start >= length and start < (m + 1) * minute:
            segments.append(SegmentSpec(start, start + length))
            break
req = RenderRequest(clip, dub, out, segments=tuple(segments), face=FaceChoice(face.track_id))
result = drain(iter_render(req, tracks=tracks, chunks=store))
t2, c2 = time.perf_counter(), time.process_time()
done.set()
print("curve=" + ";".join(f"{k}:{v[0]:.0f}/{v[1]:.0f}" for k, v in curve.items()))
print(f"track_s={t1 - t0:.0f} track_cpu_s={c1 - c0:.0f} render_s={t2 - t1:.0f} "
      f"render_cpu_s={c2 - c1:.0f} segments={len(segments)} "
      f"rendered={result.rendered_segments} frames={result.frame_count}")
"""


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """Memory of ``pid`` and all its descendants, in MiB (Linux ``/proc``): ``(rss, anon)``.

    ``rss`` is every resident page (what the peaks are judged on), mapped files' pages
    included; ``anon`` leaves those out (private memory, which must stay resident, while pages
    of a mapped file the kernel can drop and read again).
    """
    rss = anon = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            kib = {k: int(fields.get(k, "0 kB").split()[0]) for k in ("RssAnon", "RssFile")}
            shmem = int(fields.get("RssShmem", "0 kB").split()[0])
            rss += (kib["RssAnon"] + kib["RssFile"] + shmem) / 1024
            anon += (kib["RssAnon"] + shmem) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return rss, anon


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MiB."""
    return tree_memory_mb(pid)[0]


def run_child(clip: Path, dub: Path, out: Path, store: Path) -> tuple[float, float, float, str]:
    """One session in a fresh process: (tree peak MB, its anonymous peak MB, the process's own
    peak MB, its output)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(clip), str(dub), str(out), str(store)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    peak = [0.0, 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            rss, anon = tree_memory_mb(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], anon)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    line = proc.stdout.read().strip() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"render of {clip} failed: {line}")
    return peak[0], peak[1], usage.ru_maxrss / 1024.0, line


def main() -> None:
    """Run the bench and print the figures."""
    from long_media import long_clip, long_dub

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--minutes",
        nargs="+",
        default=["1", "10", "30"],
        help="clip lengths, e.g. 1 10 30 or 1,10,30 (the first is the baseline)",
    )
    ap.add_argument("--height", type=int, default=360, help="frame height of the clips")
    ap.add_argument("--work", type=Path, default=Path("/tmp/lipsync-bench-long"))
    ap.add_argument(
        "--track", action="store_true", help="track faces in the run (else from the cache)"
    )
    args = ap.parse_args()
    args.minutes = [float(m) for arg in args.minutes for m in str(arg).split(",") if m]
    args.work.mkdir(parents=True, exist_ok=True)
    own_cache = "LIPSYNC_CACHE_DIR" not in os.environ
    os.environ.setdefault("LIPSYNC_CACHE_DIR", str(args.work / "cache"))
    print(f"clips: shared faces concatenated at {args.height} p, 25 fps; dubs: shared speech")
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    peaks, anons = [], []
    for minutes in args.minutes:
        seconds = minutes * 60
        clip, dub = long_clip(args.work, seconds, args.height), long_dub(args.work, seconds)
        if not args.track:
            from lipcore.face.track import track_faces

            track_faces(clip)  # cached: the measured run reads the tracks from disk
        if own_cache:  # every length builds its footage library (none kept from a run before)
            shutil.rmtree(args.work / "cache" / "v1" / "engines", ignore_errors=True)
        t0 = time.perf_counter()
        # A fresh chunk folder: every segment really renders (a chunk of an earlier run would
        # be reused and the run would only splice).
        store = Path(tempfile.mkdtemp(prefix=f"chunks_{seconds:g}s_", dir=args.work))
        out = args.work / f"export_{seconds:g}s.mp4"
        try:
            peak, anon, own, lines = run_child(clip, dub, out, store)
        finally:
            shutil.rmtree(store, ignore_errors=True)
        peaks.append(peak)
        anons.append(anon)
        curve, _, line = lines.rpartition("\n")
        print(
            f"{minutes:g} min: peak {peak:.0f} MB (with ffmpeg children; anonymous {anon:.0f} MB; "
            f"the process alone {own:.0f} MB), {time.perf_counter() - t0:.0f} s ({line}), "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        print(f"  stage peaks rss/anon MB: {curve.removeprefix('curve=')}", flush=True)
        for k, m in enumerate(args.minutes[: len(peaks)]):
            print(
                f"  {m:g} min / {args.minutes[0]:g} min: {peaks[k] / peaks[0]:.2f} "
                f"(anonymous {anons[k] / anons[0]:.2f})",
                flush=True,
            )
    figures = " ".join(f"{m:g}min:{p:.0f}" for m, p in zip(args.minutes, peaks, strict=True))
    longest = max(range(len(peaks)), key=lambda k: args.minutes[k])
    print(
        f"peak_mb={figures} ratio={peaks[longest] / peaks[0]:.2f} "
        f"anon_ratio={anons[longest] / anons[0]:.2f}"
    )


if __name__ == "__main__":
    main()
