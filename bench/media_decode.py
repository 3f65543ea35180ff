"""Decoder figures on real clips: sequential speed, seek latency, and memory over a long pass.

For each clip: decode every frame with :class:`lipcore.media.VideoReader` while sampling resident
memory (RSS) every 50 frames, then time random seeks (``read(i)`` at spread-out indices) and count
how many pictures each seek decoded (a seek decodes from the keyframe before, never from the
start). Prints one table; RSS growth after the first 50 frames should stay within a few MB.

With ``--verify``, every seek's picture is also compared (MD5) with the same frame from the
sequential pass, and the count of mismatches is printed (it must be 0).

Usage: .venv/bin/python bench/media_decode.py [CLIP ...]  (default: shared A10, H01, A01)
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media" / "video"
DEFAULT_CLIPS = [
    "A10_vertical_1080x1920_hevc_30fps_man_seated_latentsync_demo3.mp4",
    "H01_multiface_profile_lowlight_cuts_640x360_hamilton_facerecognition.mp4",
    "A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4",
]


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux)."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_clip(path: Path, verify: bool = False) -> dict[str, float | int | str]:
    """Measure one clip; returns the table row."""
    import hashlib

    from lipcore.media import VideoReader

    with VideoReader(path) as reader:
        samples: list[float] = []
        targets = [int(reader.frame_count * k / 11) for k in (7, 2, 9, 4, 10, 1, 5)]
        digests: dict[int, str] = {}
        t0 = time.perf_counter()
        n = 0
        for index, frame in reader.iter_frames():
            n += 1
            if verify and index in targets:
                digests[index] = hashlib.md5(frame.tobytes()).hexdigest()
            if index % 50 == 0:
                gc.collect()
                samples.append(rss_mb())
        seq_sec = time.perf_counter() - t0
        gc.collect()
        samples.append(rss_mb())
        seek_ms = []
        decoded = []
        mismatches = 0
        for target in targets:
            before = reader.decoded_pictures
            t1 = time.perf_counter()
            frame = reader.read(target)
            seek_ms.append((time.perf_counter() - t1) * 1000)
            decoded.append(reader.decoded_pictures - before)
            if verify and hashlib.md5(frame.tobytes()).hexdigest() != digests[target]:
                mismatches += 1
        name = path.name.split("_")[0]
        size = f"{reader.width}x{reader.height}"
        return {
            "clip": name,
            "size": size,
            "codec": reader.video.codec,
            "frames": n,
            "decode_fps": n / seq_sec,
            "rss_after50_mb": samples[1] if len(samples) > 1 else samples[0],
            "rss_growth_mb": samples[-1] - (samples[1] if len(samples) > 1 else samples[0]),
            "seek_ms_mean": sum(seek_ms) / len(seek_ms),
            "seek_pictures_max": max(decoded),
            "seek_mismatches": mismatches if verify else "-",
        }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="video files (default: shared A10, H01, A01)")
    parser.add_argument("--verify", action="store_true", help="check seeks against decoding")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    clips = [Path(c) for c in args.clips] or [MEDIA / name for name in DEFAULT_CLIPS]
    header = (
        f"{'clip':6} {'size':>10} {'codec':>6} {'frames':>6} {'dec fps':>8} "
        f"{'RSS@50':>8} {'RSS +':>7} {'seek ms':>8} {'seek pics':>9} {'wrong':>5}"
    )
    print(header)
    for clip in clips:
        row = bench_clip(clip, verify=args.verify)
        print(
            f"{row['clip']:6} {row['size']:>10} {row['codec']:>6} {row['frames']:>6} "
            f"{row['decode_fps']:>8.1f} {row['rss_after50_mb']:>7.1f}M "
            f"{row['rss_growth_mb']:>+6.1f}M {row['seek_ms_mean']:>8.1f} "
            f"{row['seek_pictures_max']:>9} {row['seek_mismatches']:>5}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
