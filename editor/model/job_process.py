"""Lipcore generators run in a worker *process*, so their native code never holds the GUI's GIL.

A render, an export, face tracking or a sync curve spends most of its time in native code
(FaceMesh, OpenCV, numba, numpy) that holds the GIL for tens to hundreds of milliseconds at a
time; run in a thread of the editor, every such call freezes the event loop for as long
(``bench/editor_stall.py`` measured gaps of 214-344 ms). :class:`JobProcess` runs them in one
long-lived ``spawn`` child instead, so the editor's thread only waits on a pipe:

- :class:`ProcessCall` names the job: a module-level generator function and picklable
  arguments. Called directly it is an ordinary zero-argument factory, so the same object runs
  in a thread where no process is wanted (tests, scripts).
- :meth:`JobProcess.iter_run` is a generator that drives the child *in lockstep*: the child
  takes one step (one ``next()`` of the lipcore generator) when the caller asks for the next
  value, so pausing the caller pauses the job, and closing the caller (a cancel) closes the
  lipcore generator in the child, running its ``finally`` blocks (ffmpeg pipes, temp files).
  The child is ``python -m editor.model.job_worker`` on a socket pair; it gets this process's
  ``sys.path``, never its ``__main__``.
- :meth:`JobProcess.interrupt` stops a step that is still computing: a signal raises
  :class:`JobInterrupted` inside the child's running step, the generator unwinds, and the child
  stays up with its warm state (prepared engines, probes) for the next job. A child that does
  not answer is killed and a new one starts with the next job.
- Face tracks read from the track cache cross by reference (:mod:`lipcore.face.track_ref`):
  the cache entry's path and version, opened memory-mapped on the other side, not the
  landmarks (172 MB for a 30-minute clip).
- Values cross the pipe pickled: progress, results and errors of lipcore's own types
  (``LipsyncError`` keeps its message, path and fix). An exception that cannot be pickled
  arrives as a ``RuntimeError`` with its type and text. A child that dies (out of memory,
  killed) is reported as a :class:`~lipcore.errors.LipsyncError` saying so.
- The keyword arguments a call names in ``session`` (the editor's
  :class:`~lipcore.render.warm.WarmState`) are not sent: the child passes its own session warm
  state, so engines prepared by one job serve the next.

The child never imports Qt: targets live in lipcore or the Qt-free ``editor.model``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from lipcore.errors import LipsyncError

log = logging.getLogger(__name__)

#: Environment variables a job sees as the editor had them when the job was asked for (the
#: cache and config folders; the child was started earlier, perhaps with other values).
FORWARDED_ENV_PREFIXES = ("LIPSYNC_", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")
#: The module the worker process runs, and the flag a frozen bundle's executable takes instead.
WORKER_MODULE = "editor.model.job_worker"
WORKER_FLAG = "--lipsync-job-worker"
#: How long a cancelled job may take to close its generator before its process is killed.
CLOSE_TIMEOUT_SEC = 10.0
#: How long :meth:`JobProcess.close` waits for the child to quit before killing it.
QUIT_TIMEOUT_SEC = 3.0
#: The signal :meth:`JobProcess.interrupt` sends (None where the platform has none: then an
#: interrupt kills the child, and the next job starts a new one).
INTERRUPT_SIGNAL = getattr(signal, "SIGUSR1", None)


class JobInterrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """Raised inside a child's running step by :meth:`JobProcess.interrupt`.

    A ``BaseException``, so lipcore's ``except Exception`` handlers (which turn failures into
    user messages) let it through to the generator's ``finally`` blocks and out.
    """


class JobCancelledError(LipsyncError):
    """The job was interrupted before it finished (the caller asked for it)."""


@dataclass(frozen=True)
class ProcessCall:
    """A job a worker process can run: ``target(*args, **kwargs)`` returns a generator.

    Attributes:
        target: A module-level generator function (pickled by name).
        args: Its positional arguments (picklable).
        kwargs: Its keyword arguments (picklable, except those named in ``session``).
        session: Keyword arguments holding this process's session state (a
            :class:`~lipcore.render.warm.WarmState`): a worker process passes its own instead.
    """

    target: Callable[..., Generator[Any, None, Any]]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    session: tuple[str, ...] = ()

    def for_process(self) -> ProcessCall:
        """This call as a worker process is sent it: without its session arguments, and with
        cached face tracks as references to their cache entry
        (:func:`lipcore.face.track_ref.to_portable`; the worker opens them memory-mapped)."""
        from lipcore.face.track_ref import to_portable

        kwargs = {k: to_portable(v) for k, v in self.kwargs.items() if k not in self.session}
        args = tuple(to_portable(a) for a in self.args)
        return ProcessCall(self.target, args, kwargs, self.session)

    def in_process(self) -> ProcessCall:
        """Inverse of :meth:`for_process`'s references (what the worker runs): each face-track
        reference opened (:func:`lipcore.face.track_ref.from_portable`)."""
        from lipcore.face.track_ref import from_portable

        kwargs = {k: from_portable(v) for k, v in self.kwargs.items()}
        args = tuple(from_portable(a) for a in self.args)
        return ProcessCall(self.target, args, kwargs, self.session)

    def __call__(self) -> Generator[Any, None, Any]:
        """Start the job in this process (the factory protocol of the editor's queues)."""
        return self.target(*self.args, **self.kwargs)


def forwarded_env() -> dict[str, str]:
    """The environment variables a job is sent with (see :data:`FORWARDED_ENV_PREFIXES`)."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV_PREFIXES)}


class JobProcess:
    """One long-lived worker process running :class:`ProcessCall` jobs, one at a time.

    Args:
        name: Name of the child process (shown by ``ps`` as the process title's argument).
        nice: Added to the child's niceness, so the editor's thread wins a busy core.

    The process starts with the first job and lives until :meth:`close`; one that died or was
    killed is replaced by the next job.
    """

    def __init__(self, name: str = "lipsync-jobs", nice: int = 0):
        self.name = name
        self.nice = int(nice)
        self._process: subprocess.Popen | None = None
        self._conn: Any = None
        self._cancel_fd: int | None = None  # the child reads the job an interrupt is meant for
        self._job_no = 0
        self._busy = False
        self._state_lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs, else None."""
        proc = self._process
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def busy(self) -> bool:
        """Whether a job runs."""
        return self._busy

    def _connection(self) -> Any:
        if self._process is not None and self._process.poll() is None:
            return self._conn
        self._discard()
        ours, theirs = socket.socketpair()
        cancel_read, cancel_write = os.pipe()
        env = dict(os.environ)
        # The child imports what this process imports (the editor run from a checkout, tests).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        # A frozen bundle has no ``-m``: its entry point (packaging/entry.py) takes a flag.
        launch = [WORKER_FLAG] if getattr(sys, "frozen", False) else ["-m", WORKER_MODULE]
        argv = [sys.executable, *launch, str(theirs.fileno())]
        argv += [str(cancel_read), str(self.nice), self.name]
        try:
            proc = subprocess.Popen(
                argv, pass_fds=(theirs.fileno(), cancel_read), env=env, stdin=subprocess.DEVNULL
            )
        finally:
            theirs.close()
            os.close(cancel_read)
        self._process, self._cancel_fd = proc, cancel_write
        self._conn = Connection(ours.detach())
        return self._conn

    def _discard(self) -> None:
        """Forget (and kill, if alive) the current child."""
        proc, conn, fd = self._process, self._conn, self._cancel_fd
        self._process = self._conn = self._cancel_fd = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=QUIT_TIMEOUT_SEC)

    def _receive(self, conn: Any) -> tuple[str, Any]:
        try:
            return conn.recv()
        except (EOFError, OSError) as exc:
            proc = self._process
            code = None
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = proc.wait(timeout=1.0)
            self._discard()
            raise LipsyncError(
                f"the worker process running the job stopped (exit code {code})",
                fix="run it again; if it stops again, close other programs (memory) and see "
                "the log",
            ) from exc
        except Exception as exc:  # an answer that cannot be unpickled here
            raise LipsyncError(
                f"the worker process sent an answer that cannot be read: {exc}"
            ) from exc

    def iter_run(self, call: ProcessCall) -> Generator[Any, None, Any]:
        """Run ``call`` in the child; yields what its generator yields, returns what it returns.

        A value sent in (``generator.send(value)``) is sent to the child's generator, so a
        request/answer service (:func:`editor.model.frame_service.iter_frame_service`) works
        as it does in this process.

        Raises:
            The job's own exception (its type kept where it pickles), :class:`JobCancelledError`
            after :meth:`interrupt`, or :class:`~lipcore.errors.LipsyncError` when the child died.
        """
        with self._state_lock:
            if self._busy:
                raise RuntimeError(f"{self.name} runs a job already: one at a time")
            self._busy = True
            self._job_no += 1
            job_no = self._job_no
        finished = False
        conn = None
        try:
            conn = self._connection()
            conn.send(("run", job_no, call.for_process(), forwarded_env()))
            sent = None
            while True:
                conn.send("next" if sent is None else ("send", sent))
                kind, payload = self._receive(conn)
                if kind == "yield":
                    sent = yield payload
                    continue
                finished = True
                if kind == "return":
                    from lipcore.face.track_ref import from_portable

                    return from_portable(payload)  # tracks come back by reference, too
                if kind == "cancelled":
                    raise JobCancelledError("the job was cancelled")
                error, child_traceback = payload
                log.debug("job %s failed in %s:\n%s", call.target, self.name, child_traceback)
                raise error
        finally:
            if not finished and conn is not None and self._conn is conn:
                self._close_job(conn)
            self._busy = False

    def warm_up(self, call: ProcessCall) -> bool:
        """Start the child now and have it run ``call`` to its end before its first job.

        For one-time costs (imports, compiled kernels; see
        :func:`lipcore.render.preload.preload_render`) that the first job would otherwise pay
        while the user waits. Nothing comes back: the
        child drains the generator, ignores its errors, and serves the next job after it (a
        job asked for meanwhile waits for the warm-up, which it would have paid anyway).

        Returns:
            False when a job runs already (the child is warm then) or the child cannot start.
        """
        with self._state_lock:
            if self._busy:
                return False
            try:
                self._connection().send(("warm", call.for_process()))
            except (OSError, EOFError, pickle.PicklingError):
                self._discard()
                return False
        return True

    def _close_job(self, conn: Any) -> None:
        """Close the child's suspended generator (a cancel at a yield); kill it if it hangs."""
        try:
            conn.send("close")
            if conn.poll(CLOSE_TIMEOUT_SEC):
                conn.recv()
                return
            log.warning("%s did not close its job in %.0f s: killed", self.name, CLOSE_TIMEOUT_SEC)
        except (EOFError, OSError):
            pass
        self._discard()

    def interrupt(self) -> None:
        """Stop the running job's current step (safe from any thread; no-op when idle).

        The child raises :class:`JobInterrupted` inside the step; :meth:`iter_run` then raises
        :class:`JobCancelledError`.
        """
        proc, fd = self._process, self._cancel_fd
        if not self._busy or proc is None or proc.poll() is not None:
            return
        if INTERRUPT_SIGNAL is None:
            proc.kill()
            return
        with contextlib.suppress(OSError):
            os.write(fd, struct.pack("<q", self._job_no))  # which job: never the next one
            os.kill(proc.pid, INTERRUPT_SIGNAL)

    def close(self) -> None:
        """Ask the child to quit (killed after :data:`QUIT_TIMEOUT_SEC`)."""
        proc, conn = self._process, self._conn
        if proc is not None and proc.poll() is None and not self._busy:
            with contextlib.suppress(OSError, EOFError):
                conn.send(("quit",))
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=QUIT_TIMEOUT_SEC)
        self._discard()


# ------------------------------------------------------------------------- shared processes

#: Niceness added to the editor's worker processes: the event loop wins a busy core.
WORKER_NICE = 3
_shared: dict[str, JobProcess] = {}


def shared_process(role: str) -> JobProcess | None:
    """The editor's worker process for ``role`` ("render", "background", "frames").

    One per role for the whole editor process (every window), made on first use, so prepared
    engines and imported modules outlive a window; closed when the interpreter exits. None
    where the child cannot be started this way (not POSIX: no inherited socket): the queues
    then run their jobs in threads, as before.
    """
    if os.name != "posix":
        return None
    proc = _shared.get(role)
    if proc is None:
        if not _shared:
            import atexit

            atexit.register(close_shared_processes)
        proc = _shared[role] = JobProcess(f"lipsync-{role}", nice=WORKER_NICE)
    return proc


def close_shared_processes() -> None:
    """Quit every shared worker process (at exit)."""
    for proc in list(_shared.values()):
        with contextlib.suppress(Exception):
            proc.close()
