"""``lipsync score VIDEO``: measure lip sync (A/V offset, confidence, per-frame curve).

Without ``--checkpoint`` the built-in audio-visual correlation meter is used (no weights needed);
with a SyncNet checkpoint (Wav2Lip's ``lipsync_expert.pth`` or joonson's ``syncnet_v2.model``) the
expert scores it, giving LSE-D / LSE-C as well. The method is always printed next to the numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lipcore.errors import LipsyncError


def _frame_range(text: str) -> tuple[int, int]:
    try:
        start, stop = (int(v) for v in text.split(":"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected START:STOP frames, got {text!r}") from exc
    if start < 0 or stop <= start:
        raise argparse.ArgumentTypeError(f"need 0 <= START < STOP, got {text!r}")
    return start, stop


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``score`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    p = sub.add_parser(
        "score",
        help="measure lip sync: A/V offset in frames, confidence, per-frame curve",
        description="Measure how well the mouth in VIDEO follows its audio (or --audio). "
        "Offset is in frames, positive = audio late.",
    )
    p.add_argument("video", type=Path, help="video file")
    p.add_argument("--audio", type=Path, help="score against this audio instead of the clip's own "
                   "(its first sample plays with the first frame)")  # fmt: skip
    p.add_argument("--face", default="auto", help="face track id (see `lipsync faces`); "
                   "default: the main face")  # fmt: skip
    p.add_argument("--frames", type=_frame_range, metavar="START:STOP",
                   help="score only this frame range (stop exclusive)")  # fmt: skip
    p.add_argument("--max-lag", type=int, default=15, help="largest offset searched (15 frames)")
    p.add_argument("--checkpoint", type=Path,
                   help="SyncNet checkpoint (lipsync_expert.pth or syncnet_v2.model) to score "
                   "with instead of the built-in meter")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the full score as JSON")
    p.add_argument("--plot", type=Path, metavar="PNG", help="write a plot of the per-frame curve")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)
    return p


def _score_with_checkpoint(args: argparse.Namespace):
    try:
        from lipcore.sync.expert import score_with_expert
    except ModuleNotFoundError as exc:
        if exc.name not in ("lipcore.sync.expert",):
            raise
        raise LipsyncError(
            "scoring with a SyncNet checkpoint is not available in this build",
            args.checkpoint,
            "leave out --checkpoint to use the built-in meter",
        ) from exc
    if not args.checkpoint.exists():
        raise LipsyncError("checkpoint not found", args.checkpoint, "check the path")
    track = None  # the expert picks the main face itself
    if args.face != "auto":
        from lipcore.face.track import track_faces

        # Whole-clip tracks (cached), so the ids are the ones `lipsync faces` lists.
        trackset = track_faces(args.video, show_progress=not args.quiet)
        try:
            track = trackset.get(args.face)
        except KeyError as exc:
            raise LipsyncError(
                str(exc.args[0]), args.video, "run `lipsync faces` to list the face ids"
            ) from exc
    return score_with_expert(
        args.video,
        args.audio,
        args.checkpoint,
        track=track,
        frames=args.frames,
        max_offset=args.max_lag,
    )


def run(args: argparse.Namespace) -> int:
    """Score the clip and print (or write) the result."""
    from lipcore.sync.meter import WEAK_THRESHOLD, score_video

    if not args.video.exists():
        raise LipsyncError("file not found", args.video, "check the path")
    if args.audio is not None and not args.audio.exists():
        raise LipsyncError("audio file not found", args.audio, "check the path")
    if args.checkpoint is not None:
        score = _score_with_checkpoint(args)
    else:
        score = score_video(
            args.video,
            audio=args.audio,
            track=args.face,
            frames=args.frames,
            max_lag=args.max_lag,
            show_progress=not args.quiet and sys.stderr.isatty(),
        )
    if args.plot is not None:
        from lipcore.media.probe import probe
        from lipcore.sync.plot import plot_score

        fps = probe(args.video).video.fps
        plot_score(score, args.plot, fps=fps, title=args.video.name)
    if args.json:
        data = score.to_dict()
        if args.plot is not None:
            data["plot"] = str(args.plot)
        print(json.dumps(data))
        return 0
    import numpy as np

    pf = np.asarray(score.per_frame, np.float64)
    have = np.isfinite(pf)
    lines = [
        f"{args.video}",
        f"  method      {score.method}",
        f"  offset      {score.offset_frames:+d} frames (positive = audio late)",
        f"  confidence  {score.confidence:.3f}",
    ]
    if score.lse_d is not None:
        lines.append(f"  LSE-D       {score.lse_d:.3f}")
    if score.lse_c is not None:
        lines.append(f"  LSE-C       {score.lse_c:.3f}")
    if len(pf):
        weak = (
            int((pf[have] < WEAK_THRESHOLD).sum()) if score.method.startswith("builtin") else None
        )
        detail = f", {weak} weak" if weak is not None else ""
        lines.append(
            f"  frames      {int(score.frames[0])}-{int(score.frames[-1])}: face in "
            f"{int(have.sum())}/{len(pf)}{detail}"
        )
    if args.plot is not None:
        lines.append(f"  plot        {args.plot}")
    print("\n".join(lines))
    return 0
