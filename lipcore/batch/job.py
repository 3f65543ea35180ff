"""One batch job on a worker: run it, keep its state file, write its JSON report.

Files in the batch's state folder, per job id:

- ``<id>.state.json``: ``status`` (running / done / failed), the inputs' ``params_hash``, times,
  the error text; written atomically at the start and the end, so an interrupted batch leaves
  ``running`` behind and the job is run again on resume;
- ``<id>.report.json``: what was made (output, frames, fps, frames changed, warnings, and for
  script jobs the fit table before and the timing after), written once the output exists.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator
from fractions import Fraction
from pathlib import Path
from typing import Any

from lipcore.batch.manifest import BatchJob
from lipcore.cache import atomic_write_bytes
from lipcore.errors import LipsyncError
from lipcore.progress import Progress

Emit = Callable[[dict[str, Any]], None]


def state_path(state_dir: Path, job_id: str) -> Path:
    """The job's state file."""
    return Path(state_dir) / f"{job_id}.state.json"


def report_path(state_dir: Path, job_id: str) -> Path:
    """The job's report file."""
    return Path(state_dir) / f"{job_id}.report.json"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def read_state(state_dir: Path, job_id: str) -> dict[str, Any]:
    """The job's last state (``{"status": "pending"}`` when it never started or is unreadable)."""
    try:
        return json.loads(state_path(state_dir, job_id).read_text())
    except (OSError, ValueError):
        return {"status": "pending"}


def is_done(job: BatchJob, state_dir: Path) -> bool:
    """Whether a previous run finished this job with the same inputs and its output exists."""
    st = read_state(state_dir, job.id)
    return (
        st.get("status") == "done"
        and st.get("params_hash") == job.params_hash()
        and job.output.is_file()
        and report_path(state_dir, job.id).is_file()
    )


def job_from_dict(d: dict[str, Any]) -> BatchJob:
    """Rebuild a job from :meth:`BatchJob.to_dict` (what a worker receives)."""
    return BatchJob(
        id=d["id"],
        clip=Path(d["clip"]),
        output=Path(d["output"]),
        dub=Path(d["dub"]) if d.get("dub") else None,
        script=Path(d["script"]) if d.get("script") else None,
        lines=tuple(Path(p) for p in d.get("lines", [])),
        options=dict(d.get("options", {})),
    )


def _dub_job(job: BatchJob, report: dict[str, Any]) -> Generator[Progress, None, Any]:
    from lipcore.cli.render_options import parse_time
    from lipcore.media.probe import probe, require_video
    from lipcore.render.pipeline import iter_render
    from lipcore.render.request import AUDIO_RATE, RenderRequest, SegmentSpec
    from lipcore.timecode import read_start_timecode

    fps = require_video(probe(job.clip)).fps
    tc0 = read_start_timecode(job.clip, fps).frames
    segments = []
    for text in job.options.get("segments") or []:
        start, sep, end = str(text).partition("-")
        if not sep:
            raise LipsyncError(f"segment {text!r} has no END", job.clip, "write START-END")
        segments.append(SegmentSpec(parse_time(start, fps, tc0), parse_time(end, fps, tc0)))
    request = RenderRequest(
        video=job.clip,
        audio=job.dub,
        output=job.output,
        segments=tuple(segments) or (SegmentSpec(0, 1 << 40),),
        audio_offset_samples=round(float(job.options.get("audio_offset_sec", 0)) * AUDIO_RATE),
        long_audio=job.options.get("long_audio", "cut"),
    )
    result = yield from iter_render(request)
    report.update(
        frames=result.frame_count,
        fps=str(result.fps),
        frames_changed=result.frames_changed,
        warnings=list(result.warnings),
    )


