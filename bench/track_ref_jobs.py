"""Segment re-renders through the editor's worker process: face tracks by reference vs by value.

The editor runs each render in a long-lived worker (:class:`editor.model.job_process.JobProcess`).
A job used to carry the clip's whole :class:`~lipcore.face.types.TrackSet` pickled; it now
carries a reference to the track cache entry (:mod:`lipcore.face.track_ref`) and the worker
opens it memory-mapped, once. This bench runs the same edits both ways in the same run, each in
a fresh worker: the editor's path (a :class:`~editor.model.document.Document`, a
:class:`~editor.model.planner.RenderPlanner`, ``segment_job`` per edit of the segment's mouth
strength), drained through ``JobProcess.iter_run``.

"By value" is the same tracks with their cache origin dropped (what every job sent before).
Printed per mode: bytes pickled per job, wall and worker CPU seconds per re-render (medians),
and the worker's RSS (total and anonymous) after each re-render.

Usage (the clip is made with ffmpeg from the shared A04 clip if missing; tracks are cached
after the first run)::

    PYTHONPATH=. nice -n 10 python bench/track_ref_jobs.py [--work /tmp/lipsync-bench]
        [--seconds 300] [--renders 4] [--ref-first]

The load on a shared machine drifts between the two modes: run it both ways round.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))  # segment_rerender: the clip and the dub


def worker_memory_mb(pid: int) -> tuple[float, float]:
    """``(RSS, anonymous RSS)`` of process ``pid`` in MB (Linux /proc)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["RssAnon"].split()[0]) / 1024


def worker_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid``."""
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def run_mode(clip: Path, work: Path, tracks, renders: int, by_value: bool) -> dict:
    """``renders`` re-renders of one segment in a fresh worker process."""
    from segment_rerender import DUB, SEGMENT_SEC

    from editor.model.document import Document
    from editor.model.job_process import JobProcess
    from editor.model.planner import RenderPlanner, new_render_cache

    if by_value:
        tracks = dataclasses.replace(tracks, origin=None)
    name = "value" if by_value else "ref"
    doc = Document(render_cache=new_render_cache(work / f"renders-trackref-{name}"))
    doc.open_video(clip)
    dub = doc.add_audio_track(DUB, name="Dub", offset_samples=8 * 16000)
    start, end = (int(s * doc.project.fps) for s in SEGMENT_SEC)
    sid = doc.add_segment(start, end, audio_track_id=dub)
    planner = RenderPlanner(doc)
    proc = JobProcess(f"bench-trackref-{name}")
    rng = random.Random(time.time_ns())  # strengths no earlier run's chunk has
    sent, walls, cpus, rss = [], [], [], []
    try:
        for k in range(renders + 1):  # the first (untimed) warms the worker: imports, library
            doc.set_segment_options(sid, mouth_strength=round(rng.uniform(0.5, 0.95), 4))
            job = planner.segment_job(sid, tracks)
            sent.append(len(pickle.dumps(job.run.for_process())))
            cpu0 = worker_cpu_s(proc.pid) if proc.pid else 0.0
            t0 = time.perf_counter()
            gen = proc.iter_run(job.run)
            try:
                while True:
                    next(gen)
            except StopIteration as stop:
                result = stop.value
            took = time.perf_counter() - t0
            assert result.rendered_segments == 1, "each edit must render the segment again"
            planner.record_segment(sid, job.params_hash, result)
            if k:
                walls.append(took)
                cpus.append(worker_cpu_s(proc.pid) - cpu0)
            rss.append(worker_memory_mb(proc.pid))
    finally:
        proc.close()
    return {"sent": sent, "wall": walls, "cpu": cpus, "rss": rss}


def main() -> None:
    """Run both modes and print their figures and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/lipsync-bench"))
    ap.add_argument("--seconds", type=int, default=300, help="clip length (A04 looped)")
    ap.add_argument("--renders", type=int, default=4, help="timed re-renders per mode")
    ap.add_argument("--ref-first", action="store_true", help="run the by-reference mode first")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LIPSYNC_CACHE_DIR", str(args.work / "cache"))
    from segment_rerender import make_clip

    from lipcore.face.track import track_faces

    clip = make_clip(args.work / f"a04_{args.seconds}s.mp4", args.seconds)
    tracks = track_faces(clip)
    assert tracks.origin is not None, "the tracks must come from the track cache"
    lm_mb = sum(t.landmarks.nbytes for t in tracks.tracks) / 1e6
    print(f"clip {clip.name}: {tracks.frame_count} frames, landmarks {lm_mb:.1f} MB")
    print(f"load average before: {os.getloadavg()}")
    out = {}
    for by_value in (False, True) if args.ref_first else (True, False):
        name = "value" if by_value else "ref"
        r = out[name] = run_mode(clip, args.work, tracks, args.renders, by_value)
        rss = " ".join(f"{a:.0f}/{b:.0f}" for a, b in r["rss"])
        print(
            f"{name:>5}: sent {r['sent'][-1]:,} B/job, re-render wall "
            f"{statistics.median(r['wall']):.2f} s, worker CPU "
            f"{statistics.median(r['cpu']):.2f} s (medians of {len(r['wall'])}); "
            f"worker RSS/anon MB after each job: {rss}"
        )
    v, f = out["value"], out["ref"]
    print(f"load average after: {os.getloadavg()}")
    print(
        f"ratios ref/value: bytes {f['sent'][-1] / v['sent'][-1]:.5f}, wall "
        f"{statistics.median(f['wall']) / statistics.median(v['wall']):.2f}, worker CPU "
        f"{statistics.median(f['cpu']) / statistics.median(v['cpu']):.2f}, final RSS "
        f"{f['rss'][-1][0] / v['rss'][-1][0]:.2f}, final anon "
        f"{f['rss'][-1][1] / v['rss'][-1][1]:.2f}"
    )


if __name__ == "__main__":
    main()
