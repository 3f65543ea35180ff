"""The editor's worker process: runs :class:`~editor.model.job_process.ProcessCall` jobs, by step.

Started by :class:`editor.model.job_process.JobProcess` as
``python -m editor.model.job_worker SOCKET_FD CANCEL_FD NICE NAME``. It reads commands from the
socket (a :class:`multiprocessing.connection.Connection`):

- ``("run", job_no, call, env)``: start a job (the generator is made at the first step);
- ``"next"`` (or ``("send", value)``: ``generator.send(value)``): compute one step and
  answer ``("yield", value)``, ``("return", value)``, ``("error", (exception,
  traceback_text))`` or ``("cancelled", None)``;
- ``"close"``: close the job's generator (its ``finally`` blocks run here) and answer
  ``("closed", None)``;
- ``("warm", call)``: run ``call`` to its end before the next command, answering nothing
  (one-time start-up costs paid before the first job asks for them);
- ``("quit",)`` or a closed socket: exit.

An interrupt is ``SIGUSR1`` with the job's number written to the cancel pipe first: the handler
raises :class:`~editor.model.job_process.JobInterrupted` only inside a step of that job, so a
late signal never hits the next one, and never inside an import (a package interrupted
half-imported stays broken in the process): it tries again 50 ms later. The process ignores
``SIGINT`` (a Ctrl+C in the terminal reaches the editor, which decides) and never imports Qt.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

from editor.model.job_process import (
    FORWARDED_ENV_PREFIXES,
    INTERRUPT_SIGNAL,
    JobInterrupted,
    ProcessCall,
)

_current_job = 0
_in_step = False
_cancel_fd: int | None = None
_cancelled_job = 0
_session_warm: Any = None


#: How soon an interrupt that arrived during an import is tried again.
RETRY_INTERRUPT_SEC = 0.05


def _importing(frame) -> bool:
    """Whether ``frame`` runs inside an import (interrupting one leaves modules half made)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _on_interrupt(signum, frame) -> None:
    global _cancelled_job
    with contextlib.suppress(BlockingIOError, OSError):
        data = os.read(_cancel_fd, 4096)
        if len(data) >= 8:
            _cancelled_job = struct.unpack("<q", data[-8:])[0]
    if _in_step and _cancelled_job == _current_job:
        if _importing(frame):
            # A package interrupted half-imported stays broken in this process (a NameError
            # at its next import): stop the step once the import is done instead.
            signal.setitimer(signal.ITIMER_REAL, RETRY_INTERRUPT_SEC)
            return
        raise JobInterrupted()


def _with_session(call: ProcessCall) -> ProcessCall:
    """``call`` with its face-track references opened (memory-mapped, the same objects for
    every job: see :mod:`lipcore.face.track_ref`) and its session arguments filled with this
    process's warm state."""
    global _session_warm
    call = call.in_process()
    if not call.session:
        return call
    if _session_warm is None:
        from lipcore.render.warm import WarmState

        _session_warm = WarmState()
    kwargs = {**call.kwargs, **{name: _session_warm for name in call.session}}
    return ProcessCall(call.target, call.args, kwargs)


def _apply_env(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(FORWARDED_ENV_PREFIXES)]:
        if key not in env:
            del os.environ[key]
    os.environ.update(env)


def _portable_error(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a ``RuntimeError`` with its type and text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def run_job(conn: Connection, job_no: int, call: ProcessCall) -> bool:
    """Drive one job as the parent asks; False when the connection is gone (the parent quit)."""
    global _current_job, _in_step
    _current_job = job_no
    gen = None
    try:
        while True:
            command = conn.recv()
            if command == "close":
                if gen is not None:
                    with contextlib.suppress(BaseException):
                        gen.close()
                conn.send(("closed", None))
                return True
            try:
                _in_step = True
                if gen is None:
                    gen = _with_session(call)()
                if isinstance(command, tuple) and command[0] == "send":
                    value = gen.send(command[1])
                else:
                    value = next(gen)
                _in_step = False
                reply: tuple[str, Any] = ("yield", value)
            except StopIteration as stop:
                from lipcore.face.track_ref import to_portable

                reply = ("return", to_portable(stop.value))  # cached tracks go back by reference
            except JobInterrupted:
                reply = ("cancelled", None)
            except BaseException as exc:  # reported to the editor, which shows it
                reply = ("error", (_portable_error(exc), traceback.format_exc()))
            finally:
                _in_step = False
            try:
                conn.send(reply)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                error = RuntimeError(f"the job's {reply[0]} value cannot be sent: {exc}")
                conn.send(("error", (error, traceback.format_exc())))
                reply = ("error", None)
            if reply[0] != "yield":
                return True
    except (EOFError, OSError):
        return False
    finally:
        _in_step = False
        if gen is not None:
            with contextlib.suppress(BaseException):
                gen.close()


def warm_up(call: ProcessCall) -> None:
    """Run ``call``'s generator to its end (a warm-up: what it loads stays, errors are ignored).

    Never interrupted: no job is current, so a late cancel signal finds nothing to stop.
    """
    with contextlib.suppress(Exception):
        for _ in _with_session(call)():
            pass


def serve(conn: Connection, cancel_fd: int, nice: int = 0) -> None:
    """Run jobs as the parent asks until it says quit or goes away."""
    global _cancel_fd
    _cancel_fd = cancel_fd
    os.set_blocking(cancel_fd, False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if INTERRUPT_SIGNAL is not None:
        signal.signal(INTERRUPT_SIGNAL, _on_interrupt)
        signal.signal(signal.SIGALRM, _on_interrupt)  # the retry after an import
    if nice:
        with contextlib.suppress(OSError, AttributeError):
            os.nice(nice)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if isinstance(message, tuple) and message[0] == "warm":
            warm_up(message[1])
            continue
        if not isinstance(message, tuple) or message[0] != "run":
            return
        _, job_no, call, env = message
        _apply_env(env)
        if not run_job(conn, job_no, call):
            return


def main(argv: list[str]) -> int:
    """Entry point: ``SOCKET_FD CANCEL_FD NICE NAME`` (see the module docstring)."""
    socket_fd, cancel_fd, nice = int(argv[0]), int(argv[1]), int(argv[2])
    serve(Connection(socket_fd), cancel_fd, nice)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
