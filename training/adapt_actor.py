"""Adapt to one actor from footage of them speaking: write an ``ACTOR.lsactor`` bundle.

Usage::

    python -m training.adapt_actor take1.mp4 take2.mp4 --out actor.lsactor \
        [--generator wav2lip_gan.pth --expert lipsync_expert.pth] [--steps 300] [--minutes 5]

The footage goes through the same preparation and data gate as training data
(:mod:`training.data.prepare_folder`: lipcore face tracks, the sync meter's keep / re-align /
drop), then three per-actor parts are made, each bounded by the budget:

- **footage library reference**: which files (by content fingerprint), which frames and which
  audio correction the retime engine may draw this actor's mouths from;
- **meter** (:class:`lipcore.sync.meter.MeterModel`): the spectrum -> lip-gap ridge refitted on
  the actor, shrunk towards the shipped weights (``||w - w_generic||``) with the strength chosen
  on the last 30% of the footage held out in time (the generic meter is kept unless the
  actor's fit beats it there by 0.02 in r on at least 25 frames), plus the actor's lip-gap
  range (closed and open levels, in eye distances);
- **generator** (only with ``--generator``): the Wav2Lip generator fine-tuned on the actor's
  crops against a frozen expert (:func:`training.train_generator.iter_train_generator`,
  ``finetune`` preset), stopped at ``--steps`` or ``--minutes``, whichever comes first.

The meter and the one-shot engine's mouth-shape model are fitted by lipcore (:mod:`lipcore.actor`,
the same code ``lipsync adapt`` runs); only the gate of training data and the generator fine-tune
are training's. The bundle layout is :mod:`lipcore.actor`'s (``generator/`` is a
``save_pretrained`` folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipcore import actor
from lipcore.actor import ActorClip, MeterFrames, prediction_r, read_actor
from lipcore.errors import LipsyncError
from lipcore.progress import Progress, drain
from lipcore.sync.meter import MeterModel
from training.data.prepare_clips import ClipData

__all__ = ["AdaptBudget", "iter_adapt_actor", "prediction_r", "read_actor"]


@dataclass(frozen=True)
class AdaptBudget:
    """How long adaptation may run.

    Attributes:
        steps: Most generator fine-tune steps.
        minutes: Most wall-clock minutes for the fine-tune.
    """

    steps: int = 300
    minutes: float = 5.0


def actor_clip(clip: ClipData, fingerprint: str = "", gate: dict | None = None) -> ActorClip:
    """A prepared clip as lipcore's :class:`lipcore.actor.ActorClip` (its audio already in sync).

    Raises:
        LipsyncError: The clip has no landmarks (prepared without a face track).
    """
    if clip.landmarks is None:
        raise LipsyncError(
            "the prepared clip has no landmarks", clip.source,
            fix="prepare it with training.data.prepare_folder (face tracks)",
        )  # fmt: skip
    return ActorClip(
        source=clip.source, fingerprint=fingerprint, fps=clip.fps,
        n_frames=int(clip.frames[-1]) + 1, frames=np.asarray(clip.frames, np.int64),
        landmarks=np.asarray(clip.landmarks, np.float64), audio_16k=clip.audio_16k,
        gate=dict(gate or {}),
    )  # fmt: skip


def meter_frames(clip: ClipData) -> MeterFrames:
    """:func:`lipcore.actor.meter_frames` of a prepared clip."""
    return actor.meter_frames(actor_clip(clip))


def adapt_meter(clips: Sequence[ClipData], prior: MeterModel | None = None):
    """:func:`lipcore.actor.adapt_meter` of prepared clips."""
    return actor.adapt_meter([actor_clip(c) for c in clips], prior)


def iter_adapt_actor(
    videos: Sequence[str | Path],
    out: str | Path,
    generator_checkpoint: str | Path | None = None,
    expert_checkpoint: str | Path | None = None,
    budget: AdaptBudget = AdaptBudget(),
    work_dir: str | Path | None = None,
) -> Iterator[Progress]:
    """Adapt to the actor speaking in ``videos`` and write the ``.lsactor`` bundle.

    Args:
        videos: Footage of the one actor speaking, with their own (in-sync) audio.
        out: Bundle path (``.lsactor``, written atomically).
        generator_checkpoint: Generator to fine-tune; None skips the fine-tune.
        expert_checkpoint: Frozen sync expert for the fine-tune's sync loss (None: L1 only).
        budget: Step and time limits of the fine-tune.
        work_dir: Where prepared clips go (default a temporary folder).

    Returns:
        The opened bundle (:class:`lipcore.actor.ActorBundle`).

    Raises:
        LipsyncError: No usable footage (every clip dropped by the gate, with the reasons).
    """
    from training.data.prepare_folder import FolderSettings, iter_prepare_clips

    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        entries = yield from iter_prepare_clips(
            [Path(v) for v in videos], work, FolderSettings(speaker_from="file", val_fraction=0)
        )
        kept = [e for e in entries if e.npz is not None]
        if not kept:
            reasons = "; ".join(f"{Path(e.source).name}: {e.verdict['reason']}" for e in entries)
            raise LipsyncError(f"no usable footage ({reasons})", fix="give in-sync speech clips")
        clips = [actor_clip(ClipData.load(work / e.npz), e.fingerprint, e.verdict) for e in kept]
        yield Progress(0, 1, "fitting the actor's meter and mouth shapes")
        meter, meter_figures = actor.adapt_meter(clips)
        shape, shape_figures = actor.adapt_mouth_shape(clips)
        generator_dir = None
        tune = {}
        if generator_checkpoint is not None:
            generator_dir, tune = yield from _fine_tune(
                [work / e.npz for e in kept], work / "finetune", generator_checkpoint,
                expert_checkpoint, budget,
            )  # fmt: skip
        dropped = [(e.source, e.verdict) for e in entries if not e.npz]
        manifest = actor.actor_manifest(clips, dropped, meter_figures, shape_figures, tune or None)
        actor.write_actor(out, manifest, meter, shape, generator_dir)
    yield Progress(1, 1, "written")
    return read_actor(out)


def _fine_tune(clips, run_dir, generator_checkpoint, expert_checkpoint, budget):
    from lipcore.models.checkpoints import load_wav2lip
    from training.configs.generator import PRESETS
    from training.train_generator import PRETRAINED_DIR, iter_train_generator

    base = load_wav2lip(generator_checkpoint)
    config = dataclasses.replace(
        PRESETS["finetune"],
        model=base.config,
        max_steps=budget.steps,
        checkpoint_interval=0,
        log_interval=1,
        sync_weight=PRESETS["finetune"].sync_weight if expert_checkpoint else 0.0,
        batch_size=min(PRESETS["finetune"].batch_size, 4),
    )
    gen = iter_train_generator(config, clips, run_dir, expert_checkpoint, generator_checkpoint)
    deadline = time.monotonic() + 60.0 * budget.minutes
    stopped_by = "steps"
    try:
        for progress in gen:
            yield Progress(progress.done, progress.total, "fine-tuning the generator")
            if time.monotonic() > deadline:
                stopped_by = "minutes"
                break
    finally:
        gen.close()  # saves the last state
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    figures = {
        "steps": rows[-1]["step"] if rows else 0,
        "stopped_by": stopped_by,
        "l1_first": rows[0]["l1"] if rows else None,
        "l1_last": rows[-1]["l1"] if rows else None,
        "from": str(generator_checkpoint),
    }
    return run_dir / PRETRAINED_DIR, figures


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--generator", type=Path, default=None)
    parser.add_argument("--expert", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=AdaptBudget.steps)
    parser.add_argument("--minutes", type=float, default=AdaptBudget.minutes)
    args = parser.parse_args(argv)
    budget = AdaptBudget(args.steps, args.minutes)
    gen = iter_adapt_actor(args.videos, args.out, args.generator, args.expert, budget)
    print(drain(gen, True, "adapt").path)


if __name__ == "__main__":
    main()
