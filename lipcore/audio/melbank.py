"""librosa's Slaney mel filterbank and centred STFT magnitude, in plain NumPy.

A render needs two spectral front ends (Wav2Lip's mel in :mod:`lipcore.audio.mel`, the
meter's bands in :mod:`lipcore.audio.features`). Through librosa they cost about 2.5 CPU
seconds per process before the first frame (the imports of ``scipy.signal`` and librosa's
modules, and numba's compilation), more than a second of a 720p render's budget at 25 fps.
These are the same formulas written out with NumPy alone: the filterbank is bit-identical to
``librosa.filters.mel`` (librosa 0.11, ``htk=False, norm="slaney"``, float32), the STFT
magnitude equals ``abs(librosa.stft(..., center=True, window="hann"))`` to float64 rounding
(the same ``numpy.fft`` call on the same windowed frames); the tests compare both against
librosa itself.

The STFT is computed a block of frames at a time, so a long recording never holds its whole
complex spectrogram (30 minutes at hop 200 would be about 1 GB).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

#: STFT frames transformed at once (800-point frames: about 6 MB of complex spectrum).
BLOCK_FRAMES = 1024

_F_SP = 200.0 / 3  # Slaney: Hz per mel below 1 kHz
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mels of frequencies in Hz (linear below 1 kHz, logarithmic above).

    Args:
        hz: Frequencies in Hz (array).

    Returns:
        Mels, float64, the shape of ``hz``.
    """
    hz = np.atleast_1d(np.asarray(hz, np.float64))
    mels = hz / _F_SP
    high = hz >= _MIN_LOG_HZ
    mels[high] = _MIN_LOG_MEL + np.log(hz[high] / _MIN_LOG_HZ) / _LOGSTEP
    return mels


def mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Frequencies in Hz of Slaney mels (the inverse of :func:`hz_to_mel`).

    Args:
        mels: Mel values (array).

    Returns:
        Hz, float64, the shape of ``mels``.
    """
    mels = np.atleast_1d(np.asarray(mels, np.float64))
    hz = _F_SP * mels
    high = mels >= _MIN_LOG_MEL
    hz[high] = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels[high] - _MIN_LOG_MEL))
    return hz


@lru_cache(maxsize=8)
def slaney_mel_basis(
    sample_rate: int, n_fft: int, n_mels: int, fmin_hz: float, fmax_hz: float
) -> np.ndarray:
    """The ``(n_mels, 1 + n_fft // 2)`` float32 Slaney-normalised mel filterbank.

    The same triangles and normalisation as ``librosa.filters.mel(sr=sample_rate,
    n_fft=n_fft, n_mels=n_mels, fmin=fmin_hz, fmax=fmax_hz)`` (bit-identical). Cached; treat the
    result as read-only.

    Args:
        sample_rate: Audio sample rate in Hz.
        n_fft: FFT length.
        n_mels: Number of bands.
        fmin_hz: Lowest band edge in Hz.
        fmax_hz: Highest band edge in Hz.

    Returns:
        The filterbank, one band per row.
    """
    weights = np.zeros((int(n_mels), 1 + n_fft // 2), np.float32)
    fft_hz = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)
    low, high = hz_to_mel(np.float64(fmin_hz))[0], hz_to_mel(np.float64(fmax_hz))[0]
    mel_hz = mel_to_hz(np.linspace(low, high, n_mels + 2))
    fdiff = np.diff(mel_hz)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2 : n_mels + 2] - mel_hz[:n_mels]))[:, np.newaxis]
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=8)
def hann_window(length: int) -> np.ndarray:
    """The periodic Hann window ``scipy.signal.get_window("hann", length)`` gives (float64)."""
    fac = np.linspace(-np.pi, np.pi, length + 1)
    w = np.zeros(length + 1)
    w += 0.5 * np.cos(0 * fac)
    w += 0.5 * np.cos(1 * fac)
    w = w[:length]
    w.flags.writeable = False
    return w


def stft_reduced(
    audio: np.ndarray,
    n_fft: int,
    hop: int,
    reduce: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``reduce`` of the centred STFT magnitude, block by block: ``(rows, 1 + S // hop)``.

    The frames are librosa's ``stft(center=True, pad_mode="reflect", window="hann",
    win_length=n_fft)``: the signal reflect-padded by ``n_fft // 2`` on both sides, frame ``t``
    starting at padded sample ``hop * t``.

    Args:
        audio: ``(S,)`` samples (float; computed in float64 as librosa does for float64 input).
        n_fft: FFT and window length.
        hop: Samples between frames.
        reduce: Maps a ``(1 + n_fft // 2, frames)`` float64 magnitude block to ``(rows,
            frames)`` (a filterbank product, for one).

    Returns:
        The reduced spectrogram, float64 unless ``reduce`` says otherwise.
    """
    y = np.asarray(audio, np.float64)
    padded = np.pad(y, (n_fft // 2, n_fft // 2), mode="reflect")
    n_frames = 1 + (len(padded) - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    window = hann_window(n_fft)
    out = None
    for a in range(0, n_frames, BLOCK_FRAMES):
        b = min(a + BLOCK_FRAMES, n_frames)
        mag = np.abs(np.fft.rfft(window * frames[a:b], axis=-1)).T  # (bins, frames)
        part = reduce(mag)
        if out is None:
            out = np.empty((part.shape[0], n_frames), part.dtype)
        out[:, a:b] = part
    return out
