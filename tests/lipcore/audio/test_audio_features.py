"""Spectral features and loudness envelope: shapes, frame placement, referencing, silence."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lipcore.audio.features import (
    FEATURE_DIM,
    N_BANDS,
    band_levels_db,
    loudness_envelope,
    spectral_features,
)

SR = 16000


def _tone(freq_hz: float, sec: float, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(sec * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def test_shape_context_stacking_and_silence_past_the_end():
    rng = np.random.default_rng(1)
    audio = (rng.standard_normal(SR * 2) * 0.1).astype(np.float32)  # 2 s = 50 frames at 25 fps
    feats = spectral_features(audio, 25, 60)
    assert feats.shape == (60, FEATURE_DIM) == (60, 72) and feats.dtype == np.float32
    # columns: frame i-1 | frame i | frame i+1
    np.testing.assert_array_equal(feats[10, :N_BANDS], feats[9, N_BANDS : 2 * N_BANDS])
    np.testing.assert_array_equal(feats[10, 2 * N_BANDS :], feats[11, N_BANDS : 2 * N_BANDS])
    # frames whose two-frame window lies past the audio's end are at the -40 dB floor
    assert np.all(feats[52:, N_BANDS : 2 * N_BANDS] == -40.0)
    assert np.all(feats[:48, N_BANDS : 2 * N_BANDS] > -40.0)


def test_bands_are_referenced_per_band_so_level_drops_out():
    rng = np.random.default_rng(2)
    audio = (rng.standard_normal(SR * 3) * 0.05).astype(np.float32)
    quiet = band_levels_db(audio, 25, 75)
    loud = band_levels_db(audio * 20, 25, 75)  # +26 dB louder recording
    np.testing.assert_allclose(quiet, loud, atol=1e-3)
    # each band's 95th percentile is its 0 dB reference
    np.testing.assert_allclose(np.percentile(quiet, 95, axis=0), 0.0, atol=1e-3)


def test_a_tone_burst_lands_on_its_frame_and_band():
    fps = Fraction(30000, 1001)
    audio = np.zeros(SR * 3, np.float32)
    # a 1 kHz burst covering exactly video frame 40 (exact sample bounds at 29.97 fps)
    s0, s1 = int(40 * SR / fps), int(41 * SR / fps)
    audio[s0:s1] = _tone(1000.0, (s1 - s0) / SR)
    audio += np.random.default_rng(3).standard_normal(len(audio)).astype(np.float32) * 1e-4
    levels = band_levels_db(audio, fps, 90)
    per_frame = levels.max(axis=1)
    assert int(np.argmax(per_frame)) == 40
    import librosa

    centres = librosa.mel_frequencies(n_mels=N_BANDS + 2, fmin=80.0, fmax=5000.0)[1:-1]
    assert abs(centres[int(np.argmax(levels[40]))] - 1000.0) < 200.0


def test_loudness_envelope_follows_the_speech_band():
    audio = np.concatenate([_tone(1000.0, 1.0), _tone(6000.0, 1.0), np.zeros(SR, np.float32)])
    env = loudness_envelope(audio, 25, 90)
    assert env.shape == (90,) and env.dtype == np.float32
    in_band, out_band, silent = env[5:20].mean(), env[30:45].mean(), env[55:70].mean()
    assert in_band > out_band + 30.0  # 6 kHz is outside 300-3000 Hz
    assert silent < -100.0
    assert abs(in_band - 10 * np.log10(0.3**2 / 2)) < 1.0  # a 0.3 sine: -13.5 dB


@pytest.mark.parametrize("n_frames", [0, 1])
def test_tiny_inputs(n_frames):
    feats = spectral_features(np.zeros(100, np.float32), 25, n_frames)
    assert feats.shape == (n_frames, 72)
