"""Train the one-shot engine's speech -> mouth-shape model from a prepared folder, validated
leave-one-speaker-out.

Usage::

    python -m training.data.prepare_folder VIDEOS --out data/prepared      # tracks, gate, split
    python -m training.fit_mouth_shape --prepared data/prepared --out runs/mouth_shape.json \
        [--preset default] [--run-dir runs/mouth_shape]

The model is the one ``lipcore/engines/mouth_shape.py`` loads (``lipcore/data/mouth_shape.json``
is one): ridge regression from the sync meter's spectral features, stacked over a few frames of
context, to the principal components of the lip and chin displacement from the speaker's own
resting mouth (:mod:`training.data.mouth_clips` measures them from the prepared landmarks).
Every kept clip of the folder is used, whatever its train/val split: validation is
**leave-one-speaker-out**, each speaker held out in turn and the model fitted on the others.
With ``nested`` (the default preset) the ridge strength and the per-component gain of each fold
are chosen from the training speakers alone (leave-one-speaker-out again, inside them), so the
held-out figures are what a new speaker would get. The written model is then fitted on every
speaker with the strength and gain chosen the same way over all of them.

The run directory gets ``metrics.jsonl`` (one row per ridge strength: in-sample and held-out
displacement error, held-out lip-gap correlation and closure), ``curves.png``, TensorBoard
events when ``tensorboardX`` is installed, ``validation.json`` (per speaker, for this model and
for the shipped model on the same clips) and ``report.txt``. The fit is closed-form (seconds);
the slow part, measuring the clips (phones, features), is cached by lipcore.

``--media`` keeps the old path that tracks the shared clips directly (no prepared folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from lipcore.audio.features import FEATURE_SPEC
from lipcore.cache import atomic_write_bytes
from lipcore.engines.mouth_shape import MouthShapeModel, load_mouth_shape_model, stack_context
from lipcore.errors import LipsyncError
from lipcore.progress import Progress, drain
from training.configs.mouth_shape import PRESETS, MouthShapeTrainConfig
from training.data.mouth_clips import (
    POINT_ROW,
    MouthClip,
    iter_load_prepared,
    mouth_clip,
    smoothed_disp,
)
from training.eval_mouth_shape import clip_figures, format_table, per_speaker, summary

#: The in-sync single-speaker shared clips the shipped model was fitted on (A05 is A01's crop).
TRAIN_CLIPS = ("A01", "A02", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A14")
SAME_SOURCE = {"A01": "aoc", "A05": "aoc"}
VALIDATION_NAME = "validation.json"
REPORT_NAME = "report.txt"


# --- the fit: ridge on sufficient statistics (each clip summed once, folds add them up) -------


@dataclass
class ClipStats:
    """Sums over one clip's frames with a face: stacked features ``x`` and displacements ``y``."""

    n: int
    sx: np.ndarray
    sxx: np.ndarray
    sy: np.ndarray
    syy: np.ndarray
    sxy: np.ndarray

    def __add__(self, other: ClipStats) -> ClipStats:
        return ClipStats(*(a + b for a, b in zip(self._fields(), other._fields(), strict=True)))

    def _fields(self):
        return (self.n, self.sx, self.sxx, self.sy, self.syy, self.sxy)


def clip_stats(clip: MouthClip, lags: tuple[int, ...], smooth_frames: int = 0) -> ClipStats:
    """The sums :func:`fit_stats` needs from one clip (targets averaged over +-smooth_frames)."""
    keep = clip.has_face
    x = stack_context(clip.feats, lags)[keep]
    y = smoothed_disp(clip.disp, smooth_frames)[keep]
    return ClipStats(len(x), x.sum(0), x.T @ x, y.sum(0), y.T @ y, x.T @ y)


