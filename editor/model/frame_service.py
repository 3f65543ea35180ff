"""Frames for the viewer, decoded where the caller says: a request/answer generator.

:func:`iter_frame_service` answers ``(path, frame, forget)`` requests sent into it with the
frame (BGR uint8, downscaled for display) or the reason there is none. The viewer's frame
server (:class:`editor.qt.viewer.frames.QtFrameServer`) runs it in the editor's "frames" worker
process (:class:`editor.model.job_process.JobProcess`), so decoding never holds the GUI's
GIL, or in its own thread where no process is wanted; the answers are the same.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

#: Decoders kept open at once (the clip, the result chunk, one more).
MAX_OPEN_READERS = 3


class FrameReader:
    """Random access to the frames of one video file on its exact frame grid.

    A thin wrapper over :class:`lipcore.media.decode.VideoReader` (frame-exact, rotation applied,
    sequential reads decode forward cheaply) that answers None past the end instead of raising.
    A rendered segment's chunk (``.lschunk``) reads as the clip with the chunk's pixels on top.

    Args:
        path: Video file or render chunk.
    """

    def __init__(self, path: str | Path):
        from lipcore.media.decode import VideoReader
        from lipcore.render.chunks import ChunkVideo, is_chunk

        self.path = Path(path)
        self._is_chunk = is_chunk(self.path)
        self._reader = ChunkVideo(self.path) if self._is_chunk else VideoReader(self.path)
        self.frame_count = self._reader.frame_count

    def read(self, frame: int) -> np.ndarray | None:
        """Return frame ``frame`` (BGR uint8), or None outside the clip."""
        if self.frame_count == 1 and frame > 0 and not self._is_chunk:
            frame = 0  # a still image: its one picture stands for the whole clip
        if not 0 <= frame < self.frame_count:
            return None
        return self._reader.read(frame)

    def close(self) -> None:
        """Release the decoder."""
        self._reader.close()


def iter_frame_service(
    max_side: int,
) -> Generator[tuple[str, Any] | None, tuple[Path, int, Path | None] | None, None]:
    """Answer frame requests sent in, until closed.

    Prime it with ``next()`` (it yields None), then ``send((path, frame, forget))``: ``forget``,
    when not None, is a file whose open decoder is dropped first (it was re-rendered).

    Args:
        max_side: Frames whose longest side is larger are downscaled to it (area filter).

    Yields:
        ``("frame", np_bgr)`` (a copy the caller owns) or ``("failed", reason)``.
    """
    import cv2

    readers: OrderedDict[Path, FrameReader] = OrderedDict()
    answer: tuple[str, Any] | None = None
    try:
        while True:
            request = yield answer
            if request is None:
                answer = None
                continue
            path, frame, forget = request
            if forget is not None and forget in readers:
                readers.pop(forget).close()
            try:
                reader = readers.pop(path, None) or FrameReader(path)
                readers[path] = reader
                while len(readers) > MAX_OPEN_READERS:
                    readers.popitem(last=False)[1].close()
                np_bgr = reader.read(frame)
            except Exception as exc:  # noqa: BLE001 - reported to the viewer, service lives on
                answer = ("failed", str(exc))
                continue
            if np_bgr is None:
                answer = ("failed", "past the end of the file")
                continue
            h, w = np_bgr.shape[:2]
            scale = max_side / max(h, w)
            if scale < 1:
                size = (round(w * scale), round(h * scale))
                np_bgr = cv2.resize(np_bgr, size, interpolation=cv2.INTER_AREA)
            else:
                np_bgr = np_bgr.copy()  # the reader may hand out the same array again
            answer = ("frame", np_bgr)
    finally:
        for reader in readers.values():
            reader.close()
