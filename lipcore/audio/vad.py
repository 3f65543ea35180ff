"""Voice activity: which video frames have speech under them, and speech ranges in samples.

Decisions come from WebRTC's VAD (``webrtcvad-wheels``, a small C library: GMM on sub-band
energies) on 20 ms chunks, gated by level so that hiss and room tone far below the clip's speech
never count as voice even when the VAD is fooled by them. Short pauses between words are bridged,
isolated blips are dropped.

The meter uses :func:`voiced_frames` to leave silence out of its evidence; the editor uses
:func:`speech_ranges` for "segments from speech".

WebRTC's VAD and the level gate say "voice" to music as readily as to speech (a sung or played
note has the energy and the harmonics of a vowel). :func:`pause_ratio` tells them apart by the
rhythm of the energy instead: speech stops between syllables and words many times a second, so a
fifth or more of its 20 ms frames fall below half the surrounding level (the low-energy ratio of
Scheirer and Slaney's speech/music discriminator), while music fills those gaps. It is measured in
the speech band (300-3400 Hz) after removing each band's stationary floor, so hum, hiss and steady
tones under a voice do not fill the pauses.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from lipcore.runs import true_runs
from lipcore.scratch import release_pages, scratch_array
from lipcore.timebase import as_fps, frame_to_sample

SAMPLE_RATE = 16000
CHUNK_SEC = Fraction(20, 1000)
#: A voiced run shorter than this is a click or a breath, not speech.
MIN_SPEECH_SEC = 0.06
#: Chunks quieter than this many dB below the clip's loud (95th percentile) chunks are silence.
GATE_BELOW_LOUD_DB = 35.0
#: ... and anything under this absolute level (dBFS RMS) is silence whatever the clip.
GATE_ABS_DBFS = -55.0


#: Window over which the low-energy ratio is measured, seconds.
PAUSE_WINDOW_SEC = 2.0
#: Below this low-energy ratio (median over the windows) the sound is music or a continuous
#: noise, not speech: on the shared clips speech measures 0.21-0.58, music 0.10.
MUSIC_PAUSE_RATIO = 0.15


def _resample_to_vad_rate(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """WebRTC VAD accepts 8/16/32/48 kHz; other rates are resampled to 16 kHz."""
    if sample_rate in (8000, 16000, 32000, 48000):
        return audio, sample_rate
    import librosa

    return librosa.resample(audio, orig_sr=sample_rate, target_sr=SAMPLE_RATE), SAMPLE_RATE


def voiced_chunks(
    audio: np.ndarray, sample_rate: int = SAMPLE_RATE, aggressiveness: int = 2
) -> tuple[np.ndarray, int]:
    """Raw per-chunk speech decisions (20 ms chunks), level-gated.

    Args:
        audio: ``(S,)`` mono float samples in [-1, 1].
        sample_rate: Rate of ``audio``.
        aggressiveness: WebRTC VAD mode 0-3 (higher rejects more non-speech).

    Returns:
        ``(bool array per chunk, chunk length in samples at sample_rate)``.
    """
    import webrtcvad

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio of shape (S,), got {audio.shape}")
    work, rate = _resample_to_vad_rate(audio, sample_rate)
    chunk = int(rate * CHUNK_SEC)
    n = len(work) // chunk
    if n == 0:
        return np.zeros(0, bool), int(sample_rate * CHUNK_SEC)
    frames = work[: n * chunk].reshape(n, chunk)
    pcm = (np.clip(frames, -1.0, 1.0) * 32767.0).astype("<i2")
    vad = webrtcvad.Vad(int(aggressiveness))
    decisions = np.fromiter(
        (vad.is_speech(row.tobytes(), rate) for row in pcm), dtype=bool, count=n
    )
    rms_db = 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.percentile(rms_db, 95)
    gate = max(GATE_ABS_DBFS, loud - GATE_BELOW_LOUD_DB)
    return decisions & (rms_db > gate), int(sample_rate * CHUNK_SEC)


#: Analysis frames of :func:`pause_ratio` whose spectra are held at once (82 s of sound).
_PAUSE_BLOCK_FRAMES = 4096


def pause_ratio(audio_16k: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Low-energy ratio of the sound: the share of 20 ms frames quieter than half their window.

    Measured per :data:`PAUSE_WINDOW_SEC` window in the 300-3400 Hz band, after subtracting
    each frequency's stationary floor (its 20th percentile over the clip, doubled), and
    summarised by the median over the windows that are not silent. Speech gives about 0.2-0.6
    (the pauses between syllables), music and continuous sound below :data:`MUSIC_PAUSE_RATIO`.

    Args:
        audio_16k: ``(S,)`` mono float samples.
        sample_rate: Rate of the samples.

    Returns:
        The ratio in [0, 1], or NaN when the sound is silent or shorter than one window.
    """
    from lipcore.media.sample_file import SampleFile

    if isinstance(audio_16k, SampleFile) and sample_rate == SAMPLE_RATE:
        audio = audio_16k  # a long clip's sound: read block by block
    else:
        audio = np.asarray(audio_16k, np.float32).reshape(-1)
    if sample_rate != SAMPLE_RATE:
        import librosa

        audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    n_fft, hop = 640, 320  # 40 ms frames every 20 ms
    n = (len(audio) - n_fft) // hop + 1
    if n <= 0:
        return float("nan")
    hann = np.hanning(n_fft).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / SAMPLE_RATE)
    band = (freqs >= 300) & (freqs <= 3400)

    def band_spectra(first: int, stop: int) -> np.ndarray:
        """Band power of frames ``first .. stop`` (only their samples are read)."""
        samples = np.asarray(audio[hop * first : hop * (stop - 1) + n_fft], np.float32)
        idx = np.arange(n_fft)[None, :] + hop * np.arange(stop - first)[:, None]
        return (np.abs(np.fft.rfft(samples[idx] * hann, axis=1)) ** 2)[:, band]

    # Pass 1: each frequency's stationary floor over the whole sound. The band spectra are kept
    # frequency-major in a disk-backed array (a 30-minute clip's are 90 MB; the frames' sample
    # windows and spectra, 1.2 GB at once, are only ever made a block at a time).
    blocks = [(a, min(n, a + _PAUSE_BLOCK_FRAMES)) for a in range(0, n, _PAUSE_BLOCK_FRAMES)]
    by_freq = None
    for a, b in blocks:
        spec = band_spectra(a, b)
        if by_freq is None:
            by_freq = scratch_array((spec.shape[1], n), spec.dtype)
        by_freq[:, a:b] = spec.T
    release_pages(by_freq)
    floor = np.empty((1, len(by_freq)), by_freq.dtype)
    for j in range(len(by_freq)):
        floor[0, j] = np.percentile(by_freq[j], 20)
        release_pages(by_freq)
    # Pass 2: the energy above the floor per frame.
    energy, raw = np.empty(n, by_freq.dtype), np.empty(n, by_freq.dtype)
    del by_freq
    for a, b in blocks:
        spec = band_spectra(a, b)
        energy[a:b] = np.sqrt(np.maximum(spec - 2.0 * floor, 0.0).sum(axis=1))
        raw[a:b] = np.sqrt(spec.sum(axis=1))
    per_window = int(PAUSE_WINDOW_SEC * SAMPLE_RATE / hop)
    ratios = []
    for start in range(0, n - per_window + 1, per_window):
        win = energy[start : start + per_window]
        # -60 dBFS-ish in the band: nothing to judge
        if raw[start : start + per_window].mean() < 1e-2 or win.mean() <= 0:
            continue
        ratios.append(float((win < 0.5 * win.mean()).mean()))
    return float(np.median(ratios)) if ratios else float("nan")


