"""Choosing library frames for a segment: Viterbi over the whole segment, then cross-fades.

The unary cost of showing library frame ``j`` at output frame ``t`` is how far its mouth shape is
from the shape predicted for ``t``. The pairwise cost favours playing the actor's own motion on:
going from ``i`` to its natural successor ``i + 1`` is free, holding ``i`` is cheap, and any other
jump costs a fixed price plus how different ``j`` looks from what would naturally have come next.
Frames used too often are penalised and the path re-solved, so a long segment does not loop one
short run. Remaining jumps are softened by cross-fading the old run into the new one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SelectionCosts:
    """Weights of the Viterbi selection (unary costs are in z-scored shape units).

    Attributes:
        jump: Fixed price of any cut that is not "next frame of the same run" or "hold".
        appearance: Weight of the mouth-region appearance distance at a cut (median distance = 1).
        hold: Price of showing the same library frame twice in a row.
        hold_silent: Same, where the new audio is silent (a still, resting mouth is natural).
        reuse: Extra unary cost per use beyond the fair share, in the re-solve passes.
        reuse_passes: How many times the path is re-solved with the reuse penalty.
    """

    jump: float = 0.6
    appearance: float = 0.8
    hold: float = 0.35
    hold_silent: float = 0.05
    reuse: float = 0.15
    reuse_passes: int = 2


def successors(run_ids: np.ndarray) -> np.ndarray:
    """Index of each library frame's natural successor (the next frame of its run), or -1."""
    n = len(run_ids)
    nxt = np.arange(1, n + 1)
    nxt[-1] = -1
    if n > 1:
        nxt[:-1][run_ids[1:] != run_ids[:-1]] = -1
    return nxt


def transition_costs(
    appearance_dist: np.ndarray, run_ids: np.ndarray, costs: SelectionCosts
) -> np.ndarray:
    """Pairwise cost matrix ``C[i, j]`` of showing library frame ``j`` right after ``i``.

    Args:
        appearance_dist: ``(N, N)`` mouth-region appearance distances (median about 1).
        run_ids: ``(N,)`` id of the contiguous footage run each library frame belongs to.
        costs: The selection weights.

    Returns:
        ``(N, N)`` float32; the hold cost on the diagonal (callers swap it for silent frames).
    """
    n = len(run_ids)
    nxt = successors(run_ids)
    # Compare the jump target with what would naturally have followed i (or i itself at a run end)
    base = np.where(nxt >= 0, nxt, np.arange(n))
    c = costs.jump + costs.appearance * appearance_dist[base]  # (N, N)
    c = c.astype(np.float32)
    has = nxt >= 0
    c[np.nonzero(has)[0], nxt[has]] = 0.0
    c[np.arange(n), np.arange(n)] = costs.hold
    return c


#: Above this many ``T * N * N`` operations the Viterbi search keeps only the best candidates.
EXACT_LIMIT = 4e8
#: Candidates kept per output frame by the pruned search (plus the best states' successors).
BEAM_CANDIDATES = 160
BEAM_FOLLOW = 48


def viterbi(
    unary: np.ndarray,
    pair: np.ndarray,
    hold_by_frame: np.ndarray,
    successor: np.ndarray | None = None,
) -> np.ndarray:
    """Cheapest path through ``unary`` (T, N) with transition matrix ``pair`` (N, N).

    Exact for moderate sizes; for long segments over big libraries each output frame considers
    only its :data:`BEAM_CANDIDATES` best-matching library frames plus the natural successors of
    the :data:`BEAM_FOLLOW` best paths so far (so runs can always play on).

    Args:
        unary: ``(T, N)`` cost of each library frame at each output frame.
        pair: ``(N, N)`` transition costs ``[from, to]``.
        hold_by_frame: ``(T,)`` cost of holding the same frame into output frame ``t``.
        successor: ``(N,)`` natural successor of each frame (-1 = none), for the pruned search.

    Returns:
        ``(T,)`` int64 chosen library indices.
    """
    t_len, n = unary.shape
    if successor is None or t_len * n * n <= EXACT_LIMIT or n <= BEAM_CANDIDATES:
        return _viterbi_exact(unary, pair, hold_by_frame)
    return _viterbi_beam(unary, pair, hold_by_frame, successor)


