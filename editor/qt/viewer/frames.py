"""Frame-exact decoding for the viewer, off the GUI thread, newest request wins.

The viewer asks for "frame N of file F" under a source key ("original", "result"); a background
thread decodes it (reading on sequentially when N follows the last frame, seeking otherwise) and
hands back a BGR array through a queued signal. While the user scrubs, requests pile up faster
than frames decode: only the newest request per key is served, so the picture follows the mouse
instead of lagging behind a queue.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

#: Frames larger than this (longest side) are downscaled for display; boxes use source pixels.
DISPLAY_MAX_SIDE = 1280


def bgr_to_qimage(np_bgr: np.ndarray) -> QImage:
    """Copy a BGR uint8 frame into a QImage (GUI thread only, per STYLE.md section 4)."""
    np_rgb = np.ascontiguousarray(np_bgr[..., ::-1])
    h, w = np_rgb.shape[:2]
    return QImage(np_rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


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


class QtFrameServer(QObject):
    """Decodes requested frames in a background thread and emits them to the GUI thread.

    Signals:
        frame_decoded(str source_key, int frame, object np_bgr): the frame, possibly downscaled.
    """

    frame_decoded = Signal(str, int, object)
    decode_failed = Signal(str, int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._wanted: dict[str, tuple[Path, int]] = {}
        self._stop = False
        self._forget_path: Path | None = None
        self._readers: OrderedDict[Path, FrameReader] = OrderedDict()
        self._thread = threading.Thread(target=self._run, name="frame-server", daemon=True)
        self._thread.start()

    def request(self, source_key: str, path: str | Path, frame: int) -> None:
        """Ask for ``frame`` of ``path``; replaces the pending request of ``source_key``."""
        with self._cond:
            self._wanted[source_key] = (Path(path), int(frame))
            self._cond.notify()

    def forget(self, path: str | Path) -> None:
        """Drop the open decoder of ``path`` (the file was re-rendered)."""
        with self._cond:
            self._forget_path = Path(path)

    def close(self) -> None:
        """Stop the thread and release decoders (waits for the frame being decoded)."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _reader(self, path: Path) -> FrameReader:
        reader = self._readers.pop(path, None)
        if reader is None:
            reader = FrameReader(path)
        self._readers[path] = reader
        while len(self._readers) > 3:
            _, old = self._readers.popitem(last=False)
            old.close()
        return reader

    def _run(self) -> None:
        import cv2

        try:
            while True:
                with self._cond:
                    while not self._wanted and not self._stop:
                        self._cond.wait()
                    if self._stop:
                        return
                    key = next(iter(self._wanted))
                    path, frame = self._wanted.pop(key)
                    forget, self._forget_path = self._forget_path, None
                if forget is not None and forget in self._readers:
                    self._readers.pop(forget).close()
                try:
                    np_bgr = self._reader(path).read(frame)
                except Exception as exc:  # noqa: BLE001 - reported to the GUI, thread lives on
                    self.decode_failed.emit(key, frame, str(exc))
                    continue
                if np_bgr is None:
                    self.decode_failed.emit(key, frame, "past the end of the file")
                    continue
                h, w = np_bgr.shape[:2]
                scale = DISPLAY_MAX_SIDE / max(h, w)
                if scale < 1:
                    size = (round(w * scale), round(h * scale))
                    np_bgr = cv2.resize(np_bgr, size, interpolation=cv2.INTER_AREA)
                else:
                    np_bgr = np_bgr.copy()  # the reader may hand out the same array again
                self.frame_decoded.emit(key, frame, np_bgr)
        finally:
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()