def sounds_like_music(audio_16k: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bool:
    """Whether the sound has energy without speech's pauses (music, a drone): :func:`pause_ratio`.

    Silence is not music: a silent or too short sound returns False.
    """
    ratio = pause_ratio(audio_16k, sample_rate)
    return bool(np.isfinite(ratio) and ratio < MUSIC_PAUSE_RATIO)


def speech_ranges(
    audio_16k: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    pad_sec: float = 0.1,
    min_gap_sec: float = 0.3,
    aggressiveness: int = 2,
) -> list[tuple[int, int]]:
    """Stretches of speech, for cutting a track into segments.

    Args:
        audio_16k: ``(S,)`` mono float samples (at ``sample_rate``).
        sample_rate: Rate of the samples (16 kHz normally; any rate works).
        pad_sec: Margin added before and after each stretch (clipped to the audio).
        min_gap_sec: Pauses shorter than this are bridged (one stretch per phrase, not per word).
        aggressiveness: WebRTC VAD mode 0-3.

    Returns:
        Sorted, non-overlapping ``(start_sample, end_sample)`` pairs, end exclusive.
    """
    decisions, chunk = voiced_chunks(audio_16k, sample_rate, aggressiveness)
    total = len(audio_16k)
    runs = [(s * chunk, e * chunk) for s, e in true_runs(decisions)]
    min_len = int(MIN_SPEECH_SEC * sample_rate)
    runs = [(s, e) for s, e in runs if e - s >= min_len]
    merged: list[list[int]] = []
    gap = int(min_gap_sec * sample_rate)
    for s, e in runs:
        if merged and s - merged[-1][1] < gap:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    pad = int(pad_sec * sample_rate)
    out: list[tuple[int, int]] = []
    for s, e in merged:
        s, e = max(0, s - pad), min(total, e + pad)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def voiced_frames(
    audio_16k: np.ndarray, fps, n_frames: int, aggressiveness: int = 2
) -> np.ndarray:
    """Which video frames have speech under them.

    Pauses shorter than 0.15 s between words count as speech (the mouth is still articulating);
    a frame is voiced when at least half of its duration lies in speech. Frames past the end of the
    audio are never voiced.

    Args:
        audio_16k: ``(S,)`` 16 kHz mono samples on the video clock (sample 0 plays with frame 0).
        fps: Video frame rate.
        n_frames: Number of video frames.
        aggressiveness: WebRTC VAD mode 0-3.

    Returns:
        ``(n_frames,)`` bool.
    """
    fps = as_fps(fps)
    out = np.zeros(max(n_frames, 0), bool)
    if n_frames <= 0 or len(audio_16k) == 0:
        return out
    ranges = speech_ranges(
        audio_16k, SAMPLE_RATE, pad_sec=0.02, min_gap_sec=0.15, aggressiveness=aggressiveness
    )
    covered = np.zeros(len(audio_16k) + 1, np.int64)  # prefix sums of "sample is speech"
    mask = np.zeros(len(audio_16k), np.int8)
    for s, e in ranges:
        mask[s:e] = 1
    covered[1:] = np.cumsum(mask)
    bounds = np.array(
        [frame_to_sample(i, fps, SAMPLE_RATE) for i in range(n_frames + 1)], dtype=np.int64
    )
    lo, hi = bounds[:-1], bounds[1:]
    clo, chi = np.minimum(lo, len(audio_16k)), np.minimum(hi, len(audio_16k))
    speech = covered[chi] - covered[clo]
    return (speech * 2 >= (hi - lo)) & (hi - lo > 0)
