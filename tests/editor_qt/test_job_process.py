"""Jobs in the editor's worker process: progress, results, errors and cancels reach the GUI.

Each test drives a real lipcore generator (thumbnails, face tracking) on the real 3-s clip in
a real child process (:class:`editor.model.job_process.JobProcess`) through the Qt queues the
main window uses, under pytest-qt's event loop.
"""

from __future__ import annotations

import os
import signal

import pytest

from editor.model.job_process import JobProcess, ProcessCall
from editor.qt.derived import iter_thumbnails
from editor.qt.workers import QtBackgroundQueue, QtRenderQueue, await_all_workers
from lipcore.face.track import iter_track_faces


@pytest.fixture
def process():
    proc = JobProcess("lipsync-test")
    yield proc
    await_all_workers()
    proc.close()


def test_progress_and_result_of_a_job_in_the_process_reach_the_gui(qtbot, process, clip_3s):
    queue = QtBackgroundQueue(process=process)
    progressed, finished = [], []
    queue.job_progressed.connect(lambda kind, key, p: progressed.append((p.done, p.total)))
    queue.job_finished.connect(lambda kind, key, result: finished.append(result))
    call = ProcessCall(iter_thumbnails, (clip_3s,), {"count": 6, "height_px": 48})
    queue.submit("thumbnails", "clip", call)
    qtbot.waitUntil(lambda: bool(finished), timeout=60000)
    assert process.pid is not None and process.pid != os.getpid()
    assert progressed == [(i, 6) for i in range(1, 7)]
    thumbs = finished[0]
    assert [frame for frame, _ in thumbs] == [0, 15, 30, 44, 59, 74]
    assert all(img.shape[0] == 48 and img.dtype.name == "uint8" for _, img in thumbs)
    assert thumbs[2][1].std() > 10  # a picture, not a blank


def test_a_missing_file_fails_with_the_clear_message(qtbot, process, tmp_path):
    queue = QtRenderQueue(process=process)
    missing = tmp_path / "gone.mp4"
    with qtbot.waitSignal(queue.job_failed, timeout=60000) as failed:
        queue.request("seg-1", "h", ProcessCall(iter_thumbnails, (missing,)))
    from lipcore.errors import MediaError

    exc = failed.args[2]
    assert isinstance(exc, MediaError)
    assert "gone.mp4" in str(exc) and exc.fix


def test_cancel_stops_the_job_and_the_process_serves_the_next(qtbot, process, clip_3s):
    queue = QtRenderQueue(process=process)
    finished, cancelled = [], []
    queue.job_finished.connect(lambda key, job, result: finished.append(result))
    queue.job_cancelled.connect(lambda key, job: cancelled.append(key))
    queue.request("warm-up", "w", ProcessCall(iter_thumbnails, (clip_3s,), {"count": 1}))
    qtbot.waitUntil(lambda: bool(finished), timeout=60000)
    pid = process.pid
    faces = ProcessCall(iter_track_faces, (clip_3s,), {"use_cache": False})
    # Cancelled inside a step (the tracker still loading its models): the step is interrupted.
    with qtbot.waitSignal(queue.job_started, timeout=10000):
        queue.request("seg-1", "a", faces)
    qtbot.wait(300)
    queue.cancel("seg-1")
    qtbot.waitUntil(lambda: cancelled == ["seg-1"] and not queue.busy, timeout=30000)
    # Cancelled between two steps: the generator is closed in the process.
    with qtbot.waitSignal(queue.job_progressed, timeout=120000):
        queue.request("seg-1", "b", faces)
    queue.cancel("seg-1")
    qtbot.waitUntil(lambda: cancelled == ["seg-1"] * 2 and not queue.busy, timeout=30000)
    assert len(finished) == 1  # the warm-up only
    assert process.pid == pid, "a cancel kept the process (and its warm state)"
    # The same process runs the next job to its end.
    queue.request("seg-2", "c", ProcessCall(iter_thumbnails, (clip_3s,), {"count": 3}))
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=60000)
    assert len(finished[1]) == 3 and process.pid == pid


