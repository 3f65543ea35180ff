"""Derived data the views need (thumbnails, waveform envelopes), as lipcore-style generators.

These run in the low-priority queue of :mod:`editor.qt.workers`: each yields
:class:`lipcore.progress.Progress` and returns its result, and holds no Qt objects, so a worker
thread can run it and the GUI thread turns the result into images.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import numpy as np

from lipcore.progress import Progress

#: Rows of a waveform envelope per second of audio.
PEAKS_PER_SEC = 200
#: Sample rate the waveforms are computed at (enough for a drawn envelope).
WAVE_RATE = 8000


def iter_thumbnails(
    video: str | Path, count: int = 40, height_px: int = 64
) -> Generator[Progress, None, list[tuple[int, np.ndarray]]]:
    """Decode ``count`` evenly spaced frames, scaled to ``height_px`` high.

    Args:
        video: The clip.
        count: How many thumbnails (fewer for short clips).
        height_px: Thumbnail height in pixels.

    Returns:
        ``(frame, bgr_thumbnail)`` pairs in frame order.
    """
    import cv2

    from lipcore.media.decode import VideoReader

    out: list[tuple[int, np.ndarray]] = []
    with VideoReader(video) as reader:
        n = reader.frame_count
        picks = sorted({int(round(f)) for f in np.linspace(0, max(0, n - 1), min(count, n))})
        wanted = set(picks)
        done = 0
        for index, frame in reader.iter_frames(0, picks[-1] + 1 if picks else 0):
            if index not in wanted:
                continue
            h, w = frame.shape[:2]
            size = (max(1, round(w * height_px / h)), height_px)
            out.append((index, cv2.resize(frame, size, interpolation=cv2.INTER_AREA)))
            done += 1
            yield Progress(done, len(picks), "thumbnails")
    return out


def envelope(samples: np.ndarray, rate_hz: int, peaks_per_sec: int = PEAKS_PER_SEC) -> np.ndarray:
    """Min/max envelope of mono ``samples``: ``(N, 2)`` float32, one row per 1/peaks_per_sec s."""
    hop = max(1, rate_hz // peaks_per_sec)
    n = len(samples) // hop
    if n == 0:
        return np.zeros((0, 2), np.float32)
    blocks = samples[: n * hop].reshape(n, hop)
    peaks = np.stack([blocks.min(axis=1), blocks.max(axis=1)], axis=1).astype(np.float32)
    # Normalise to the track's loud parts (99.5th percentile) so quiet dubs are still readable.
    scale = float(np.percentile(np.abs(peaks), 99.5)) or 1.0
    return np.clip(peaks / scale, -1.0, 1.0)


def iter_waveform(
    path: str | Path, is_clip: bool = False
) -> Generator[Progress, None, tuple[np.ndarray, float]]:
    """Load an audio file (or a clip's own audio) and return its envelope.

    Args:
        path: Audio file, or a video file when ``is_clip`` (its audio on the video clock).
        is_clip: Read the clip's audio aligned to its first frame.

    Returns:
        ``(peaks, peaks_per_sec)``; ``peaks`` is ``(N, 2)`` float32 in -1..1.
    """
    from lipcore.media.audio import clip_audio, load_audio

    yield Progress(0, 2, "reading audio")
    samples = clip_audio(path, WAVE_RATE) if is_clip else load_audio(path, WAVE_RATE)
    yield Progress(1, 2, "waveform")
    return envelope(samples, WAVE_RATE), float(PEAKS_PER_SEC)


#: Sample rate of the preview mix played with the picture.
MIX_RATE = 48000


def iter_preview_mix(
    clip: str | Path,
    tracks: list[tuple[str | None, int, float]],
    frame_count: int,
    fps: float,
    output: str | Path,
) -> Generator[Progress, None, Path]:
    """Mix the audible tracks on the clip clock into a WAV for the preview player.

    Args:
        clip: The clip (its own audio is the "original" track).
        tracks: ``(path or None for the clip's audio, offset_samples at 16 kHz, gain_db)``.
        frame_count: Frames in the clip (the mix is exactly as long as the picture).
        fps: Clip frame rate.
        output: WAV file to write.

    Returns:
        ``output``.
    """
    from lipcore.render.mix import write_preview_wav

    # The one mixer the export uses too (lipcore.render.mix): what plays is what is exported.
    # Streamed block by block, so the job's memory does not grow with the clip's length.
    yield Progress(0, 1, "mixing audio")
    total = int(round(frame_count * MIX_RATE / fps))
    for done, n in write_preview_wav(output, tracks, total, MIX_RATE, clip=clip):
        yield Progress(done, n, "mixing audio")
    return Path(output)
