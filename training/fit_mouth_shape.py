"""Fit the one-shot engine's speech -> mouth-shape model on the in-sync shared clips.

Usage::

    python -m training.fit_mouth_shape [--media ../shared/media] \
        [--out lipcore/data/mouth_shape.json]

For each in-sync single-speaker clip (A01, A02, A04-A10, A14) the main face is tracked
(FaceMesh, cached), every frame is aligned to the track's canonical crop (the crop the engine
sees) and the points of :data:`lipcore.engines.mouth_shape.MOUTH_POINTS` are expressed as
displacements from the clip's own resting mouth (median of its most closed frames), divided by
the eye distance: the per-speaker normalisation the engine repeats on any face. Principal
components of those displacements (pooled over clips) are regressed on the clip's own audio
(spectral features with context) by ridge regression.

Validation is leave-one-clip-out (A01 and A05 are one recording and are held out together,
never each other's foreign audio): the held-out clip's inner-lip gap and mouth width are
reconstructed from the prediction and correlated with the measured ones, with the clip's own
speech and, as a control, with every other recording's speech. The figures go into the JSON.
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
from lipcore.engines.mouth_shape import MOUTH_POINTS, MouthShapeModel, stack_context
from lipcore.media.audio import clip_audio
from lipcore.media.probe import probe
from lipcore.progress import drain

TRAIN_CLIPS = ("A01", "A02", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A14")
SAME_SOURCE = {"A01": "aoc", "A05": "aoc"}
ALPHAS = (30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
N_COMPONENTS = 8
CROP = 256
#: Share of a clip's frames (most closed first) whose median is its resting mouth.
REST_SHARE = 0.15
#: Rows of MOUTH_POINTS that are the inner-lip midpoints (13, 14) and corners (61, 291).
_P = {p: i for i, p in enumerate(MOUTH_POINTS)}


@dataclass
class ClipData:
    """One clip's aligned mouth displacements and audio features."""

    name: str
    disp: np.ndarray  # (N, 2P) eye-distance units, NaN rows where no face
    feats: np.ndarray  # (N, 72)
    voiced: np.ndarray  # (N,) bool
    rest: np.ndarray  # (P, 2) resting mouth, eye-distance units relative to the nose base
    face: np.ndarray  # (478, 2) resting face, scaled into its landmarks' bounding box [0, 1]


def find_clip(media: Path, prefix: str) -> Path:
    """The shared video whose name starts with ``prefix_``."""
    hits = sorted((media / "video").glob(f"{prefix}_*.mp4"))
    if not hits:
        raise FileNotFoundError(f"no clip {prefix}_* under {media / 'video'}")
    return hits[0]


