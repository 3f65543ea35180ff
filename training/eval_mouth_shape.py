"""Validation figures of a mouth-shape model on clips: lip-gap correlation and bilabial closure.

For a clip the model did not see (its speaker held out), the model's predicted displacements are
put on the clip's own resting mouth and its inner-lip gap (and mouth width) are read back, then:

- **lip-gap correlation** with the measured gap, on the frames with a face and speech, for the
  clip's own speech (``r_gap_own``) and, as the chance reference, for every other speaker's
  speech in its place (``r_gap_foreign``, the mean over them);
- **closure at bilabials**: the share of /p b m/ (the phone recogniser's, an independent judge)
  at which the predicted mouth is closed within a frame (``closure_own``), against the share of
  all voiced frames where it is (``closure_chance``); the measured mouth's own rate
  (``closure_measured``) says what a real speaker does. A mouth is closed where its gap is below
  ``closed_fraction`` of the way from the clip's measured 10th to 90th percentile gap;
- ``mse``: mean squared displacement error (eye-distance units squared) on those frames.

Speakers count once: the per-clip figures are averaged per speaker, then over speakers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lipcore.engines.mouth_shape import MouthShapeModel
from training.data.mouth_clips import POINT_ROW, MouthClip

FIGURES = (
    "r_gap_own",
    "r_gap_foreign",
    "r_width_own",
    "closure_own",
    "closure_chance",
    "closure_measured",
    "mse",
)


def gap_width(disp: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner-lip gap and mouth width ``(N,)`` (eye-distance units) of displacements ``(N, 2P)``."""
    pts = np.asarray(disp).reshape(len(disp), -1, 2) + rest
    gap = pts[:, POINT_ROW[14], 1] - pts[:, POINT_ROW[13], 1]
    width = pts[:, POINT_ROW[291], 0] - pts[:, POINT_ROW[61], 0]
    return gap, width


def _r(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> float:
    if keep.sum() < 10 or np.std(a[keep]) < 1e-9 or np.std(b[keep]) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def _closed_near(gap: np.ndarray, level: float) -> np.ndarray:
    closed = gap <= level
    return closed | np.roll(closed, 1) | np.roll(closed, -1)


def clip_figures(
    model: MouthShapeModel,
    clip: MouthClip,
    foreign: Sequence[MouthClip] = (),
    closed_fraction: float = 0.25,
) -> dict:
    """The figures of :data:`FIGURES` for ``model`` on one clip (see the module docstring).

    Args:
        model: The model (fitted without ``clip``'s speaker for a held-out figure).
        clip: The clip.
        foreign: Clips of other speakers whose speech stands in for the chance reference.
        closed_fraction: Where "closed" ends, between the clip's 10th and 90th percentile gap.
    """
    keep = clip.has_face & clip.voiced
    pred = model.displacements(model.predict_scores(clip.feats)).reshape(len(clip.feats), -1)
    truth = np.nan_to_num(clip.disp)
    gap_p, width_p = gap_width(pred, clip.rest)
    gap_t, width_t = gap_width(truth, clip.rest)
    foreign_r = []
    for other in foreign:
        n = min(len(clip.feats), len(other.feats))
        scores = model.predict_scores(other.feats[:n])
        gap_f, _ = gap_width(model.displacements(scores).reshape(n, -1), clip.rest)
        foreign_r.append(_r(gap_f, gap_t[:n], keep[:n] & other.voiced[:n]))
    foreign_r = [v for v in foreign_r if math.isfinite(v)]
    measured = gap_t[clip.has_face]
    q10, q90 = np.percentile(measured, [10, 90]) if measured.size else (0.0, 0.0)
    level = q10 + closed_fraction * (q90 - q10)
    bil = clip.bilabial_frames[clip.has_face[clip.bilabial_frames]]
    near_p = _closed_near(gap_p, level)
    near_t = _closed_near(np.where(clip.has_face, gap_t, np.inf), level)
    nan = float("nan")
    return {
        "r_gap_own": _r(gap_p, gap_t, keep),
        "r_gap_foreign": float(np.mean(foreign_r)) if foreign_r else nan,
        "r_width_own": _r(width_p, width_t, keep),
        "closure_own": float(near_p[bil].mean()) if len(bil) else nan,
        "closure_chance": float(near_p[keep].mean()) if keep.any() else nan,
        "closure_measured": float(near_t[bil].mean()) if len(bil) else nan,
        "mse": float(np.mean((pred[keep] - truth[keep]) ** 2)) if keep.any() else nan,
        "bilabials": int(len(bil)),
        "frames": int(keep.sum()),
    }


def per_speaker(figures: dict[str, dict], speakers: dict[str, str]) -> dict[str, dict]:
    """Per-clip figures averaged per speaker (``speakers`` maps clip name to speaker)."""
    groups: dict[str, list[dict]] = {}
    for name, fig in figures.items():
        groups.setdefault(speakers[name], []).append(fig)
    out = {}
    for speaker, figs in sorted(groups.items()):
        row = {k: _nanmean([f[k] for f in figs]) for k in FIGURES}
        row["bilabials"] = int(sum(f["bilabials"] for f in figs))
        row["frames"] = int(sum(f["frames"] for f in figs))
        row["clips"] = sorted(n for n, s in speakers.items() if s == speaker and n in figures)
        out[speaker] = row
    return out


def summary(rows: dict[str, dict]) -> dict:
    """Mean of each figure over speakers (each speaker once), and how often own beats foreign."""
    out = {k: _nanmean([r[k] for r in rows.values()]) for k in FIGURES}
    wins = [r["r_gap_own"] > r["r_gap_foreign"] for r in rows.values()]
    out["own_beats_foreign_speakers"] = f"{sum(wins)}/{len(wins)}"
    return out


def _nanmean(values) -> float:
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(np.mean(vals)) if vals else float("nan")


def format_table(columns: dict[str, dict[str, dict]]) -> str:
    """Per-speaker text table of several models' figures (``columns``: label -> rows)."""
    labels = list(columns)
    speakers = sorted({s for rows in columns.values() for s in rows})
    head = f"{'speaker':<15}" + "".join(
        f"{lab[:22]:>24}" for lab in labels
    )  # r own / foreign / closure per model
    lines = [head, f"{'':<15}" + "".join(f"{'r_gap own/for  close/ch':>24}" for _ in labels)]
    for spk in [*speakers, "MEAN"]:
        cells = []
        for lab in labels:
            rows = columns[lab]
            r = summary(rows) if spk == "MEAN" else rows.get(spk)
            if r is None:
                cells.append(f"{'-':>24}")
                continue
            cells.append(
                f"{r['r_gap_own']:>7.3f}/{r['r_gap_foreign']:+.2f}"
                f"{r['closure_own']:>6.2f}/{r['closure_chance']:.2f}"
            )
        lines.append(f"{spk:<15}" + "".join(f"{c:>24}" for c in cells))
    return "\n".join(lines) + "\n"
