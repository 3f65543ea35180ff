"""The render preload runs in the process that renders, before anything is rendered.

The first re-render of a session used to pay its one-time imports and kernels while the user
waited. The editor renders in a worker process (:mod:`editor.model.job_process`), so the
preload must load them *there*: :meth:`JobProcess.warm_up` has the child run
:func:`lipcore.render.preload.preload_render` before its first job. What it loaded is seen from
outside in the child's memory map (SciPy's Qhull library, which the morph's triangulation
loads and nothing else a fresh worker does).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from editor.model.job_process import JobProcess, ProcessCall
from editor.qt.derived import iter_thumbnails
from lipcore.render.preload import preload_render

pytestmark = pytest.mark.skipif(os.name != "posix", reason="worker processes are POSIX-only")


def _has_qhull(pid: int) -> bool:
    return "_qhull" in Path(f"/proc/{pid}/maps").read_text()


def _run(process: JobProcess, call: ProcessCall):
    gen = process.iter_run(call)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def test_warm_up_loads_the_renderer_in_the_child_and_it_serves_jobs_after(clip_3s):
    warmed, plain = JobProcess("lipsync-test-warm"), JobProcess("lipsync-test-plain")
    try:
        # A worker that only ran a job of its own has not loaded the render's libraries.
        thumbs = ProcessCall(iter_thumbnails, (clip_3s,), {"count": 1, "height_px": 32})
        assert len(_run(plain, thumbs)) == 1
        assert not _has_qhull(plain.pid)
        assert warmed.warm_up(ProcessCall(preload_render))
        pid = warmed.pid
        assert pid is not None and pid != os.getpid()
        deadline = time.monotonic() + 120
        while not _has_qhull(pid):
            assert time.monotonic() < deadline, "the warm-up never loaded the morph's library"
            time.sleep(0.2)
        # The same child then runs jobs as before.
        assert len(_run(warmed, thumbs)) == 1
        assert warmed.pid == pid
    finally:
        warmed.close()
        plain.close()


def test_opening_a_clip_starts_the_render_process_before_any_render(opened, qtbot):
    process = opened.render_queue.process
    assert process is not None
    qtbot.waitUntil(lambda: process.pid is not None, timeout=30000)
    qtbot.waitUntil(lambda: _has_qhull(process.pid), timeout=120000)
    assert opened.render_queue.busy is False  # nothing was rendered to get there
