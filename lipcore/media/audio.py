"""Load audio as float32 samples through FFmpeg, and place a clip's own audio on its video clock.

Any file FFmpeg reads works (wav, mp3, m4a/aac, flac, ogg, and the audio track of video files), at
any sample rate and channel count. Resampling uses FFmpeg's soxr resampler when the build has it.

This module owns the downmix (:func:`downmix`): surround sound is folded to stereo with the
ITU-R BS.775 coefficients (centre and surrounds at -3 dB, LFE dropped), so dialogue, which lives
in the centre channel of a 5.1 mix, keeps its level (a plain mean of six channels put it 15.6 dB
down); stereo becomes mono as the mean of left and right (FFmpeg's own stereo->mono matrix scales
by 1/sqrt(2) per channel, which is louder than the mean and can clip).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
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


def _decode_command(path: Path, sample_rate: int, channels: int) -> list[str]:
    """FFmpeg command decoding the first audio stream to raw float32 on stdout."""
    filters = f"aresample={sample_rate}" + (":resampler=soxr" if _has_soxr() else "")
    return [
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


def _decode_audio(path: Path, sample_rate: int, channels: int) -> np.ndarray:
    """Decode the first audio stream to ``(n, channels)`` float32 at ``sample_rate``."""
    proc = subprocess.run(_decode_command(path, sample_rate, channels), capture_output=True)
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


#: Where each channel of FFmpeg's common layouts sits, in FFmpeg's (decoded) channel order.
LAYOUT_CHANNELS: dict[str, tuple[str, ...]] = {
    "mono": ("FC",),
    "stereo": ("FL", "FR"),
    "2.1": ("FL", "FR", "LFE"),
    "3.0": ("FL", "FR", "FC"),
    "3.0(back)": ("FL", "FR", "BC"),
    "3.1": ("FL", "FR", "FC", "LFE"),
    "4.0": ("FL", "FR", "FC", "BC"),
    "quad": ("FL", "FR", "BL", "BR"),
    "quad(side)": ("FL", "FR", "SL", "SR"),
    "4.1": ("FL", "FR", "FC", "LFE", "BC"),
    "5.0": ("FL", "FR", "FC", "BL", "BR"),
    "5.0(side)": ("FL", "FR", "FC", "SL", "SR"),
    "5.1": ("FL", "FR", "FC", "LFE", "BL", "BR"),
    "5.1(side)": ("FL", "FR", "FC", "LFE", "SL", "SR"),
    "6.0": ("FL", "FR", "FC", "BC", "SL", "SR"),
    "6.1": ("FL", "FR", "FC", "LFE", "BC", "SL", "SR"),
    "7.0": ("FL", "FR", "FC", "BL", "BR", "SL", "SR"),
    "7.1": ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"),
    "7.1(wide)": ("FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC"),
    "7.1(wide-side)": ("FL", "FR", "FC", "LFE", "FLC", "FRC", "SL", "SR"),
}

#: -3 dB, the ITU-R BS.775 gain of the centre and surround channels in a stereo fold-down.
_MINUS_3DB = float(np.sqrt(0.5))

#: Gain of each named channel into (left, right) of a BS.775 stereo downmix; LFE is dropped.
_TO_STEREO: dict[str, tuple[float, float]] = {
    "FL": (1.0, 0.0),
    "FR": (0.0, 1.0),
    "FLC": (1.0, 0.0),
    "FRC": (0.0, 1.0),
    "FC": (_MINUS_3DB, _MINUS_3DB),
    "BC": (_MINUS_3DB * _MINUS_3DB, _MINUS_3DB * _MINUS_3DB),
    "SL": (_MINUS_3DB, 0.0),
    "BL": (_MINUS_3DB, 0.0),
    "SR": (0.0, _MINUS_3DB),
    "BR": (0.0, _MINUS_3DB),
    "LFE": (0.0, 0.0),
}


def downmix(samples: np.ndarray, layout: str, channels: int) -> np.ndarray:
    """Fold ``(n, c)`` samples to ``channels`` (1 or 2) channels; fewer channels pass through.

    Surround layouts are folded to stereo with the ITU-R BS.775 coefficients
    (``L = FL + 0.707 FC + 0.707 SL``, likewise right; LFE dropped), and stereo to mono as the
    mean of left and right. The sum is not rescaled (the loudest surround mix can exceed 1.0; the
    renderer normalises the final peak). A layout FFmpeg did not name is taken as its default
    for the channel count; past eight channels the channels are averaged.

    Args:
        samples: ``(n, c)`` float32 in FFmpeg's channel order for ``layout``.
        layout: FFmpeg's layout name, from :class:`~lipcore.media.probe.AudioStreamInfo`.
        channels: 1 (mono) or 2 (stereo).

    Returns:
        ``(n, min(c, channels))`` float32.
    """
    if channels not in (1, 2):
        raise ValueError(f"downmix to 1 or 2 channels, not {channels}")
    c = samples.shape[1]
    if c <= channels:
        return samples
    names = LAYOUT_CHANNELS.get(layout) or _DEFAULT_LAYOUTS.get(c)
    if names is None or len(names) != c:
        mean = samples.mean(axis=1, dtype=np.float32, keepdims=True)
        return np.repeat(mean, channels, axis=1) if channels == 2 else mean
    if c == 2:  # stereo -> mono
        return samples.mean(axis=1, dtype=np.float32, keepdims=True)
    matrix = np.array([_TO_STEREO.get(name, (0.0, 0.0)) for name in names], np.float32)
    stereo = samples @ matrix
    return stereo.mean(axis=1, dtype=np.float32, keepdims=True) if channels == 1 else stereo


#: FFmpeg's default layout for a channel count (a WAV without a channel mask).
_DEFAULT_LAYOUTS = {
    3: LAYOUT_CHANNELS["2.1"],
    4: LAYOUT_CHANNELS["4.0"],
    5: LAYOUT_CHANNELS["5.0(side)"],
    6: LAYOUT_CHANNELS["5.1"],
    7: LAYOUT_CHANNELS["6.1"],
    8: LAYOUT_CHANNELS["7.1"],
}


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
    max_channels: int | None = None,
) -> np.ndarray:
    """Load the first audio stream of a file as float32 samples.

    Args:
        path: Audio file (wav, mp3, m4a, flac...) or a video file with an audio track.
        sample_rate: Output rate in Hz (resampled as needed).
        mono: Fold the channels into one (:func:`downmix`).
        info: The file's :class:`MediaInfo` when already probed.
        max_channels: Without ``mono``, fold more channels than this (1 or 2) down to it
            (e.g. 2 for an export: a 5.1 dub becomes BS.775 stereo, a stereo dub stays stereo).

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
        return np.ascontiguousarray(downmix(samples, audio.channel_layout, 1)[:, 0])
    if max_channels is not None:
        samples = downmix(samples, audio.channel_layout, max_channels)
    return np.ascontiguousarray(samples, dtype=np.float32)


