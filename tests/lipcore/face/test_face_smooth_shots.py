"""Centred smoothing (no lag, reset at gaps and cuts) and shot-cut detection on real clips."""

from __future__ import annotations

import numpy as np

from lipcore.face.shots import ShotCutDetector, detect_shot_cuts
from lipcore.face.smooth import contiguous_runs, savgol_centred, smooth_track
from lipcore.media.decode import VideoReader


def test_runs_split_at_gaps_and_cuts():
    frames = np.array([0, 1, 2, 3, 5, 6, 7, 8, 9])
    runs = contiguous_runs(frames, [7])
    assert [(frames[r][0], frames[r][-1]) for r in runs] == [(0, 3), (5, 6), (7, 9)]


def test_centred_filter_has_no_lag_and_removes_jitter():
    rng = np.random.default_rng(0)
    t = np.arange(60, dtype=np.float64)
    ramp = 3.0 * t  # a head moving steadily
    noisy = ramp + rng.normal(0, 1.0, t.shape)
    out = savgol_centred(noisy[:, None], 7)[:, 0]
    # A forward-only moving average of 7 would trail by 3 frames (9 px); a centred fit does not.
    assert abs(np.mean(out[5:-5] - ramp[5:-5])) < 0.3
    assert np.std(out[5:-5] - ramp[5:-5]) < 0.8 * np.std(noisy - ramp)


def test_smoothing_never_crosses_a_cut():
    frames = np.arange(40)
    values = np.where(frames < 20, 0.0, 100.0)[:, None]  # a jump at a shot cut
    out = smooth_track(frames, values, 9, shot_cuts=[20])
    np.testing.assert_allclose(out, values, atol=1e-6)
    # Without the cut the same jump is blurred (the reset is what keeps it sharp).
    assert np.abs(smooth_track(frames, values, 9) - values).max() > 5


def test_cuts_found_in_h01_and_none_in_a_static_shot(clip):
    with VideoReader(clip("H01")) as reader:
        assert detect_shot_cuts(reader.iter_frames(0, 100)) == [20, 82]
    with VideoReader(clip("A02")) as reader:
        det = ShotCutDetector()
        flags = [det.update(i, f) for i, f in reader.iter_frames(0, 100)]
    assert not any(flags) and det.cuts == []
