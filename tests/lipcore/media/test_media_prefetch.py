"""The bounded worker-thread queue that decodes ahead: order, errors, early stop."""

from __future__ import annotations

import threading

import pytest

from lipcore.media.prefetch import mapped, prefetch


def test_items_arrive_in_order_from_a_worker_thread():
    seen_threads = set()

    def produce():
        for i in range(50):
            seen_threads.add(threading.current_thread().name)
            yield i

    assert list(prefetch(produce(), depth=3, name="t-prefetch")) == list(range(50))
    assert seen_threads == {"t-prefetch"}
    assert list(mapped(range(5), lambda x: x * x, depth=2)) == [0, 1, 4, 9, 16]


def test_an_error_arrives_where_the_failing_item_would_have():
    def produce():
        yield 1
        yield 2
        raise ValueError("bad frame 3")

    got = []
    with pytest.raises(ValueError, match="bad frame 3"):
        for x in prefetch(produce()):
            got.append(x)
    assert got == [1, 2]


def test_stopping_early_closes_the_source_and_ends_the_thread():
    closed = threading.Event()
    produced = []

    def produce():
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    before = threading.active_count()
    it = prefetch(produce(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()
    assert closed.is_set()  # the source's finally ran before close() returned
    assert threading.active_count() == before
    assert len(produced) <= 3 + 2 + 2  # bounded: only a queue's worth decoded ahead
