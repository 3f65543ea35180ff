"""The ``lipsync`` command line: one module per subcommand, each with ``add_parser`` and ``run``.

Errors a user can fix (:class:`lipcore.errors.LipsyncError`) end the program with exit status 2
and one line naming the file and the fix; Ctrl-C ends it with status 130 and SIGTERM (``kill``, a
closing terminal's SIGHUP, a job scheduler) with 143, both through the same unwinding, so nothing
half-written is left (every writer removes its temp files) and an earlier output stays as it was.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
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
    "adapt",
)


class _VersionAction(argparse.Action):
    """``--version``: the report of :mod:`lipcore.about` (collected only when asked for)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, **kw):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, **kw)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from lipcore.about import collect, format_report

        print(f"lipsync {__version__}\n")
        print(format_report(collect()))
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="lipsync", description="Offline lip-sync: re-sync a face in a video to new speech."
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="show the versions of lipsync, Qt, PyTorch, FFmpeg and the face models, the "
        "devices found, and exit",
    )
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


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwound like Ctrl-C so temp files are removed on the way out."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, _frame) -> None:
    # Further signals while unwinding are ignored: the clean-up must not be cut short.
    for sig in _TERMINATING:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


#: Signals that end the program like Ctrl-C (SIGHUP: the terminal closed).
_TERMINATING = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lipsync`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in _TERMINATING}
    try:
        return int(args.run(args) or 0)
    except LipsyncError as exc:
        print(f"lipsync {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Terminated as exc:
        print(f"lipsync {args.command}: stopped by {exc}; nothing was written", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"lipsync {args.command}: cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``lipsync probe x | head``): not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return 141
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
