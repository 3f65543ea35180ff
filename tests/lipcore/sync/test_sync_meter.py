"""Built-in A/V correlation meter: lag search, sign convention, confidence, per-frame curve.

Real-clip checks use 5 s of A04 (an in-sync frontal talking head): its own audio, the same audio
shifted by a known number of frames in memory, and foreign speech. The shipped meter weights were
fitted on A04 among others; the leave-one-clip-out figures are checked from the weights file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lipcore.audio.features import FEATURE_SPEC, spectral_features
from lipcore.errors import LipsyncError, NoFaceError
from lipcore.media.audio import clip_audio, load_audio
from lipcore.sync.meter import (
    METHOD,
    MeterModel,
    default_model_path,
    lag_confidence,
    load_meter_model,
    measure_lip_gap,
    score_av,
    score_video,
    windowed_correlation,
)

SR = 16000


def _delay(audio: np.ndarray, frames: int, fps: int = 25) -> np.ndarray:
    """Audio played ``frames`` video frames later (positive) or earlier (negative), same length."""
    n = frames * SR // fps
    if n >= 0:
        return np.concatenate([np.zeros(n, np.float32), audio])[: len(audio)]
    return np.concatenate([audio[-n:], np.zeros(-n, np.float32)])


# -- unit level: synthetic mouth driven by the model itself ---------------------------------------


@pytest.fixture(scope="module")
def speech(shared_media) -> np.ndarray:
    return load_audio(shared_media / "audio" / "B02_en_hdtf_RD_Radio34_16k.wav")[: 6 * SR]


@pytest.mark.parametrize("shift", [-7, -1, 0, 3, 12])
def test_offset_sign_positive_means_audio_late(speech, shift):
    model = load_meter_model()
    n = 150
    gap = model.predict(spectral_features(speech, 25, n))
    gap = gap + np.random.default_rng(0).standard_normal(n) * 0.3 * gap.std()
    score = score_av(gap, _delay(speech, shift), 25)
    assert score.method == METHOD == "builtin-av-correlation"
    assert score.offset_frames == shift
    assert score.lag_curve.shape == (31,)
    assert score.confidence > 0.3


def test_no_face_frames_are_nan_and_no_face_at_all_raises(speech):
    model = load_meter_model()
    gap = model.predict(spectral_features(speech, 25, 150))
    gap[40:60] = np.nan
    score = score_av(gap, speech, 25, frames=np.arange(100, 250))
    assert np.isnan(score.per_frame[40:60]).all()
    assert np.isfinite(score.per_frame[:40]).all()
    assert score.frames[0] == 100 and len(score.frames) == 150
    with pytest.raises(NoFaceError):
        score_av(np.full(150, np.nan), speech, 25)


def test_features_input_gives_the_same_score_as_audio(speech):
    from lipcore.audio.vad import voiced_frames

    model = load_meter_model()
    feats = spectral_features(speech, 25, 150)
    gap = model.predict(feats) + np.random.default_rng(1).standard_normal(150)
    a = score_av(gap, speech, 25)
    b = score_av(gap, feats, 25, voiced=voiced_frames(speech, 25, 150))
    assert a.offset_frames == b.offset_frames
    np.testing.assert_allclose(a.per_frame, b.per_frame, atol=1e-5)


def test_lag_confidence_rewards_one_sharp_peak():
    lags = np.arange(-15, 16)
    sharp = 0.5 * np.exp(-0.5 * (lags / 1.5) ** 2)
    ragged = 0.2 * np.cos(lags * 1.3)
    assert lag_confidence(sharp) == pytest.approx(0.5 - 0.5 * np.exp(-0.5 * (4 / 1.5) ** 2))
    assert lag_confidence(ragged) < 0.1
    assert lag_confidence(np.full(31, np.nan)) == 0.0


def test_windowed_correlation_matches_brute_force():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(80), rng.standard_normal(80)
    y = 0.6 * x + y
    keep = rng.random(80) > 0.2
    got = windowed_correlation(x, y, keep, 10, 5)
    for t in (0, 17, 40, 79):
        lo, hi = max(0, t - 10), min(80, t + 11)
        k = keep[lo:hi]
        ref = np.corrcoef(x[lo:hi][k], y[lo:hi][k])[0, 1]
        assert got[t] == pytest.approx(ref, abs=1e-9)


def test_shipped_weights_carry_their_validation(tmp_path):
    data = json.loads(default_model_path().read_text())
    assert data["feature_spec"] == FEATURE_SPEC
    assert len(data["weights"]) == 72
    assert len(data["training_clips"]) == 10
    fig = data["validation_figures"]
    assert data["validation"] == "leave-one-clip-out"
    # SYNC-FACTS: own ~0.36, foreign ~0, own beats foreign ~97% when judged on unseen clips
    assert fig["mean_r_own"] > 0.3 and abs(fig["mean_r_foreign"]) < 0.1
    assert fig["own_beats_foreign"] > 0.9
    # a model for another feature recipe is refused with a fix
    bad = dict(data, feature_spec=dict(FEATURE_SPEC, n_bands=40))
    path = tmp_path / "meter.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(LipsyncError, match="fit_meter"):
        load_meter_model(path)
    round_trip = MeterModel.from_dict(data)
    assert round_trip.to_dict()["weights"] == data["weights"]


# -- real clip ------------------------------------------------------------------------------------

N_FRAMES = 125  # A04 is 5 s at 25 fps


@pytest.fixture(scope="module")
def a04(shared_media):
    clip = next((shared_media / "video").glob("A04_*.mp4"))
    series = measure_lip_gap(clip, frames=(0, N_FRAMES))
    return clip, series, clip_audio(clip)


def test_real_clip_in_sync_with_own_audio(a04):
    _, series, audio = a04
    assert np.isfinite(series.gap).mean() > 0.95
    score = score_av(series.gap, audio, series.fps)
    assert abs(score.offset_frames) <= 2
    assert score.confidence > 0.2
    assert np.nanmedian(score.per_frame) > 0.2


@pytest.mark.parametrize("shift", [-6, 5])
def test_real_clip_reports_a_known_audio_shift(a04, shift):
    _, series, audio = a04
    base = score_av(series.gap, audio, series.fps).offset_frames
    score = score_av(series.gap, _delay(audio, shift), series.fps)
    assert abs(score.offset_frames - (base + shift)) <= 1
    assert abs(score.offset_frames - shift) <= 2


def test_real_clip_with_foreign_speech_scores_low(a04, shared_media):
    _, series, audio = a04
    own = score_av(series.gap, audio, series.fps)
    for name in ("B01_en_hdtf_RD_Radio31_16k.wav", "B22_en_16k_19s_latentsync_demo3.wav"):
        foreign = score_av(series.gap, load_audio(shared_media / "audio" / name), series.fps)
        assert foreign.confidence < own.confidence - 0.15, name
        assert foreign.confidence < 0.2, name


def test_moving_mouth_in_silence_is_marked_bad_not_good(a04):
    _, series, audio = a04
    cut = audio.copy()
    cut[3 * SR :] = 0.0  # the dub ends at 3 s, the speaker keeps talking
    score = score_av(series.gap, cut, series.fps)
    silent = score.per_frame[78:]
    # where the speaker talks through the silence the frames are marked bad; where he pauses
    # (his mouth rests around frames 99-108) there is no evidence either way (0); nothing is good
    assert (silent < -0.2).mean() > 0.6
    assert np.all(silent <= 0.0)
    assert np.all(score.per_frame[20:70] > 0.1)
    assert abs(score.offset_frames) <= 2  # the voiced part still decides the offset


def test_score_video_on_the_clip_with_own_and_file_audio(a04, shared_media, tmp_path):
    clip, _, audio = a04
    score = score_video(clip, frames=(0, N_FRAMES))
    assert score.method == METHOD and abs(score.offset_frames) <= 2
    assert len(score.per_frame) == N_FRAMES
    foreign = score_video(
        clip, audio=shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav",
        frames=(0, N_FRAMES),
    )  # fmt: skip
    assert foreign.confidence < score.confidence
