"""Background jobs for the editor: lipcore generators run in superqt workers, results via signals.

Threading rules (STYLE.md section 4):

- The GUI thread owns widgets, the document and the undo log. Workers only run a lipcore generator
  and report through Qt signals (queued across threads), never touching a widget.
- :class:`LipcoreWorker` closes its generator *in the worker thread* once it stops, so the
  generator's ``finally`` blocks (ffmpeg pipes, temp files) run where the generator ran.
- :class:`QtRenderQueue` runs the jobs of the Qt-free :class:`editor.model.jobs.RenderQueue` one
  at a time: a new request for a waiting segment replaces the stale one, a new request for the
  running segment aborts it.
- :class:`QtBackgroundQueue` runs :class:`editor.model.jobs.BackgroundQueue` jobs (waveforms,
  thumbnails, face tracks) and is paused with :meth:`QtBackgroundQueue.paused` while a render
  runs or the user scrubs, so renders get the CPU.
- A queue made with a :class:`editor.model.job_process.JobProcess` runs the jobs whose factory
  is a :class:`~editor.model.job_process.ProcessCall` in that worker process: the worker thread
  then only waits on a pipe, so native code holding the GIL (FaceMesh, OpenCV, numba) never
  stalls the event loop. Cancelling such a job interrupts its step in the process. Other
  factories (lambdas) run in the thread as before.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import GeneratorWorker, WorkerBase

log = logging.getLogger(__name__)

#: Threads the editor needs at once: a render, a low-priority job, a spare for one-off jobs.
MIN_POOL_THREADS = 4
#: Longest the GUI thread waits for the GIL while a worker runs Python: every Qt call the GUI
#: makes (a paint is hundreds) hands the GIL over and takes it back, and a worker holding it
#: keeps it up to this long (CPython's default is 5 ms; bench/editor_stall.py measures the gaps).
GIL_SWITCH_INTERVAL_SEC = 0.001


def ensure_thread_pool() -> None:
    """Give the global pool enough threads that a render never starves the low-priority queue,
    and shorten the GIL switch interval so workers running Python do not stall the GUI."""
    if sys.getswitchinterval() > GIL_SWITCH_INTERVAL_SEC:
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_SEC)
    pool = QThreadPool.globalInstance()
    if pool.maxThreadCount() < MIN_POOL_THREADS:
        pool.setMaxThreadCount(MIN_POOL_THREADS)


class LipcoreWorker(GeneratorWorker):
    """A :class:`GeneratorWorker` that closes its generator in the worker thread and sleeps
    while paused.

    - superqt's worker stops iterating on :meth:`quit` but leaves the generator suspended; it
      would then be closed by the garbage collector in whatever thread drops the last reference,
      typically the GUI thread, running ffmpeg clean-up there. Closing it at the end of
      :meth:`work` keeps the clean-up in the worker thread and makes it happen right away.
    - superqt's paused worker polls every 10 ms (``time.sleep``), taking the GIL 100 times a
      second. On a loaded machine each take can hand the GIL to a thread that then waits for a
      core while the GUI thread waits for the GIL (``bench/editor_stall.py`` saw the GUI
      thread asleep on the GIL for 100+ ms at load 23). Here a paused worker blocks on an event
      that :meth:`resume` and :meth:`quit` set, so it takes the GIL only when it has work.
    """

    #: Longest a paused worker sleeps before it looks at its flags again (a safety net: resume
    #: and quit wake it at once).
    PAUSED_WAKE_SEC = 1.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._wake = threading.Event()

    def resume(self) -> None:
        """Ask the worker to resume (wakes it)."""
        super().resume()
        self._wake.set()

    def toggle_pause(self) -> None:
        """Pause a running worker, resume a paused one (wakes it)."""
        super().toggle_pause()
        self._wake.set()

    def quit(self) -> None:
        """Ask the worker to stop (wakes a paused one)."""
        super().quit()
        self._wake.set()

    def work(self) -> Any:
        try:
            return self._loop()
        finally:
            with contextlib.suppress(Exception):
                self._gen.close()

    def _loop(self) -> Any:
        """superqt's ``GeneratorWorker.work``, with the paused wait on :attr:`_wake`."""
        while True:
            if self.abort_requested:
                self.aborted.emit()
                return None
            if self._paused:
                self._wake.clear()  # before the flags: a resume from now on is not missed
                if self._resume_requested:
                    self._paused = False
                    self._resume_requested = False
                    self.resumed.emit()
                elif not self.abort_requested:
                    self._wake.wait(self.PAUSED_WAKE_SEC)
                    continue
                else:
                    continue
            elif self._pause_requested:
                self._paused = True
                self._pause_requested = False
                self.paused.emit()
                continue
            try:
                output = self._gen.send(self._next_value())
                self.yielded.emit(output)
            except StopIteration as exc:
                return exc.value
            except RuntimeError as exc:  # the worker was probably deleted (as superqt's)
                return exc


