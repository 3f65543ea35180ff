"""The worker layer: generators closed in their own thread, stale renders replaced, pausing."""

from __future__ import annotations

import os
import threading
import time

from editor.qt.workers import QtBackgroundQueue, QtRenderQueue, await_all_workers


def _steps(n: int, log: list, delay_sec: float = 0.02, result: str = "done"):
    """A lipcore-style generator: yields progress numbers, returns a result, cleans up."""
    try:
        for i in range(n):
            time.sleep(delay_sec)
            yield i
        return result
    finally:
        log.append(("closed", threading.get_ident()))


def test_cancelled_generator_is_closed_in_the_worker_thread(qtbot):
    queue = QtRenderQueue()
    log: list = []
    # Wait for a step so the generator is inside its try block when it is cancelled.
    with qtbot.waitSignal(queue.job_progressed, timeout=5000):
        queue.request("seg-1", "h1", lambda: _steps(500, log), "Segment 1")
    with qtbot.waitSignal(queue.job_cancelled, timeout=5000) as cancelled:
        queue.cancel("seg-1")
    assert cancelled.args[0] == "seg-1"
    assert log and log[0][0] == "closed"
    assert log[0][1] != threading.get_ident(), "the generator's finally ran in the GUI thread"
    assert not queue.busy
    await_all_workers()


def test_render_queue_runs_one_job_at_a_time_and_replaces_stale_requests(qtbot):
    queue = QtRenderQueue()
    log: list = []
    finished: list = []
    queue.job_finished.connect(
        lambda key, job, result: finished.append((key, job.params_hash, result))
    )
    queue.request("seg-1", "a", lambda: _steps(5, log, result="r1"))
    queue.request("seg-2", "b", lambda: _steps(5, log, result="stale"))
    # A newer request for the waiting segment replaces it in place: only "c" renders.
    queue.request("seg-2", "c", lambda: _steps(5, log, result="fresh"))
    assert [j.params_hash for j in queue.model.queued] == ["c"]
    qtbot.waitUntil(lambda: len(finished) == 2 and not queue.busy, timeout=10000)
    assert finished == [("seg-1", "a", "r1"), ("seg-2", "c", "fresh")]
    await_all_workers()


def test_new_request_for_the_running_segment_aborts_it(qtbot):
    queue = QtRenderQueue()
    log: list = []
    finished: list = []
    queue.job_finished.connect(lambda key, job, result: finished.append(result))
    with qtbot.waitSignal(queue.job_started, timeout=5000):
        queue.request("seg-1", "old", lambda: _steps(500, log, result="old"))
    queue.request("seg-1", "new", lambda: _steps(3, log, result="new"))
    qtbot.waitUntil(lambda: finished == ["new"] and not queue.busy, timeout=10000)
    await_all_workers()


def test_failed_job_reports_the_exception(qtbot):
    queue = QtRenderQueue()

    def broken():
        yield 0
        raise ValueError("engine exploded")

    with qtbot.waitSignal(queue.job_failed, timeout=5000) as failed:
        queue.request("seg-1", "h", broken)
    assert "engine exploded" in str(failed.args[2])
    await_all_workers()


def test_background_queue_waits_while_paused(qtbot):
    queue = QtBackgroundQueue()
    results: list = []
    queue.job_finished.connect(lambda kind, key, result: results.append(key))
    queue.pause()
    queue.submit("waveform", "t1", lambda: _steps(2, [], result="w"))
    qtbot.wait(200)
    assert results == [], "a paused queue must not start jobs"
    queue.resume()
    qtbot.waitUntil(lambda: results == ["t1"], timeout=5000)
    # Same (kind, key) twice while waiting: one job.
    queue.pause()
    queue.submit("thumbnails", "clip", lambda: _steps(2, [], result="a"))
    queue.submit("thumbnails", "clip", lambda: _steps(2, [], result="b"))
    assert len(queue.model.queued) == 1
    queue.resume()
    qtbot.waitUntil(lambda: results == ["t1", "clip"], timeout=5000)
    await_all_workers()


def _voluntary_switches(native_id: int) -> int:
    with open(f"/proc/self/task/{native_id}/status") as fh:
        for line in fh:
            if line.startswith("voluntary_ctxt_switches"):
                return int(line.split()[1])
    raise AssertionError("no context-switch count")


def test_a_paused_worker_sleeps_until_resumed_and_then_finishes(qtbot):
    import pytest

    from editor.qt.workers import LipcoreWorker

    if not os.path.exists(f"/proc/self/task/{threading.get_native_id()}/status"):
        pytest.skip("needs Linux /proc")
    tid: list[int] = []
    go = threading.Event()

    def job():
        tid.append(threading.get_native_id())
        yield 0
        go.wait(5)
        yield 1
        yield 2
        return "done"

    seen: list = []
    worker = LipcoreWorker(job)
    worker.yielded.connect(seen.append)
    worker.start()
    qtbot.waitUntil(lambda: bool(tid), timeout=5000)
    worker.pause()
    go.set()
    qtbot.waitUntil(lambda: worker.is_paused, timeout=5000)
    # Paused, the thread must sleep: superqt's own loop wakes every 10 ms (50 in half a second),
    # each wake a take of the GIL that can stall the GUI thread on a loaded machine.
    before = _voluntary_switches(tid[0])
    time.sleep(0.5)
    assert _voluntary_switches(tid[0]) - before <= 3
    assert seen == [0, 1]  # the step running when pause was asked for ends, then it holds
    started = time.monotonic()
    with qtbot.waitSignal(worker.returned, timeout=5000) as returned:
        worker.resume()
    assert time.monotonic() - started < LipcoreWorker.PAUSED_WAKE_SEC, "resume did not wake it"
    assert returned.args == ["done"]
    qtbot.waitUntil(lambda: seen == [0, 1, 2], timeout=2000)
    await_all_workers()


def test_quit_wakes_a_paused_worker(qtbot):
    from editor.qt.workers import LipcoreWorker

    entered, closed = threading.Event(), threading.Event()

    def job():
        try:
            while True:
                entered.set()
                yield 0
                time.sleep(0.01)
        finally:
            closed.set()

    worker = LipcoreWorker(job)
    worker.start()
    assert entered.wait(5), "the job never started"  # inside the generator's try block now
    worker.pause()
    qtbot.waitUntil(lambda: worker.is_paused, timeout=5000)
    started = time.monotonic()
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.quit()
    assert time.monotonic() - started < LipcoreWorker.PAUSED_WAKE_SEC
    assert closed.wait(2), "the generator was not closed"
    await_all_workers()
