"""The one audio mixer: dub tracks (and the clip's own sound) on the picture's clock.

The editor's preview player, the editor's export and ``lipsync sync`` all hear the result of
:func:`mix_tracks`, so what plays while editing is what gets exported. Neither holds the
whole mix: the export streams it into a float WAV (:func:`write_mix_wav`), the preview into a
16-bit one (:func:`write_preview_wav`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipcore.render.request import AUDIO_RATE

#: Output sample rate of the muxed audio.
OUTPUT_AUDIO_RATE = 48000
#: How much the original audio is lowered under the dub in "mix" mode (-12 dB).
MIX_DUCK_GAIN = 0.25
#: Samples mixed at a time (memory of the mix's temporaries; 22 s at 48 kHz).
MIX_BLOCK_SAMPLES = 1 << 20


@dataclass(frozen=True)
class MixTrack:
    """One track in the mix.

    Attributes:
        path: Audio file (any format ffmpeg reads), or None for the clip's own sound.
        offset_samples: Where its first sample plays, at 16 kHz after frame 0 (negative drops
            its head; ignored for the clip's own sound, which is on the clip's clock).
        gain_db: Level change in dB (0 = as recorded).
    """

    path: Path | None
    offset_samples: int = 0
    gain_db: float = 0.0


def load_speech(path: str | Path, sample_rate: int, info=None, mono: bool = True) -> np.ndarray:
    """New speech as it plays: a video file's audio on that video's clock.

    An audio file's first sample is its start. A video file given as the audio (a dub exported
    with picture, or the clip's own track in the editor) is placed by its streams' start times,
    as :class:`~lipcore.media.encode.VideoWriter` does for such a file (H01's audio starts
    0.844 s before its picture; decoding it from its own start would shift the speech by that).

    Args:
        path: The file.
        sample_rate: Rate in Hz.
        info: Its :class:`~lipcore.media.probe.MediaInfo` when already probed.
        mono: Fold the channels into one; False keeps stereo and folds surround to stereo
            (what the exported track carries).

    Returns:
        ``(N,)`` mono or ``(N, C)`` float32 samples, C at most 2.
    """
    from lipcore.media.audio import audio_lead_sec, load_audio
    from lipcore.media.probe import probe
    from lipcore.render.timeline import place_audio

    info = info if info is not None else probe(path)
    samples = load_audio(path, sample_rate, mono=mono, info=info, max_channels=None if mono else 2)
    if info.video is None or info.audio is None:
        return samples
    # Only the start is moved (its tail is kept: a long-audio policy may still want it).
    # < 0: the audio starts first, its head is dropped
    shift = int(round(audio_lead_sec(info) * sample_rate))
    return place_audio(samples, shift, max(0, len(samples) + shift))


class _PlacedStream:
    """One track's blocks on the mix's clock, read forward one mix block at a time.

    Sample ``k`` of the stream (after ``head`` decoded samples are dropped) plays at output
    sample ``start + k``; samples before 0 or from ``end`` on are not heard.
    """

    def __init__(self, blocks: Iterator[np.ndarray], head: int, start: int, end: int | None):
        self._blocks = blocks
        self._skip = max(0, int(head))
        self._pos = int(start)  # output sample of the first held sample
        self._end = end
        self._held: list[np.ndarray] = []
        self._held_count = 0
        self._done = False

    def _pull(self, before: int) -> None:
        """Read until the held samples reach output sample ``before`` (or the stream ends)."""
        while not self._done and self._pos + self._held_count < before:
            block = next(self._blocks, None)
            if block is None:
                self._done = True
                break
            if self._skip:
                drop = min(self._skip, len(block))
                self._skip -= drop
                block = block[drop:]
            if not self._held and self._pos + len(block) <= 0:
                self._pos += len(block)  # wholly before the mix starts: never heard
                continue
            self._held.append(block)
            self._held_count += len(block)

    def add_into(self, out: np.ndarray, a: int, gain: np.float32, mono: bool) -> None:
        """Add ``gain`` x this track's samples for output samples ``a .. a + len(out)``.

        Calls come in order of ``a`` (one mix block after the other).
        """
        b = a + len(out)
        self._pull(b)
        if not self._held:
            return
        held = self._held[0] if len(self._held) == 1 else np.concatenate(self._held)
        lo, hi = max(a, self._pos), min(b, self._pos + len(held))
        if self._end is not None:
            hi = min(hi, self._end)
        if hi > lo:
            part = held[lo - self._pos : hi - self._pos]
            if not mono and (part.ndim == 1 or part.shape[1] != 2):
                part = part.reshape(len(part), -1)[:, :1]  # a mono track plays on both sides
            out[lo - a : hi - a] += gain * part
        keep = max(0, min(len(held), b - self._pos))  # heard up to the next block's start
        rest = held[keep:]
        self._held, self._held_count, self._pos = (
            ([rest] if len(rest) else []),
            len(rest),
            self._pos + keep,
        )


def _track_stream(
    track: MixTrack, rate: int, clip: str | Path | None, mono: bool, block: int
) -> _PlacedStream:
    """A track of the mix as a stream on the picture's clock (as :func:`load_speech` places it)."""
    from lipcore.media.audio import audio_lead_sec, clip_audio_placement, iter_audio
    from lipcore.media.probe import probe

    channels = None if mono else 2
    if track.path is None:
        if clip is None:
            raise ValueError("a track of the clip's own sound needs the clip")
        info = probe(clip)
        head, start, total = clip_audio_placement(info, rate)
        blocks = iter_audio(clip, rate, mono, info, channels, block)
        return _PlacedStream(blocks, head, start, total)
    info = probe(track.path)
    blocks = iter_audio(track.path, rate, mono, info, channels, block)
    offset = int(round(track.offset_samples * rate / AUDIO_RATE))
    if info.video is None or info.audio is None:
        return _PlacedStream(blocks, 0, offset, None)
    shift = int(round(audio_lead_sec(info) * rate))
    return _PlacedStream(blocks, max(0, -shift), max(0, shift) + offset, None)


