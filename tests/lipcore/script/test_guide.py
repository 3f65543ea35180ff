"""Guide-track alignment: an actor's faster take with a short pause warped onto the guide's
timing (a slower read with a long pause), judged by voice activity and loudness envelopes,
which the MFCC-based alignment does not use."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.audio.vad import speech_ranges
from lipcore.errors import LipsyncError
from lipcore.media.audio import load_audio
from lipcore.script.guide import align_to_guide, warp_take
from tests.lipcore.script.conftest import speak

SR = 16000


def _trimmed(path) -> np.ndarray:
    x = load_audio(path, SR)
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0] : loud[-1] + 1]


def _silence(n: int) -> np.ndarray:
    return np.zeros(n, np.float32)


@pytest.fixture(scope="module")
def guide_and_take(tmp_path_factory):
    d = tmp_path_factory.mktemp("guide")
    g1 = _trimmed(speak("Today we see", d / "g1.wav", 150))
    g2 = _trimmed(speak("how sound becomes speech.", d / "g2.wav", 150))
    # the "actor": another voice pitch, faster, with a short pause where the guide has a long one
    import subprocess

    for name, text in (("t1", "Today we see"), ("t2", "how sound becomes speech.")):
        subprocess.run(
            [
                "espeak-ng",
                "-v",
                "en-us",
                "-s",
                "175",
                "-p",
                "70",
                "-w",
                str(d / f"{name}.wav"),
                text,
            ],
            check=True,
        )
    t1, t2 = _trimmed(d / "t1.wav"), _trimmed(d / "t2.wav")
    guide = np.concatenate([_silence(2400), g1, _silence(5600), g2, _silence(1600)])
    take = np.concatenate([_silence(1600), t1, _silence(1600), t2, _silence(800)])
    return guide, take


def _envelope(x: np.ndarray) -> np.ndarray:
    n = len(x) // 160
    return np.log(np.sqrt((x[: n * 160].reshape(n, 160) ** 2).mean(axis=1)) + 1e-4)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def test_take_follows_the_guides_timing_within_the_cap(guide_and_take):
    guide, take = guide_and_take
    al = align_to_guide(take, guide, SR, max_warp=1.5)
    warped = warp_take(take, SR, al)
    assert len(warped) == len(guide)
    uniform = np.interp(np.linspace(0, len(take) - 1, len(guide)), np.arange(len(take)), take)
    warped_r = _corr(_envelope(warped), _envelope(guide))
    assert warped_r > 0.75 and warped_r > _corr(_envelope(uniform), _envelope(guide)) + 0.2
    g_runs = speech_ranges(guide, SR, pad_sec=0.0, min_gap_sec=0.2)
    w_runs = speech_ranges(warped, SR, pad_sec=0.0, min_gap_sec=0.2)
    assert len(g_runs) == len(w_runs) == 2  # the long pause is there
    for (ga, _), (wa, _) in zip(g_runs, w_runs, strict=True):
        assert abs(ga - wa) < 0.05 * SR  # each phrase starts within 50 ms of the guide's
    assert al.max_stretch <= 1.5 + 1e-3 and al.max_squeeze <= 1.5 + 1e-3
    assert al.mean_shift_ms > 100  # the warp is reported


def test_sync_points_are_honoured_and_impossible_caps_refused(guide_and_take):
    guide, take = guide_and_take
    g2_sec = speech_ranges(guide, SR, pad_sec=0.0, min_gap_sec=0.2)[1][0] / SR
    t2_sec = speech_ranges(take, SR, pad_sec=0.0, min_gap_sec=0.08)[1][0] / SR
    al = align_to_guide(take, guide, SR, sync_points_sec=[(g2_sec, t2_sec)])
    take_s, out_s = np.array(al.time_map, dtype=float).T
    assert abs(np.interp(t2_sec * SR, take_s, out_s) / SR - g2_sec) < 0.02
    with pytest.raises(LipsyncError, match="beyond the 1.1x cap"):
        align_to_guide(take, guide, SR, max_warp=1.1)
    with pytest.raises(LipsyncError, match="sync point"):
        align_to_guide(take, guide, SR, sync_points_sec=[(99.0, 1.0)])
