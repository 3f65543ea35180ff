"""Runs of True in a boolean sequence: where each starts and ends, and the longest one.

Voice activity cuts speech ranges from its per-chunk decisions with :func:`true_runs`; the
one-shot's bite finder and the training clips' longest stretch with a face use
:func:`longest_true_run`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def true_runs(mask: np.ndarray | Sequence[bool]) -> list[tuple[int, int]]:
    """``[start, end)`` index runs where ``mask`` is True, in order.

    Args:
        mask: ``(N,)`` booleans (or anything ``np.asarray`` makes booleans of).

    Returns:
        One ``(start, end)`` per run; empty when nothing is True.
    """
    flags = np.asarray(mask, bool).ravel()
    if flags.size == 0:
        return []
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist()
    return list(zip(starts, ends, strict=True))


def longest_true_run(mask: np.ndarray | Sequence[bool]) -> tuple[int, int]:
    """The longest ``[start, end)`` run of True.

    Returns:
        The first of equally long runs; ``(0, 0)`` when nothing is True.
    """
    return max(true_runs(mask), key=lambda run: run[1] - run[0], default=(0, 0))