def fit_stats(stats: ClipStats, alpha: float, config: MouthShapeTrainConfig) -> MouthShapeModel:
    """PCA of the displacements, then ridge from standardised features to the scores.

    The same model as fitting on the pooled rows (the shipped recipe), computed from sums.
    """
    n = stats.n
    mean_y = stats.sy / n
    cov_y = stats.syy / n - np.outer(mean_y, mean_y)
    vals, vecs = np.linalg.eigh(cov_y)
    comps = vecs[:, np.argsort(vals)[::-1][: config.n_components]].T
    comps *= np.sign(comps[:, np.argmax(np.abs(comps), axis=1)].diagonal())[:, None]
    x_mean = stats.sx / n
    cxx = stats.sxx - n * np.outer(x_mean, x_mean)
    x_std = np.maximum(np.sqrt(np.maximum(np.diag(cxx) / n, 0.0)), 1e-6)
    # Standardised features z = (x - m) / s: z'z = cxx / (s s'), and the centred targets make the
    # bias the scores' mean, 0.
    zz = cxx / np.outer(x_std, x_std)
    zy = (stats.sxy - np.outer(x_mean, stats.sy)) / x_std[:, None]
    w = np.linalg.solve(zz + alpha * np.eye(len(zz)), zy @ comps.T)
    weights = np.concatenate([w, np.zeros((1, config.n_components))], axis=0)
    return MouthShapeModel(
        x_mean, x_std, weights, np.ones(config.n_components), comps, mean_y,
        dict(FEATURE_SPEC), tuple(config.lags),
    )  # fmt: skip


def fit(clips: Sequence[MouthClip], alpha: float, config: MouthShapeTrainConfig):
    """Fit on ``clips`` (gain 1); see :func:`fit_stats`."""
    stats = [clip_stats(c, config.lags, config.target_smooth_frames) for c in clips]
    return fit_stats(_total(stats), alpha, config)


def _total(stats: Sequence[ClipStats]) -> ClipStats:
    out = stats[0]
    for s in stats[1:]:
        out = out + s
    return out


# --- leave-one-speaker-out ----------------------------------------------------------------------


def loso_folds(speakers: Sequence[str]) -> list[tuple[str, list[int], list[int]]]:
    """``(held speaker, training rows, held rows)`` for each speaker of ``speakers`` (per clip).

    Raises:
        LipsyncError: Fewer than two speakers (nothing to hold out).
    """
    unique = sorted(set(speakers))
    if len(unique) < 2:
        raise LipsyncError(
            f"leave-one-speaker-out needs two speakers or more, the clips have {len(unique)}",
            fix="prepare footage of more speakers (LRS2 layout: one folder per speaker)",
        )
    return [
        (
            s,
            [i for i, v in enumerate(speakers) if v != s],
            [i for i, v in enumerate(speakers) if v == s],
        )
        for s in unique
    ]


def _gain(model: MouthShapeModel, clip: MouthClip) -> tuple[np.ndarray, np.ndarray]:
    keep = clip.has_face & clip.voiced
    pred = model.predict_scores(clip.feats)[keep]
    true = (clip.disp[keep] - model.mean) @ model.components.T
    return true.std(axis=0), pred.std(axis=0)


def loso_sweep(
    clips: Sequence[MouthClip],
    stats: Sequence[ClipStats],
    rows: Sequence[int],
    config: MouthShapeTrainConfig,
) -> list[dict]:
    """Leave-one-speaker-out over ``rows`` for every ridge strength: figures and gains.

    Returns:
        One dict per strength of ``config.alphas``: ``alpha``, ``summary`` (mean over speakers),
        ``speakers`` (per held-out speaker), ``gain`` (median over folds of measured / predicted
        spread per component) and ``train_mse`` (in-sample, all of ``rows``).
    """
    from threadpoolctl import threadpool_limits

    # Hundreds of small solves: one BLAS thread is many times faster than a pool fighting for
    # busy cores (35 s against 2 s for one sweep on this project's two-core machine).
    with threadpool_limits(1):
        return _loso_sweep(clips, stats, list(rows), config)


