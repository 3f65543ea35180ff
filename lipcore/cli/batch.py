"""``lipsync batch MANIFEST``: run many jobs on Dask, resumably, with a JSON report per job.

Jobs already finished with the same inputs are skipped, so running the same command again after
an interruption finishes the rest. ``--machine-readable`` prints one JSON object per event on
stderr. Exit status 0 when every job is done, 1 when a job failed, 2 on a bad manifest.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``batch`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    p = sub.add_parser(
        "batch",
        help="run a manifest of lip-sync jobs on Dask (resumable, a JSON report per job)",
        description="Run every job of MANIFEST (JSON or TOML) on a Dask LocalCluster or an "
        "existing cluster; finished jobs are skipped on the next run.",
    )
    p.add_argument("manifest", type=Path, help="the .json or .toml job list")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler (tcp://host:8786); default: a local cluster",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="local cluster workers, one job each at a time (default 1)",
    )
    p.add_argument(
        "--threads",
        action="store_true",
        help="local workers as threads of this process instead of processes",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        help="per-job state and reports (default: <manifest>.batch/ beside it)",
    )
    p.add_argument(
        "--machine-readable",
        action="store_true",
        help="progress as JSON lines on stderr, one per event",
    )
    p.set_defaults(run=run)
    return p


def _human(event: dict) -> str:
    kind = event["event"]
    if kind == "progress":
        total = f"/{event['total']}" if event.get("total") else ""
        return f"{event['job']}: {event['stage']} {event['done']}{total}"
    if kind == "batch_done":
        return f"batch: {event['done']} done, {event['skipped']} skipped, {event['failed']} failed"
    extra = event.get("output") or event.get("error") or event.get("reason") or ""
    return f"{event['job']}: {kind} {extra}".rstrip()


def run(args: argparse.Namespace) -> int:
    """Run the batch; print one line per job on stdout."""
    from lipcore.batch.manifest import load_manifest
    from lipcore.batch.runner import run_batch

    jobs = load_manifest(args.manifest)
    state_dir = args.state_dir or args.manifest.with_name(f"{args.manifest.stem}.batch")

    def emit(event: dict) -> None:
        event = dict(event, time=round(time.time(), 3))
        line = json.dumps(event) if args.machine_readable else _human(event)
        print(line, file=sys.stderr, flush=True)

    summary = run_batch(
        jobs,
        state_dir,
        emit,
        scheduler=args.scheduler,
        workers=args.workers,
        processes=not args.threads,
    )
    for job in jobs:
        status = (
            "done"
            if job.id in summary.done
            else "skipped (done before)"
            if job.id in summary.skipped
            else f"failed: {summary.failed.get(job.id)}"
        )
        print(f"{job.id}: {status}  report {state_dir / (job.id + '.report.json')}")
    return 1 if summary.failed else 0
