"""What a training run leaves beside its checkpoint: ``metrics.jsonl`` and ``curves.png``.

Rank 0 appends one JSON object per logged step (``{"step": 200, "loss": 0.61}``, with
``val_loss`` / ``val_accuracy`` on validation steps). A resumed run first drops the lines past
the step it resumes from, so the file always describes the one curve the weights followed, and
the straight run and the interrupted-then-resumed run write the same file.

When ``tensorboardX`` is installed (the ``[train]`` extra) the same rows also go to TensorBoard
event files under ``tensorboard/`` (``tensorboard --logdir RUN/tensorboard``); a resumed run
purges the events past its step there too. Without it only the JSON lines are written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

METRICS_NAME = "metrics.jsonl"
CURVES_NAME = "curves.png"
TENSORBOARD_DIR = "tensorboard"


def tensorboard_writer(log_dir: Path, purge_step: int | None = None):
    """A ``tensorboardX`` SummaryWriter on ``log_dir``, or None when it is not installed."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(log_dir), purge_step=purge_step, flush_secs=10)


@dataclass
class TrainResult:
    """What a trainer's generator returns.

    Attributes:
        checkpoint: The training checkpoint written (rank 0), or None on other ranks.
        model: The trained network, unwrapped from DDP (every rank holds the same weights).
        step: Optimiser steps done.
        history: The metric rows of the whole run (what ``metrics.jsonl`` holds).
    """

    checkpoint: Path | None
    model: nn.Module
    step: int
    history: list[dict] = field(default_factory=list)


def read_metrics(path: str | Path) -> list[dict]:
    """The rows of a ``metrics.jsonl`` (empty when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


class RunLog:
    """Appends metric rows for one run directory (a no-op on ranks other than 0).

    Args:
        out_dir: The run directory.
        resume_step: Steps already done; rows past it (from a run that went further before the
            checkpoint being resumed was written) are dropped.
        enabled: False on non-main ranks.
        tensorboard: Also write TensorBoard events (when ``tensorboardX`` is installed).
    """

    def __init__(
        self,
        out_dir: str | Path,
        resume_step: int = 0,
        enabled: bool = True,
        tensorboard: bool = True,
    ):
        self.path = Path(out_dir) / METRICS_NAME
        self.enabled = enabled
        self.rows = [r for r in read_metrics(self.path) if r.get("step", 0) <= resume_step]
        if resume_step == 0:
            self.rows = []
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("".join(json.dumps(r) + "\n" for r in self.rows))
        self._tb = None
        if enabled and tensorboard:
            tb_dir = self.path.parent / TENSORBOARD_DIR
            if resume_step == 0:  # a fresh run: the events of an earlier one would mix in
                for old in tb_dir.glob("events.out.tfevents.*"):
                    old.unlink()
            purge = resume_step + 1 if resume_step > 0 else None
            self._tb = tensorboard_writer(tb_dir, purge)

    def add(self, step: int, **values: float) -> dict:
        """Record (and on rank 0 append) the values of one step; NaN is stored as null."""
        row = {"step": int(step)}
        for key, value in values.items():
            value = float(value)
            row[key] = None if math.isnan(value) else value
        self.rows.append(row)
        if self.enabled:
            with self.path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
        if self._tb is not None:
            for key, value in row.items():
                if key != "step" and value is not None:
                    self._tb.add_scalar(key, value, row["step"])
            self._tb.flush()
        return row

    def close(self) -> None:
        """Close the TensorBoard writer (the JSON lines need nothing)."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None