def _call_generator(factory: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """Create the lipcore generator inside the worker thread (its setup may do real work)."""
    return (yield from factory())


class _Relay(QObject):
    """Receives one worker's signals on behalf of a queue.

    Connecting worker signals to bound methods of a QObject (instead of bare lambdas) gives Qt
    a receiver: when the queue, and with it this child, is deleted (window closed), signals still
    in flight from the worker thread are dropped instead of calling into deleted objects.
    """

    def __init__(self, parent: QObject, on_yielded, on_returned, on_errored, on_finished):
        super().__init__(parent)
        self._callbacks = (on_yielded, on_returned, on_errored, on_finished)

    def yielded(self, value: Any) -> None:
        self._callbacks[0](value)

    def returned(self, value: Any) -> None:
        self._callbacks[1](value)

    def errored(self, exc: BaseException) -> None:
        self._callbacks[2](exc)

    def finished(self) -> None:
        callbacks, self._callbacks = self._callbacks, (None, None, None, None)
        self.deleteLater()
        if callbacks[3] is not None:
            callbacks[3]()


def _in_process(factory: Callable[[], Iterator[Any]], process: Any) -> bool:
    """Whether ``factory`` runs in ``process`` (a ProcessCall, and a process to run it)."""
    from editor.model.job_process import ProcessCall

    return process is not None and isinstance(factory, ProcessCall)


def start_worker(
    parent: QObject,
    factory: Callable[[], Iterator[Any]],
    on_yielded: Callable[[Any], None],
    on_returned: Callable[[Any], None],
    on_errored: Callable[[BaseException], None],
    on_finished: Callable[[], None],
    process: Any = None,
) -> LipcoreWorker:
    """Run ``factory``'s generator in a pooled worker thread (through ``process`` when it is a
    :class:`~editor.model.job_process.ProcessCall` and a worker process is given), its signals
    relayed to the callbacks on ``parent``'s (the GUI) thread; returns the started worker."""
    if _in_process(factory, process):
        factory = functools.partial(process.iter_run, factory)
    worker = LipcoreWorker(_call_generator, factory)
    relay = _Relay(parent, on_yielded, on_returned, on_errored, on_finished)
    worker.yielded.connect(relay.yielded)
    worker.returned.connect(relay.returned)
    worker.errored.connect(relay.errored)
    worker.finished.connect(relay.finished)
    worker.start()
    return worker


def _silence(worker: LipcoreWorker) -> None:
    """Abort ``worker`` and drop its connections: its last queued signals may arrive after the
    receiving queue object is deleted (window closed)."""
    worker.resume()
    worker.quit()
    for name in ("yielded", "returned", "errored", "finished"):
        with contextlib.suppress(RuntimeError, TypeError):
            getattr(worker.signals, name).disconnect()


class QtRenderQueue(QObject):
    """Runs :class:`editor.model.jobs.RenderQueue` jobs, one at a time, in a worker thread.

    The scheduling rules (replace a waiting request for the same segment, supersede a running
    one) live in the Qt-free model; this class only starts a worker for the job the model says
    is next and aborts the worker of a superseded or cancelled job.

    Args:
        parent: Owner of the queue.
        process: The worker process (:class:`editor.model.job_process.JobProcess`) that runs
            :class:`~editor.model.job_process.ProcessCall` jobs; None runs every job in a thread.

    Signals (first argument: the segment id, or the export key):
        job_queued(str, object job), job_started(str, object job),
        job_progressed(str, object progress), job_finished(str, object job, object result),
        job_failed(str, object job, object exception), job_cancelled(str, object job),
        busy_changed(bool).
    """

    job_queued = Signal(str, object)
    job_started = Signal(str, object)
    job_progressed = Signal(str, object)
    job_finished = Signal(str, object, object)
    job_failed = Signal(str, object, object)
    job_cancelled = Signal(str, object)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, process: Any = None):
        from editor.model.jobs import RenderQueue

        super().__init__(parent)
        self.process = process
        self._in_process = False
        self.model = RenderQueue()
        self.model.listeners.append(self._on_model_event)
        self._factories: dict[int, tuple[Callable[[], Iterator[Any]], str]] = {}
        self._labels: dict[int, str] = {}
        self._incoming: tuple[Callable[[], Iterator[Any]], str] | None = None
        self._worker: LipcoreWorker | None = None
        self._aborting = False
        self._closing = False
        self._was_busy = False

    @property
    def busy(self) -> bool:
        """Whether a job runs or waits."""
        return self.model.busy

    def label_of(self, job: Any) -> str:
        """The label a job was requested with."""
        return self._labels.get(job.job_id, job.segment_id)

    def request(
        self,
        segment_id: str,
        params_hash: str,
        factory: Callable[[], Iterator[Any]],
        label: str = "",
    ) -> Any:
        """Ask for a render; a waiting request for the same segment is replaced.

        Args:
            segment_id: The segment (or "export").
            params_hash: The parameters the generator renders.
            factory: Zero-argument callable returning the lipcore generator (called in the
                worker thread).
            label: Text for the job list.

        Returns:
            The :class:`editor.model.jobs.RenderJob` that will produce the result.
        """
        if self._closing:
            return None
        # The model announces the job (job_queued) from inside request(): the label must be
        # known before, so it is parked under the segment id until the job exists.
        self._incoming = (factory, label or segment_id)
        try:
            job = self.model.request(segment_id, params_hash)
        finally:
            self._incoming = None
        if job.state == "queued" and job.job_id not in self._factories:
            self._factories[job.job_id] = (factory, label or segment_id)
            self._labels[job.job_id] = label or segment_id
        self._start_next()
        self._check_busy()
        return job

    def cancel(self, segment_id: str) -> None:
        """Cancel the waiting and running job of a segment."""
        running = self.model.cancel(segment_id)
        if running is not None:
            self._abort()
        self._check_busy()

    def cancel_all(self) -> None:
        """Cancel every job."""
        if self.model.cancel_all() is not None:
            self._abort()
        self._check_busy()

    def shutdown(self) -> None:
        """Cancel everything; the caller then waits for the pool (:func:`await_all_workers`)."""
        self._closing = True
        self.cancel_all()
        if self._worker is not None:
            _silence(self._worker)
            if self._in_process:
                self.process.interrupt()

    def _abort(self) -> None:
        if self._worker is not None and not self._aborting:
            self._aborting = True
            self._worker.quit()
            if self._in_process:
                self.process.interrupt()  # stop the step the process is computing now

    def _on_model_event(self, event: str, job: Any) -> None:
        if event == "queued":
            if self._incoming is not None:
                self._factories[job.job_id] = self._incoming
                self._labels[job.job_id] = self._incoming[1]
            self.job_queued.emit(job.segment_id, job)
        elif event == "replaced" or event == "cancelled":
            self._factories.pop(job.job_id, None)
            self.job_cancelled.emit(job.segment_id, job)
        elif event == "superseded" and job is self.model.current:
            self._abort()

    def _start_next(self) -> None:
        if self._closing or self.model.current is not None:
            return
        job = self.model.start_next()
        if job is None:
            return
        factory, _label = self._factories.get(job.job_id, (None, ""))
        if factory is None:  # cannot happen through request(); keep the queue moving anyway
            self.model.finish(job, "cancelled")
            return self._start_next()
        self._aborting = False
        self._in_process = _in_process(factory, self.process)
        outcome: dict[str, Any] = {}
        self.job_started.emit(job.segment_id, job)
        self._worker = start_worker(
            self,
            factory,
            lambda value: (
                None if job.superseded else self.job_progressed.emit(job.segment_id, value)
            ),  # noqa: E501
            lambda value: outcome.setdefault("result", value),
            lambda exc: outcome.setdefault("error", exc),
            lambda: self._on_worker_finished(job, outcome),
            self.process,
        )

    def _on_worker_finished(self, job: Any, outcome: dict[str, Any]) -> None:
        self._worker = None
        self._aborting = False
        self._in_process = False
        self._factories.pop(job.job_id, None)
        if job.superseded or ("result" not in outcome and "error" not in outcome):
            self.model.finish(job, "cancelled")
            self.job_cancelled.emit(job.segment_id, job)
        elif "error" in outcome:
            exc = outcome["error"]
            self.model.finish(job, "failed", str(exc))
            log.warning("render of %s failed: %s", job.segment_id, exc)
            self.job_failed.emit(job.segment_id, job, exc)
        else:
            self.model.finish(job, "done")
            self.job_finished.emit(job.segment_id, job, outcome["result"])
        self._start_next()
        self._check_busy()

    def _check_busy(self) -> None:
        busy = self.model.busy
        if busy != self._was_busy:
            self._was_busy = busy
            self.busy_changed.emit(busy)


