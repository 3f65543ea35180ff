"""The clip's picture rhythm, as a cost: on a clip that repeats pictures the re-timed mouth
steps big and small where the clip's own face does.

Some files repeat pictures unevenly spaced in time. A06 (about 22 pictures a second in a 30-fps
file) moves little into the picture right after each repeat and most into the last picture
before the next one: its mouth region changes 7.7, 8.5 and 14.3 grey levels into the first,
second and third picture of a group. The head, cheeks and jaw outline stay the target's, so they
keep that rhythm in the output; a library run played at another phase moves its mouth evenly,
and the mouth box then changes in two rhythms at once, more than the original's ever does (a
mean absolute change grows less than linearly with a step, so two moves on two frames read more
than both on one). With B01 that box changed 1.21x the original's.

Every library picture has a phase: how many pictures it comes after its run's last repeat. The
clip's own steps give the size of a step into each phase, relative to the mean step
(:func:`phase_factors`); playing a run on into a library picture at an output row of another
phase costs the difference of the two sizes (a ``step_extra`` of the selection: holds and cuts
do not pay it, and cuts cost :data:`CADENCE_JUMP_SCALE` times more, so a hold is the way back
into phase). The selection then plays its runs in phase with the clip among frames whose mouth
shapes match about equally well.

The cost reads only the cadence, never how much the original mouth moves at a given moment, so
the output is not drawn towards the old speech; on a clip whose steps do not depend on the phase
it is small, and on one that repeats nothing the engine does not use it. A cost on the
difference of the actual step sizes did lower A06's figure further (1.09), but there the mouth
followed the original's pauses: A07's output then scored 0.21 with the meter against its OLD
speech instead of 0.06. Re-timing the new speech's shape track to the clip's rhythm made the
figure worse (1.23).
"""

from __future__ import annotations

import numpy as np

#: Cost of playing a run on, per mean picture step of step-size difference between the library
#: picture's phase and the output row's (shape costs are about 1 per standard deviation). On A06
#: with B01 (8 s): 4 took the mouth box to 1.08x the original's but the meter's confidence from
#: 0.60 to 0.45 (a plan perturbed by nothing that matters reads 0.55-0.60); 2 keeps it.
PACE_WEIGHT = 2.0
#: Where the library repeats pictures, a cut's fixed price is this many times the usual one. A cut
#: was the cheapest way back into phase after a run drifted out of it (A06 with B01: 18 cuts and
#: 11 holds became 22 and 28); a hold, the smaller step, is the clip's own way to slow a step
#: down. At 2 (with :data:`PACE_WEIGHT` 2) A06 B01 plans 9 cuts and 39 holds.
CADENCE_JUMP_SCALE = 2.0
#: Phases told apart; later pictures of a long group share the last one.
MAX_PHASE = 3
#: Least pictures of a phase for its step size to be trusted.
MIN_PHASE_PICTURES = 8


def incoming_steps(
    appearance_dist: np.ndarray, successor: np.ndarray, repeats: np.ndarray | None = None
) -> np.ndarray:
    """``(N,)`` each library frame's step from its run's previous picture (NaN at a run start).

    Args:
        appearance_dist: ``(N, N)`` mouth-region appearance distances.
        successor: ``(N,)`` natural successor of each frame, -1 at a run end
            (:func:`lipcore.engines.retime_select.successors`, repeats stepped over).
        repeats: ``(N,)`` bool, frames that repeat the picture before: never a step's start
            (their successor is the next picture's, but the step into it is from the picture
            they repeat), and no step of their own.
    """
    n = len(successor)
    steps = np.full(n, np.nan, np.float32)
    has = np.asarray(successor) >= 0
    if repeats is not None:
        has &= ~np.asarray(repeats, bool)
    src = np.nonzero(has)[0]
    dst = np.asarray(successor)[has]
    steps[dst] = np.asarray(appearance_dist)[src, dst]
    return steps


def library_phases(run_ids: np.ndarray, repeats: np.ndarray) -> np.ndarray:
    """``(N,)`` pictures since the run's last repeat (0 = the picture right after it), capped at
    :data:`MAX_PHASE` - 1; -1 for repeats and before a run's first repeat (phase unknown)."""
    run_ids, repeats = np.asarray(run_ids), np.asarray(repeats, bool)
    phase = np.full(len(run_ids), -1, np.int64)
    k = -1
    for j in range(len(run_ids)):
        if j == 0 or run_ids[j] != run_ids[j - 1]:
            k = -1
        if repeats[j]:
            k = 0  # the next picture is the first after a repeat
            continue
        if k >= 0:
            phase[j] = min(k, MAX_PHASE - 1)
            k += 1
    return phase


def row_phases(picture_row: np.ndarray) -> np.ndarray:
    """``(T,)`` the same phase for output rows, from which rows repeat the row before
    (:attr:`SegmentPlan.picture_row`); -1 for repeated rows and before the first repeat."""
    picture_row = np.asarray(picture_row)
    repeated = picture_row != np.arange(len(picture_row))
    run_ids = np.zeros(len(picture_row), np.int64)
    return library_phases(run_ids, repeated)


def phase_factors(steps: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """``(MAX_PHASE,)`` mean step into each phase over the mean step of all phased pictures
    (1.0 for a phase with too few pictures: no preference)."""
    known = (phases >= 0) & np.isfinite(steps)
    factors = np.ones(MAX_PHASE, np.float64)
    if known.sum() < MIN_PHASE_PICTURES:
        return factors
    mean = float(steps[known].mean())
    for k in range(MAX_PHASE):
        sel = known & (phases == k)
        if sel.sum() >= MIN_PHASE_PICTURES and mean > 0:
            factors[k] = float(steps[sel].mean()) / mean
    return factors


def pace_cost(
    steps: np.ndarray,
    lib_phases: np.ndarray,
    out_phases: np.ndarray,
    weight: float = PACE_WEIGHT,
) -> np.ndarray:
    """``(T, N)`` cost of showing each library frame at each output row of another phase.

    Args:
        steps: ``(N,)`` incoming step of each library frame (:func:`incoming_steps`).
        lib_phases: ``(N,)`` library phases (:func:`library_phases`).
        out_phases: ``(T,)`` output row phases (:func:`row_phases`).
        weight: Cost per mean step of step-size difference.

    Returns:
        float32 costs; 0 where either phase is unknown.
    """
    lib_phases, out_phases = np.asarray(lib_phases), np.asarray(out_phases)
    factors = phase_factors(steps, lib_phases)
    known = (lib_phases >= 0) & np.isfinite(steps)
    mean = float(steps[known].mean()) if known.any() else 0.0
    f_lib = np.where(lib_phases >= 0, factors[np.maximum(lib_phases, 0)], np.nan)
    f_out = np.where(out_phases >= 0, factors[np.maximum(out_phases, 0)], np.nan)
    diff = np.abs(f_out[:, None] - f_lib[None, :]) * mean
    return (weight * np.nan_to_num(diff, nan=0.0)).astype(np.float32)


__all__ = [
    "CADENCE_JUMP_SCALE",
    "MAX_PHASE",
    "PACE_WEIGHT",
    "incoming_steps",
    "library_phases",
    "pace_cost",
    "phase_factors",
    "row_phases",
]
