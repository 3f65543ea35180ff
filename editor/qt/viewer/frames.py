"""Frame-exact decoding for the viewer, off the GUI thread, newest request wins.

The viewer asks for "frame N of file F" under a source key ("original", "result"); a background
thread decodes it (reading on sequentially when N follows the last frame, seeking otherwise) and
hands back a BGR array through a queued signal. While the user scrubs, requests pile up faster
than frames decode: only the newest request per key is served, so the picture follows the mouse
instead of lagging behind a queue. The decoding itself is
:func:`editor.model.frame_service.iter_frame_service`, run in the editor's "frames" worker
process when the server is given one (so it never holds the GUI's GIL), else in the thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from editor.model.frame_service import iter_frame_service

__all__ = ["DISPLAY_MAX_SIDE", "QtFrameServer", "bgr_to_qimage"]

#: Frames larger than this (longest side) are downscaled for display; boxes use source pixels.
DISPLAY_MAX_SIDE = 1280


def bgr_to_qimage(np_bgr: np.ndarray) -> QImage:
    """Copy a BGR uint8 frame into a QImage (GUI thread only, per STYLE.md section 4)."""
    np_rgb = np.ascontiguousarray(np_bgr[..., ::-1])
    h, w = np_rgb.shape[:2]
    return QImage(np_rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class QtFrameServer(QObject):
    """Decodes requested frames in a background thread and emits them to the GUI thread.

    Args:
        parent: Owner.
        process: A :class:`editor.model.job_process.JobProcess` that decodes (the thread then
            only waits for its answers); None decodes in the thread.

    Signals:
        frame_decoded(str source_key, int frame, object np_bgr): the frame, possibly downscaled.
    """

    frame_decoded = Signal(str, int, object)
    decode_failed = Signal(str, int, str)

    def __init__(self, parent: QObject | None = None, process: Any = None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._wanted: dict[str, tuple[Path, int]] = {}
        self._stop = False
        self._forget_path: Path | None = None
        self._process = process
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

    def _service(self) -> Any:
        """A primed frame service: in the worker process when there is one (and another
        window's server is not using it), else in this thread."""
        if self._process is not None and not self._process.busy:
            from editor.model.job_process import ProcessCall

            service = self._process.iter_run(ProcessCall(iter_frame_service, (DISPLAY_MAX_SIDE,)))
        else:
            service = iter_frame_service(DISPLAY_MAX_SIDE)
        next(service)
        return service

    def _run(self) -> None:
        service = None
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
                try:
                    if service is None:
                        service = self._service()
                    kind, value = service.send((path, frame, forget))
                except Exception as exc:  # noqa: BLE001 - the process died: a new one next time
                    service = None
                    self.decode_failed.emit(key, frame, str(exc))
                    continue
                if kind == "frame":
                    self.frame_decoded.emit(key, frame, value)
                else:
                    self.decode_failed.emit(key, frame, value)
        finally:
            if service is not None:
                service.close()
