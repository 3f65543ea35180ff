"""``lipsync fit SCRIPT LINES...``: does each line's take fit its slot? (before any render).

LINES is a folder of line files (``0001.wav`` ...), several line files, or with ``--long-dub``
one recording of the whole script. Prints the fit table with the total overflow, or JSON.
Exit status 0 whether or not lines overflow (the table says so); 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``fit`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    p = sub.add_parser(
        "fit",
        help="check each script line's audio against its subtitle slot",
        description="Compare every line's take with its slot in SCRIPT (.srt or .vtt) and list "
        "the overflows with their total.",
    )
    p.add_argument("script", type=Path, help="subtitles (.srt or .vtt): one slot per line")
    p.add_argument(
        "lines",
        type=Path,
        nargs="+",
        help="a folder of line files (0001.wav ...), line files, or one long dub",
    )
    p.add_argument(
        "--long-dub",
        action="store_true",
        help="LINES is one recording of all lines on the clip's clock",
    )
    p.add_argument("--clip", type=Path, help="the video, so the last line's gap ends at its end")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the fit table."""
    from lipcore.script.fit import fit_check, format_fit_table
    from lipcore.script.lines import read_takes
    from lipcore.script.subtitles import read_script

    lines = read_script(args.script)
    takes = read_takes(args.lines, lines, long_dub=args.long_dub)
    clip_end_ms = None
    if args.clip is not None:
        from lipcore.media.probe import probe, require_video

        video = require_video(probe(args.clip))
        clip_end_ms = int(video.frame_count * 1000 / video.fps)
    report = fit_check(lines, takes, clip_end_ms)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_fit_table(report))
    return 0
