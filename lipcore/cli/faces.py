"""``lipsync faces VIDEO``: find and track the faces of a clip, list them, draw a contact sheet."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from lipcore.face.types import TrackSet
from lipcore.timebase import format_timecode


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``faces`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    p = sub.add_parser(
        "faces",
        help="find and track the faces of a video (ids, frame ranges, contact sheet)",
        description="Detect and track every face of a video; results are cached per clip.",
    )
    p.add_argument("video", help="video file")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--sheet", metavar="PNG", help="write a contact sheet of track thumbnails")
    p.add_argument(
        "--backend",
        choices=("mediapipe", "insightface"),
        default="mediapipe",
        help="face detector (default: mediapipe, works offline; insightface needs its models)",
    )
    p.add_argument(
        "--model-dir",
        metavar="DIR",
        help="insightface model folder (default: ~/.insightface/models/<pack>)",
    )
    p.add_argument(
        "--detect-every", type=int, default=None, metavar="K",
        help="run the detector every K-th frame (and on shot cuts and lost faces); faces are "
        "followed by the landmark model in between (default 8; 1 = detect on every frame)",
    )  # fmt: skip
    p.add_argument(
        "--end-frame", type=int, default=None, metavar="N",
        help="analyse only frames before N (a quick look at a long clip)",
    )  # fmt: skip
    p.add_argument("--no-cache", action="store_true", help="recompute even if cached")
    p.set_defaults(run=run)
    return p


def trackset_summary(trackset: TrackSet) -> dict:
    """JSON-ready description of the tracks (no per-frame arrays)."""
    fps = trackset.fps
    tracks = []
    for t in trackset.tracks:
        size = np.mean(t.boxes[:, 2:] - t.boxes[:, :2], axis=0)
        tracks.append(
            {
                "id": t.track_id,
                "frames": int(len(t.frames)),
                "seconds": round(len(t.frames) / float(fps), 3),
                "ranges": [[a, b] for a, b in t.ranges()],
                "interpolated_frames": int(np.sum(t.interpolated)),
                "mean_box_px": [round(float(size[0]), 1), round(float(size[1]), 1)],
                "has_embedding": t.embedding is not None,
            }
        )
    return {
        "source": str(trackset.source) if trackset.source else None,
        "backend": trackset.backend,
        "frame_count": trackset.frame_count,
        "fps": [fps.numerator, fps.denominator],
        "shot_cuts": list(trackset.shot_cuts),
        "tracks": tracks,
    }


def format_tracks(trackset: TrackSet) -> str:
    """Human-readable table of tracks and shot cuts."""
    fps = trackset.fps
    lines = [
        f"{trackset.source}: {len(trackset.tracks)} face track(s), {trackset.frame_count} frames "
        f"at {float(fps):.3f} fps ({trackset.backend})"
    ]
    cuts = ", ".join(f"{c} ({format_timecode(c, fps)})" for c in trackset.shot_cuts) or "none"
    lines.append(f"  shot cuts: {cuts}")
    for t in trackset.tracks:
        w, h = np.mean(t.boxes[:, 2:] - t.boxes[:, :2], axis=0)
        ranges = ", ".join(f"{a}-{b}" for a, b in t.ranges())
        lines.append(
            f"  {t.track_id:8s} {len(t.frames):5d} frames {len(t.frames) / float(fps):6.2f} s  "
            f"box {w:.0f}x{h:.0f} px  frames {ranges}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``lipsync faces``."""
    from lipcore.face.sheet import write_contact_sheet
    from lipcore.face.track import TrackerSettings, iter_track_faces
    from lipcore.media.probe import probe, require_video
    from lipcore.progress import drain

    if args.detect_every is not None and args.detect_every < 1:
        raise SystemExit("lipsync faces: error: --detect-every must be at least 1")
    settings = TrackerSettings(
        backend=args.backend,
        model_dir=str(Path(args.model_dir).expanduser()) if args.model_dir else None,
        end_frame=args.end_frame,
    )
    if args.detect_every is not None:
        settings = replace(settings, detect_every=args.detect_every)
    # Check the input and the models first, so a bad file fails with one line before any
    # progress bar is drawn.
    require_video(probe(args.video))
    if args.backend == "insightface":
        from lipcore.face.insightface import find_models

        find_models(settings.model_dir)
    trackset = drain(
        iter_track_faces(args.video, settings, use_cache=not args.no_cache),
        show=True,
        desc="faces",
    )
    for note in trackset.notes:
        print(f"warning: {note}", file=sys.stderr)
    sheet = write_contact_sheet(trackset, args.sheet) if args.sheet else None
    if args.json:
        out = trackset_summary(trackset)
        out["sheet"] = str(sheet) if sheet else None
        print(json.dumps(out, indent=2))
    else:
        print(format_tracks(trackset))
        if sheet:
            print(f"  contact sheet: {sheet}")
    return 0
