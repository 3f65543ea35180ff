"""Run an iterator (a decoder, a converter) in a worker thread behind a bounded queue.

Decoding, face analysis and encoding spend their time in native code that releases the GIL
(FFmpeg, OpenCV, TFLite), so on two cores a decoder running one step ahead of its consumer
overlaps with it instead of taking turns. The queue is bounded, so memory stays at ``depth``
items whatever the clip's length.

Closing the returned generator (the consumer stops early, a cancel) stops the worker, drains the
queue and joins the thread, so the wrapped iterator's own ``finally`` (an open file, a decoder)
runs before ``close()`` returns. An exception raised by the iterator is re-raised in the
consumer at the point where the item that failed would have arrived.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Items decoded ahead by default (a 1080p BGR frame is 6 MB).
DEFAULT_DEPTH = 4

_DONE = object()


class _Failed:
    """An exception raised in the worker, carried to the consumer."""

    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(
    items: Iterable[T], depth: int = DEFAULT_DEPTH, name: str = "prefetch"
) -> Generator[T, None, None]:
    """Yield ``items`` in order while a worker thread produces up to ``depth`` ahead.

    Args:
        items: Any iterable; it is iterated (and, if it is a generator, closed) in the worker.
        depth: Most items waiting in the queue.
        name: The worker thread's name (shows in profiles and tracebacks).

    Yields:
        The items of ``items``, unchanged.

    Raises:
        Whatever iterating ``items`` raised, in the consumer.
    """
    return mapped(items, None, depth, name)


def mapped(
    items: Iterable[T],
    fn: Callable[[T], R] | None,
    depth: int = DEFAULT_DEPTH,
    name: str = "prefetch",
) -> Generator[R, None, None]:
    """Like :func:`prefetch`, applying ``fn`` to each item in the worker thread.

    Args:
        items: Any iterable.
        fn: Work done in the worker per item (None: the items themselves).
        depth: Most results waiting in the queue.
        name: The worker thread's name.

    Yields:
        ``fn(item)`` for each item, in order.
    """
    box: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
    stop = threading.Event()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                box.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put(item if fn is None else fn(item)):
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
            put(_Failed(exc))
            return
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
        put(_DONE)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return _consume(box, stop, thread)


def _consume(box: queue.Queue, stop: threading.Event, thread: threading.Thread) -> Generator:
    try:
        while True:
            value = box.get()
            if value is _DONE:
                return
            if isinstance(value, _Failed):
                raise value.exc
            yield value
    finally:
        stop.set()
        while thread.is_alive():
            try:
                box.get(timeout=0.05)  # unblock a worker waiting on a full queue
            except queue.Empty:
                pass
        thread.join()
