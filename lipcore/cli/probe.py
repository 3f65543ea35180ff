"""``lipsync probe FILE``: show what a media file holds (size, exact fps, frames, clocks)."""

from __future__ import annotations

import argparse
import json

from lipcore.media.probe import MediaInfo, probe


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``probe`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    p = sub.add_parser(
        "probe",
        help="show a media file's streams: size, exact frame rate, frame count, audio",
        description="Show what a video or audio file holds, as lipsync will read it.",
    )
    p.add_argument("file", help="video or audio file")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(run=run)
    return p


def format_info(info: MediaInfo) -> str:
    """Human-readable multi-line summary of a probed file.

    Args:
        info: The probed file.

    Returns:
        Text for a terminal.
    """
    lines = [f"{info.path}", f"  duration   {info.duration_sec:.3f} s"]
    v = info.video
    if v is None:
        lines.append("  video      none (audio only)")
    else:
        fps = f"{v.fps.numerator}/{v.fps.denominator}" if v.fps.denominator != 1 else f"{v.fps}"
        size = f"{v.width}x{v.height}"
        vfr = ", variable (normalised to this rate)" if v.is_vfr else ""
        if v.rotation:
            size += f" (stored {v.coded_width}x{v.coded_height}, rotated {v.rotation} deg)"
        lines += [
            f"  video      {v.codec} {v.pix_fmt} {v.bit_depth}-bit, {size}",
            f"  fps        {fps} ({float(v.fps):.3f}){vfr}",
            f"  frames     {v.frame_count}, first at {v.start_sec:.3f} s",
        ]
    a = info.audio
    if a is None:
        lines.append("  audio      none")
    else:
        lines.append(
            f"  audio      {a.codec} {a.sample_rate} Hz, {a.channels} ch, "
            f"{a.duration_sec:.3f} s from {a.start_sec:.3f} s"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the probe result; a bad file raises MediaError (exit status 2 via the CLI)."""
    info = probe(args.file)
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
    else:
        print(format_info(info))
    return 0