def _script_job(job: BatchJob, report: dict[str, Any]) -> Generator[Progress, None, Any]:
    from lipcore.media.probe import probe, require_video
    from lipcore.script.conform import iter_script_render
    from lipcore.script.fit import fit_check
    from lipcore.script.lines import read_takes
    from lipcore.script.strategies import TimingCaps, plan_timing
    from lipcore.script.subtitles import read_script

    o = job.options
    video = require_video(probe(job.clip))
    lines = read_script(job.script)
    takes = read_takes(list(job.lines), lines, long_dub=bool(o.get("long_dub")))
    clip_ms = int(video.frame_count * 1000 / video.fps)
    report["fit"] = fit_check(lines, takes, clip_ms).to_dict()
    caps = TimingCaps(
        max_speedup=float(o["max_speedup"]),
        min_gap_ms=int(o["min_gap_ms"]),
        max_slowdown=float(o["max_slowdown"]),
        max_pad_ms=int(o["max_pad_ms"]),
        picture_mode=str(o["picture_mode"]),
    )
    plan = plan_timing(lines, takes, video.fps, video.frame_count, o["strategy"], caps)
    result = yield from iter_script_render(job.clip, plan, takes, job.output)
    report.update(
        frames=plan.output_frames,
        fps=str(Fraction(video.fps)),
        frames_changed=result.frames_changed,
        dub=str(result.dub),
        timing=[
            {
                "line": t.index,
                "strategy": t.strategy,
                "speed": t.speed,
                "residual_ms": t.residual_ms,
                "frames": list(t.out_take_frames),
            }
            for t in plan.lines
        ],
        total_residual_ms=plan.total_residual_ms,
    )


def cancel_path(state_dir: Path) -> Path:
    """The file a client writes its run id into to stop that run's jobs (see :func:`run_job`)."""
    return Path(state_dir) / "cancel"


def _cancelled(state_dir: Path, run_id: str) -> bool:
    try:
        return bool(run_id) and cancel_path(state_dir).read_text().strip() == run_id
    except OSError:
        return False


def run_job(
    job_dict: dict[str, Any], state_dir: str, emit: Emit | None = None, run_id: str = ""
) -> dict:
    """Run one job to its end, keeping its state file and writing its report.

    Cancelling is cooperative, as everywhere in lipcore: between two progress steps the job
    looks for the batch's cancel file holding ``run_id`` and, if found, stops iterating (the
    render's generator cleans up; no output is written) and records ``interrupted``.

    Args:
        job_dict: :meth:`BatchJob.to_dict`.
        state_dir: The batch's state folder (shared with the client).
        emit: Called with progress events (``{"event": "progress", ...}``), or None.
        run_id: The batch run this job belongs to (for cancelling).

    Returns:
        The report (also written to ``<id>.report.json``); failures are reported, not raised,
        so one bad job does not stop the batch.
    """
    job = job_from_dict(job_dict)
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    emit = emit or (lambda event: None)
    state: dict[str, Any] = {
        "id": job.id,
        "status": "running",
        "params_hash": job.params_hash(),
        "output": str(job.output),
        "started_at": time.time(),
    }
    _write_json(state_path(state_dir, job.id), state)
    emit({"event": "started", "job": job.id})
    report: dict[str, Any] = {"job": job.to_dict()}
    work = _script_job(job, report) if job.kind == "script" else _dub_job(job, report)
    last, stage = 0.0, None
    try:
        for step in work:
            if _cancelled(state_dir, run_id):
                state.update(status="interrupted", finished_at=time.time())
                _write_json(state_path(state_dir, job.id), state)
                return dict(report, status="interrupted")
            now = time.monotonic()
            if now - last > 1.0 or step.stage != stage:
                last, stage = now, step.stage
                # plain ints: events travel through Dask's msgpack, which refuses numpy ints
                emit(
                    {
                        "event": "progress",
                        "job": job.id,
                        "stage": str(step.stage),
                        "done": int(step.done),
                        "total": int(step.total),
                    }
                )
    except LipsyncError as exc:
        state.update(status="failed", error=str(exc), finished_at=time.time())
        report.update(status="failed", error=str(exc))
        _write_json(report_path(state_dir, job.id), report)
        _write_json(state_path(state_dir, job.id), state)
        emit({"event": "failed", "job": job.id, "error": str(exc)})
        return report
    finally:
        work.close()
    report.update(
        status="done", output=str(job.output), seconds=round(time.time() - state["started_at"], 1)
    )
    _write_json(report_path(state_dir, job.id), report)
    state.update(status="done", finished_at=time.time())
    _write_json(state_path(state_dir, job.id), state)
    emit({"event": "done", "job": job.id, "output": str(job.output)})
    return report
