"""The NumPy mel filterbank and STFT agree with librosa itself (the reference they replace)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from lipcore.audio import melbank
from lipcore.audio.melbank import slaney_mel_basis, stft_reduced


@pytest.mark.parametrize(
    "n_fft, n_mels, fmin, fmax",
    [(800, 80, 55.0, 7600.0), (640, 24, 80.0, 5000.0), (1024, 40, 0.0, 8000.0)],
)
def test_filterbank_is_librosas_bit_for_bit(n_fft, n_mels, fmin, fmax):
    import librosa

    ours = slaney_mel_basis(16000, n_fft, n_mels, fmin, fmax)
    ref = librosa.filters.mel(sr=16000, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.dtype == ref.dtype == np.float32
    np.testing.assert_array_equal(ours, ref)


@pytest.fixture(scope="module")
def speech_16k(shared_media) -> np.ndarray:
    wav, sr = sf.read(shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav", dtype="float32")
    assert sr == 16000
    return (wav.mean(axis=1) if wav.ndim == 2 else wav)[: 16000 * 3]


def test_stft_magnitude_equals_librosas_on_speech_and_short_signals(speech_16k, monkeypatch):
    import librosa

    # Small blocks, so the 3-s clip crosses several block edges.
    monkeypatch.setattr(melbank, "BLOCK_FRAMES", 37)
    for y in (speech_16k.astype(np.float64), np.linspace(-1, 1, 401), np.ones(1601)):
        ours = stft_reduced(y, 800, 200, lambda mag: mag)
        ref = np.abs(
            librosa.stft(y, n_fft=800, hop_length=200, win_length=800, pad_mode="reflect")
        )
        assert ours.shape == ref.shape == (401, 1 + len(y) // 200)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    # A reduction gives its own rows.
    bands = stft_reduced(speech_16k, 800, 200, lambda mag: mag[:5].astype(np.float32))
    assert bands.shape == (5, 1 + len(speech_16k) // 200) and bands.dtype == np.float32
