"""Job-queue *state* for background work, and the cache of rendered segments (no threads, no Qt).

The Qt layer (``editor/qt/workers.py``) owns the actual workers; it asks these objects what to run
next and reports back, so the scheduling rules are plain, testable Python:

- :class:`RenderQueue`: GPU/render jobs are serialised. One job runs; the others wait in order.
  A new request for a segment that already waits *replaces* the waiting one in place (pitivi's
  ``PreviewGeneratorManager``), so dragging a slider queues one render, not fifty. A request for
  the segment that is running marks the running job ``superseded`` so the worker can cancel it.
- :class:`BackgroundQueue`: low-priority jobs (waveforms, thumbnails, face tracking), deduplicated
  by key, paused with ``with queue.paused():`` while rendering or scrubbing.
- :class:`RenderCache`: rendered segment files keyed by their parameter hash, so a segment whose
  parameters come back to rendered ones (undo, or the same options again) is not re-rendered.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: States a job goes through.
JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "superseded")

JobListener = Callable[[str, "RenderJob | BackgroundJob"], None]

_ids = itertools.count(1)


@dataclass(eq=False)
class RenderJob:
    """A request to render one segment with given parameters.

    Attributes:
        segment_id: The segment.
        params_hash: :meth:`Document.params_hash` when the request was made; the result is
            stored under it.
        job_id: Unique increasing number.
        state: One of :data:`JOB_STATES`.
        superseded: A newer request for the same segment arrived while this one ran; the worker
            should stop it.
        message: Error text of a failed job.
    """

    segment_id: str
    params_hash: str
    job_id: int = field(default_factory=lambda: next(_ids))
    state: str = "queued"
    superseded: bool = False
    message: str = ""


class RenderQueue:
    """One running render job and an ordered queue of waiting ones.

    Attributes:
        listeners: Callables ``f(event, job)`` with events ``queued``, ``replaced`` (payload: the
            dropped job), ``started``, ``superseded``, ``finished`` (see ``job.state``),
            ``cancelled``.
    """

    def __init__(self) -> None:
        self.current: RenderJob | None = None
        self._queued: list[RenderJob] = []
        self.listeners: list[JobListener] = []

    @property
    def queued(self) -> tuple[RenderJob, ...]:
        """Waiting jobs, next first."""
        return tuple(self._queued)

    @property
    def busy(self) -> bool:
        """Whether a job runs or waits."""
        return self.current is not None or bool(self._queued)

    def _emit(self, event: str, job: RenderJob) -> None:
        for listener in list(self.listeners):
            listener(event, job)

    def request(self, segment_id: str, params_hash: str) -> RenderJob:
        """Ask for a segment to be rendered with the given parameters.

        - Same segment and hash as the running or a waiting job: that job is returned.
        - The segment already waits with other parameters: the waiting job is replaced in place
          (state ``superseded``) by the new one.
        - The segment is running with other parameters: the running job is flagged
          ``superseded`` (the worker should cancel it) and the new one is queued.

        Args:
            segment_id: The segment.
            params_hash: Its current parameter hash.

        Returns:
            The job that will produce the render.
        """
        cur = self.current
        if cur is not None and cur.segment_id == segment_id:
            if cur.params_hash == params_hash and not cur.superseded:
                return cur
            if not cur.superseded:
                cur.superseded = True
                self._emit("superseded", cur)
        new = RenderJob(segment_id, params_hash)
        for i, job in enumerate(self._queued):
            if job.segment_id == segment_id:
                if job.params_hash == params_hash:
                    return job
                job.state = "superseded"
                self._queued[i] = new
                self._emit("replaced", job)
                self._emit("queued", new)
                return new
        self._queued.append(new)
        self._emit("queued", new)
        return new

    def start_next(self) -> RenderJob | None:
        """Move the next waiting job to running, if nothing runs.

        Returns:
            The started job, or None (something runs already, or nothing waits).
        """
        if self.current is not None or not self._queued:
            return None
        job = self._queued.pop(0)
        job.state = "running"
        self.current = job
        self._emit("started", job)
        return job

    def finish(self, job: RenderJob, state: str = "done", message: str = "") -> None:
        """Report the end of the running job.

        Args:
            job: The job that ran.
            state: "done", "failed" or "cancelled".
            message: Error text for "failed".
        """
        if state not in ("done", "failed", "cancelled"):
            raise ValueError(f"a job finishes as done, failed or cancelled, not {state!r}")
        if job is not self.current:
            raise ValueError(f"job {job.job_id} is not the running job")
        job.state, job.message = state, message
        self.current = None
        self._emit("finished", job)

    def cancel(self, segment_id: str) -> RenderJob | None:
        """Drop the waiting job of a segment and flag its running job for cancellation.

        Returns:
            The running job the worker must abort (then call :meth:`finish` with
            "cancelled"), or None.
        """
        for job in [j for j in self._queued if j.segment_id == segment_id]:
            self._queued.remove(job)
            job.state = "cancelled"
            self._emit("cancelled", job)
        cur = self.current
        if cur is not None and cur.segment_id == segment_id:
            cur.superseded = True
            return cur
        return None

    def cancel_all(self) -> RenderJob | None:
        """Drop every waiting job; return the running one for the worker to abort."""
        for job in self._queued:
            job.state = "cancelled"
            self._emit("cancelled", job)
        self._queued.clear()
        if self.current is not None:
            self.current.superseded = True
        return self.current


@dataclass(eq=False)
class BackgroundJob:
    """A low-priority job.

    Attributes:
        kind: "waveform", "thumbnails", "faces", ...
        key: What it works on (a file fingerprint, a track id); ``(kind, key)`` is unique.
        payload: Anything the worker needs.
        priority: Higher runs first; equal priorities run in submission order.
        state: One of :data:`JOB_STATES`.
    """

    kind: str
    key: str
    payload: Any = None
    priority: int = 0
    job_id: int = field(default_factory=lambda: next(_ids))
    state: str = "queued"


class BackgroundQueue:
    """Deduplicated low-priority jobs that wait while paused.

    Args:
        max_running: Jobs allowed to run at once (1 on a two-core laptop).

    Attributes:
        listeners: Callables ``f(event, job)``: ``queued``, ``started``, ``finished``,
            ``paused`` / ``resumed`` (job is None).
    """

    def __init__(self, max_running: int = 1):
        self.max_running = max_running
        self._queued: list[BackgroundJob] = []
        self.running: list[BackgroundJob] = []
        self._pause_depth = 0
        self.listeners: list[Callable[[str, Any], None]] = []

    def _emit(self, event: str, job: Any) -> None:
        for listener in list(self.listeners):
            listener(event, job)

    @property
    def queued(self) -> tuple[BackgroundJob, ...]:
        """Waiting jobs in the order they will start."""
        return tuple(self._queued)

    @property
    def is_paused(self) -> bool:
        """Whether :meth:`next` holds jobs back."""
        return self._pause_depth > 0

    def submit(self, kind: str, key: str, payload: Any = None, priority: int = 0) -> BackgroundJob:
        """Queue a job unless the same ``(kind, key)`` waits or runs (then that one is returned).

        A duplicate submitted with a higher priority raises the waiting job's priority.
        """
        for job in self.running:
            if (job.kind, job.key) == (kind, key):
                return job
        for job in self._queued:
            if (job.kind, job.key) == (kind, key):
                if priority > job.priority:
                    job.priority = priority
                    self._sort()
                return job
        job = BackgroundJob(kind, key, payload, priority)
        self._queued.append(job)
        self._sort()
        self._emit("queued", job)
        return job

    def _sort(self) -> None:
        self._queued.sort(key=lambda j: (-j.priority, j.job_id))

    def next(self) -> BackgroundJob | None:
        """Start and return the next job, or None when paused, full or empty."""
        if self.is_paused or len(self.running) >= self.max_running or not self._queued:
            return None
        job = self._queued.pop(0)
        job.state = "running"
        self.running.append(job)
        self._emit("started", job)
        return job

    def finish(self, job: BackgroundJob, state: str = "done") -> None:
        """Report the end of a running job ("done", "failed" or "cancelled")."""
        self.running.remove(job)
        job.state = state
        self._emit("finished", job)

    def discard(self, kind: str | None = None) -> None:
        """Drop waiting jobs (of one kind, or all) e.g. when another clip is opened."""
        keep = [j for j in self._queued if kind is not None and j.kind != kind]
        for job in self._queued:
            if job not in keep:
                job.state = "cancelled"
        self._queued = keep

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold back new jobs inside the block (nests; running jobs are not interrupted)."""
        self._pause_depth += 1
        if self._pause_depth == 1:
            self._emit("paused", None)
        try:
            yield
        finally:
            self._pause_depth -= 1
            if self._pause_depth == 0:
                self._emit("resumed", None)


