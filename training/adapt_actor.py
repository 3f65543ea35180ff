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

The bundle is a zip: ``actor.json`` (format, sources, figures), ``meter_ridge.json`` and, when
fine-tuned, ``generator/`` (a ``save_pretrained`` folder). The audio-to-mouth-shape model of the
one-shot engine (``lipcore/engines/mouth_shape.py``) is not adapted here yet.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipcore.cache import atomic_write_bytes
from lipcore.errors import LipsyncError
from lipcore.progress import Progress, drain
from lipcore.sync.meter import MeterModel, load_meter_model, zscore
from training.data.prepare_clips import ClipData

ACTOR_FORMAT = "lipsync-actor"
ACTOR_VERSION = 1
#: Shrinkage strengths towards the generic meter tried on the held-out tail (inf = generic).
SHRINK_ALPHAS = (10.0, 100.0, 1_000.0, 10_000.0, float("inf"))
HOLDOUT_SHARE = 0.3
#: Fewest held-out voiced frames with a face to trust the choice; fewer keeps the generic meter.
MIN_HELDOUT_FRAMES = 25
#: Held-out r within which stronger shrinkage (closer to the generic meter) wins.
PRIOR_TIE_R = 0.02


@dataclass(frozen=True)
class AdaptBudget:
    """How long adaptation may run.

    Attributes:
        steps: Most generator fine-tune steps.
        minutes: Most wall-clock minutes for the fine-tune.
    """

    steps: int = 300
    minutes: float = 5.0


@dataclass
class MeterFrames:
    """What the meter learns from: per-frame z-scored lip gap, features and speech mask."""

    gap_z: np.ndarray
    feats: np.ndarray
    voiced: np.ndarray
    gap_raw: np.ndarray


def meter_frames(clip: ClipData, rows: slice | None = None) -> MeterFrames:
    """Lip gap (from the stored landmarks) and spectral features of a prepared clip's frames.

    Args:
        clip: A clip prepared from a face track (``landmarks`` present).
        rows: Which of its frames (default all).

    Raises:
        LipsyncError: The clip has no landmarks (prepared without a face track).
    """
    from lipcore.audio.features import spectral_features
    from lipcore.audio.vad import voiced_frames
    from lipcore.face.landmarks import lip_gap

    if clip.landmarks is None:
        raise LipsyncError(
            "the prepared clip has no landmarks", clip.source,
            fix="prepare it with training.data.prepare_folder (face tracks)",
        )  # fmt: skip
    rows = rows or slice(None)
    frames = clip.frames[rows]
    n_src = int(frames[-1]) + 1
    feats = spectral_features(clip.audio_16k, clip.fps, n_src)[frames]
    voiced = voiced_frames(clip.audio_16k, clip.fps, n_src)[frames]
    gap = lip_gap(clip.landmarks[rows]).astype(np.float64)
    return MeterFrames(zscore(gap, voiced), feats, voiced, gap)


def fit_shrunk_ridge(parts: Sequence[MeterFrames], prior: MeterModel, alpha: float) -> MeterModel:
    """Ridge on the prior's standardised features, shrunk towards the prior's weights.

    Minimises ``||X w + b - y||^2 + alpha ||w - w_prior||^2`` (``alpha = inf`` returns the
    prior). Standardising with the prior's statistics keeps ``w_prior`` meaningful.
    """
    if not np.isfinite(alpha):
        return prior
    x = np.concatenate([(p.feats[m] - prior.feature_mean) / prior.feature_std
                        for p in parts for m in [np.isfinite(p.gap_z) & p.voiced]])  # fmt: skip
    y = np.concatenate([p.gap_z[np.isfinite(p.gap_z) & p.voiced] for p in parts])
    x_mean, y_mean = x.mean(axis=0), y.mean()
    xc = x - x_mean
    a = xc.T @ xc + alpha * np.eye(x.shape[1])
    w = np.linalg.solve(a, xc.T @ (y - y_mean) + alpha * prior.weights)
    bias = float(y_mean - x_mean @ w)
    return MeterModel(w, bias, prior.feature_mean, prior.feature_std, dict(prior.feature_spec))


def prediction_r(model: MeterModel, part: MeterFrames) -> float:
    """Correlation of the model's predicted opening with the measured one (voiced frames)."""
    keep = np.isfinite(part.gap_z) & part.voiced
    if keep.sum() < 10:
        return float("nan")
    return float(np.corrcoef(part.gap_z[keep], model.predict(part.feats)[keep])[0, 1])