#: Samples read from FFmpeg at a time by :func:`iter_audio` (1.3 s at 48 kHz).
STREAM_BLOCK_SAMPLES = 1 << 16


def iter_audio(
    path: str | Path,
    sample_rate: int = 16000,
    mono: bool = True,
    info: MediaInfo | None = None,
    max_channels: int | None = None,
    block_samples: int = STREAM_BLOCK_SAMPLES,
) -> Iterator[np.ndarray]:
    """:func:`load_audio`, block by block: the same samples without holding the whole track.

    FFmpeg decodes the file once into a pipe that is read ``block_samples`` at a time; the
    downmix works sample by sample and the codec padding is held back until the end shows
    whether it is padding, so the blocks put together equal :func:`load_audio`'s array exactly.

    Args:
        path: Audio file or a video file with an audio track.
        sample_rate: Output rate in Hz.
        mono: Fold the channels into one.
        info: The file's :class:`MediaInfo` when already probed.
        max_channels: Without ``mono``, fold more channels than this down to it.
        block_samples: Samples per read (blocks may be shorter; empty ones are not yielded).

    Yields:
        ``(k,)`` (mono) or ``(k, channels)`` float32 blocks in order.

    Raises:
        MediaError: The file is unreadable or has no audio stream (raised when the decoder
            stops, so after any blocks it had delivered).
    """
    import tempfile

    path = Path(path)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    info = info if info is not None else probe(path)
    audio = require_audio(info)
    channels = max(1, audio.channels)
    expected, slack = None, 0
    if audio.duration_sec > 0 and audio.sample_rate > 0:
        expected = int(round(audio.duration_sec * sample_rate))
        slack = MAX_CODEC_PADDING_SAMPLES * sample_rate / audio.sample_rate
    held: list[np.ndarray] = []  # samples past ``expected``: codec padding unless there are more
    held_count, holding, seen = 0, expected is not None, 0

    def shaped(block: np.ndarray) -> np.ndarray:
        if mono:
            return np.ascontiguousarray(downmix(block, audio.channel_layout, 1)[:, 0])
        if max_channels is not None:
            block = downmix(block, audio.channel_layout, max_channels)
        return np.ascontiguousarray(block, dtype=np.float32)

    cmd = _decode_command(path, sample_rate, channels)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        try:
            assert proc.stdout is not None
            frame_bytes = 4 * channels
            rest = b""
            while True:
                data = proc.stdout.read(block_samples * frame_bytes)
                if not data:
                    break
                data = rest + data
                usable = len(data) - len(data) % frame_bytes
                rest = data[usable:]
                block = np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels)
                if holding:
                    keep = max(0, min(len(block), expected - seen))
                    seen += len(block)
                    if keep:
                        yield shaped(block[:keep])
                    if keep < len(block):
                        held.append(block[keep:])
                        held_count += len(block) - keep
                        if held_count > slack:  # more than padding: real sound, all of it
                            holding = False
                            for part in held:
                                yield shaped(part)
                            held.clear()
                elif len(block):
                    yield shaped(block)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            rc = proc.wait()
        if rc != 0:
            err.seek(0)
            reason = err.read().decode(errors="replace").strip().splitlines()
            raise MediaError(
                f"its audio cannot be decoded ({reason[-1] if reason else 'ffmpeg failed'})",
                path,
                "re-export the audio as WAV or FLAC",
            )