def _loso_sweep(clips, stats, rows, config) -> list[dict]:
    speakers = [clips[i].speaker for i in rows]
    folds = loso_folds(speakers)
    out = []
    for alpha in config.alphas:
        figures, names, ratios = {}, {}, []
        for _, train, held in folds:
            train_rows, held_rows = [rows[i] for i in train], [rows[i] for i in held]
            model = fit_stats(_total([stats[i] for i in train_rows]), alpha, config)
            for i in held_rows:
                foreign = [clips[j] for j in train_rows]
                figures[clips[i].name] = clip_figures(
                    model, clips[i], foreign, config.closed_fraction
                )
                names[clips[i].name] = clips[i].speaker
                t, p = _gain(model, clips[i])
                ratios.append(t / np.maximum(p, 1e-9))
        full = fit_stats(_total([stats[i] for i in rows]), alpha, config)
        train_mse = np.mean([clip_figures(full, clips[i])["mse"] for i in rows])
        table = per_speaker(figures, names)
        out.append({
            "alpha": alpha,
            "summary": summary(table),
            "speakers": table,
            "gain": np.median(np.asarray(ratios), axis=0),
            "train_mse": float(train_mse),
        })  # fmt: skip
    return out


def choose(sweep: Sequence[dict]) -> dict:
    """The strength whose held-out lip-gap correlation is furthest above chance."""
    return max(sweep, key=lambda s: s["summary"]["r_gap_own"] - s["summary"]["r_gap_foreign"])


def with_gain(model: MouthShapeModel, gain: np.ndarray, meta: dict | None = None):
    """``model`` with its per-component gain (and metadata) set."""
    return replace(model, gain=np.asarray(gain, np.float64), meta=dict(meta or model.meta))