def iter_mix_blocks(
    tracks: Sequence[MixTrack | tuple],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    clip: str | Path | None = None,
    channels: int = 1,
    block_samples: int = MIX_BLOCK_SAMPLES,
) -> Iterator[np.ndarray]:
    """The mix of :func:`mix_tracks` block by block, before its peak is known (not scaled).

    Every track is decoded as a stream and only one block of each is held, so the memory does
    not grow with the mix's length.

    Args:
        tracks: :class:`MixTrack` or ``(path | None, offset_samples_16k, gain_db)`` items.
        total_samples: Length of the mix at ``rate``.
        rate: Sample rate in Hz.
        clip: The clip whose own sound a track with ``path=None`` is.
        channels: 1 or 2 (see :func:`mix_tracks`).
        block_samples: Samples per yielded block (the last may be shorter).

    Yields:
        ``(k,)`` or ``(k, 2)`` float32 blocks covering ``total_samples`` in order.

    Raises:
        MediaError: A track cannot be read (the message names the file).
    """
    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, not {channels}")
    mono = channels == 1
    items = [item if isinstance(item, MixTrack) else MixTrack(*item) for item in tracks]
    gains = [np.float32(10.0 ** (t.gain_db / 20.0)) for t in items]
    streams = [_track_stream(t, rate, clip, mono, min(block_samples, 1 << 16)) for t in items]
    total = int(total_samples)
    for a in range(0, total, block_samples):
        n = min(block_samples, total - a)
        out = np.zeros((n,) if mono else (n, 2), np.float32)
        for stream, gain in zip(streams, gains, strict=True):
            stream.add_into(out, a, gain, mono)
        yield out


def mix_tracks(
    tracks: Sequence[MixTrack | tuple],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    clip: str | Path | None = None,
    channels: int = 1,
) -> np.ndarray:
    """Mix tracks into one track of ``total_samples`` at ``rate``, mono or stereo.

    What the preview player plays; an export writes the same samples to a file block by block
    with :func:`write_mix_wav` instead of holding them.

    Args:
        tracks: :class:`MixTrack` or ``(path | None, offset_samples_16k, gain_db)`` items.
        total_samples: Length of the mix (the picture's duration at ``rate``).
        rate: Sample rate in Hz.
        clip: The clip whose own sound a track with ``path=None`` is.
        channels: 1 (every track folded to mono) or 2 (stereo tracks stay stereo, mono ones
            play on both sides; surround is folded to stereo).

    Returns:
        ``(total_samples,)`` (mono) or ``(total_samples, 2)`` float32, scaled down only when
        the sum would clip.

    Raises:
        MediaError: A track cannot be read (the message names the file), or the clip has no
            audio of its own when a track asks for it.
    """
    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, not {channels}")
    mono = channels == 1
    out = np.zeros((int(total_samples),) if mono else (int(total_samples), 2), np.float32)
    a, peak = 0, 0.0
    for block in iter_mix_blocks(tracks, total_samples, rate, clip, channels):
        out[a : a + len(block)] = block
        a += len(block)
        peak = max(peak, float(np.abs(block).max()))
    if peak > 1.0:
        out /= np.float32(peak)
    return out