def test_a_process_that_dies_is_reported_and_replaced(qtbot, process, clip_3s):
    queue = QtRenderQueue(process=process)
    failed, finished = [], []
    queue.job_failed.connect(lambda key, job, exc: failed.append(exc))
    queue.job_finished.connect(lambda key, job, result: finished.append(result))
    faces = ProcessCall(iter_track_faces, (clip_3s,), {"use_cache": False})
    with qtbot.waitSignal(queue.job_progressed, timeout=120000):
        queue.request("seg-1", "a", faces)
    os.kill(process.pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    qtbot.waitUntil(lambda: bool(failed), timeout=30000)
    assert "worker process" in str(failed[0]) and "stopped" in str(failed[0])
    queue.request("seg-2", "b", ProcessCall(iter_thumbnails, (clip_3s,), {"count": 2}))
    qtbot.waitUntil(lambda: bool(finished), timeout=60000)
    assert len(finished[0]) == 2


def test_the_job_sees_the_cache_folder_set_after_the_process_started(
    qtbot, process, clip_3s, tmp_path, monkeypatch
):
    queue = QtBackgroundQueue(process=process)
    done = []
    queue.job_finished.connect(lambda kind, key, result: done.append(result))
    queue.submit("thumbnails", "warm-up", ProcessCall(iter_thumbnails, (clip_3s,), {"count": 1}))
    qtbot.waitUntil(lambda: bool(done), timeout=60000)
    monkeypatch.setenv("LIPSYNC_CACHE_DIR", str(tmp_path / "later-cache"))
    queue.submit("faces", "clip", ProcessCall(iter_track_faces, (clip_3s,)))
    qtbot.waitUntil(lambda: len(done) == 2, timeout=180000)
    assert done[1].tracks, "the real clip's face was tracked"
    assert list((tmp_path / "later-cache").rglob("*")), "the tracks were cached where asked"


def _session_identity(warm=None):
    """A job reporting which process ran it and which warm state it was given."""
    yield 0
    return os.getpid(), id(warm), type(warm).__name__


def _drain(gen):
    """The generator's yields, then its return value."""
    try:
        while True:
            yield next(gen)
    except StopIteration as stop:
        yield stop.value


def test_jobs_in_the_process_share_its_own_warm_state(qtbot, process):
    from lipcore.render.warm import WarmState

    mine = WarmState()
    call = ProcessCall(_session_identity, (), {"warm": mine}, session=("warm",))
    here = list(_drain(call()))[-1]  # run in this process: the caller's own warm state
    assert here == (os.getpid(), id(mine), "WarmState")
    queue = QtRenderQueue(process=process)
    results = []
    queue.job_finished.connect(lambda key, job, result: results.append(result))
    queue.request("seg-1", "a", call)
    queue.request("seg-2", "b", call)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=60000)
    (pid1, warm1, kind1), (pid2, warm2, kind2) = results
    assert pid1 == pid2 == process.pid != os.getpid()
    assert kind1 == kind2 == "WarmState" and warm1 == warm2, "one warm state serves every job"


def test_the_viewer_frames_decoded_in_the_process_are_the_clip_s_frames(qtbot, process, clip_3s):
    import numpy as np

    from editor.model.frame_service import FrameReader
    from editor.qt.viewer.frames import QtFrameServer

    server = QtFrameServer(process=process)
    try:
        with qtbot.waitSignal(server.frame_decoded, timeout=60000) as decoded:
            server.request("original", clip_3s, 30)
        assert process.busy and process.pid != os.getpid()  # served by the worker process
        key, frame, np_bgr = decoded.args
        reader = FrameReader(clip_3s)
        try:
            assert (key, frame) == ("original", 30)
            assert np.array_equal(np_bgr, reader.read(30)), "the same pixels as decoded here"
        finally:
            reader.close()
        with qtbot.waitSignal(server.decode_failed, timeout=30000) as failed:
            server.request("original", clip_3s, 10_000)
        assert "past the end" in failed.args[2]
    finally:
        server.close()
    assert not process.busy
