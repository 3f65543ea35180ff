"""PNG plot of a :class:`~lipcore.sync.types.SyncScore`: the per-frame curve with weak stretches
shaded, and the lag curve beside it. Uses matplotlib's Agg backend (no display, no Qt)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.sync.types import SyncScore


def weak_ranges(
    per_frame: np.ndarray, frames: np.ndarray, threshold: float
) -> list[tuple[int, int]]:
    """Contiguous ``(first, last)`` frame ranges (inclusive) whose value is below ``threshold``.

    NaN (no face) does not count as weak; it is drawn as a gap in the curve instead.
    """
    weak = np.nan_to_num(np.asarray(per_frame, np.float64), nan=np.inf) < threshold
    edges = np.diff(np.concatenate([[0], weak.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [(int(frames[s]), int(frames[e - 1])) for s, e in zip(starts, ends, strict=True)]


def plot_score(
    score: SyncScore,
    path: str | Path,
    fps: Fraction | float | None = None,
    title: str = "",
    weak_threshold: float | None = None,
) -> Path:
    """Write a PNG of the per-frame sync curve (weak stretches shaded) and the lag curve.

    Args:
        score: The score to draw.
        path: Output PNG path (written through a temp file and a rename).
        fps: Frame rate, to label the x axis in seconds too; None labels frames only.
        title: Figure title (the clip name, say); the method is always shown.
        weak_threshold: Per-frame value below which a stretch is shaded; default the built-in
            meter's :data:`lipcore.sync.meter.WEAK_THRESHOLD`.

    Returns:
        The written path.
    """
    # The object API renders through Agg for PNG without pyplot, so no global backend changes.
    from matplotlib.figure import Figure

    from lipcore.cache import atomic_write_bytes
    from lipcore.sync.meter import WEAK_THRESHOLD

    threshold = WEAK_THRESHOLD if weak_threshold is None else weak_threshold
    path = Path(path)
    fig = Figure(figsize=(10, 3.6), dpi=100, layout="constrained")
    ax, ax_lag = fig.subplots(1, 2, width_ratios=[4, 1])
    frames = np.asarray(score.frames)
    values = np.asarray(score.per_frame, np.float64)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.axhline(threshold, color="tab:orange", lw=0.8, ls="--", label=f"weak < {threshold:g}")
    for first, last in weak_ranges(values, frames, threshold):
        ax.axvspan(first - 0.5, last + 0.5, color="tab:red", alpha=0.18, lw=0)
    ax.plot(frames, values, color="tab:blue", lw=1.4, label="per-frame sync")
    no_face = ~np.isfinite(values)
    if no_face.any():
        ax.plot(frames[no_face], np.zeros(no_face.sum()) - 1.05, "|", color="0.4", label="no face")
    ax.set_ylim(-1.1, 1.05)
    ax.set_xlabel("frame" + (f" ({float(fps):.3g} fps)" if fps else ""))
    ax.set_ylabel("confidence")
    ax.legend(loc="lower right", fontsize=8)
    head = f"{title}  " if title else ""
    ax.set_title(
        f"{head}offset {score.offset_frames:+d} frames, confidence {score.confidence:.3f} "
        f"[{score.method}]",
        fontsize=10,
    )
    if fps:
        sec = ax.secondary_xaxis("top", functions=(lambda f: f / float(fps),
                                                   lambda s: s * float(fps)))  # fmt: skip
        sec.set_xlabel("seconds", fontsize=8)
    if len(score.lag_curve):
        k = (len(score.lag_curve) - 1) // 2
        lags = np.arange(-k, k + 1)
        ax_lag.plot(lags, score.lag_curve, color="tab:green", marker=".", lw=1)
        ax_lag.axvline(score.offset_frames, color="tab:red", lw=0.8)
        ax_lag.set_xlabel("lag, frames (+ = audio late)", fontsize=8)
        ax_lag.set_title("lag curve", fontsize=10)
    else:
        ax_lag.set_axis_off()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
    return path