def write_mix_wav(
    path: str | Path,
    tracks: Sequence[MixTrack | tuple],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    clip: str | Path | None = None,
    channels: int = 1,
    block_samples: int = MIX_BLOCK_SAMPLES,
) -> Path:
    """Write the mix of :func:`mix_tracks` to a 32-bit float WAV, one block at a time.

    The samples are exactly :func:`mix_tracks`'s; memory stays at a few blocks whatever the
    length (a 30-minute stereo mix would be 690 MB as one array). A mix that would clip is
    scaled in a second pass over the file.

    Args:
        path: The WAV to write (RF64 past 4 GB).
        tracks: :class:`MixTrack` or ``(path | None, offset_samples_16k, gain_db)`` items.
        total_samples: Length of the mix at ``rate``.
        rate: Sample rate in Hz.
        clip: The clip whose own sound a track with ``path=None`` is.
        channels: 1 or 2.
        block_samples: Samples mixed at a time.

    Returns:
        ``path``.

    Raises:
        MediaError: A track cannot be read, or the file cannot be written.
    """
    import soundfile

    from lipcore.errors import MediaError

    path = Path(path)
    big = int(total_samples) * channels * 4 > (1 << 32) - (1 << 20)
    peak = 0.0
    try:
        with soundfile.SoundFile(
            str(path), "w", int(rate), channels, "FLOAT", format="RF64" if big else "WAV"
        ) as fh:
            for block in iter_mix_blocks(
                tracks, total_samples, rate, clip, channels, block_samples
            ):
                fh.write(block)
                peak = max(peak, float(np.abs(block).max()) if len(block) else 0.0)
        if peak > 1.0:
            with soundfile.SoundFile(str(path), "r+") as fh:
                for a in range(0, int(total_samples), block_samples):
                    fh.seek(a)
                    block = fh.read(block_samples, dtype="float32", always_2d=channels == 2)
                    block /= np.float32(peak)
                    fh.seek(a)
                    fh.write(block)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        reason = str(exc)
        if "System error" in reason:  # libsndfile's word for a failed write(2)
            reason = "the disk refused the write: it is full or a file-size limit was reached"
        raise MediaError(
            f"the mixed audio could not be written ({reason})", path, "free some disk space"
        ) from exc
    return path


@contextmanager
def mixed_wav(
    tracks: Sequence[MixTrack | tuple],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    clip: str | Path | None = None,
    channels: int = 1,
    folder: str | Path | None = None,
) -> Iterator[Path]:
    """The mix written by :func:`write_mix_wav` to a temporary file, removed afterwards.

    Args:
        tracks: What to mix (see :func:`mix_tracks`).
        total_samples: Length of the mix at ``rate``.
        rate: Sample rate in Hz.
        clip: The clip whose own sound a track with ``path=None`` is.
        channels: 1 or 2.
        folder: Where the file goes (e.g. the output's folder); None = the system's temp folder.

    Yields:
        The WAV's path.
    """
    import tempfile
    import uuid

    where = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    path = where / f".lipsync-mix-{uuid.uuid4().hex[:12]}.partial.wav"
    try:
        yield write_mix_wav(path, tracks, total_samples, rate, clip, channels)
    finally:
        path.unlink(missing_ok=True)


def write_preview_wav(
    path: str | Path,
    tracks: Sequence[MixTrack | tuple],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    clip: str | Path | None = None,
    channels: int = 1,
    block_samples: int = MIX_BLOCK_SAMPLES,
) -> Iterator[tuple[int, int]]:
    """Write the mix of :func:`mix_tracks` as a 16-bit PCM WAV for a player, block by block.

    The preview player's file: the same samples :func:`mix_tracks` returns, converted to
    16 bits as ``soundfile`` converts that array, but never held whole. The mix goes block by
    block into a temporary float WAV beside ``path`` (:func:`write_mix_wav`, scaled when it
    would clip), which is converted block by block into a temporary PCM file, renamed onto
    ``path`` at the end (a reader never sees half a file).

    Args:
        path: The WAV to write (replaced atomically).
        tracks: What to mix (see :func:`mix_tracks`).
        total_samples: Length of the mix at ``rate``.
        rate: Sample rate in Hz.
        clip: The clip whose own sound a track with ``path=None`` is.
        channels: 1 or 2.
        block_samples: Samples converted at a time.

    Yields:
        ``(samples_written, total_samples)`` after each converted block (the mixing itself
        comes first, in one step).

    Raises:
        MediaError: A track cannot be read, or a file cannot be written.
    """
    import os
    import uuid

    import soundfile

    from lipcore.errors import MediaError

    path = Path(path)
    total = int(total_samples)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial.wav")
    try:
        with mixed_wav(tracks, total, rate, clip, channels, folder=path.parent) as floats:
            with (
                soundfile.SoundFile(str(floats)) as src,
                soundfile.SoundFile(str(partial), "w", int(rate), channels, "PCM_16") as dst,
            ):
                done = 0
                while done < total:
                    block = src.read(block_samples, dtype="float32", always_2d=channels == 2)
                    if len(block) == 0:
                        break
                    dst.write(block)
                    done += len(block)
                    yield done, total
        os.replace(partial, path)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        if isinstance(exc, MediaError):
            raise
        raise MediaError(
            f"the preview mix could not be written ({exc})", path, "free some disk space"
        ) from exc
    finally:
        partial.unlink(missing_ok=True)


def duck_db(linear_gain: float) -> float:
    """A linear gain (e.g. :data:`MIX_DUCK_GAIN`) in dB for a :class:`MixTrack`."""
    return float(20.0 * np.log10(max(linear_gain, 1e-9)))
