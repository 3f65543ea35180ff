"""The ``lipsync`` command line: one module per subcommand, each with ``add_parser`` and ``run``.

Errors a user can fix (:class:`lipcore.errors.LipsyncError`) end the program with exit status 2
and one line naming the file and the fix; Ctrl-C ends it with status 130 and nothing half-written.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from lipcore import __version__
from lipcore.errors import LipsyncError

#: Subcommand modules in ``lipcore.cli``, each with ``add_parser(subparsers)`` and ``run(args)``.
COMMANDS = (
    "probe",
    "faces",
    "sync",
    "preview",
    "score",
    "cues",
    "export_timeline",
    "fit",
    "batch",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="lipsync", description="Offline lip-sync: re-sync a face in a video to new speech."
    )
    parser.add_argument("--version", action="version", version=f"lipsync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"lipcore.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"lipcore.cli.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lipsync`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except LipsyncError as exc:
        print(f"lipsync {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lipsync {args.command}: cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
