"""Peak memory of a segment render plus export against the clip's length.

Each run is a fresh Python process (peak RSS from ``wait4``) doing what ``lipsync sync CLIP DUB
--segment 10-13`` does: face tracks (from the disk cache when the clip was tracked before),
the face's library, the segment's chunk, and one splice pass writing the whole clip
(``--phase export``); or only what the editor does per edit (``--phase segment``). The clips
are the shared A04 clip looped to each length (x264 veryfast, CRF 18, 25 fps). A plain ffmpeg
decode + encode of each clip is timed as the baseline, in the same run.

Usage::

    nice -n 10 python bench/long_memory.py [--minutes 1 5] [--phase export|segment]

The last line reads ``peak_mb=<per length> ratio=<longest / shortest>``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

CHILD = r"""
import random, sys, time
from pathlib import Path
from lipcore.engines.base import EngineOptions
from lipcore.face.track import track_faces
from lipcore.progress import drain
from lipcore.render.pipeline import iter_render
from lipcore.render.request import RenderRequest, SegmentSpec
from lipcore.render.splice import iter_render_segment
clip, dub, out, store = (Path(a) for a in sys.argv[1:5])
phase = sys.argv[5]
t0 = time.perf_counter()
tracks = track_faces(clip)
t1 = time.perf_counter()
# Options never used before: the segment really renders (an earlier chunk is not reused).
opts = EngineOptions(mouth_strength=round(random.Random(time.time_ns()).uniform(0.5, 0.95), 4))
seg = (SegmentSpec(250, 325, options=opts),)
req = RenderRequest(clip, dub, out, segments=seg, audio_offset_samples=8 * 16000)
if phase == "segment":
    result = drain(iter_render_segment(req, 0, tracks=tracks, folder=store), show=False)
else:
    result = drain(iter_render(req, tracks=tracks, chunks=store), show=False)
t2 = time.perf_counter()
print(f"track_s={t1 - t0:.1f} {phase}_s={t2 - t1:.1f} frames={result.frame_count}")
"""


def run_child(clip: Path, dub: Path, out: Path, store: Path, phase: str) -> tuple[float, str]:
    """Run one render in a fresh process; returns (peak RSS in MB, its output line)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(clip), str(dub), str(out), str(store), phase],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    line = proc.stdout.read().strip() if proc.stdout else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"render of {clip} failed ({proc.returncode})")
    return usage.ru_maxrss / 1024.0, line


def main() -> None:
    """Run the bench and print the figures."""
    from segment_rerender import DUB, ffmpeg_baseline, make_clip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1, 5])
    ap.add_argument("--work", type=Path, default=Path("/tmp/lipsync-bench"))
    ap.add_argument(
        "--phase",
        choices=("export", "segment"),
        default="export",
        help="export: segment chunk + one splice pass over the clip (lipsync sync --segment); "
        "segment: the editor's re-render of the segment only",
    )
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LIPSYNC_CACHE_DIR", str(args.work / "cache"))
    peaks = []
    for minutes in args.minutes:
        seconds = int(minutes * 60)
        clip = make_clip(args.work / f"a04_{seconds}s.mp4", seconds)
        t0 = time.perf_counter()
        out = args.work / f"mem_{seconds}s.mp4"
        peak, line = run_child(clip, DUB, out, args.work / "chunks", args.phase)
        wall = time.perf_counter() - t0
        peaks.append(peak)
        base = ""
        if args.phase == "export":
            took = ffmpeg_baseline(clip, args.work / f"ffmpeg_{seconds}s.mp4")
            base = f"; plain ffmpeg decode+encode {took:.1f} s"
        print(f"{minutes:g} min ({args.phase}): peak {peak:.0f} MB, {wall:.1f} s ({line}){base}")
    figures = " ".join(f"{m:g}min:{p:.0f}" for m, p in zip(args.minutes, peaks, strict=True))
    print(f"peak_mb={figures} ratio={peaks[-1] / peaks[0]:.2f}")


if __name__ == "__main__":
    main()
