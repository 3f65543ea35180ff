"""Scoring a clip against a dub placed on the timeline (the editor's sync lane, from a script).

The built-in meter on real A04 frames: the dub's placement moves the best lag frame for frame.
A sync expert checkpoint (a small seeded network saved in the public layout) replaces the meter
when given, over the same frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.progress import drain
from lipcore.sync.dub_score import iter_score_dub

CLIP = "video/A04_frontal_man_mapbg_844p25_retalking2.mp4"
FPS = 25
RATE = 16000


@pytest.fixture(scope="module")
def clip_and_audio(shared_media, tmp_path_factory):
    """6 s of A04 and its own speech as a separate file (the dub, in sync when placed at 0)."""
    import subprocess

    src = shared_media / CLIP
    if not src.exists():
        pytest.skip(f"{src} missing")
    folder = tmp_path_factory.mktemp("dub_score")
    clip, wav = folder / "a04.mp4", folder / "a04.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), "-t", "6", "-an", "-c:v", "libx264",
         "-crf", "12", str(clip)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), "-t", "6", "-vn", "-ac", "1", "-ar",
         str(RATE), str(wav)],
        check=True,
    )  # fmt: skip
    return clip, wav


def test_the_dubs_placement_moves_the_meters_lag_frame_for_frame(clip_and_audio):
    clip, wav = clip_and_audio
    at_zero = drain(iter_score_dub(clip, wav, 0))
    late = drain(iter_score_dub(clip, wav, 5 * RATE // FPS))  # the dub starts 5 frames late
    assert at_zero.method == late.method == "builtin-av-correlation"
    assert abs(at_zero.offset_frames) <= 2, "A04 with its own speech is in sync"
    assert abs((late.offset_frames - at_zero.offset_frames) - 5) <= 1
    assert np.isfinite(at_zero.per_frame).sum() > 100


def test_a_frame_range_is_scored_in_clip_frame_numbers(clip_and_audio):
    clip, wav = clip_and_audio
    score = drain(iter_score_dub(clip, wav, 0, frames=(40, 110), max_lag=6))
    assert score.frames[0] >= 40 and score.frames[-1] < 110
    assert len(score.lag_curve) == 2 * 6 + 1


def test_an_expert_checkpoint_replaces_the_meter(clip_and_audio, tmp_path):
    import torch

    from lipcore.models.checkpoints import save_public_checkpoint
    from lipcore.models.syncnet import SyncNet, SyncNetConfig

    clip, wav = clip_and_audio
    torch.manual_seed(0)
    expert = save_public_checkpoint(
        SyncNet(SyncNetConfig(base_channels=4)).eval(), tmp_path / "lipsync_expert.pth"
    )
    score = drain(iter_score_dub(clip, wav, 0, frames=(20, 60), max_lag=3, expert=expert))
    assert score.method == "syncnet-wav2lip"
    assert score.frames[0] >= 20 and score.frames[-1] < 60
    assert len(score.lag_curve) == 2 * 3 + 1 and score.lse_d is not None


def test_a_file_that_is_not_an_expert_is_refused_by_name(clip_and_audio, tmp_path):
    from lipcore.errors import LipsyncError

    clip, wav = clip_and_audio
    bad = tmp_path / "notes.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(LipsyncError, match="notes.pth"):
        drain(iter_score_dub(clip, wav, 0, frames=(20, 60), expert=bad))
