"""Decoded mono audio kept in an unlinked temporary file and read in windows.

A 30-minute dub is 115 MB of float32 samples at 16 kHz, and so is the clip's own sound; a
render needs only a window of either at a time (a segment's features, a block of frames'
spectra). :class:`SampleFile` decodes a file once, block by block (:func:`~lipcore.media.audio.
iter_audio`), into a temporary file and hands out slices of it, so the samples are never held
whole. It looks enough like a 1-D float32 array (``len``, ``shape``, slicing, ``np.asarray``) for
code written for arrays; :func:`iter_blocks` and :func:`has_sound` read either kind in blocks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lipcore.media.probe import MediaInfo, probe

#: Samples read at a time by :func:`iter_blocks` (16 s at 16 kHz).
BLOCK_SAMPLES = 1 << 18


class SampleFile:
    """Read-only mono float32 samples stored in a temporary file (unlinked: gone with it).

    Attributes:
        sample_rate: Rate of the samples in Hz.
    """

    dtype = np.dtype(np.float32)
    ndim = 1

    def __init__(self, blocks: Iterator[np.ndarray], sample_rate: int):
        """Write ``blocks`` (1-D float32, in order) to the file.

        Where no temporary file can be written (a full disk, a file-size limit), the samples
        are kept in memory instead, as an array would hold them: the render goes on, and a
        full disk is reported by the write that needs the disk (the output, the cache).
        """
        self.sample_rate = int(sample_rate)
        self._memory: np.ndarray | None = None
        self._file = None
        blocks = iter(blocks)
        data = np.zeros(0, np.float32)  # the block being written
        done = 0  # its bytes on disk
        on_disk = 0  # samples of the blocks before it on disk
        try:
            # Unbuffered: what a failed write left on disk is exactly what was written.
            self._file = tempfile.TemporaryFile(prefix="lipsync-samples-", buffering=0)
            for block in blocks:
                data, done = np.ascontiguousarray(block, "<f4").reshape(-1), 0
                raw = memoryview(data).cast("B")
                while done < len(raw):
                    done += self._file.write(raw[done:])
                on_disk += len(data)
                data, done = np.zeros(0, np.float32), 0
            self._len = on_disk
        except OSError:
            kept = on_disk + done // 4 if self._file is not None else 0
            head = self._pread(0, kept) if kept else np.zeros(0, np.float32)
            if self._file is not None:
                self._file.close()
                self._file = None
            rest = [np.asarray(b, np.float32).reshape(-1) for b in blocks]
            self._memory = np.concatenate([head, data[done // 4 :], *rest]).astype(np.float32)
            self._len = len(self._memory)

    def __len__(self) -> int:
        return self._len

    @property
    def shape(self) -> tuple[int]:
        """``(n,)``, as an array's."""
        return (self._len,)

    @property
    def size(self) -> int:
        """Number of samples."""
        return self._len

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start .. stop`` (clipped to the file) as a new float32 array."""
        start, stop = max(0, int(start)), min(self._len, int(stop))
        if stop <= start:
            return np.zeros(0, np.float32)
        if self._memory is not None:
            return self._memory[start:stop].copy()
        return self._pread(start, stop)

    def _pread(self, start: int, stop: int) -> np.ndarray:
        data = os.pread(self._file.fileno(), 4 * (stop - start), 4 * start)
        return np.frombuffer(data, "<f4").astype(np.float32)

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self._len)
            if step == 1:
                return self.read(start, stop)
        elif isinstance(key, (int, np.integer)):
            i = int(key) + (self._len if key < 0 else 0)
            if not 0 <= i < self._len:
                raise IndexError(f"sample {key} outside 0..{self._len - 1}")
            return self.read(i, i + 1)[0]
        return np.asarray(self)[key]

    def __array__(self, dtype=None, copy=None):
        """All samples (for code that needs the whole track at once)."""
        out = self.read(0, self._len)
        return out if dtype is None else out.astype(dtype)

    def close(self) -> None:
        """Remove the file now (it also goes when the object does)."""
        if self._file is not None:
            self._file.close()

    def __del__(self):
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()


def iter_blocks(samples, block: int = BLOCK_SAMPLES) -> Iterator[np.ndarray]:
    """``samples`` (an array or a :class:`SampleFile`) as float32 blocks in order."""
    for a in range(0, len(samples), block):
        yield np.asarray(samples[a : a + block], np.float32)


def has_sound(samples) -> bool:
    """Whether any sample is not zero (``np.any``, read block by block)."""
    if samples is None:
        return False
    return any(bool(np.any(b)) for b in iter_blocks(samples))


def speech_file(path: str | Path, sample_rate: int, info: MediaInfo | None = None) -> SampleFile:
    """:func:`lipcore.render.mix.load_speech` (mono) into a :class:`SampleFile`: same samples.

    Args:
        path: Audio file, or a video file whose audio plays on its picture's clock.
        sample_rate: Rate in Hz.
        info: Its :class:`MediaInfo` when already probed.

    Returns:
        The samples.
    """
    from lipcore.media.audio import audio_lead_sec, iter_audio

    info = info if info is not None else probe(path)
    blocks = iter_audio(path, sample_rate, True, info)
    if info.video is None or info.audio is None:
        return SampleFile(blocks, sample_rate)
    # < 0: the audio starts first, its head is dropped
    shift = int(round(audio_lead_sec(info) * sample_rate))
    return SampleFile(_placed(blocks, max(0, -shift), max(0, shift), None), sample_rate)


def clip_file(path: str | Path, sample_rate: int, info: MediaInfo | None = None) -> SampleFile:
    """:func:`lipcore.media.audio.clip_audio` (mono) into a :class:`SampleFile`: same samples.

    Raises:
        MediaError: No video stream or no audio stream.
    """
    from lipcore.media.audio import clip_audio_placement, iter_audio

    info = info if info is not None else probe(path)
    head, start, total = clip_audio_placement(info, sample_rate)
    blocks = iter_audio(path, sample_rate, True, info)
    return SampleFile(_placed(blocks, head, start, total), sample_rate)


def _placed(
    blocks: Iterator[np.ndarray], head: int, lead_zeros: int, total: int | None
) -> Iterator[np.ndarray]:
    """Drop ``head`` samples, put ``lead_zeros`` of silence first, pad or cut to ``total``."""
    n = 0

    def emit(block: np.ndarray) -> Iterator[np.ndarray]:
        nonlocal n
        if total is not None:
            block = block[: max(0, total - n)]
        if len(block):
            n += len(block)
            yield block

    yield from emit(np.zeros(lead_zeros, np.float32))
    for block in blocks:
        if head:
            drop = min(head, len(block))
            head -= drop
            block = block[drop:]
        yield from emit(block)
    while total is not None and n < total:
        yield from emit(np.zeros(min(BLOCK_SAMPLES, total - n), np.float32))
