"""``lipsync export-timeline PROJECT``: mezzanine media per segment plus an EDL / FCP XML / OTIO.

Renders the project's segments (or cuts an existing full-length render, ``--rendered``), writes
one ProRes 422 HQ ``.mov`` per segment with ``--handles`` frames either side and the source
timecode, and an edit list placing them, for Premiere Pro, Resolve or Media Composer to relink.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lipcore.interchange.formats import FORMATS


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``export-timeline`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    p = sub.add_parser(
        "export-timeline",
        help="export rendered segments as ProRes media plus an EDL, FCP XML or OTIO edit list",
        description="Write one ProRes 422 HQ file per segment (native rate, source timecode, "
        "handles) and an edit list that places them on the clip's timecode.",
    )
    p.add_argument("project", type=Path, help="the .lsproj project")
    p.add_argument(
        "--format",
        required=True,
        choices=tuple(FORMATS),
        help="; ".join(f"{f.name}: {f.label}" for f in FORMATS.values()),
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="edit list file to write")
    p.add_argument(
        "--handles",
        type=int,
        default=0,
        metavar="N",
        help="extra source frames either side of each segment (default 0)",
    )
    p.add_argument(
        "--media-dir",
        type=Path,
        metavar="DIR",
        help="folder for the .mov files (default: OUTPUT's folder/<stem>_media)",
    )
    p.add_argument(
        "--rendered",
        type=Path,
        metavar="FILE",
        help="a full-length render of the project to cut the media from, instead of rendering now",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Export the timeline; print where the list and the media went."""
    from lipcore.interchange.formats import write_cut
    from lipcore.interchange.mezzanine import iter_mezzanine
    from lipcore.progress import drain
    from lipcore.project import load_project

    project = load_project(args.project)
    media_dir = args.media_dir or args.output.parent / f"{args.output.stem}_media"
    cut = drain(
        iter_mezzanine(project, media_dir, args.handles, rendered=args.rendered),
        show=not args.quiet,
        desc="export-timeline",
    )
    write_cut(cut, args.format, args.output)
    print(f"{args.output}: {FORMATS[args.format].label}, {len(cut.events)} events")
    for ev in cut.events:
        print(
            f"  {ev.name}  {cut.tc(ev.record_in_frame)}-{cut.tc(ev.record_out_frame)}"
            f"  handles {ev.handle_before_frames}+{ev.handle_after_frames}  {ev.media}"
        )
    return 0