def adapt_meter(clips: Sequence[ClipData], prior: MeterModel | None = None):
    """Fit the actor's meter: choose the shrinkage on the held-out tail, refit on everything.

    Returns:
        ``(model, figures)``: figures hold the chosen alpha and the held-out r of the generic
        and of the adapted meter for every alpha tried.
    """
    prior = prior if prior is not None else load_meter_model()
    fit_parts, held_parts = [], []
    for clip in clips:
        n = len(clip.frames)
        cut = int(n * (1 - HOLDOUT_SHARE))
        fit_parts.append(meter_frames(clip, slice(0, cut)))
        held_parts.append(meter_frames(clip, slice(cut, n)))

    def held_r(model):
        values = [prediction_r(model, p) for p in held_parts]
        values = [v for v in values if np.isfinite(v)]
        return float(np.mean(values)) if values else float("nan")

    held_frames = sum(int((np.isfinite(p.gap_z) & p.voiced).sum()) for p in held_parts)
    scores = {str(a): held_r(fit_shrunk_ridge(fit_parts, prior, a)) for a in SHRINK_ALPHAS}
    best = float("inf")
    if held_frames >= MIN_HELDOUT_FRAMES and all(np.isfinite(v) for v in scores.values()):
        # The strongest shrinkage within PRIOR_TIE_R of the best: leave the generic meter
        # only for a clear gain (a few seconds of footage overfit easily).
        top = max(scores.values())
        best = max(a for a in SHRINK_ALPHAS if scores[str(a)] >= top - PRIOR_TIE_R)
    model = fit_shrunk_ridge([meter_frames(c) for c in clips], prior, best)
    gaps = np.concatenate([meter_frames(c).gap_raw for c in clips])
    gaps = gaps[np.isfinite(gaps)]
    figures = {
        "alpha": best,
        "heldout_r_by_alpha": scores,
        "lip_gap_closed": float(np.percentile(gaps, 5)),
        "lip_gap_open": float(np.percentile(gaps, 95)),
        "lip_gap_mean": float(gaps.mean()),
    }
    meta = {"actor_adapted": True, "shrunk_towards": "shipped meter", **figures}
    return dataclasses.replace(model, meta=meta), figures


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
        The bundle path.

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
        clips = [ClipData.load(work / e.npz) for e in kept]
        yield Progress(0, 1, "fitting the actor's meter")
        meter, meter_figures = adapt_meter(clips)
        generator_dir = None
        tune = {}
        if generator_checkpoint is not None:
            generator_dir, tune = yield from _fine_tune(
                [work / e.npz for e in kept], work / "finetune", generator_checkpoint,
                expert_checkpoint, budget,
            )  # fmt: skip
        manifest = {
            "format": ACTOR_FORMAT,
            "version": ACTOR_VERSION,
            "footage": [
                {
                    "source": e.source,
                    "fingerprint": e.fingerprint,
                    "frames": [int(c.frames[0]), int(c.frames[-1])],
                    "audio_shift_frames": int(c.audio_shift_frames),
                    "gate": e.verdict,
                }
                for e, c in zip(kept, clips, strict=True)
            ],
            "dropped": [{"source": e.source, "gate": e.verdict} for e in entries if not e.npz],
            "meter": meter_figures,
            "generator": tune or None,
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("actor.json", json.dumps(manifest, indent=1))
            z.writestr("meter_ridge.json", json.dumps(meter.to_dict(), indent=1))
            if generator_dir is not None:
                for f in sorted(generator_dir.iterdir()):
                    z.write(f, f"generator/{f.name}")
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, buf.getvalue())
    yield Progress(1, 1, "written")
    return out


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


def read_actor(path: str | Path) -> tuple[dict, MeterModel]:
    """Open a bundle: ``(actor.json contents, the actor's meter)``.

    Raises:
        LipsyncError: Not a bundle of this format.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("actor.json"))
            meter = MeterModel.from_dict(json.loads(z.read("meter_ridge.json")))
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as exc:
        raise LipsyncError(
            f"not an actor bundle ({exc})", path, fix="run training.adapt_actor"
        ) from exc
    if manifest.get("format") != ACTOR_FORMAT:
        raise LipsyncError("not an actor bundle", path, fix="run training.adapt_actor")
    return manifest, meter


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
    print(drain(gen, True, "adapt"))


if __name__ == "__main__":
    main()