def aligned_landmarks(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Crop-space landmarks ``(N, 478, 2)`` of the main face, its frame indices, clip length."""
    from lipcore.face.track import iter_track_faces
    from lipcore.render.align import apply_affine
    from lipcore.render.footage import align_track

    tracks = drain(iter_track_faces(path), show=False)
    track = tracks.tracks[0]
    al = align_track(track, size=CROP)
    lm = np.stack(
        [apply_affine(m, p) for m, p in zip(al.transforms, track.landmarks, strict=True)]
    )
    keep = ~track.interpolated
    return lm[keep].astype(np.float64), track.frames[keep], tracks.frame_count


def mouth_displacement(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Displacements ``(N, 2P)`` from the resting mouth, eye-distance units; and the rest."""
    eye = np.linalg.norm(lm[:, 263] - lm[:, 33], axis=1)
    pts = lm[:, list(MOUTH_POINTS)] / eye[:, None, None]
    gap = (lm[:, 14, 1] - lm[:, 13, 1]) / eye
    closed = gap <= np.quantile(gap, REST_SHARE)
    rest = np.median(pts[closed], axis=0)
    return (pts - rest).reshape(len(pts), -1), rest


def load_clip(media: Path, name: str) -> ClipData:
    """Track, align and measure one clip."""
    path = find_clip(media, name)
    lm, frames, n = aligned_landmarks(path)
    d, rest = mouth_displacement(lm)
    disp = np.full((n, d.shape[1]), np.nan)
    disp[frames] = d
    audio = clip_audio(path)
    fps = probe(path).video.fps
    return ClipData(
        name, disp, spectral_features(audio, fps, n), voiced_frames(audio, fps, n), rest,
        resting_face(lm),
    )  # fmt: skip


def resting_face(lm: np.ndarray) -> np.ndarray:
    """Median face over the most closed frames, scaled into its bounding box (``[0, 1]``)."""
    gap = (lm[:, 14, 1] - lm[:, 13, 1]) / np.linalg.norm(lm[:, 263] - lm[:, 33], axis=1)
    face = np.median(lm[gap <= np.quantile(gap, REST_SHARE)], axis=0)
    lo, hi = face.min(axis=0), face.max(axis=0)
    return (face - lo) / np.maximum(hi - lo, 1e-6)


def _group(name: str) -> str:
    return SAME_SOURCE.get(name, name)


def fit(clips: list[ClipData], alpha: float) -> MouthShapeModel:
    """PCA of the pooled displacements, then ridge from stacked features to the scores."""
    xs, ys = [], []
    for c in clips:
        keep = np.all(np.isfinite(c.disp), axis=1)
        xs.append(stack_context(c.feats)[keep])
        ys.append(c.disp[keep])
    x, y = np.concatenate(xs), np.concatenate(ys)
    mean_y = y.mean(axis=0)
    _, _, vt = np.linalg.svd(y - mean_y, full_matrices=False)
    comps = vt[:N_COMPONENTS]
    scores = (y - mean_y) @ comps.T
    x_mean, x_std = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    xz = np.concatenate([(x - x_mean) / x_std, np.ones((len(x), 1))], axis=1)
    pen = np.full(xz.shape[1], alpha)
    pen[-1] = 0.0
    w = np.linalg.solve(xz.T @ xz + np.diag(pen), xz.T @ scores)
    return MouthShapeModel(
        x_mean, x_std, w, np.ones(N_COMPONENTS), comps, mean_y, dict(FEATURE_SPEC)
    )


def _gap_width(disp: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = disp.reshape(len(disp), -1, 2) + rest
    gap = pts[:, _P[14], 1] - pts[:, _P[13], 1]
    width = pts[:, _P[291], 0] - pts[:, _P[61], 0]
    return gap, width


def _rest_width(rest: np.ndarray) -> float:
    return float(rest[_P[291], 0] - rest[_P[61], 0])


def _r(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> float:
    if keep.sum() < 10 or np.std(a[keep]) < 1e-9 or np.std(b[keep]) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def validate(clips: list[ClipData], alpha: float) -> dict:
    """Leave-one-recording-out correlations of reconstructed gap and width, plus the gain."""
    per_clip, wins = {}, []
    pred_sd, true_sd = [], []
    for held in clips:
        model = fit([c for c in clips if _group(c.name) != _group(held.name)], alpha)
        keep = np.all(np.isfinite(held.disp), axis=1) & held.voiced
        scores = model.predict_scores(held.feats)
        true_scores = (np.nan_to_num(held.disp) - model.mean) @ model.components.T
        pred_sd.append(scores[keep].std(axis=0))
        true_sd.append(true_scores[keep].std(axis=0))
        gap_p, width_p = _gap_width(model.displacements(scores), held.rest)
        gap_t, width_t = _gap_width(np.nan_to_num(held.disp), held.rest)
        r_gap, r_width = _r(gap_p, gap_t, keep), _r(width_p, width_t, keep)
        foreign = []
        for other in clips:
            if _group(other.name) == _group(held.name):
                continue
            n = min(len(held.disp), len(other.feats))
            gf, _ = _gap_width(
                model.displacements(model.predict_scores(other.feats[:n])), held.rest
            )
            foreign.append(_r(gf, gap_t[:n], keep[:n] & other.voiced[:n]))
        foreign = [v for v in foreign if np.isfinite(v)]
        wins += [r_gap > v for v in foreign]
        per_clip[held.name] = {
            "r_gap_own": round(r_gap, 4),
            "r_width_own": round(r_width, 4),
            "r_gap_foreign_mean": round(float(np.mean(foreign)), 4),
        }
    groups = {}
    for name, v in per_clip.items():  # A01 and A05 count once
        groups.setdefault(_group(name), []).append(v)
    gap_mean = np.nanmean([np.mean([v["r_gap_own"] for v in g]) for g in groups.values()])
    width_mean = np.nanmean([np.mean([v["r_width_own"] for v in g]) for g in groups.values()])
    foreign_mean = np.mean(
        [np.mean([v["r_gap_foreign_mean"] for v in g]) for g in groups.values()]
    )
    gain = np.median(np.asarray(true_sd) / np.maximum(np.asarray(pred_sd), 1e-9), axis=0)
    return {
        "alpha": alpha,
        "mean_r_gap_own": round(float(gap_mean), 4),
        "mean_r_width_own": round(float(width_mean), 4),
        "mean_r_gap_foreign": round(float(foreign_mean), 4),
        "own_beats_foreign": round(float(np.mean(wins)), 4),
        "gain": [round(float(g), 4) for g in gain],
        "per_clip": per_clip,
    }


def main(argv: list[str] | None = None) -> int:
    """Fit, validate and save the mouth-shape model; print the validation table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_media = Path(__file__).resolve().parents[1].parent / "shared" / "media"
    if not default_media.exists():
        default_media = Path("/work/shared/media")
    default_out = Path(__file__).resolve().parents[1] / "lipcore" / "data" / "mouth_shape.json"
    parser.add_argument("--media", type=Path, default=default_media)
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--clips", nargs="*", default=list(TRAIN_CLIPS))
    args = parser.parse_args(argv)

    clips = []
    for name in args.clips:
        clips.append(load_clip(args.media, name))
        c = clips[-1]
        face = np.all(np.isfinite(c.disp), axis=1).mean()
        print(f"{name}: {len(c.disp)} frames, face {face:.0%}, voiced {c.voiced.mean():.0%}")
    results = [validate(clips, a) for a in ALPHAS]
    for res in results:
        print(
            f"alpha {res['alpha']:>7g}: r gap own {res['mean_r_gap_own']:.3f} foreign "
            f"{res['mean_r_gap_foreign']:+.3f} own>foreign {res['own_beats_foreign']:.0%}  "
            f"r width own {res['mean_r_width_own']:.3f}"
        )
    best = max(results, key=lambda r: r["mean_r_gap_own"] - r["mean_r_gap_foreign"])
    print(f"chosen alpha {best['alpha']:g}, gain {best['gain']}")
    for name, v in best["per_clip"].items():
        print(f"  {name}: {v}")
    model = fit(clips, best["alpha"])
    model = MouthShapeModel(
        model.x_mean,
        model.x_std,
        model.weights,
        np.asarray(best["gain"]),
        model.components,
        model.mean,
        model.feature_spec,
        meta={
            "alpha": best["alpha"],
            "target": "displacement of lips and chin from the speaker's resting mouth, per eye "
            "distance, in the aligned crop; principal components",
            "training_clips": [find_clip(args.media, n).name for n in args.clips],
            "validation": "leave-one-recording-out (A01+A05 together)",
            "validation_figures": {k: v for k, v in best.items() if k != "gain"},
            # Mean resting mouth width per eye distance over the clips: the engine scales the
            # displacements by a face's own width over this (a small mouth moves less)
            "rest_width_mean": round(float(np.mean([_rest_width(c.rest) for c in clips])), 5),
            # The mean resting face in its bounding box: the parametric face placed in a
            # user's face box where FaceMesh finds no face (cartoons, stylised faces)
            "face_template": np.round(np.mean([c.face for c in clips], axis=0), 4).tolist(),
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, (json.dumps(model.to_dict()) + "\n").encode())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
