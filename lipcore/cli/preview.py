"""``lipsync preview``: a PNG of a few frames, original beside result, without encoding a video."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lipcore.cli.render_options import add_render_arguments, build_request


def add_parser(sub) -> None:
    """Register the ``preview`` subcommand."""
    p = sub.add_parser(
        "preview",
        help="write a few frames side by side (original | result) as a PNG",
        description="Run the same render as 'lipsync sync' but write only a PNG sheet of a few "
        "frames, each original | result, to check a setting before a full render.",
    )
    add_render_arguments(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    p.add_argument("--count", type=int, default=4, help="frames to show (default 4)")
    p.add_argument("--frames", help="comma-separated output frame numbers to show instead")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Render the chosen frames and write the sheet."""
    from lipcore.cache import atomic_write_bytes
    from lipcore.errors import LipsyncError
    from lipcore.media.encode import check_writable
    from lipcore.progress import drain
    from lipcore.render.pipeline import iter_preview

    if args.output.suffix.lower() != ".png":
        raise LipsyncError("the preview is a PNG image", args.output, "name it *.png")
    check_writable(args.output)  # before the render, not after it
    request = build_request(args, args.output)
    try:
        frames = [int(f) for f in args.frames.split(",")] if args.frames else None
    except ValueError as exc:
        raise LipsyncError(
            f"cannot read the frame list {args.frames!r}", fix="write frame numbers, e.g. 10,50"
        ) from exc
    shots = drain(
        iter_preview(request, frames=frames, count=args.count), show=not args.quiet, desc="preview"
    )
    sheet = contact_sheet(shots)
    import cv2

    ok, png = cv2.imencode(".png", sheet)
    if not ok:
        raise LipsyncError("could not encode the preview image", args.output)
    try:
        atomic_write_bytes(args.output, png.tobytes())
    except OSError as exc:
        raise LipsyncError(
            f"could not write the preview ({exc.strerror or exc})", args.output, "free some space"
        ) from exc
    print(f"{args.output}: frames {', '.join(str(f) for f, _, _ in shots)} (original | result)")
    return 0


def contact_sheet(
    shots: list[tuple[int, np.ndarray, np.ndarray]], height: int = 360
) -> np.ndarray:
    """Rows of ``original | result`` pairs, each labelled with its frame number."""
    import cv2

    rows = []
    for frame, original, result in shots:
        scale = height / original.shape[0]
        size = (max(1, round(original.shape[1] * scale)), height)
        pair = np.hstack([cv2.resize(original, size), cv2.resize(result, size)])
        for x, text in ((8, f"frame {frame} original"), (size[0] + 8, "result")):
            cv2.putText(pair, text, (x, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 4)
            cv2.putText(pair, text, (x, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        rows.append(pair)
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    return np.vstack(rows)
