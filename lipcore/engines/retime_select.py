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


def successors(run_ids: np.ndarray, repeats: np.ndarray | None = None) -> np.ndarray:
    """Index of each library frame's natural successor (the next frame of its run), or -1.

    Args:
        run_ids: ``(N,)`` contiguous-run id of each library frame.
        repeats: ``(N,)`` bool, frames that show the picture of the frame before (a 25-fps
            picture in a 30-fps file): skipped, so a run steps from picture to picture.
    """
    n = len(run_ids)
    nxt = np.arange(1, n + 1)
    nxt[-1] = -1
    if n > 1:
        nxt[:-1][run_ids[1:] != run_ids[:-1]] = -1
    if repeats is not None and np.any(repeats):
        rep = np.asarray(repeats, bool)
        for _ in range(2):  # the cadence test never marks two repeats in a row
            hit = (nxt >= 0) & rep[np.maximum(nxt, 0)]
            nxt[hit] = nxt[nxt[hit]]
    return nxt


def transition_costs(
    appearance_dist: np.ndarray,
    run_ids: np.ndarray,
    costs: SelectionCosts,
    repeats: np.ndarray | None = None,
) -> np.ndarray:
    """Pairwise cost matrix ``C[i, j]`` of showing library frame ``j`` right after ``i``.

    Args:
        appearance_dist: ``(N, N)`` mouth-region appearance distances (median about 1).
        run_ids: ``(N,)`` id of the contiguous footage run each library frame belongs to.
        costs: The selection weights.
        repeats: ``(N,)`` bool, frames that repeat the picture before (see :func:`successors`).

    Returns:
        ``(N, N)`` float32; the hold cost on the diagonal (callers swap it for silent frames).
    """
    n = len(run_ids)
    nxt = successors(run_ids, repeats)
    # Compare the jump target with what would naturally have followed i (or i itself at a run end)
    base = np.where(nxt >= 0, nxt, np.arange(n))
    c = costs.jump + costs.appearance * appearance_dist[base]  # (N, N)
    c = c.astype(np.float32)
    has = nxt >= 0
    c[np.nonzero(has)[0], nxt[has]] = 0.0
    c[np.arange(n), np.arange(n)] = costs.hold
    return c


#: Unary cost that keeps repeated library pictures out of a path (shape costs are about 1).
REPEAT_COST = 1e3
#: Above this many ``T * N * N`` operations the Viterbi search keeps only the best candidates.
EXACT_LIMIT = 4e8
#: Candidates kept per output frame by the pruned search (plus the best states' successors).
BEAM_CANDIDATES = 160
BEAM_FOLLOW = 48
#: Libraries of at least this many frames use the bounded exact step (:class:`_BoundedStep`).
BOUNDED_MIN_FRAMES = 256
#: Share of the library the bounded exact step tries first as "from" states.
BOUNDED_SHARE = 10


class Transitions:
    """A transition matrix laid out for the Viterbi step, with what the bounded step needs.

    Built once per :func:`select_frames` call and shared by its passes (the re-solves reuse it).

    Args:
        pair: ``(N, N)`` transition costs ``[from, to]`` (:func:`transition_costs`).
        successor: ``(N,)`` natural successor of each frame (-1 = none).
    """

    def __init__(self, pair: np.ndarray, successor: np.ndarray | None = None):
        self.pair = np.ascontiguousarray(pair)
        n = len(self.pair)
        # Laid out (to, from): the minimum over "from" runs along contiguous rows, ~3x faster
        # than over columns of a (from, to) array, with the same result.
        self.to_from = np.ascontiguousarray(self.pair.T)
        self.successor = successor
        self.pred = np.full(n, -1, np.int64)
        self.lower = None
        if successor is not None:
            has = np.asarray(successor) >= 0
            self.pred[np.asarray(successor)[has]] = np.nonzero(has)[0]
            # Cheapest way into each frame from any frame but itself and its predecessor: a
            # lower bound on what every other "from" state adds (see _viterbi_bounded).
            generic = self.to_from.copy()
            diag = np.arange(n)
            generic[diag, diag] = np.inf
            into = np.nonzero(self.pred >= 0)[0]
            generic[into, self.pred[into]] = np.inf
            self.lower = generic.min(axis=1).astype(np.float64) if n > 1 else np.zeros(n)


