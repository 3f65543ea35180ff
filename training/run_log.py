"""What a training run leaves beside its checkpoint: ``metrics.jsonl`` and ``curves.png``.

Rank 0 appends one JSON object per logged step (``{"step": 200, "loss": 0.61}``, with
``val_loss`` / ``val_accuracy`` on validation steps). A resumed run first drops the lines past
the step it resumes from, so the file always describes the one curve the weights followed, and
the straight run and the interrupted-then-resumed run write the same file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

METRICS_NAME = "metrics.jsonl"
CURVES_NAME = "curves.png"


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
    """

    def __init__(self, out_dir: str | Path, resume_step: int = 0, enabled: bool = True):
        self.path = Path(out_dir) / METRICS_NAME
        self.enabled = enabled
        self.rows = [r for r in read_metrics(self.path) if r.get("step", 0) <= resume_step]
        if resume_step == 0:
            self.rows = []
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("".join(json.dumps(r) + "\n" for r in self.rows))

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
        return row
