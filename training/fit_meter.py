"""Fit the built-in sync meter's ridge regression (spectrum -> mouth opening) on in-sync clips.

Usage::

    python -m training.fit_meter [--media ../shared/media] [--out lipcore/data/meter_ridge.json]

For each in-sync talking-head clip the lip gap of the single face is measured on every frame and
z-scored per clip; the clip's own audio (on the video clock) gives the spectral features
(:func:`lipcore.audio.features.spectral_features`). A ridge regression on standardised features is
fitted on all clips after choosing its strength by leave-one-clip-out validation (clips cut from
the same recording are held out together, see :data:`SAME_SOURCE`), which also
yields the figures stored with the weights (a model scored on a clip it was fitted on looks
0.05-0.12 better in r than it is):

- ``r_own``: correlation of the held-out clip's lip gap with the opening predicted from its own
  audio, at lag 0, over voiced frames;
- ``r_foreign``: the same with every other clip's audio in place of its own;
- ``own_beats_foreign``: share of (clip, foreign audio) comparisons where own r is higher;
- ``best_lag_own``: lag of the correlation peak on the held-out clip (should be 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipcore.audio.features import FEATURE_SPEC, spectral_features
from lipcore.audio.vad import voiced_frames
from lipcore.cache import atomic_write_bytes
from lipcore.media.audio import clip_audio
from lipcore.progress import drain
from lipcore.sync.meter import (
    MeterModel,
    default_model_path,
    iter_lip_gap_single_face,
    lag_confidence,
    lag_correlations,
    zscore,
)

#: In-sync single-speaker clips of the shared media (SYNC-FACTS.md): own audio is the speaker.
TRAIN_CLIPS = ("A01", "A02", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A14")
#: Clips cut from the same source recording: A01 (SadTalker) and A05 (video-retalking) carry the
#: same speech (loudness envelopes correlate at 0.95). They are held out together, and never
#: serve as each other's "foreign" audio, or the validation would flatter the meter.
SAME_SOURCE = {"A01": "aoc", "A05": "aoc"}
ALPHAS = (1.0, 10.0, 100.0, 1000.0, 10000.0)
MAX_LAG = 15


@dataclass
class ClipData:
    """Per-clip arrays used for fitting and validation."""

    name: str
    gap_z: np.ndarray  # (N,) z-scored lip gap, NaN where no face
    feats: np.ndarray  # (N, 72)
    voiced: np.ndarray  # (N,) bool


def find_clip(media: Path, prefix: str) -> Path:
    """The video file of the shared media whose name starts with ``prefix_``."""
    hits = sorted((media / "video").glob(f"{prefix}_*.mp4"))
    if not hits:
        raise FileNotFoundError(f"no clip {prefix}_* under {media / 'video'}")
    return hits[0]


def load_clip(path: Path, name: str, show: bool = False) -> ClipData:
    """Measure the lip gap and compute features of one clip (lip gap cached on disk)."""
    series = drain(iter_lip_gap_single_face(path), show=show, desc=name)
    audio = clip_audio(path)
    n = len(series.gap)
    voiced = voiced_frames(audio, series.fps, n)
    face = np.isfinite(series.gap)
    return ClipData(
        name=name,
        gap_z=zscore(series.gap.astype(np.float64), face & voiced),
        feats=spectral_features(audio, series.fps, n),
        voiced=voiced,
    )


def fit_ridge(clips: list[ClipData], alpha: float) -> MeterModel:
    """Ridge regression on standardised features, over voiced frames with a face."""
    xs, ys = [], []
    for c in clips:
        keep = np.isfinite(c.gap_z) & c.voiced
        xs.append(c.feats[keep].astype(np.float64))
        ys.append(c.gap_z[keep])
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-6] = 1.0
    xz = (x - mean) / std
    bias = float(y.mean())
    a = xz.T @ xz + alpha * np.eye(xz.shape[1])
    w = np.linalg.solve(a, xz.T @ (y - bias))
    return MeterModel(w, bias, mean, std, dict(FEATURE_SPEC))


def _r(gap_z: np.ndarray, pred: np.ndarray, voiced: np.ndarray) -> float:
    keep = np.isfinite(gap_z) & voiced
    if keep.sum() < 3:
        return float("nan")
    return float(np.corrcoef(gap_z[keep], pred[keep])[0, 1])


def validate(clips: list[ClipData], alpha: float) -> dict:
    """Leave-one-clip-out figures for one ridge strength."""
    per_clip = {}
    own_all, foreign_all, wins = [], [], []
    own_conf: list[float] = []
    foreign_conf: list[float] = []
    foreign_lag: list[int] = []

    def group(c: ClipData) -> str:
        return SAME_SOURCE.get(c.name, c.name)

    for held in clips:
        model = fit_ridge([c for c in clips if group(c) != group(held)], alpha)
        pred_own = model.predict(held.feats)
        r_own = _r(held.gap_z, pred_own, held.voiced)
        lags = lag_correlations(held.gap_z, pred_own, held.voiced, MAX_LAG)
        best = int(np.nanargmax(lags)) - MAX_LAG
        conf_own = lag_confidence(lags)
        foreign = {}
        for other in clips:
            if group(other) == group(held):
                continue
            n = min(len(held.gap_z), len(other.feats))
            pf = model.predict(other.feats[:n])
            foreign[other.name] = _r(held.gap_z[:n], pf, other.voiced[:n])
            f_lags = lag_correlations(held.gap_z[:n], pf, other.voiced[:n], MAX_LAG)
            foreign_conf.append(lag_confidence(f_lags))
            foreign_lag.append(int(np.nanargmax(f_lags)) - MAX_LAG)
        f_vals = [v for v in foreign.values() if np.isfinite(v)]
        own_all.append(r_own)
        own_conf.append(conf_own)
        foreign_all.extend(f_vals)
        wins.extend([r_own > v for v in f_vals])
        per_clip[held.name] = {
            "r_own": round(r_own, 4),
            "best_lag_own": best,
            "confidence_own": round(conf_own, 4),
            "r_foreign_mean": round(float(np.mean(f_vals)), 4),
            "r_foreign_max": round(float(np.max(f_vals)), 4),
        }
    foreign_arr = np.asarray(foreign_all)
    return {
        "alpha": alpha,
        "mean_r_own": round(float(np.nanmean(own_all)), 4),
        "mean_r_foreign": round(float(np.mean(foreign_arr)), 4),
        "p95_r_foreign": round(float(np.percentile(foreign_arr, 95)), 4),
        "own_beats_foreign": round(float(np.mean(wins)), 4),
        "best_lag_within_1": int(sum(abs(v["best_lag_own"]) <= 1 for v in per_clip.values())),
        "best_lag_within_2": int(sum(abs(v["best_lag_own"]) <= 2 for v in per_clip.values())),
        "mean_confidence_own": round(float(np.mean(own_conf)), 4),
        "min_confidence_own": round(float(np.min(own_conf)), 4),
        "mean_confidence_foreign": round(float(np.mean(foreign_conf)), 4),
        "p95_confidence_foreign": round(float(np.percentile(foreign_conf, 95)), 4),
        "confidence_auc": round(
            float(np.mean(np.asarray(own_conf)[:, None] > np.asarray(foreign_conf)[None, :])), 4
        ),
        "foreign_lag_within_1": round(float(np.mean(np.abs(foreign_lag) <= 1)), 4),
        "per_clip": per_clip,
    }


def main(argv: list[str] | None = None) -> int:
    """Fit, validate and save the meter weights; print the validation table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_media = Path(__file__).resolve().parents[1].parent / "shared" / "media"
    parser.add_argument("--media", type=Path, default=default_media)
    parser.add_argument("--out", type=Path, default=default_model_path())
    parser.add_argument("--clips", nargs="*", default=list(TRAIN_CLIPS))
    args = parser.parse_args(argv)

    clips = []
    for name in args.clips:
        path = find_clip(args.media, name)
        clips.append(load_clip(path, name, show=sys.stderr.isatty()))
        c = clips[-1]
        print(
            f"{name}: {len(c.gap_z)} frames, face {np.isfinite(c.gap_z).mean():.0%}, "
            f"voiced {c.voiced.mean():.0%}",
            file=sys.stderr,
        )

    results = [validate(clips, a) for a in ALPHAS]
    for res in results:
        print(
            f"alpha {res['alpha']:>8g}: r own {res['mean_r_own']:.3f}  foreign "
            f"{res['mean_r_foreign']:+.3f} (p95 {res['p95_r_foreign']:.3f})  own>foreign "
            f"{res['own_beats_foreign']:.0%}  lag<=1 {res['best_lag_within_1']}/{len(clips)}  "
            f"lag<=2 {res['best_lag_within_2']}/{len(clips)}  conf own "
            f"{res['mean_confidence_own']:.3f} foreign {res['mean_confidence_foreign']:.3f} "
            f"(p95 {res['p95_confidence_foreign']:.3f}, AUC {res['confidence_auc']:.2f})"
        )
    best = max(results, key=lambda r: r["mean_r_own"] - r["mean_r_foreign"])
    print(f"chosen alpha {best['alpha']:g}")
    for name, v in best["per_clip"].items():
        print(f"  {name}: {v}")

    model = fit_ridge(clips, best["alpha"])
    model = MeterModel(
        model.weights,
        model.bias,
        model.feature_mean,
        model.feature_std,
        model.feature_spec,
        meta={
            "alpha": best["alpha"],
            "target": "per-clip z-scored lip gap (FaceMesh 13-14 / 33-263), voiced frames",
            "training_clips": [find_clip(args.media, n).name for n in args.clips],
            "validation": "leave-one-clip-out",
            "same_source_groups": SAME_SOURCE,
            "validation_figures": best,
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, (json.dumps(model.to_dict(), indent=1) + "\n").encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
