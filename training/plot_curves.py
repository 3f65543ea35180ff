"""Draw a run's ``metrics.jsonl`` as a PNG: training loss, validation loss and held-out scores.

Usage::

    python -m training.plot_curves runs/expert            # writes runs/expert/curves.png
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from lipcore.cache import atomic_write_bytes
from training.run_log import CURVES_NAME, METRICS_NAME, read_metrics

#: Held-out scores drawn in the second panel: key, label, line style (dashed = chance).
SCORES = (
    ("val_accuracy", "held-out accuracy", "-"),
    ("val_r_gap_own", "held-out lip-gap r, own speech", "-"),
    ("val_r_gap_foreign", "lip-gap r, foreign speech (chance)", "--"),
    ("val_r_width_own", "held-out mouth-width r", "-"),
    ("val_closure_own", "closed at /p b m/", "-"),
    ("val_closure_chance", "closed at any voiced frame (chance)", "--"),
)


def plot_curves(rows: list[dict], out: str | Path, title: str = "", x_key: str = "step") -> Path:
    """Write the loss curve (and validation curves when present) of ``rows`` to ``out``.

    Args:
        rows: Metric rows (:func:`training.run_log.read_metrics`).
        out: PNG path (written atomically).
        title: Figure title.
        x_key: The row key on the x axis: "step", or "alpha" for a ridge-strength sweep (drawn
            on a log axis).

    Returns:
        The PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    def series(key):
        pts = [(r[x_key], r[key]) for r in rows if r.get(key) is not None]
        return [p[0] for p in pts], [p[1] for p in pts]

    scores = [s for s in SCORES if any(r.get(s[0]) is not None for r in rows)]
    fig, axes = plt.subplots(1, 2 if scores else 1, figsize=(9 if scores else 5, 3.2), dpi=90)
    ax_loss = axes[0] if scores else axes
    for key, label in (("loss", "train loss"), ("val_loss", "held-out loss")):
        x, y = series(key)
        if x:
            ax_loss.plot(x, y, label=label, marker="." if len(x) < 40 else None)
    ax_loss.set_ylabel("loss")
    for ax in axes if scores else [axes]:
        ax.set_xlabel("ridge strength" if x_key == "alpha" else x_key)
        if x_key == "alpha":
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    if scores:
        for key, label, style in scores:
            x, y = series(key)
            axes[1].plot(x, y, style, marker=".", label=label)
        if any(k == "val_accuracy" for k, _, _ in scores):
            axes[1].axhline(0.5, color="grey", linestyle="--", label="chance")
            axes[1].set_ylabel("in-sync vs shifted accuracy")
        else:
            axes[1].set_ylabel("held-out score")
        axes[1].set_ylim(min(0.0, axes[1].get_ylim()[0]), 1.0)
        axes[1].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, buf.getvalue())
    return out


def plot_run(run_dir: str | Path, title: str = "", x_key: str = "step") -> Path:
    """Plot ``run_dir/metrics.jsonl`` to ``run_dir/curves.png``."""
    run_dir = Path(run_dir)
    rows = read_metrics(run_dir / METRICS_NAME)
    return plot_curves(rows, run_dir / CURVES_NAME, title, x_key)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--title", default="")
    args = parser.parse_args(argv)
    print(plot_run(args.run_dir, args.title or args.run_dir.name))


if __name__ == "__main__":
    main()