def nested_loso(
    clips: Sequence[MouthClip], stats: Sequence[ClipStats], config: MouthShapeTrainConfig
) -> Iterator[Progress]:
    """Held-out figures per speaker of the model as trained (strength and gain chosen inside).

    Returns:
        ``(per-speaker figures, per-fold chosen alphas)``.
    """
    folds = loso_folds([c.speaker for c in clips])
    figures, names, alphas = {}, {}, {}
    # Without nesting: the strength and gain of the sweep over every speaker (the shipped recipe)
    overall = (
        None if config.nested else choose(loso_sweep(clips, stats, range(len(clips)), config))
    )
    for k, (speaker, train, held) in enumerate(folds):
        yield Progress(k, len(folds), f"held out {speaker}")
        best = overall
        if best is None:
            if len({clips[i].speaker for i in train}) >= 2:
                best = choose(loso_sweep(clips, stats, train, config))
            else:  # one training speaker: nothing to hold out inside, the middle strength
                best = {"alpha": config.alphas[len(config.alphas) // 2], "gain": 1.0}
        alpha, gain = best["alpha"], np.broadcast_to(best["gain"], (config.n_components,))
        model = with_gain(fit_stats(_total([stats[i] for i in train]), alpha, config), gain)
        for i in held:
            foreign = [clips[j] for j in train]
            figures[clips[i].name] = clip_figures(model, clips[i], foreign, config.closed_fraction)
            names[clips[i].name] = speaker
        alphas[speaker] = alpha
    yield Progress(len(folds), len(folds), "validated")
    return per_speaker(figures, names), alphas


def shipped_figures(
    clips: Sequence[MouthClip], config: MouthShapeTrainConfig, model: MouthShapeModel
) -> dict[str, dict]:
    """Figures per speaker of a fixed model (the shipped one) on every clip."""
    figures = {
        c.name: clip_figures(
            model, c, [o for o in clips if o.speaker != c.speaker], config.closed_fraction
        )
        for c in clips
    }
    return per_speaker(figures, {c.name: c.speaker for c in clips})


# --- the run ----------------------------------------------------------------------------------


def prepared_clip_paths(prepared: str | Path) -> list[Path]:
    """Every kept clip of a prepared folder (train and val: validation holds speakers out).

    Raises:
        LipsyncError: Not a prepared folder, or nothing was kept.
    """
    from training.data.prepare_folder import MANIFEST_NAME

    prepared = Path(prepared)
    manifest = prepared / MANIFEST_NAME
    if not manifest.exists():
        raise LipsyncError(
            "not a prepared folder (no manifest.json)",
            prepared,
            fix="run python -m training.data.prepare_folder VIDEOS --out " + str(prepared),
        )
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise LipsyncError(
            f"cannot read the manifest ({exc})", manifest, fix="prepare the folder again"
        ) from exc
    paths = [prepared / c["npz"] for c in data["clips"] if c.get("npz")]
    if not paths:
        raise LipsyncError(
            "the data gate kept no clip", prepared, fix=f"see {prepared / 'report.txt'}"
        )
    return paths


def iter_fit_mouth_shape(
    prepared: str | Path,
    out: str | Path,
    config: MouthShapeTrainConfig = PRESETS["default"],
    run_dir: str | Path | None = None,
    compare_model: MouthShapeModel | None = None,
) -> Iterator[Progress]:
    """Fit, validate leave-one-speaker-out and write the model (a progress generator).

    Args:
        prepared: A folder written by :mod:`training.data.prepare_folder`.
        out: The model file (the JSON layout the engines load), written atomically.
        config: Fit and validation settings.
        run_dir: Where the curves, metrics and report go (default ``<out stem>_run`` beside it).
        compare_model: The model to report against on the same clips (default the shipped one).

    Returns:
        The validation dict (also ``run_dir/validation.json``).
    """
    from training.plot_curves import plot_run
    from training.run_log import RunLog

    out = Path(out)
    run_dir = Path(run_dir) if run_dir is not None else out.with_name(out.stem + "_run")
    paths = prepared_clip_paths(prepared)
    clips = yield from iter_load_prepared(paths, config.crop_px, config.rest_share)
    loso_folds([c.speaker for c in clips])  # two speakers or more, before any work
    stats = [clip_stats(c, config.lags, config.target_smooth_frames) for c in clips]
    yield Progress(0, 1, "sweeping the ridge strength")
    sweep = loso_sweep(clips, stats, list(range(len(clips))), config)
    log = RunLog(run_dir)
    for k, s in enumerate(sweep):
        m = s["summary"]
        log.add(
            k, alpha=s["alpha"], loss=s["train_mse"], val_loss=m["mse"],
            val_r_gap_own=m["r_gap_own"], val_r_gap_foreign=m["r_gap_foreign"],
            val_r_width_own=m["r_width_own"],
        )  # fmt: skip
    log.close()
    best = choose(sweep)
    held, fold_alphas = yield from nested_loso(clips, stats, config)
    compare_model = compare_model if compare_model is not None else load_mouth_shape_model()
    compare = shipped_figures(clips, config, compare_model)
    model = with_gain(
        fit_stats(_total(stats), best["alpha"], config),
        best["gain"],
        meta={
            "alpha": best["alpha"],
            "target": "displacement of lips and chin from the speaker's resting mouth, per eye "
            "distance, in the aligned crop; principal components",
            "training_clips": [Path(c.name).name for c in clips],
            "training_speakers": sorted({c.speaker for c in clips}),
            "prepared": str(prepared),
            "config": asdict(config),
            "validation": "leave-one-speaker-out"
            + (" (strength and gain chosen inside each fold)" if config.nested else ""),
            "validation_figures": {"summary": summary(held), "per_speaker": held},
            # Mean resting mouth width per eye distance: the engine scales the displacements by
            # a face's own width over this (a small mouth moves less)
            "rest_width_mean": round(float(np.mean([_rest_width(c.rest) for c in clips])), 5),
            # The mean resting face in its bounding box: the parametric face placed in a user's
            # face box where FaceMesh finds no face (cartoons, stylised faces)
            "face_template": np.round(np.mean([c.face for c in clips], axis=0), 4).tolist(),
        },
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, (json.dumps(_json_safe(model.to_dict())) + "\n").encode())
    validation = {
        "config": asdict(config),
        "chosen_alpha": best["alpha"],
        "fold_alphas": fold_alphas,
        "held_out": {"summary": summary(held), "per_speaker": held},
        "shipped_on_same_clips": {
            "note": "the shipped model was fitted on the shared clips: on them it is in-sample",
            "summary": summary(compare),
            "per_speaker": compare,
        },
        "shipped_own_validation": compare_model.meta.get("validation_figures", {}),
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(
        run_dir / VALIDATION_NAME, json.dumps(_json_safe(validation), indent=1).encode()
    )
    table = format_table({"held out (LOSO)": held, "shipped (in-sample)": compare})
    own = validation["shipped_own_validation"]
    if "mean_r_gap_own" in own:  # the figure the shipped model was validated with
        table += (
            f"shipped model's own {compare_model.meta.get('validation', 'validation')}: r gap "
            f"own {own['mean_r_gap_own']:.3f}, foreign {own['mean_r_gap_foreign']:+.3f}\n"
        )
    table += "(shipped model: fitted on the shared clips, so in-sample on them)\n"
    atomic_write_bytes(run_dir / REPORT_NAME, table.encode())
    plot_run(run_dir, "mouth shape: ridge strength, leave-one-speaker-out", "alpha")
    yield Progress(1, 1, f"wrote {out}")
    return validation


def _rest_width(rest: np.ndarray) -> float:
    return float(rest[POINT_ROW[291], 0] - rest[POINT_ROW[61], 0])


def _json_safe(value):
    """NaN -> None and numpy -> lists, recursively (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), 5)
    if isinstance(value, np.integer):
        return int(value)
    return value


# --- the shared clips, tracked directly (the path before prepared folders) -------------------


def find_clip(media: Path, prefix: str) -> Path:
    """The shared video whose name starts with ``prefix_``."""
    hits = sorted((media / "video").glob(f"{prefix}_*.mp4"))
    if not hits:
        raise FileNotFoundError(f"no clip {prefix}_* under {media / 'video'}")
    return hits[0]


def load_clip(media: Path, name: str, crop_px: int = 256, rest_share: float = 0.15) -> MouthClip:
    """Track, align and measure one shared clip (its interpolated frames left out)."""
    from lipcore.face.track import iter_track_faces
    from lipcore.media.audio import clip_audio
    from lipcore.media.probe import probe
    from lipcore.render.align import apply_affine
    from lipcore.render.footage import align_track

    path = find_clip(media, name)
    tracks = drain(iter_track_faces(path), show=False)
    track = tracks.tracks[0]
    al = align_track(track, size=crop_px)
    lm = np.stack(
        [apply_affine(m, p) for m, p in zip(al.transforms, track.landmarks, strict=True)]
    )
    keep = ~track.interpolated
    return mouth_clip(
        name, SAME_SOURCE.get(name, name), lm[keep].astype(np.float64), track.frames[keep],
        tracks.frame_count, clip_audio(path), probe(path).video.fps, rest_share,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Command line: fit from a prepared folder, print the held-out table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepared", type=Path, help="a folder from training.data.prepare_folder")
    parser.add_argument(
        "--media", type=Path, help="instead: the shared media folder (its in-sync clips are "
        "prepared into RUN_DIR/prepared first)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="the model file (.json)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/mouth_shape"))
    args = parser.parse_args(argv)
    config = PRESETS[args.preset]
    if args.prepared is None and args.media is None:
        parser.error("give --prepared DIR (or --media for the shared clips)")
    try:
        if args.prepared is None:
            args.prepared = _prepare_shared(args.media, args.run_dir / "prepared")
        validation = drain(
            iter_fit_mouth_shape(args.prepared, args.out, config, args.run_dir), True, "fit"
        )
    except LipsyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print((args.run_dir / REPORT_NAME).read_text(), end="")
    held = validation["held_out"]["summary"]
    print(
        f"held out, mean over speakers: r gap own {held['r_gap_own']:.3f} foreign "
        f"{held['r_gap_foreign']:+.3f}, closure at /p b m/ {held['closure_own']:.2f} "
        f"(chance {held['closure_chance']:.2f}, measured mouths {held['closure_measured']:.2f})"
    )
    print(f"wrote {args.out} and {args.run_dir}")
    return 0


def _prepare_shared(media: Path, out: Path) -> Path:
    """Prepare the shared training clips (one folder per speaker) into ``out``."""
    from training.data.prepare_folder import iter_prepare_clips

    src = out / "speakers"
    for name in TRAIN_CLIPS:
        clip = find_clip(media, name)
        link = src / SAME_SOURCE.get(name, name) / clip.name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(clip.resolve())
    videos = sorted(src.rglob("*.mp4"))
    drain(iter_prepare_clips(videos, out, root=src), True, "prepare")
    return out


if __name__ == "__main__":
    sys.exit(main())
