"""A blend-strength curve on a real clip: 0 % keeps the actor's mouth, 100 % re-syncs, ramps blend.

The render runs through the draft path (the full pipeline on a small, range-only excerpt), which
moves the curve's clip-frame keys onto the range's clock.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from lipcore.draft import iter_draft
from lipcore.media.decode import VideoReader
from lipcore.progress import drain
from lipcore.render.request import RenderRequest, SegmentSpec

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"  # 590x590, 25 fps
SPEECH = "audio/B01_en_hdtf_RD_Radio31_16k.wav"
FIRST, END = 25, 85  # the draft range (clip frames)
#: Segment 30-80; full strength to 36, ramp down to 0 at 42, 0 until 60, back to 100 % at 66.
KEYS = ((36, 1.0), (42, 0.0), (60, 0.0), (66, 1.0))


def _mouth(img: np.ndarray) -> np.ndarray:
    """The lower face of A05 at the draft's 294 px (grey levels)."""
    return img.astype(np.float32).mean(axis=2)[150:230, 97:197]


@pytest.mark.slow
def test_strength_zero_keeps_the_source_full_resyncs_ramps_between(shared_media, tmp_path):
    request = RenderRequest(
        video=shared_media / CLIP,
        audio=shared_media / SPEECH,
        output=tmp_path / "curve.mp4",
        segments=(SegmentSpec(30, 80, strength_keys=KEYS),),
    )
    result = drain(iter_draft(request, FIRST, END, scale=0.5), show=False)
    # frames at strength 0 are not pasted at all: 50 segment frames less the 0 % run 42-60
    assert result.frames_changed == 50 - (60 - 42 + 1)
    plain = tmp_path / "plain.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(shared_media / CLIP), "-vf",
         f"trim=start_frame={FIRST}:end_frame={END},setpts=PTS-STARTPTS,scale=294:-2",
         "-c:v", "libx264", "-crf", "10", str(plain)],
        check=True,
    )  # fmt: skip

    def diff(frames):
        with VideoReader(result.output) as out, VideoReader(plain) as ref:
            return float(
                np.mean([np.abs(_mouth(out.read(f - FIRST)) - _mouth(ref.read(f - FIRST))).mean()
                         for f in frames])
            )  # fmt: skip

    noise = diff(range(26, 29))  # before the segment: untouched, only the encodes differ
    zero = diff(range(44, 58))  # strength 0
    full = diff(range(31, 36))  # strength 100 %
    ramp = diff((38, 39, 40))  # ramp 1 -> 0 (67 %, 50 %, 33 %)
    print(f"mouth diff: noise {noise:.2f} zero {zero:.2f} ramp {ramp:.2f} full {full:.2f}")
    assert zero < noise * 1.25 + 0.3  # the actor's own mouth, within the encodes' noise
    assert full > zero + 2.0  # re-synced
    assert zero + 0.5 < ramp < full  # the ramp blends between the two