def _viterbi_exact(unary: np.ndarray, pair: np.ndarray, hold_by_frame: np.ndarray) -> np.ndarray:
    t_len, n = unary.shape
    back = np.zeros((t_len, n), np.int32)
    score = unary[0].astype(np.float64)
    diag = np.arange(n)
    # Laid out (to, from) and reused: the minimum over "from" runs along contiguous rows, ~3x
    # faster than over columns of a fresh (from, to) array each step, with the same result.
    pair_to_from = np.ascontiguousarray(np.asarray(pair).T)
    total = np.empty((n, n), np.float64)
    for t in range(1, t_len):
        np.add(pair_to_from, score[None, :], out=total)  # (N to, N from)
        total[diag, diag] = score + hold_by_frame[t]
        best_from = np.argmin(total, axis=1)
        back[t] = best_from
        score = total[diag, best_from] + unary[t]
    path = np.zeros(t_len, np.int64)
    path[-1] = int(np.argmin(score))
    for t in range(t_len - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _viterbi_beam(
    unary: np.ndarray, pair: np.ndarray, hold_by_frame: np.ndarray, successor: np.ndarray
) -> np.ndarray:
    t_len, n = unary.shape
    k = BEAM_CANDIDATES
    states = np.argpartition(unary[0], k)[:k]
    score = unary[0, states].astype(np.float64)
    history: list[tuple[np.ndarray, np.ndarray]] = [(states, np.zeros(len(states), np.int64))]
    for t in range(1, t_len):
        follow = states[np.argsort(score)[:BEAM_FOLLOW]]
        nxt = successor[follow]
        cand = np.unique(np.concatenate([np.argpartition(unary[t], k)[:k], nxt[nxt >= 0]]))
        total = score[:, None] + pair[np.ix_(states, cand)]  # (prev states, candidates)
        same = states[:, None] == cand[None, :]
        total[same] = (score[:, None] + hold_by_frame[t]).repeat(len(cand), 1)[same]
        best_from = np.argmin(total, axis=0)
        score = total[best_from, np.arange(len(cand))] + unary[t, cand]
        states = cand
        history.append((states, best_from))
    path = np.zeros(t_len, np.int64)
    j = int(np.argmin(score))
    for t in range(t_len - 1, -1, -1):
        st, back = history[t]
        path[t] = st[j]
        j = int(back[j])
    return path


def select_frames(
    unary: np.ndarray,
    appearance_dist: np.ndarray,
    run_ids: np.ndarray,
    silent: np.ndarray,
    costs: SelectionCosts = SelectionCosts(),
) -> np.ndarray:
    """Choose one library frame per output frame over a whole segment.

    Args:
        unary: ``(T, N)`` shape costs.
        appearance_dist: ``(N, N)`` appearance distances between library frames.
        run_ids: ``(N,)`` contiguous-run id of each library frame.
        silent: ``(T,)`` bool, output frames where the new audio is silent.
        costs: The selection weights.

    Returns:
        ``(T,)`` int64 library indices.
    """
    t_len, n = unary.shape
    if t_len == 0:
        return np.zeros(0, np.int64)
    pair = transition_costs(appearance_dist, run_ids, costs)
    hold = np.where(silent, costs.hold_silent, costs.hold).astype(np.float64)
    nxt = successors(run_ids)
    path = viterbi(unary, pair, hold, nxt)
    # A fair share of uses per frame; beyond it each use costs more, then re-solve
    fair = max(3.0, 2.0 * t_len / max(n, 1))
    penalty = np.zeros(n, np.float64)
    for _ in range(costs.reuse_passes):
        uses = np.bincount(path, minlength=n).astype(np.float64)
        over = np.maximum(uses - fair, 0.0)
        if not over.any():
            break
        penalty += costs.reuse * over / fair
        speaking = ~silent  # a resting mouth may be held as long as the silence lasts
        adj = unary.copy()
        adj[speaking] += penalty[None, :]
        path = viterbi(adj, pair, hold, nxt)
    return path


def crossfade_plan(
    path: np.ndarray, run_ids: np.ndarray, fade_frames: int = 2
) -> list[list[tuple[int, float]]]:
    """Blend weights per output frame: where the path cuts, the old run fades into the new one.

    At a cut at ``t`` the old run goes on for ``fade_frames`` more frames (its natural successors,
    or a hold at a run end) with weights falling linearly, so no frame shows a hard jump.

    Args:
        path: ``(T,)`` chosen library indices.
        run_ids: ``(N,)`` contiguous-run id of each library frame.
        fade_frames: Frames over which a cut is cross-faded.

    Returns:
        Per output frame a list of ``(library index, weight)`` with weights summing to 1.
    """
    nxt = successors(run_ids)
    t_len = len(path)
    plan: list[list[tuple[int, float]]] = [[(int(path[t]), 1.0)] for t in range(t_len)]
    for t in range(1, t_len):
        prev, cur = int(path[t - 1]), int(path[t])
        if cur == prev or cur == nxt[prev]:
            continue
        ghost = prev
        for k in range(fade_frames):
            if t + k >= t_len:
                break
            ghost = int(nxt[ghost]) if nxt[ghost] >= 0 else ghost
            w_old = (fade_frames - k) / (fade_frames + 1)
            plan[t + k] = [(int(path[t + k]), 1.0 - w_old), (ghost, w_old)]
    return plan


__all__ = [
    "SelectionCosts",
    "crossfade_plan",
    "select_frames",
    "successors",
    "transition_costs",
    "viterbi",
]
