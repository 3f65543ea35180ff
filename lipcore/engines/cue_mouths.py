"""Rhubarb mouth shapes -> one-shot mouth displacements: how the cue lane drives the picture.

The table ``lipcore/data/cue_shapes.json`` holds, for each shape A-H and X, the displacement of
the points of :data:`lipcore.engines.mouth_shape.MOUTH_POINTS` from the resting mouth, in the
units the speech -> mouth-shape model predicts (eye distances). It is measured, not drawn:
``training/fit_cue_shapes.py`` turns each in-sync training clip's own speech into cues and takes
the median measured mouth of the frames of each shape (per clip, then across clips). Rest (X) is
the resting mouth itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np

from lipcore.engines.mouth_shape import MOUTH_POINTS
from lipcore.errors import LipsyncError

TABLE_FILE = "cue_shapes.json"
#: The shape letters the table covers (Rhubarb's set).
CUE_SHAPES = ("A", "B", "C", "D", "E", "F", "G", "H", "X")


@lru_cache(maxsize=1)
def load_cue_table() -> dict[str, np.ndarray]:
    """The shipped shape -> ``(P, 2)`` displacement table.

    Raises:
        LipsyncError: The table is missing or was measured on other landmark points.
    """
    where = resources.files("lipcore") / "data" / TABLE_FILE
    try:
        data = json.loads(where.read_text())
    except (OSError, ValueError) as exc:
        raise LipsyncError(
            f"cannot read the mouth-cue table {where} ({exc})",
            fix="reinstall lipsync, or re-run python -m training.fit_cue_shapes",
        ) from exc
    if data.get("format") != "lipsync-cue-shapes" or tuple(data["points"]) != MOUTH_POINTS:
        raise LipsyncError(
            f"{where} is not a mouth-cue table for these landmark points",
            fix="re-run python -m training.fit_cue_shapes",
        )
    return {s: np.asarray(data["shapes"][s], np.float64) for s in CUE_SHAPES}


def cue_displacements(shapes: Sequence[str]) -> np.ndarray:
    """Displacements ``(T, P, 2)`` (eye-distance units) of one shape letter per frame.

    Args:
        shapes: A Rhubarb letter per output frame ("A"-"H", "X").

    Returns:
        The table's displacement of each frame's shape (unsmoothed).

    Raises:
        ValueError: A letter is not a Rhubarb shape.
    """
    table = load_cue_table()
    bad = sorted({str(s) for s in shapes} - set(CUE_SHAPES))
    if bad:
        raise ValueError(f"unknown mouth shapes {bad}: expected letters from {CUE_SHAPES}")
    if len(shapes) == 0:
        return np.zeros((0, len(MOUTH_POINTS), 2))
    return np.stack([table[str(s)] for s in shapes])


__all__ = ["CUE_SHAPES", "cue_displacements", "load_cue_table"]
