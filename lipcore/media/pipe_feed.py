"""Write frames into an encoder's stdin from a worker thread, behind a bounded queue.

A write into ffmpeg's pipe blocks whenever x264 is busy; done on the rendering thread, that
time is lost to rendering. Here a worker thread does the writes (which release the GIL), so the
next frame is rendered while the encoder takes the last one. At most ``depth`` frames wait.

A failed write (the encoder died, the disk is full) is kept and raised, as the original
``OSError``, by the next :meth:`PipeFeed.put` or by :meth:`PipeFeed.finish`.
"""

from __future__ import annotations

import queue
import threading
from typing import IO

#: Frames queued for the encoder at most (a 1080p YUV 4:4:4 frame is 6 MB).
DEFAULT_DEPTH = 3

_END = None


class PipeFeed:
    """A worker thread writing items (each a sequence of byte buffers) to ``pipe`` in order.

    Args:
        pipe: A binary file open for writing (a ``subprocess.Popen`` stdin).
        depth: Most buffers waiting.
    """

    def __init__(self, pipe: IO[bytes], depth: int = DEFAULT_DEPTH):
        self._pipe = pipe
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
        self._error: OSError | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._work, name="encode-feed", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            data = self._queue.get()
            if data is _END or self._stopped.is_set():
                return
            if self._error is not None:
                continue  # drain: the pipe is broken, nothing more can go in
            try:
                for part in data:
                    self._pipe.write(part)
            except OSError as exc:
                self._error = exc

    def put(self, data) -> None:
        """Queue one item, a sequence of buffers written in order (blocks while ``depth`` wait).

        Raises:
            OSError: An earlier write failed.
        """
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def finish(self) -> None:
        """Wait until every queued buffer is written.

        Raises:
            OSError: A write failed.
        """
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Drop what is queued and end the thread (the caller kills the encoder first, so a
        write blocked on a full pipe returns)."""
        self._stopped.set()
        while self._thread.is_alive():
            try:
                self._queue.put_nowait(_END)
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
            self._thread.join(timeout=0.05)