def viterbi(
    unary: np.ndarray,
    pair: np.ndarray | Transitions,
    hold_by_frame: np.ndarray,
    successor: np.ndarray | None = None,
    step_extra: np.ndarray | None = None,
) -> np.ndarray:
    """Cheapest path through ``unary`` (T, N) with transition matrix ``pair`` (N, N).

    Exact for moderate sizes; for long segments over big libraries each output frame considers
    only its :data:`BEAM_CANDIDATES` best-matching library frames plus the natural successors of
    the :data:`BEAM_FOLLOW` best paths so far (so runs can always play on). The exact search
    over a big library bounds each step (:func:`_viterbi_bounded`): the same path, bit for bit,
    at a fraction of the work, so a segment's selection costs little more in a long clip
    (a library at its cap) than in a short one.

    Args:
        unary: ``(T, N)`` cost of each library frame at each output frame.
        pair: ``(N, N)`` transition costs ``[from, to]``, or them as :class:`Transitions`.
        hold_by_frame: ``(T,)`` cost of holding the same frame into output frame ``t``.
        successor: ``(N,)`` natural successor of each frame (-1 = none), for the pruned search.
        step_extra: ``(T, N)`` non-negative extra cost of arriving at frame ``j`` at output frame
            ``t`` by a natural step (from the frame whose successor it is); None = none. Needs
            ``successor`` (or ``pair`` as :class:`Transitions` with one).

    Returns:
        ``(T,)`` int64 chosen library indices.
    """
    t_len, n = unary.shape
    trans = pair if isinstance(pair, Transitions) else Transitions(pair, successor)
    if successor is None:
        successor = trans.successor
    if step_extra is not None:
        if successor is None:
            raise ValueError("step_extra needs the frames' natural successors")
        step_extra = np.asarray(step_extra, np.float32)
        if step_extra.shape != unary.shape or (step_extra < 0).any():
            raise ValueError("step_extra must be a non-negative (T, N) array like unary")
    if successor is None or t_len * n * n <= EXACT_LIMIT or n <= BEAM_CANDIDATES:
        if trans.lower is not None and n >= BOUNDED_MIN_FRAMES:
            return _viterbi_bounded(unary, trans, hold_by_frame, step_extra)
        return _viterbi_exact(unary, trans, hold_by_frame, step_extra)
    return _viterbi_beam(unary, trans.pair, hold_by_frame, successor, step_extra)


