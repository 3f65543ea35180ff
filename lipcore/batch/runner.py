"""Run a batch on Dask: a ``LocalCluster`` by default, or an existing cluster's scheduler.

The client submits one task per job that is not already done (same inputs, output present) and
gathers the reports as they finish. Workers announce progress with Dask's structured events
(``Worker.log_event`` on the topic :data:`TOPIC`); the client subscribes to the topic and passes
each event on, so the same code serves a local run and a cluster. The state folder must be
visible to the workers at the same path (as the media must be).

Interrupting the client (Ctrl-C) cancels the outstanding tasks and closes a local cluster; jobs
left ``running`` are run again by the next call, finished ones are skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lipcore.batch.job import cancel_path, is_done, run_job
from lipcore.batch.manifest import BatchJob
from lipcore.cache import atomic_write_bytes

#: Dask event topic of batch progress.
TOPIC = "lipsync-batch"
#: How long an interrupted client waits for running jobs to record that they stopped.
CANCEL_WAIT_SEC = 30


def _worker_job(job_dict: dict[str, Any], state_dir: str, run_id: str) -> dict:
    """The task body: run the job, forwarding its events to the client through Dask."""
    from distributed import get_worker

    worker = get_worker()

    def emit(event: dict[str, Any]) -> None:
        if event["event"] not in ("done", "failed"):  # the client reports those from results
            worker.log_event(TOPIC, dict(event, worker=str(worker.name)))

    return run_job(job_dict, state_dir, emit, run_id)


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did.

    Attributes:
        done: Ids of the jobs finished in this run.
        skipped: Ids of the jobs already done before (resumed batch).
        failed: Ids of the jobs that failed, with their error.
        reports: Report of every job run in this run.
    """

    done: list[str]
    skipped: list[str]
    failed: dict[str, str]
    reports: dict[str, dict]


def run_batch(
    jobs: list[BatchJob],
    state_dir: str | Path,
    emit: Callable[[dict[str, Any]], None] | None = None,
    scheduler: str | None = None,
    workers: int = 1,
    processes: bool = True,
) -> BatchSummary:
    """Run the jobs that are not done yet on a Dask cluster.

    Args:
        jobs: From :func:`lipcore.batch.manifest.load_manifest`.
        state_dir: Folder of the per-job state and report files (created).
        emit: Receives every event as a dict (``started``, ``progress``, ``done``, ``failed``,
            ``skipped``, ``batch_done``), or None.
        scheduler: Address of an existing Dask scheduler (``tcp://host:8786``); None = start a
            ``LocalCluster`` for this run.
        workers: Workers of the local cluster (one job each at a time: a render uses all the
            cores it gets).
        processes: Local workers as processes (isolated; the default) or threads.

    Returns:
        A :class:`BatchSummary`.
    """
    from distributed import Client, LocalCluster, as_completed, wait

    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    cancel_path(state_dir).unlink(missing_ok=True)
    run_id = uuid.uuid4().hex[:12]
    emit = emit or (lambda event: None)
    todo, skipped = [], []
    for job in jobs:
        if is_done(job, state_dir):
            skipped.append(job.id)
            emit({"event": "skipped", "job": job.id, "reason": "done in an earlier run"})
        else:
            todo.append(job)
    done: list[str] = []
    failed: dict[str, str] = {}
    reports: dict[str, dict] = {}
    if not todo:
        emit({"event": "batch_done", "done": 0, "skipped": len(skipped), "failed": 0})
        return BatchSummary(done, skipped, failed, reports)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=max(1, workers),
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        )
    client = Client(cluster if cluster is not None else scheduler)
    try:
        client.subscribe_topic(TOPIC, lambda event: emit(event[1]))
        futures = {
            client.submit(
                _worker_job,
                job.to_dict(),
                str(state_dir),
                run_id,
                key=f"lipsync-{job.id}-{run_id}",
                pure=False,
            ): job.id
            for job in todo
        }
        try:
            for future in as_completed(futures):
                job_id = futures[future]
                report = future.result()
                reports[job_id] = report
                if report.get("status") == "done":
                    done.append(job_id)
                    emit({"event": "done", "job": job_id, "output": report.get("output")})
                else:
                    failed[job_id] = report.get("error", "failed")
                    emit({"event": "failed", "job": job_id, "error": failed[job_id]})
        except KeyboardInterrupt:
            # Ask the running jobs to stop at their next step, give them a moment to record
            # it, and drop the queued ones; the next run starts them again.
            atomic_write_bytes(cancel_path(state_dir), run_id.encode())
            for future in futures:
                if not future.done() and future.status == "pending":
                    future.cancel()
            wait([f for f in futures if not f.cancelled()], timeout=CANCEL_WAIT_SEC)
            emit({"event": "interrupted", "done": len(done), "skipped": len(skipped)})
            raise
    finally:
        client.unsubscribe_topic(TOPIC)
        client.close()
        if cluster is not None:
            cluster.close()
    emit(
        {"event": "batch_done", "done": len(done), "skipped": len(skipped), "failed": len(failed)}
    )
    return BatchSummary(done, skipped, failed, reports)
