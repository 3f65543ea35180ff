"""Load audio as float32 samples through FFmpeg, and place a clip's own audio on its video clock.

Any file FFmpeg reads works (wav, mp3, m4a/aac, flac, ogg, and the audio track of video files), at
any sample rate and channel count. Resampling uses FFmpeg's soxr resampler when the build has it.
Channels are averaged in numpy (FFmpeg's own stereo->mono matrix scales by 1/sqrt(2) per channel,
which is louder than the mean and can clip).
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.errors import MediaError
from lipcore.media.probe import MediaInfo, ffmpeg_exe, probe, require_audio, require_video

_soxr_available: bool | None = None


def _has_soxr() -> bool:
    global _soxr_available
    if _soxr_available is None:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-buildconf"], capture_output=True, text=True
        )
        _soxr_available = "--enable-libsoxr" in proc.stdout
    return _soxr_available


def _decode_audio(path: Path, sample_rate: int, channels: int) -> np.ndarray:
    """Decode the first audio stream to ``(n, channels)`` float32 at ``sample_rate``."""
    filters = f"aresample={sample_rate}" + (":resampler=soxr" if _has_soxr() else "")
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-af",
        filters,
        "-ac",
        str(channels),
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        raise MediaError(
            f"its audio cannot be decoded ({reason[-1] if reason else 'ffmpeg failed'})",
            path,
            "re-export the audio as WAV or FLAC",
        )
    samples = np.frombuffer(proc.stdout, dtype="<f4")
    usable = samples.size - samples.size % channels
    return samples[:usable].reshape(-1, channels)


#: Lossy codecs pad their last frame (AAC: 1024 samples); excess up to this many source samples
#: past the container's stated duration is padding, not sound.
MAX_CODEC_PADDING_SAMPLES = 2048


def _trim_codec_padding(
    samples: np.ndarray, duration_sec: float, source_rate: int, sample_rate: int
) -> np.ndarray:
    if duration_sec <= 0 or source_rate <= 0:
        return samples
    expected = int(round(duration_sec * sample_rate))
    excess = samples.shape[0] - expected
    if 0 < excess <= MAX_CODEC_PADDING_SAMPLES * sample_rate / source_rate:
        return samples[:expected]
    return samples


def load_audio(
    path: str | Path,
    sample_rate: int = 16000,
    mono: bool = True,
    info: MediaInfo | None = None,
) -> np.ndarray:
    """Load the first audio stream of a file as float32 samples.

    Args:
        path: Audio file (wav, mp3, m4a, flac...) or a video file with an audio track.
        sample_rate: Output rate in Hz (resampled as needed).
        mono: Average the channels into one.
        info: The file's :class:`MediaInfo` when already probed.

    Returns:
        ``(n,)`` float32 when ``mono``, else ``(n, channels)`` float32, in [-1, 1] for PCM input.

    Raises:
        MediaError: The file is unreadable or has no audio stream.
    """
    path = Path(path)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    info = info if info is not None else probe(path)
    audio = require_audio(info)
    channels = max(1, audio.channels)
    samples = _decode_audio(path, sample_rate, channels)
    samples = _trim_codec_padding(samples, audio.duration_sec, audio.sample_rate, sample_rate)
    if mono:
        out = samples.mean(axis=1, dtype=np.float32) if channels > 1 else samples[:, 0]
        return np.ascontiguousarray(out, dtype=np.float32)
    return np.ascontiguousarray(samples, dtype=np.float32)


def clip_audio(
    video_path: str | Path,
    sample_rate: int = 16000,
    mono: bool = True,
    info: MediaInfo | None = None,
) -> np.ndarray:
    """Return a video clip's own audio on the video clock.

    Sample 0 plays with the first video frame: the audio is shifted by the difference of the two
    streams' start times (H01's video starts at 0.852 s, its audio at 0.008 s, so 0.844 s of
    audio is dropped), then padded with silence or trimmed to exactly the video's duration
    (``frame_count / fps``).

    Args:
        video_path: A video file with an audio track.
        sample_rate: Output rate in Hz.
        mono: Average the channels into one.
        info: The file's :class:`MediaInfo` when already probed.

    Returns:
        ``(n,)`` (or ``(n, channels)``) float32 with ``n = round(frame_count * sample_rate /
        fps)``.

    Raises:
        MediaError: No video stream or no audio stream.
    """
    video_path = Path(video_path)
    info = info if info is not None else probe(video_path)
    video = require_video(info)
    audio = require_audio(info)
    samples = load_audio(video_path, sample_rate, mono=mono, info=info)
    # Negative lead: the audio started before the picture, so its head is dropped (shift > 0).
    lead = Fraction(audio.start_sec).limit_denominator(10**6) - Fraction(
        video.start_sec
    ).limit_denominator(10**6)
    shift = int(round(-lead * sample_rate))
    total = int(round(Fraction(video.frame_count) * sample_rate / video.fps))
    if shift > 0:
        samples = samples[shift:]
    elif shift < 0:
        pad = np.zeros((-shift,) + samples.shape[1:], dtype=np.float32)
        samples = np.concatenate([pad, samples])
    if samples.shape[0] >= total:
        samples = samples[:total]
    else:
        pad = np.zeros((total - samples.shape[0],) + samples.shape[1:], dtype=np.float32)
        samples = np.concatenate([samples, pad])
    return np.ascontiguousarray(samples, dtype=np.float32)
