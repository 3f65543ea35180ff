"""Per-frame work of a batch on the machine's cores: one small thread pool for the renderer.

The retime engine's per-frame compositing (a library face warped, morphed and blended) is
independent from frame to frame and spends its time in OpenCV and NumPy calls that release the
GIL, so a batch's frames are spread over a few threads; results keep the batch's order, and
every frame is computed exactly as it would be alone. (The pastes run in the pipeline's own
compositor thread, overlapping the engine's next batch.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Threads for per-frame work (the cores, at most 4: beyond that the memory bandwidth binds).
FRAME_THREADS = max(1, min(4, os.cpu_count() or 1))

_pool: ThreadPoolExecutor | None = None
_lock = Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(FRAME_THREADS, thread_name_prefix="lipsync-frame")
        return _pool


def map_frames(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(x) for x in items]``, the calls spread over :data:`FRAME_THREADS` threads.

    Args:
        fn: A function of one frame's inputs that touches no shared mutable state.
        items: The frames' inputs.

    Returns:
        The results in the order of ``items`` (the first exception is raised).
    """
    work = list(items)
    if FRAME_THREADS <= 1 or len(work) <= 1:
        return [fn(x) for x in work]
    return list(_executor().map(fn, work))


__all__ = ["FRAME_THREADS", "map_frames"]