class RenderCache:
    """Rendered segment files keyed by their parameter hash.

    Args:
        root: Folder of the cache (default ``<lipsync cache>/renders``, see
            :func:`lipcore.cache.cache_root`). Created on first use.
        suffix: File suffix of rendered segments.
    """

    def __init__(self, root: str | Path | None = None, suffix: str = ".mp4"):
        self._root = Path(root) if root is not None else None
        self.suffix = suffix
        self._known: dict[str, Path] = {}

    @property
    def root(self) -> Path:
        """The cache folder (created when first asked for)."""
        if self._root is None:
            from lipcore.cache import cache_root

            self._root = cache_root() / "renders"
        self._root.mkdir(parents=True, exist_ok=True)
        return self._root

    def path_for(self, params_hash: str) -> Path:
        """Where the render of ``params_hash`` is (or will be) stored."""
        return self.root / f"{params_hash}{self.suffix}"

    def lookup(self, params_hash: str) -> Path | None:
        """The rendered file for ``params_hash`` if it exists and is not empty, else None."""
        for p in (self._known.get(params_hash), self.path_for(params_hash)):
            if p is not None and p.is_file() and p.stat().st_size > 0:
                return p
        return None

    def remember(self, params_hash: str, path: Path) -> None:
        """Record that ``path`` holds the render of ``params_hash`` (a file outside the cache)."""
        self._known[params_hash] = Path(path)

    def store(self, params_hash: str, produced: str | Path) -> Path:
        """Move a freshly rendered file into the cache atomically.

        Args:
            params_hash: The job's parameter hash.
            produced: The file the renderer wrote (moved, not copied, when on the same disk).

        Returns:
            The cached path.
        """
        target = self.path_for(params_hash)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.move(str(produced), tmp)
        os.replace(tmp, target)
        self._known[params_hash] = target
        return target

    def prune(self, keep: set[str]) -> int:
        """Delete cached renders whose hash is not in ``keep``; returns how many were deleted."""
        n = 0
        for p in self.root.glob(f"*{self.suffix}"):
            if p.stem not in keep:
                with contextlib.suppress(OSError):
                    p.unlink()
                    n += 1
        self._known = {h: p for h, p in self._known.items() if h in keep}
        return n
