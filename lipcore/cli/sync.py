"""``lipsync sync``: render a lip-synced copy of a clip driven by new speech."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lipcore.cli.render_options import add_render_arguments, build_request
from lipcore.media.encode import DEFAULT_CRF


def add_parser(sub) -> None:
    """Register the ``sync`` subcommand."""
    p = sub.add_parser(
        "sync",
        help="lip-sync a clip to new audio",
        description="Rewrite the mouth of a face in VIDEO so it speaks AUDIO; writes OUT "
        "(.mp4 = H.264/AAC, .mov = ProRes/PCM). The source is never overwritten.",
    )
    add_render_arguments(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="output video file")
    p.add_argument(
        "--mix",
        choices=("dub", "mix"),
        default="dub",
        help="output audio: the new audio alone (default) or over the ducked original",
    )
    p.add_argument(
        "--crf",
        type=int,
        default=DEFAULT_CRF,
        help=f"H.264 quality, lower = better ({DEFAULT_CRF})",
    )
    p.add_argument(
        "--cues",
        type=Path,
        metavar="CUES",
        help="drive the mouth from these mouth cues (Rhubarb .tsv or .json, times on AUDIO's "
        "clock) instead of the speech; uses the one-shot engine",
    )
    p.add_argument(
        "--draft",
        action="store_true",
        help="a fast low-resolution draft for review: only the frames from the first --segment's "
        "start to the last one's end, scaled by --draft-scale (the final render is the same "
        "command without --draft)",
    )
    p.add_argument(
        "--draft-scale",
        type=float,
        default=0.5,
        help="size of a draft relative to the clip, 0.1..1 (0.5)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _driven_by_cues(request, cues_path: Path):
    """The request with every segment's mouth driven by the cue file (one-shot engine)."""
    from dataclasses import replace

    from lipcore.cues.read import cue_triples, read_cues
    from lipcore.errors import LipsyncError

    cues = cue_triples(read_cues(cues_path))
    segments = []
    for seg in request.segments:
        if seg.engine not in ("auto", "oneshot"):
            raise LipsyncError(
                f"--cues drives only the one-shot engine, not --engine {seg.engine}",
                cues_path,
                "leave --engine out (or give --engine oneshot)",
            )
        segments.append(replace(seg, engine="oneshot", drive="cues", cues=cues))
    return replace(request, segments=tuple(segments))


def run(args: argparse.Namespace) -> int:
    """Render and report what was written."""
    from dataclasses import replace

    from lipcore.render.chunks import chunk_root
    from lipcore.render.pipeline import render

    request = replace(build_request(args, args.output), audio_mix=args.mix, crf=args.crf)
    if args.cues is not None:
        request = _driven_by_cues(request, args.cues)
    if args.draft:
        return _run_draft(args, request)
    # With --segment only those frames are re-synced (into cached chunks, reused when nothing
    # changed) and one pass splices them onto the clip; the whole clip renders live.
    chunks = chunk_root() if args.segment else None
    result = render(request, show_progress=not args.quiet, chunks=chunks)
    for name, reason in result.engines:  # what "auto" chose, and why
        print(f"engine: {name} ({reason})")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    seconds = float(result.frame_count / result.fps)
    print(
        f"{result.output}: {result.frame_count} frames ({seconds:.2f} s at "
        f"{float(result.fps):.3f} fps), face {result.track_id}, "
        f"{result.frames_changed} frames re-synced"
    )
    return 0


def _run_draft(args: argparse.Namespace, request) -> int:
    """Render the draft of the segments' span and say that it is one."""
    from lipcore.draft import iter_draft
    from lipcore.errors import LipsyncError
    from lipcore.progress import drain

    if not args.segment:
        raise LipsyncError(
            "a draft is of a range of the clip", fix="give the range with --segment START-END"
        )
    first = min(s.start_frame for s in request.segments)
    end = max(s.end_frame for s in request.segments)
    result = drain(iter_draft(request, first, end, args.draft_scale), show=not args.quiet)
    print(
        f"{result.output}: DRAFT of frames {first}-{end} at {args.draft_scale:g}x "
        f"({result.frame_count} frames, frame 0 = clip frame {first}), "
        f"{result.frames_changed} frames re-synced; render without --draft for the final"
    )
    return 0
