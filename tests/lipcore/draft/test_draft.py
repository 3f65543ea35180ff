"""Draft renders: a small, range-only render for review that re-syncs the same lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from lipcore.draft import iter_draft
from lipcore.errors import LipsyncError
from lipcore.media.decode import VideoReader
from lipcore.progress import drain
from lipcore.render.request import RenderRequest, SegmentSpec

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"  # 590x590, 25 fps
SPEECH = "audio/B01_en_hdtf_RD_Radio31_16k.wav"


def _mouth(img: np.ndarray) -> np.ndarray:
    """The lower face of A05 at the draft's 294 px (grey levels)."""
    return img.astype(np.float32).mean(axis=2)[150:230, 97:197]


@pytest.mark.slow
def test_draft_renders_only_the_range_at_half_size(shared_media, tmp_path):
    request = RenderRequest(
        video=shared_media / CLIP,
        audio=shared_media / SPEECH,
        output=tmp_path / "draft.mp4",
        segments=(SegmentSpec(30, 60),),
    )
    result = drain(iter_draft(request, 25, 75, scale=0.5), show=False)
    assert result.frames_changed == 30
    with VideoReader(result.output) as out:
        assert (out.width, out.frame_count) == (294, 50)
        draft = [_mouth(out.read(i)) for i in (2, 20)]
    # the same frames of the plain clip at the draft's size: untouched before the segment,
    # re-synced (the mouth differs) inside it
    plain = tmp_path / "plain.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(shared_media / CLIP),
            "-vf",
            "trim=start_frame=25:end_frame=75,setpts=PTS-STARTPTS,scale=294:-2",
            "-c:v",
            "libx264",
            "-crf",
            "10",
            str(plain),
        ],
        check=True,
    )
    with VideoReader(plain) as ref:
        before = np.abs(draft[0] - _mouth(ref.read(2))).mean()
        inside = np.abs(draft[1] - _mouth(ref.read(20))).mean()
    assert before < 4.5 and inside > before + 2  # measured: 3.1 outside, 7.2 inside


def test_a_draft_needs_a_segment_in_its_range(shared_media, tmp_path):
    request = RenderRequest(
        video=shared_media / CLIP,
        audio=shared_media / SPEECH,
        output=tmp_path / "d.mp4",
        segments=(SegmentSpec(30, 60),),
    )
    with pytest.raises(LipsyncError, match="no segment"):
        drain(iter_draft(request, 70, 100), show=False)
    assert not Path(tmp_path / "d.mp4").exists()
