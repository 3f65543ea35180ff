"""Centred temporal smoothing of per-frame face data (zero-phase, reset at gaps and shot cuts).

A forward-only window (moving average of the past frames) lags the face by half its length, so a
mouth mask would trail a moving head.  A centred Savitzky-Golay fit uses past and future frames
symmetrically: no lag, and a quadratic fit keeps the peaks of fast mouth openings that a plain
centred average would flatten.
"""

from __future__ import annotations

import numpy as np

#: Columns smoothed at a time (bounds the float64 temporaries of long runs).
SMOOTH_BLOCK_COLUMNS = 64


def contiguous_runs(frames: np.ndarray, breaks: list[int] | tuple[int, ...] = ()) -> list[slice]:
    """Slices of ``frames`` that are consecutive and not split by a shot cut.

    Args:
        frames: ``(N,)`` sorted frame indices.
        breaks: Frames starting a new shot; a run never spans one.

    Returns:
        Slices into ``frames``, in order.
    """
    frames = np.asarray(frames)
    if len(frames) == 0:
        return []
    split = np.diff(frames) > 1
    if len(breaks):
        cut = np.asarray(sorted(breaks))
        # Shot number of each frame; a change between neighbours is a run boundary.
        shot = np.searchsorted(cut, frames, side="right")
        split |= np.diff(shot) != 0
    edges = np.concatenate([[0], np.nonzero(split)[0] + 1, [len(frames)]])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=False)]


def savgol_centred(values: np.ndarray, window_frames: int, polyorder: int = 2) -> np.ndarray:
    """Centred Savitzky-Golay smoothing along axis 0 of one contiguous run.

    Args:
        values: ``(T, ...)`` per-frame values.
        window_frames: Odd window length (shrunk to fit short runs; no-op below 3 frames).
        polyorder: Degree of the local fit.

    Returns:
        Smoothed copy with the same shape and dtype.
    """
    from scipy.signal import savgol_filter

    n = values.shape[0]
    window = min(int(window_frames), n if n % 2 else n - 1)
    if window < 3:
        return values.copy()
    order = min(polyorder, window - 1)
    flat = values.reshape(n, -1)
    out = np.empty(flat.shape, values.dtype)
    # Columns are independent: filtered a block at a time, so a long run (a 30-minute shot's
    # landmarks are 45,000 x 956 values) needs float64 temporaries of one block, not of all.
    for a in range(0, flat.shape[1], SMOOTH_BLOCK_COLUMNS):
        block = flat[:, a : a + SMOOTH_BLOCK_COLUMNS].astype(np.float64)
        # mode="interp" fits the polynomial over the first/last window at the edges instead of
        # padding, so run ends are not pulled towards a mirrored copy.
        out[:, a : a + SMOOTH_BLOCK_COLUMNS] = savgol_filter(
            block, window, order, axis=0, mode="interp"
        )
    return out.reshape(values.shape)


def smooth_track(
    frames: np.ndarray,
    values: np.ndarray,
    window_frames: int,
    shot_cuts: list[int] | tuple[int, ...] = (),
    polyorder: int = 2,
) -> np.ndarray:
    """Smooth per-frame ``values`` run by run (never across a gap or a shot cut).

    Args:
        frames: ``(N,)`` sorted frame indices.
        values: ``(N, ...)`` values per frame.
        window_frames: Odd Savitzky-Golay window.
        shot_cuts: First frames of new shots.
        polyorder: Degree of the local fit.

    Returns:
        ``(N, ...)`` smoothed values.
    """
    out = values.copy()
    for run in contiguous_runs(frames, shot_cuts):
        out[run] = savgol_centred(values[run], window_frames, polyorder)
    return out
