"""Decoding is streaming: resident memory stays flat across hundreds of frames."""

from __future__ import annotations

import gc
import os

from media_clips import make_coded_clip

from lipcore.media import VideoReader


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_rss_flat_over_500_frames(tmp_path):
    # 640x360 BGR is 0.69 MB a frame: keeping 500 of them would add ~345 MB.
    clip = make_coded_clip(tmp_path / "long.mp4", 560, "25", size=(640, 360), gop=50)
    with VideoReader(clip) as reader:
        frames = reader.iter_frames()
        checksum = 0
        for index, frame in frames:
            checksum += int(frame[0, 0, 0])
            if index == 50:
                gc.collect()
                rss_start = _rss_mb()
        gc.collect()
        rss_end = _rss_mb()
        # Random access over the same clip must not accumulate either.
        for random_index in range(0, 560, 7):
            reader.read(random_index)
        gc.collect()
        rss_random = _rss_mb()
    assert index == 559
    growth = rss_end - rss_start
    print(
        f"RSS after frame 50: {rss_start:.1f} MB, after 560: {rss_end:.1f} MB, "
        f"after random reads: {rss_random:.1f} MB"
    )
    assert growth < 25, f"RSS grew {growth:.1f} MB over 509 frames"
    assert rss_random - rss_start < 25
