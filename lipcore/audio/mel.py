"""Wav2Lip's mel-spectrogram front-end, reproduced exactly, and the per-frame 16-step mel windows.

The formula is Wav2Lip's ``audio.melspectrogram`` with its ``hparams``: pre-emphasis 0.97, STFT
with n_fft 800 / hop 200 / win 800 (Hann, centred, *reflect* padding as in the librosa release
Wav2Lip was trained with; librosa >= 0.10 defaults to constant padding, so it is passed
explicitly), magnitude, 80 Slaney mel bands 55-7600 Hz, ``20 log10(max(1e-5, x)) - 20`` dB and the
symmetric normalisation to [-4, 4]. Networks trained on Wav2Lip's features only work when this is
the same to float precision, which the tests check against a literal re-implementation.

The mel runs at 80 steps per second (16000 / 200). The window for video frame ``i`` starts at mel
step ``floor(80 * i / fps)``, computed with exact rationals
(:func:`lipcore.timebase.frame_to_mel_index`) instead of Wav2Lip's ``int(i * 80. / fps)``, which
is one step short for some frames (frame 300 at 24000/1001 fps, for one) and drifts when the rate
is given rounded (29.97 instead of 30000/1001).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from lipcore.audio.melbank import slaney_mel_basis, stft_reduced
from lipcore.timebase import MEL_WINDOW_STEPS, as_fps, frame_to_mel_index

SAMPLE_RATE = 16000
N_FFT = 800
HOP_LENGTH = 200
WIN_LENGTH = 800
N_MELS = 80
FMIN_HZ = 55.0
FMAX_HZ = 7600.0
PREEMPHASIS = 0.97
REF_LEVEL_DB = 20.0
MIN_LEVEL_DB = -100.0
MAX_ABS_VALUE = 4.0

#: Normalised value of digital silence: ``amp_to_db`` floors at -100 dB, minus the 20 dB
#: reference gives -120 dB, which the normaliser clips to -4.
SILENCE_VALUE = -MAX_ABS_VALUE


def _mel_basis() -> np.ndarray:
    """The (80, 401) Slaney mel filterbank Wav2Lip builds once (librosa's, without librosa)."""
    return slaney_mel_basis(SAMPLE_RATE, N_FFT, N_MELS, FMIN_HZ, FMAX_HZ)


def wav2lip_mel(audio_16k: np.ndarray) -> np.ndarray:
    """Wav2Lip's normalised log-mel spectrogram of 16 kHz mono audio.

    Args:
        audio_16k: ``(S,)`` float samples at 16 kHz (any float dtype; int16 is scaled to [-1, 1]).

    Returns:
        ``(80, T)`` float32 in [-4, 4] with ``T = 1 + S // 200`` steps (80 per second); step ``t``
        is centred on sample ``200 * t``.
    """
    wav = np.asarray(audio_16k)
    if wav.ndim != 1:
        raise ValueError(f"wav2lip_mel expects mono audio of shape (S,), got {wav.shape}")
    if wav.dtype == np.int16:
        wav = wav.astype(np.float32) / 32768.0
    if wav.size == 0:
        return np.full((N_MELS, 1), SILENCE_VALUE, np.float32)
    # float32 in, float64 out, as Wav2Lip's librosa.load + scipy lfilter: y[n] = x[n] - 0.97 x[n-1]
    x = wav.astype(np.float32).astype(np.float64)
    emphasised = x.copy()
    emphasised[1:] += -PREEMPHASIS * x[:-1]
    basis = _mel_basis()
    mel = stft_reduced(emphasised, N_FFT, HOP_LENGTH, lambda mag: np.dot(basis, mag))
    min_level = np.exp(MIN_LEVEL_DB / 20.0 * np.log(10.0))
    db = 20.0 * np.log10(np.maximum(min_level, mel)) - REF_LEVEL_DB
    normalised = np.clip(
        (2 * MAX_ABS_VALUE) * ((db - MIN_LEVEL_DB) / (-MIN_LEVEL_DB)) - MAX_ABS_VALUE,
        -MAX_ABS_VALUE,
        MAX_ABS_VALUE,
    )
    return normalised.astype(np.float32)


def mel_windows(
    mel: np.ndarray,
    frames: int | Sequence[int] | np.ndarray,
    fps: Fraction | float | str,
    pad: str = "silence",
    steps: int = MEL_WINDOW_STEPS,
) -> np.ndarray:
    """The 16-step mel window of each video frame, as Wav2Lip feeds its generator and SyncNet.

    The window of frame ``i`` is ``mel[:, s : s + 16]`` with ``s = floor(80 * i / fps)`` computed
    exactly (0.2 s of audio starting at the frame's start time).

    Args:
        mel: ``(80, T)`` output of :func:`wav2lip_mel`.
        frames: A frame count ``N`` (frames ``0..N-1``) or explicit frame indices.
        fps: Video frame rate (exact rational preferred, e.g. ``Fraction(30000, 1001)``).
        pad: What a window reaching past the end of the audio contains there.
            ``"silence"`` (default) fills the missing steps with the normalised value of digital
            silence (-4): when a dub ends before the picture the mouth should rest, so the frames
            after the end see silence, not a repeat of the last syllable. ``"edge"`` reproduces
            Wav2Lip's inference loop, which slides such windows back to the last 16 mel steps.
        steps: Window length in mel steps (16 for Wav2Lip).

    Returns:
        ``(N, 80, steps)`` float32 windows.
    """
    if pad not in ("silence", "edge"):
        raise ValueError(f"pad must be 'silence' or 'edge', got {pad!r}")
    fps = as_fps(fps)
    indices = np.arange(frames) if np.isscalar(frames) else np.asarray(frames, dtype=np.int64)
    n_mels, n_steps = mel.shape
    out = np.full((len(indices), n_mels, steps), SILENCE_VALUE, np.float32)
    for row, frame in enumerate(indices):
        start = frame_to_mel_index(int(frame), fps)
        if pad == "edge" and start + steps > n_steps:
            start = max(0, n_steps - steps)
        stop = min(start + steps, n_steps)
        if stop > start:
            out[row, :, : stop - start] = mel[:, start:stop]
    return out