class QtBackgroundQueue(QObject):
    """Runs low-priority jobs (waveforms, thumbnails, face tracks) from
    :class:`editor.model.jobs.BackgroundQueue`, one at a time.

    :meth:`paused` holds the queue *and* pauses the running worker between two steps, so a
    render or a scrub gets the CPU.

    Args:
        parent: Owner of the queue.
        process: The worker process running :class:`~editor.model.job_process.ProcessCall`
            jobs (paused in step with the queue); None runs every job in a thread.

    Signals:
        job_finished(str kind, str key, object result), job_failed(str kind, str key, object exc),
        job_progressed(str kind, str key, object progress).
    """

    job_finished = Signal(str, str, object)
    job_failed = Signal(str, str, object)
    job_progressed = Signal(str, str, object)

    def __init__(self, parent: QObject | None = None, process: Any = None):
        from editor.model.jobs import BackgroundQueue

        super().__init__(parent)
        self.process = process
        self.model = BackgroundQueue(max_running=1)
        self.model.listeners.append(self._on_model_event)
        self._workers: dict[int, LipcoreWorker] = {}
        self._closing = False
        self._pause_stack: list[contextlib.ExitStack] = []

    def submit(
        self, kind: str, key: str, factory: Callable[[], Iterator[Any]], priority: int = 0
    ) -> None:
        """Queue a job unless the same ``(kind, key)`` waits or runs already."""
        if self._closing:
            return
        self.model.submit(kind, key, factory, priority)
        self._start_next()

    def discard(self, kind: str | None = None) -> None:
        """Drop waiting jobs (of one kind, or all)."""
        self.model.discard(kind)

    @property
    def is_paused(self) -> bool:
        """Whether the queue is held."""
        return self.model.is_paused

    def pause(self) -> None:
        """Hold the queue until :meth:`resume` (nests)."""
        stack = contextlib.ExitStack()
        stack.enter_context(self.model.paused())
        self._pause_stack.append(stack)

    def resume(self) -> None:
        """Undo one :meth:`pause`."""
        if self._pause_stack:
            self._pause_stack.pop().close()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the queue (and the running job) for a ``with`` block."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def shutdown(self) -> None:
        """Drop waiting jobs and abort running ones."""
        self._closing = True
        self.model.discard()
        for worker in list(self._workers.values()):
            _silence(worker)
        if self._workers and self.process is not None:
            self.process.interrupt()

    def _on_model_event(self, event: str, job: Any) -> None:
        if event == "paused":
            for worker in self._workers.values():
                worker.pause()
        elif event == "resumed":
            for worker in self._workers.values():
                worker.resume()
            self._start_next()

    def _start_next(self) -> None:
        while not self._closing:
            job = self.model.next()
            if job is None:
                return
            self._launch(job)

    def _launch(self, job: Any) -> None:
        outcome: dict[str, Any] = {}
        self._workers[job.job_id] = start_worker(
            self,
            job.payload,
            lambda value: self.job_progressed.emit(job.kind, job.key, value),
            lambda value: outcome.setdefault("result", value),
            lambda exc: outcome.setdefault("error", exc),
            lambda: self._on_worker_finished(job, outcome),
            self.process,
        )

    def _on_worker_finished(self, job: Any, outcome: dict[str, Any]) -> None:
        self._workers.pop(job.job_id, None)
        if "error" in outcome:
            self.model.finish(job, "failed")
            log.warning("background job %s %s failed: %s", job.kind, job.key, outcome["error"])
            self.job_failed.emit(job.kind, job.key, outcome["error"])
        elif "result" in outcome:
            self.model.finish(job, "done")
            self.job_finished.emit(job.kind, job.key, outcome["result"])
        else:
            self.model.finish(job, "cancelled")
        self._start_next()


def await_all_workers(timeout_ms: int = 15000) -> None:
    """Ask every superqt worker to quit and wait for the thread pool (called on close)."""
    with contextlib.suppress(RuntimeError):
        WorkerBase.await_workers(timeout_ms)
