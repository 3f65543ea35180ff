"""``lipsync cues AUDIO -o OUT``: timed mouth shapes for animators (Rhubarb, Moho, Papagayo, PNGs).

The format follows ``--format`` or, when it is left out, the output's suffix (``.tsv``, ``.json``,
``.xml``, ``.dat``, ``.pgo``); ``--format png`` writes one PNG per frame from ``--drawings``.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

from lipcore.errors import LipsyncError

PNG_FORMAT = "png"


def _fps(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise argparse.ArgumentTypeError("expected a frame rate such as 24 or 30000/1001") from exc
    if not 1 <= value <= 120:
        raise argparse.ArgumentTypeError(f"frame rate must be between 1 and 120, got {text}")
    return value


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from exc
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return w, h


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``cues`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    from lipcore.cues.export import FORMATS

    formats = (*FORMATS, PNG_FORMAT)
    p = sub.add_parser(
        "cues",
        help="mouth shapes for animators: Rhubarb TSV/JSON/XML, Moho .dat, Papagayo .pgo, PNGs",
        description="Timed mouth shapes (Rhubarb A-H, X) for speech, on the target frame grid.",
    )
    p.add_argument("audio", type=Path, help="speech: an audio file or a video with sound")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output file (or a new folder with --format png)")  # fmt: skip
    p.add_argument("--format", choices=formats, help="default: from the output's suffix")
    p.add_argument("--fps", type=_fps, default=Fraction(24),
                   help="target frame rate: 24 (default), 25, 30, 12 for 'on twos'")  # fmt: skip
    p.add_argument("--min-hold", type=int, default=1, metavar="FRAMES",
                   help="shortest hold of a shape in frames (not closures)")  # fmt: skip
    p.add_argument("--text", type=Path, metavar="FILE",
                   help="dialogue text (English) for the cues to follow")  # fmt: skip
    p.add_argument("--recogniser", choices=("phones", "words"), default="phones",
                   help="without --text: phones (any language, fast) or words (English "
                   "words recognised, then aligned; slower)")  # fmt: skip
    p.add_argument("--names", choices=("rhubarb", "blair"), default="rhubarb",
                   help="shape names: Rhubarb letters or Preston Blair (MBP, AI)")  # fmt: skip
    p.add_argument("--extended-shapes", default="GHX", metavar="GHX",
                   help="optional shapes you drew (default GHX; '' for A-F only)")  # fmt: skip
    p.add_argument("--drawings", type=Path, metavar="FOLDER",
                   help="with --format png: folder of A.png..X.png mouth drawings")  # fmt: skip
    p.add_argument("--size", type=_size, metavar="WxH", help="with --format png: frame size")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)
    return p


def _format_of(args: argparse.Namespace) -> str:
    from lipcore.cues.export import FORMATS

    if args.format:
        return args.format
    suffix = args.output.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise LipsyncError(
        "cannot tell the cue format from the output name",
        args.output,
        f"give --format ({', '.join((*FORMATS, PNG_FORMAT))}) or a suffix such as .tsv",
    )


def run(args: argparse.Namespace) -> int:
    """Analyse the speech and write the cue file."""
    from lipcore.cues.export import ExportOptions, write_cues
    from lipcore.cues.images import iter_export_png_sequence
    from lipcore.cues.make import CueConfig, iter_mouth_cues
    from lipcore.media.audio import load_audio
    from lipcore.progress import drain

    if not args.audio.exists():
        raise LipsyncError("audio file not found", args.audio, "check the path")
    fmt = _format_of(args)
    if fmt == PNG_FORMAT and args.drawings is None:
        raise LipsyncError(
            "--format png needs your mouth drawings", args.output, "add --drawings FOLDER"
        )
    text = None
    if args.text is not None:
        try:
            text = args.text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LipsyncError(
                "cannot read the dialogue text", args.text, "give a UTF-8 text file"
            ) from exc
    try:
        config = CueConfig(args.fps, args.min_hold, args.extended_shapes)
    except ValueError as exc:
        raise LipsyncError(str(exc), fix="see `lipsync cues --help`") from exc
    show = not args.quiet and sys.stderr.isatty()
    audio = load_audio(args.audio)
    track = drain(iter_mouth_cues(audio, config, text, args.recogniser), show=show, desc="cues")
    if text and track.source != "text":
        print(
            "lipsync cues: the dialogue text did not align to this speech; "
            "the cues follow recognised phones instead",
            file=sys.stderr,
        )
    if fmt == PNG_FORMAT:
        drain(
            iter_export_png_sequence(track, args.drawings, args.output, args.size),
            show=show,
            desc="frames",
        )
    else:
        options = ExportOptions(args.names, str(args.audio), args.extended_shapes)
        write_cues(track, args.output, fmt, options)
    shapes = sum(1 for c in track.cues if c.shape != "X")
    print(f"{args.output}: {len(track.cues)} cues ({shapes} speaking) at {track.fps} fps, "
          f"from {track.source}")  # fmt: skip
    return 0
