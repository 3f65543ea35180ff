"""Draw a run's ``metrics.jsonl`` as a PNG: training loss, validation loss and accuracy.

Usage::

    python -m training.plot_curves runs/expert            # writes runs/expert/curves.png
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from lipcore.cache import atomic_write_bytes
from training.run_log import CURVES_NAME, METRICS_NAME, read_metrics


def plot_curves(rows: list[dict], out: str | Path, title: str = "") -> Path:
    """Write the loss curve (and validation curves when present) of ``rows`` to ``out``.

    Args:
        rows: Metric rows (:func:`training.run_log.read_metrics`).
        out: PNG path (written atomically).
        title: Figure title.

    Returns:
        The PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    def series(key):
        pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        return [p[0] for p in pts], [p[1] for p in pts]

    has_acc = any(r.get("val_accuracy") is not None for r in rows)
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(9 if has_acc else 5, 3.2), dpi=90)
    ax_loss = axes[0] if has_acc else axes
    for key, label in (("loss", "train loss"), ("val_loss", "held-out loss")):
        x, y = series(key)
        if x:
            ax_loss.plot(x, y, label=label, marker="." if len(x) < 40 else None)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    if has_acc:
        x, y = series("val_accuracy")
        axes[1].plot(x, y, marker=".", color="tab:green", label="held-out accuracy")
        axes[1].axhline(0.5, color="grey", linestyle="--", label="chance")
        axes[1].set_ylim(0.0, 1.0)
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("in-sync vs shifted accuracy")
        axes[1].grid(alpha=0.3)
        axes[1].legend(fontsize=8)
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


def plot_run(run_dir: str | Path, title: str = "") -> Path:
    """Plot ``run_dir/metrics.jsonl`` to ``run_dir/curves.png``."""
    run_dir = Path(run_dir)
    return plot_curves(read_metrics(run_dir / METRICS_NAME), run_dir / CURVES_NAME, title)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--title", default="")
    args = parser.parse_args(argv)
    print(plot_run(args.run_dir, args.title or args.run_dir.name))


if __name__ == "__main__":
    main()