def audio_lead_sec(info: MediaInfo) -> Fraction:
    """How long a file's audio starts after its picture, in seconds (negative: before it).

    Args:
        info: A :class:`MediaInfo` with a video and an audio stream.
    """
    return Fraction(info.audio.start_sec).limit_denominator(10**6) - Fraction(
        info.video.start_sec
    ).limit_denominator(10**6)


def clip_audio_placement(info: MediaInfo, sample_rate: int) -> tuple[int, int, int]:
    """Where a clip's own audio goes on its video clock (:func:`clip_audio`'s placement).

    Args:
        info: The clip's :class:`MediaInfo` (video and audio streams).
        sample_rate: Rate in Hz.

    Returns:
        ``(head, start, total)``: decoded samples dropped from the head, where the next one
        plays (in samples after the first frame), and the track's length (the video's
        duration).

    Raises:
        MediaError: No video stream or no audio stream.
    """
    video = require_video(info)
    require_audio(info)
    # Negative lead: the audio started before the picture, so its head is dropped (shift > 0).
    shift = int(round(-audio_lead_sec(info) * sample_rate))
    total = int(round(Fraction(video.frame_count) * sample_rate / video.fps))
    return max(0, shift), max(0, -shift), total


def clip_audio(
    video_path: str | Path,
    sample_rate: int = 16000,
    mono: bool = True,
    info: MediaInfo | None = None,
    max_channels: int | None = None,
) -> np.ndarray:
    """Return a video clip's own audio on the video clock.

    Sample 0 plays with the first video frame: the audio is shifted by the difference of the two
    streams' start times (H01's video starts at 0.852 s, its audio at 0.008 s, so 0.844 s of
    audio is dropped), then padded with silence or trimmed to exactly the video's duration
    (``frame_count / fps``).

    Args:
        video_path: A video file with an audio track.
        sample_rate: Output rate in Hz.
        mono: Fold the channels into one (:func:`downmix`).
        info: The file's :class:`MediaInfo` when already probed.
        max_channels: Without ``mono``, fold more channels than this down to it.

    Returns:
        ``(n,)`` (or ``(n, channels)``) float32 with ``n = round(frame_count * sample_rate /
        fps)``.

    Raises:
        MediaError: No video stream or no audio stream.
    """
    video_path = Path(video_path)
    info = info if info is not None else probe(video_path)
    head, start, total = clip_audio_placement(info, sample_rate)
    samples = load_audio(video_path, sample_rate, mono=mono, info=info, max_channels=max_channels)
    if head > 0:
        samples = samples[head:]
    elif start > 0:
        pad = np.zeros((start,) + samples.shape[1:], dtype=np.float32)
        samples = np.concatenate([pad, samples])
    if samples.shape[0] >= total:
        samples = samples[:total]
    else:
        pad = np.zeros((total - samples.shape[0],) + samples.shape[1:], dtype=np.float32)
        samples = np.concatenate([samples, pad])
    return np.ascontiguousarray(samples, dtype=np.float32)
