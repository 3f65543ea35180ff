"""Wav2Lip mel front-end: bit-exact against a literal copy of Wav2Lip's formula, exact windows."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import soundfile as sf

from lipcore.audio.mel import SILENCE_VALUE, mel_windows, wav2lip_mel


def _wav2lip_reference_mel(wav: np.ndarray) -> np.ndarray:
    """Wav2Lip ``audio.melspectrogram`` with its hparams, written out literally (librosa calls)."""
    import librosa
    from scipy import signal

    wav = signal.lfilter([1, -0.97], [1], wav)
    d = librosa.stft(y=wav, n_fft=800, hop_length=200, win_length=800, pad_mode="reflect")
    basis = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    s = np.dot(basis, np.abs(d))
    min_level = np.exp(-100 / 20 * np.log(10))
    s = 20 * np.log10(np.maximum(min_level, s)) - 20
    min_level_db = -100
    return np.clip((2 * 4) * ((s - min_level_db) / (-min_level_db)) - 4, -4, 4)


def _wav2lip_reference_chunks(mel: np.ndarray, fps: float) -> list[np.ndarray]:
    """Wav2Lip ``inference.py``'s mel chunk loop, verbatim apart from names."""
    chunks = []
    mel_idx_multiplier = 80.0 / fps
    i = 0
    while True:
        start_idx = int(i * mel_idx_multiplier)
        if start_idx + 16 > len(mel[0]):
            chunks.append(mel[:, len(mel[0]) - 16 :])
            break
        chunks.append(mel[:, start_idx : start_idx + 16])
        i += 1
    return chunks


@pytest.fixture(scope="module")
def speech_16k(shared_media) -> np.ndarray:
    wav, sr = sf.read(shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav", dtype="float32")
    assert sr == 16000
    if wav.ndim == 2:
        wav = wav.mean(axis=1)
    return wav[: 16000 * 4].astype(np.float32)  # 4 s of real speech


def test_mel_matches_wav2lip_formula_on_real_speech(speech_16k):
    ours = wav2lip_mel(speech_16k)
    ref = _wav2lip_reference_mel(speech_16k)
    assert ours.dtype == np.float32
    assert ours.shape == (80, 1 + len(speech_16k) // 200) == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-5, rtol=0)
    # Real speech uses the range, and silence-level clipping happens at -4 only.
    assert ours.max() > 0 and ours.min() >= -4.0


def test_mel_of_silence_is_floor_and_int16_is_scaled():
    assert np.all(wav2lip_mel(np.zeros(3200, np.float32)) == SILENCE_VALUE)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(8000) * 3000).astype(np.int16)
    np.testing.assert_allclose(
        wav2lip_mel(x), wav2lip_mel(x.astype(np.float32) / 32768), atol=1e-6
    )


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(30000, 1001)])
def test_windows_match_wav2lip_inference_loop(speech_16k, fps):
    mel = wav2lip_mel(speech_16k)
    ref = _wav2lip_reference_chunks(mel, float(fps))
    ours = mel_windows(mel, len(ref), fps, pad="edge")
    assert ours.shape == (len(ref), 80, 16)
    for i, chunk in enumerate(ref):
        np.testing.assert_array_equal(ours[i], chunk, err_msg=f"frame {i} at {fps} fps")


def test_window_start_is_exact_where_float_math_is_off_by_one():
    # At 24000/1001 fps frame 300 starts exactly at mel step 80*300*1001/24000 = 1001; the float
    # product Wav2Lip computes lands just below and truncates to 1000.
    fps = Fraction(24000, 1001)
    assert int(300 * (80.0 / float(fps))) == 1000
    mel = np.tile(np.arange(1200, dtype=np.float32), (80, 1))  # each step holds its own index
    win = mel_windows(mel, [299, 300, 301], fps)
    assert [int(w[0, 0]) for w in win] == [997, 1001, 1004]
    np.testing.assert_array_equal(win[1][0], np.arange(1001, 1017))


def test_windows_past_the_end_are_silence_or_edge():
    mel = np.tile(np.arange(40, dtype=np.float32), (80, 1))
    sil = mel_windows(mel, [10, 13, 20], Fraction(25))  # starts 32, 41 (after end), 64
    np.testing.assert_array_equal(sil[0, 0, :8], np.arange(32, 40))
    assert np.all(sil[0, :, 8:] == SILENCE_VALUE)
    assert np.all(sil[1] == SILENCE_VALUE) and np.all(sil[2] == SILENCE_VALUE)
    edge = mel_windows(mel, [10, 20], Fraction(25), pad="edge")
    np.testing.assert_array_equal(edge[0, 0], np.arange(24, 40))
    np.testing.assert_array_equal(edge[1, 0], np.arange(24, 40))
