"""``lipsync adapt VIDEO... --out ACTOR.lsactor``: adapt to one actor from footage of them talking.

Measures the actor's face in each clip (cached face tracks), keeps the clips whose audio is in
sync (the built-in meter), fits the actor's mouth-shape model and meter (:mod:`lipcore.actor`)
and writes the bundle atomically. ``--budget SECONDS`` bounds the measuring (the slow part);
Ctrl-C cancels without writing. ``lipsync sync --actor ACTOR.lsactor`` then renders with it.
The generator fine-tune is a training step (``python -m training.adapt_actor --generator``).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``adapt`` subcommand.

    Args:
        sub: The subparsers object of the ``lipsync`` parser.

    Returns:
        The new subparser.
    """
    p = sub.add_parser(
        "adapt",
        help="adapt the built-in engines to one actor from footage of them speaking",
        description="Fit the actor's mouth-shape model and sync meter on VIDEO... (their own "
        "in-sync speech) and write an actor file for lipsync sync --actor.",
    )
    p.add_argument("videos", type=Path, nargs="+", help="footage of the actor speaking")
    p.add_argument("--out", type=Path, required=True, help="actor file to write (.lsactor)")
    p.add_argument(
        "--minutes", type=float, default=None, help="use at most this many minutes of footage"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop measuring more footage after this many seconds (the fits take seconds)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Adapt and print what was fitted."""
    from lipcore.actor import ACTOR_SUFFIX, iter_adapt_actor
    from lipcore.errors import LipsyncError
    from lipcore.progress import drain

    if args.out.suffix != ACTOR_SUFFIX:
        raise LipsyncError(f"the actor file must end in {ACTOR_SUFFIX}", args.out,
                           fix=f"e.g. --out actor{ACTOR_SUFFIX}")  # fmt: skip
    if args.minutes is not None and args.minutes <= 0:
        raise LipsyncError("--minutes must be positive", fix="e.g. --minutes 2")
    if args.budget is not None and args.budget <= 0:
        raise LipsyncError("--budget must be positive (seconds)", fix="e.g. --budget 300")
    gen = iter_adapt_actor(args.videos, args.out, args.minutes, args.budget)
    bundle = drain(gen, not args.quiet, "adapt")
    m = bundle.manifest
    shape = m["mouth_shape"]
    for entry in m["footage"]:
        print(f"used    {entry['source']} ({entry['gate']['reason']})")
    for entry in m["dropped"]:
        print(f"dropped {entry['source']} ({entry['gate']['reason']})")
    for source in m.get("unused_over_budget", []):
        print(f"unused  {source} (over the budget)")
    verdict = "adapted" if shape["adapted"] else "kept the shipped model (adapting did not help)"
    print(
        f"mouth shape: {verdict}; held-out lip-gap r {shape['heldout_r_gap_shipped']:.3f} "
        f"shipped -> {shape['heldout_r_gap_adapted']:.3f}"
        + (
            f", motion x{shape['range_rescale']:.2f} to the actor's range"
            if shape["adapted"]
            else ""
        )
    )
    print(f"wrote {args.out}")
    return 0
