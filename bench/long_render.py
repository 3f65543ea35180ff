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
and decoders), as the sum of their resident sets; the child's own peak (``wait4``) is printed too.

Usage::

    nice -n 10 python bench/long_render.py [--minutes 1 10 30] [--height 360] [--track]

The last line reads ``peak_mb=<per length> ratio=<longest / shortest>``.
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
import sys, time
from pathlib import Path
from lipcore.face.track import track_faces
from lipcore.progress import drain
from lipcore.render.pipeline import iter_render
from lipcore.render.request import FaceChoice, RenderRequest, SegmentSpec
clip, dub, out, store = (Path(a) for a in sys.argv[1:5])
t0 = time.perf_counter()
tracks = track_faces(clip)
t1 = time.perf_counter()
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
result = drain(iter_render(req, tracks=tracks, chunks=store), show=False)
t2 = time.perf_counter()
print(f"track_s={t1 - t0:.0f} render_s={t2 - t1:.0f} segments={len(segments)} "
      f"rendered={result.rendered_segments} frames={result.frame_count}")
"""


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MiB (Linux ``/proc``)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total / 2**20


def run_child(clip: Path, dub: Path, out: Path, store: Path) -> tuple[float, float, str]:
    """One session in a fresh process: (tree peak MB, the process's own peak MB, its line)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(clip), str(dub), str(out), str(store)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    line = proc.stdout.read().strip() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"render of {clip} failed: {line}")
    return peak[0], usage.ru_maxrss / 1024.0, line


def main() -> None:
    """Run the bench and print the figures."""
    from long_media import long_clip, long_dub

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 30])
    ap.add_argument("--height", type=int, default=360, help="frame height of the clips")
    ap.add_argument("--work", type=Path, default=Path("/tmp/lipsync-bench-long"))
    ap.add_argument(
        "--track", action="store_true", help="track faces in the run (else from the cache)"
    )
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LIPSYNC_CACHE_DIR", str(args.work / "cache"))
    print(f"clips: shared faces concatenated at {args.height} p, 25 fps; dubs: shared speech")
    peaks = []
    for minutes in args.minutes:
        seconds = minutes * 60
        clip, dub = long_clip(args.work, seconds, args.height), long_dub(args.work, seconds)
        if not args.track:
            from lipcore.face.track import track_faces

            track_faces(clip)  # cached: the measured run reads the tracks from disk
        t0 = time.perf_counter()
        # A fresh chunk folder: every segment really renders (a chunk of an earlier run would
        # be reused and the run would only splice).
        store = Path(tempfile.mkdtemp(prefix=f"chunks_{seconds:g}s_", dir=args.work))
        out = args.work / f"export_{seconds:g}s.mp4"
        try:
            peak, own, line = run_child(clip, dub, out, store)
        finally:
            shutil.rmtree(store, ignore_errors=True)
        peaks.append(peak)
        print(
            f"{minutes:g} min: peak {peak:.0f} MB (with ffmpeg children; the process alone "
            f"{own:.0f} MB), {time.perf_counter() - t0:.0f} s ({line})",
            flush=True,
        )
    figures = " ".join(f"{m:g}min:{p:.0f}" for m, p in zip(args.minutes, peaks, strict=True))
    print(f"peak_mb={figures} ratio={peaks[-1] / peaks[0]:.2f}")


if __name__ == "__main__":
    main()
