"""Per-video-frame audio features for the built-in sync meter and for measurements.

:func:`spectral_features` is the representation that predicts mouth opening (see
``SYNC-FACTS.md``): how far the jaw opens follows the vowel (first formant) and lip closures far
more than loudness, so the meter regresses the lip gap on a coarse log-mel spectrum rather than on
energy. The recipe, fixed by :data:`FEATURE_SPEC` and stored beside fitted weights:

- For video frame ``i`` take a window of two video frames of audio centred on the frame's centre
  ``(i + 1/2) / fps`` (exact rational sample positions), Hann-weighted.
- Power spectrum -> 24 Slaney mel bands 80-5000 Hz -> dB.
- Each band is referenced to its own 95th percentile over the clip and floored 40 dB below it,
  so recording level, microphone colour and the speaker's voice drop out, and silence maps to a
  constant.
- The frames ``i-1, i, i+1`` are stacked: ``D = 3 * 24 = 72``. Missing neighbours at the clip
  edges repeat the edge frame.

:func:`loudness_envelope` (log energy 300-3000 Hz per frame) is kept for measurements and plots; it
is a poor predictor of mouth opening on its own.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from lipcore.timebase import as_fps, frame_to_sample

SAMPLE_RATE = 16000

#: The feature recipe; saved with meter weights so a model is never applied to other features.
FEATURE_SPEC = {
    "name": "logmel24-ref95-floor40-ctx1",
    "sample_rate": SAMPLE_RATE,
    "n_bands": 24,
    "fmin_hz": 80.0,
    "fmax_hz": 5000.0,
    "window_frames": 2,
    "ref_percentile": 95.0,
    "floor_db": 40.0,
    "context_frames": 1,
}
N_BANDS = int(FEATURE_SPEC["n_bands"])
CONTEXT_FRAMES = int(FEATURE_SPEC["context_frames"])
FEATURE_DIM = N_BANDS * (2 * CONTEXT_FRAMES + 1)
#: Frames whose spectra are held in memory at once.
_BLOCK_FRAMES = 1024


def _window_len(fps: Fraction) -> int:
    """Samples in a two-video-frame window (even, so it centres on a sample boundary)."""
    n = int(round(Fraction(FEATURE_SPEC["window_frames"] * SAMPLE_RATE) / fps))
    return n + (n % 2)


def _frame_segments(audio, fps: Fraction, first: int, stop: int, win: int) -> np.ndarray:
    """``(stop - first, win)`` windows centred on each frame's centre, read from the audio as
    if padded by ``win`` zeros on both sides (windows reaching outside it read silence).

    Only the samples under these frames are read (``audio`` may be a
    :class:`~lipcore.media.sample_file.SampleFile`), so a long clip is never copied whole.
    """
    # centre of frame i in samples = (2i + 1) * sr / (2 fps), exactly, then floored: in integers
    # (fps = num / den), vectorised, so a long clip holds no Python loop (nor the GIL) per frame
    fps = Fraction(fps)
    odd = 2 * np.arange(first, stop, dtype=np.int64) + 1
    centres = (odd * (SAMPLE_RATE * fps.denominator)) // (2 * fps.numerator)
    idx = (centres - win // 2 + win)[:, None] + np.arange(win)[None, :]
    # windows entirely past the padded buffer read its last sample, which is 0: silence
    idx = np.clip(idx, 0, len(audio) + 2 * win - 1)
    lo, hi = int(idx.min()), int(idx.max()) + 1
    local = np.zeros(hi - lo, np.float32)  # padded[lo:hi]; padded[j] = audio[j - win]
    a, b = max(lo - win, 0), min(hi - win, len(audio))
    if b > a:
        local[a + win - lo : b + win - lo] = audio[a:b]
    return local[idx - lo]


@lru_cache(maxsize=8)
def _band_basis(n_fft: int, n_bands: int, fmin: float, fmax: float) -> np.ndarray:
    from lipcore.audio.melbank import slaney_mel_basis

    # librosa.filters.mel's bank, bit-identical, without importing librosa (seconds per process)
    return slaney_mel_basis(SAMPLE_RATE, n_fft, n_bands, fmin, fmax).astype(np.float32)


def _mono(audio_16k):
    """Mono float32 samples: an array as one, a sample file (read in windows) as it is."""
    from lipcore.media.sample_file import SampleFile

    if isinstance(audio_16k, SampleFile):
        return audio_16k
    audio = np.asarray(audio_16k, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio of shape (S,), got {audio.shape}")
    return audio


def _reduced_spectra(audio_16k: np.ndarray, fps: Fraction, n_frames: int, reduce) -> np.ndarray:
    """Hann-windowed power spectrum of each frame's window, reduced by ``reduce(power, n_fft)``.

    Frames are processed in blocks so memory stays bounded on long clips (a 10-minute clip at
    30 fps would otherwise hold 18000 spectra at once).
    """
    audio = _mono(audio_16k)
    win = _window_len(fps)
    hann = np.hanning(win).astype(np.float32)
    n_fft = 1 << int(np.ceil(np.log2(win)))
    out = []
    for first in range(0, n_frames, _BLOCK_FRAMES):
        segs = _frame_segments(audio, fps, first, min(n_frames, first + _BLOCK_FRAMES), win)
        spec = np.fft.rfft(segs * hann, n=n_fft, axis=1)
        out.append(reduce((spec.real**2 + spec.imag**2).astype(np.float32), n_fft))
    return np.concatenate(out)


def band_levels_db(audio_16k: np.ndarray, fps, n_frames: int) -> np.ndarray:
    """Referenced log-mel band levels per frame, before context stacking.

    Args:
        audio_16k: ``(S,)`` 16 kHz mono samples on the video clock.
        fps: Video frame rate.
        n_frames: Number of video frames to describe (frames past the audio's end see silence).

    Returns:
        ``(n_frames, 24)`` float32 in [-40, 0+] dB relative to each band's 95th percentile.
    """
    fps = as_fps(fps)
    if n_frames <= 0:
        return np.zeros((0, N_BANDS), np.float32)
    fmin, fmax = float(FEATURE_SPEC["fmin_hz"]), float(FEATURE_SPEC["fmax_hz"])
    bands = _reduced_spectra(
        audio_16k, fps, n_frames, lambda p, n_fft: p @ _band_basis(n_fft, N_BANDS, fmin, fmax).T
    )
    db = 10.0 * np.log10(bands + 1e-12)
    ref = np.percentile(db, float(FEATURE_SPEC["ref_percentile"]), axis=0)
    floor = float(FEATURE_SPEC["floor_db"])
    # A band that is silent all clip long has ref at the numeric floor; flooring makes it constant.
    return np.maximum(db - ref[None, :], -floor).astype(np.float32)


def stack_context(levels: np.ndarray, context: int = CONTEXT_FRAMES) -> np.ndarray:
    """Stack ``levels[i-c .. i+c]`` per row (edge rows repeated) -> ``(N, D * (2c + 1))``."""
    n = len(levels)
    if n == 0:
        return np.zeros((0, levels.shape[1] * (2 * context + 1)), np.float32)
    padded = np.concatenate(
        [np.repeat(levels[:1], context, 0), levels, np.repeat(levels[-1:], context, 0)]
    )
    return np.concatenate([padded[k : k + n] for k in range(2 * context + 1)], axis=1)


def spectral_features(audio_16k: np.ndarray, fps, n_frames: int) -> np.ndarray:
    """Spectral features of each video frame for predicting mouth opening.

    Args:
        audio_16k: ``(S,)`` 16 kHz mono samples on the video clock (sample 0 plays with frame 0).
        fps: Video frame rate (``Fraction`` preferred; floats such as 29.97 snap to NTSC rates).
        n_frames: Number of video frames; frames past the audio's end see silence (-40 dB).

    Returns:
        ``(n_frames, 72)`` float32: 24 referenced log-mel bands of frames ``i-1, i, i+1``.
    """
    return stack_context(band_levels_db(audio_16k, fps, n_frames)).astype(np.float32)


def loudness_envelope(audio_16k: np.ndarray, fps, n_frames: int) -> np.ndarray:
    """Log energy of the 300-3000 Hz speech band per video frame.

    Uses the same two-frame centred window as :func:`spectral_features`.

    Args:
        audio_16k: ``(S,)`` 16 kHz mono samples on the video clock.
        fps: Video frame rate.
        n_frames: Number of video frames.

    Returns:
        ``(n_frames,)`` float32 mean power of the band in dB (a full-scale sine in the band reads
        -3 dB; digital silence -120 dB).
    """
    fps = as_fps(fps)
    if n_frames <= 0:
        return np.zeros(0, np.float32)
    window_energy = float(np.sum(np.hanning(_window_len(fps)) ** 2))

    def band_power(power: np.ndarray, n_fft: int) -> np.ndarray:
        freqs = np.fft.rfftfreq(n_fft, 1.0 / SAMPLE_RATE)
        band = (freqs >= 300.0) & (freqs <= 3000.0)
        # Parseval with the one-sided spectrum and the Hann window's energy: the band's mean
        # power, so a full-scale sine reads -3 dB whatever the fps (window length).
        return 2.0 * power[:, band].sum(axis=1) / (n_fft * window_energy)

    energy = _reduced_spectra(audio_16k, fps, n_frames, band_power)
    return (10.0 * np.log10(energy + 1e-12)).astype(np.float32)


def frame_rms(audio_16k: np.ndarray | None, frames: np.ndarray, fps) -> np.ndarray:
    """RMS of the audio under each frame (0 where there is no audio).

    Args:
        audio_16k: Mono float audio at 16 kHz, first sample = frame 0 (or None).
        frames: ``(N,)`` frame indices.
        fps: Frame rate.

    Returns:
        ``(N,)`` float32 RMS per frame.
    """
    from lipcore.media.sample_file import SampleFile

    out = np.zeros(len(frames), np.float32)
    if audio_16k is None or len(audio_16k) == 0:
        return out
    if not isinstance(audio_16k, SampleFile):
        audio = np.asarray(audio_16k, np.float32)
        for i, f in enumerate(frames):
            a = frame_to_sample(int(f), fps, SAMPLE_RATE)
            b = frame_to_sample(int(f) + 1, fps, SAMPLE_RATE)
            chunk = audio[a:b]
            if chunk.size:
                out[i] = float(np.sqrt(np.mean(chunk * chunk)))
        return out
    # A long clip's sound on disk: read once per block of frames, the same samples per frame.
    frames = np.asarray(frames, np.int64)
    for first in range(0, len(frames), _BLOCK_FRAMES):
        rows = frames[first : first + _BLOCK_FRAMES]
        starts = [frame_to_sample(int(f), fps, SAMPLE_RATE) for f in rows]
        ends = [frame_to_sample(int(f) + 1, fps, SAMPLE_RATE) for f in rows]
        lo, hi = min(starts), max(ends)
        whole = hi - lo <= 4 * (sum(ends) - sum(starts))  # frames close together: one read
        window = audio_16k.read(lo, hi) if whole else None
        for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
            chunk = window[max(0, a - lo) : max(0, b - lo)] if whole else audio_16k.read(a, b)
            if chunk.size:
                out[first + i] = float(np.sqrt(np.mean(chunk * chunk)))
    return out