def _natural_steps(successor: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``(from, to)`` index arrays of every natural step (a frame into its successor)."""
    if successor is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    src = np.nonzero(np.asarray(successor) >= 0)[0]
    return src, np.asarray(successor)[src]


def _viterbi_exact(
    unary: np.ndarray,
    trans: Transitions,
    hold_by_frame: np.ndarray,
    step_extra: np.ndarray | None = None,
) -> np.ndarray:
    t_len, n = unary.shape
    back = np.zeros((t_len, n), np.int32)
    score = unary[0].astype(np.float64)
    diag = np.arange(n)
    pair_to_from = trans.to_from
    total = np.empty((n, n), np.float64)
    nat_from, nat_to = _natural_steps(trans.successor if step_extra is not None else None)
    for t in range(1, t_len):
        np.add(pair_to_from, score[None, :], out=total)  # (N to, N from)
        if len(nat_to):
            total[nat_to, nat_from] += step_extra[t, nat_to]
        total[diag, diag] = score + hold_by_frame[t]
        best_from = np.argmin(total, axis=1)
        back[t] = best_from
        score = total[diag, best_from] + unary[t]
    return _backtrack(score, back)


def _backtrack(score: np.ndarray, back: np.ndarray) -> np.ndarray:
    t_len = len(back)
    path = np.zeros(t_len, np.int64)
    path[-1] = int(np.argmin(score))
    for t in range(t_len - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _viterbi_bounded(
    unary: np.ndarray,
    trans: Transitions,
    hold_by_frame: np.ndarray,
    step_extra: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`_viterbi_exact`'s path, bit for bit, looking at few "from" states per step.

    Each step first takes the ``K`` best-scoring states as the only "from" candidates of every
    frame, plus each frame's own hold and its predecessor's free step. Any other state ``i``
    reaches frame ``j`` at no less than ``score[i] + lower[j]`` (floating-point addition is
    monotonic), so where even the best excluded score plus ``lower[j]`` is strictly above the
    minimum found, that minimum (and, taking the lowest index among equal values, the
    argmin the full step picks) is final. The few frames left are computed over every state.
    A non-negative ``step_extra`` on the natural steps keeps the bound valid (it only raises
    the steps it is added to).
    """
    t_len, n = unary.shape
    k = max(64, n // BOUNDED_SHARE)
    if k >= n:
        return _viterbi_exact(unary, trans, hold_by_frame, step_extra)
    nat_from, nat_to = _natural_steps(trans.successor if step_extra is not None else None)
    nat_next = np.full(n, -1, np.int64)
    nat_next[nat_from] = nat_to
    slot = np.full(n, -1, np.int64)
    pair, to_from, lower, pred = trans.pair, trans.to_from, trans.lower, trans.pred
    frames = np.arange(n)
    into = np.nonzero(pred >= 0)[0]
    into_pred = pred[into]
    back = np.zeros((t_len, n), np.int32)
    score = unary[0].astype(np.float64)
    chosen = np.zeros(n, bool)
    rows_k = np.arange(k)
    for t in range(1, t_len):
        held = score + hold_by_frame[t]
        part = np.argpartition(score, k)
        cand = np.sort(part[:k])
        best_left = score[part[k:]].min()
        sub = pair[cand] + score[cand][:, None]  # (K from, N to)
        if len(nat_to):
            has = nat_next[cand] >= 0
            to = nat_next[cand][has]
            sub[rows_k[has], to] += step_extra[t, to]
        sub[rows_k, cand] = held[cand]
        at = np.argmin(sub, axis=0)
        value = sub[at, frames]
        best_from = cand[at]
        chosen[:] = False
        chosen[cand] = True
        # The frame's own hold, where the frame was not a candidate.
        better = ~chosen & ((held < value) | ((held == value) & (frames < best_from)))
        value[better] = held[better]
        best_from[better] = frames[better]
        # The predecessor's step into the frame, where the predecessor was not a candidate.
        out = ~chosen[into_pred]
        j, i = into[out], into_pred[out]
        step = to_from[j, i] + score[i]
        if len(nat_to):
            step = step + step_extra[t, j]
        better = (step < value[j]) | ((step == value[j]) & (i < best_from[j]))
        value[j[better]] = step[better]
        best_from[j[better]] = i[better]
        # Frames some excluded state might still reach as cheaply: every state, exactly.
        open_ = np.nonzero(~(best_left + lower > value))[0]
        if len(open_):
            full = to_from[open_] + score[None, :]
            if len(nat_to):
                slot[open_] = np.arange(len(open_))
                hit = slot[nat_to] >= 0
                full[slot[nat_to[hit]], nat_from[hit]] += step_extra[t, nat_to[hit]]
                slot[open_] = -1
            full[np.arange(len(open_)), open_] = held[open_]
            b = np.argmin(full, axis=1)
            best_from[open_] = b
            value[open_] = full[np.arange(len(open_)), b]
        back[t] = best_from
        score = value + unary[t]
    return _backtrack(score, back)


def _viterbi_beam(
    unary: np.ndarray,
    pair: np.ndarray,
    hold_by_frame: np.ndarray,
    successor: np.ndarray,
    step_extra: np.ndarray | None = None,
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
        if step_extra is not None:
            natural = successor[states][:, None] == cand[None, :]
            total += np.where(natural, step_extra[t, cand][None, :], 0.0)
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
    repeats: np.ndarray | None = None,
    step_extra: np.ndarray | None = None,
) -> np.ndarray:
    """Choose one library frame per output frame over a whole segment.

    Args:
        unary: ``(T, N)`` shape costs.
        appearance_dist: ``(N, N)`` appearance distances between library frames.
        run_ids: ``(N,)`` contiguous-run id of each library frame.
        silent: ``(T,)`` bool, output frames where the new audio is silent.
        costs: The selection weights.
        repeats: ``(N,)`` bool, library frames that repeat the picture before: runs step over
            them and they are never chosen (the caller plans one output row per picture).
        step_extra: ``(T, N)`` non-negative extra cost of playing a run on into frame ``j`` at
            output frame ``t`` (see :func:`viterbi`); holds and cuts do not pay it.

    Returns:
        ``(T,)`` int64 library indices.
    """
    t_len, n = unary.shape
    if t_len == 0:
        return np.zeros(0, np.int64)
    nxt = successors(run_ids, repeats)
    if repeats is not None and np.any(repeats) and not np.all(repeats):
        unary = unary.copy()
        unary[:, np.asarray(repeats, bool)] += REPEAT_COST
    pair = Transitions(transition_costs(appearance_dist, run_ids, costs, repeats), nxt)
    hold = np.where(silent, costs.hold_silent, costs.hold).astype(np.float64)
    path = viterbi(unary, pair, hold, nxt, step_extra)
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
        path = viterbi(adj, pair, hold, nxt, step_extra)
    return path


def crossfade_plan(
    path: np.ndarray,
    run_ids: np.ndarray,
    fade_frames: int = 2,
    repeats: np.ndarray | None = None,
) -> list[list[tuple[int, float]]]:
    """Blend weights per output frame: where the path cuts, the old run fades into the new one.

    At a cut at ``t`` the old run goes on for ``fade_frames`` more frames (its natural successors,
    or a hold at a run end) with weights falling linearly, so no frame shows a hard jump.

    Args:
        path: ``(T,)`` chosen library indices.
        run_ids: ``(N,)`` contiguous-run id of each library frame.
        fade_frames: Frames over which a cut is cross-faded.
        repeats: ``(N,)`` bool, library frames the old run steps over (see :func:`successors`).

    Returns:
        Per output frame a list of ``(library index, weight)`` with weights summing to 1.
    """
    nxt = successors(run_ids, repeats)
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
    "Transitions",
    "crossfade_plan",
    "select_frames",
    "successors",
    "transition_costs",
    "viterbi",
]
