"""The picture clock of a clip that repeats pictures: which output rows show a new picture.

A clip that repeats pictures (a 25-fps picture in a 30-fps file, a frame-dropping encoder) shows
its face move on fewer frames than it has: the render holds the new mouth on a repeated picture
(:mod:`lipcore.render.cadence`), so a mouth-shape track planned per frame steps twice as far on
the frame after each repeat. An engine that plans a shape per frame plans it per picture
instead: one value per picture, smoothed over pictures (a smoothing of so many frames is a
smoothing of so many pictures), and every row of a picture given that picture's value, so the
shape steps exactly where the picture does.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def picture_rows(shown: np.ndarray, repeat_frames: Iterable[int]) -> np.ndarray:
    """``(T,)`` per output row the row whose picture it shows.

    A row shows the picture of the row before when it shows the clip frame after the one before
    it and that frame repeats its picture; never two rows in a row (the render holds single
    repeats only, :class:`lipcore.render.cadence.CadenceTracker`).

    Args:
        shown: ``(T,)`` clip frame each output row shows.
        repeat_frames: Clip frames that show the same picture as the frame before them.

    Returns:
        ``(T,)`` int64 row indices (a row's own index where it shows a picture of its own).
    """
    shown = np.asarray(shown, np.int64).reshape(-1)
    rows = np.arange(len(shown))
    repeats = np.fromiter((int(f) for f in repeat_frames), np.int64)
    if len(shown) < 2 or len(repeats) == 0:
        return rows
    same = np.zeros(len(shown), bool)
    same[1:] = (np.diff(shown) == 1) & np.isin(shown[1:], repeats)
    for i in range(2, len(same)):  # a row after a held row is a picture of its own
        if same[i] and same[i - 1]:
            same[i] = False
    rows[same] -= 1
    return rows


def smooth_on_pictures(track: np.ndarray, picture_row: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a per-row track over pictures, each row given its picture's value.

    Each picture's value is the mean of its rows; the pictures are smoothed with ``sigma``
    (in pictures; edges held) and every row takes its picture's smoothed value. Without repeats
    this is plain smoothing over rows.

    Args:
        track: ``(T, ...)`` values per output row.
        picture_row: ``(T,)`` from :func:`picture_rows`.
        sigma: Gaussian sigma, pictures (0 = no smoothing).

    Returns:
        ``(T, ...)`` float64 smoothed track, constant over the rows of each picture.
    """
    x = np.asarray(track, np.float64)
    if len(x) == 0:
        return x.copy()
    firsts, group = picture_groups(picture_row)
    counts = np.bincount(group, minlength=len(firsts)).astype(np.float64)
    sums = np.add.reduceat(x, firsts, axis=0)
    means = sums / counts.reshape(-1, *([1] * (x.ndim - 1)))
    return gaussian_smooth(means, sigma)[group]


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 (edges held); unchanged for sigma 0 or under 3 rows."""
    x = np.asarray(x, np.float64)
    if sigma <= 0 or len(x) < 3:
        return x
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    flat = x.reshape(len(x), -1)
    padded = np.concatenate([np.repeat(flat[:1], r, 0), flat, np.repeat(flat[-1:], r, 0)])
    out = np.stack([np.convolve(padded[:, j], k, mode="valid") for j in range(flat.shape[1])], 1)
    return out.reshape(x.shape)


def per_picture_max(values: np.ndarray, picture_row: np.ndarray) -> np.ndarray:
    """``(T,)`` each row given the largest value over its picture's rows (a /b/ on a repeated
    picture shuts the lips on the picture it repeats)."""
    v = np.asarray(values, np.float64)
    if len(v) == 0:
        return v.copy()
    firsts, group = picture_groups(picture_row)
    return np.maximum.reduceat(v, firsts)[group]


def picture_groups(picture_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first row of each picture, each row's picture number)`` from ``picture_row``: what an
    engine that plans one value per picture indexes its plan with."""
    picture_row = np.asarray(picture_row, np.int64)
    firsts = np.nonzero(picture_row == np.arange(len(picture_row)))[0]
    return firsts, np.searchsorted(firsts, picture_row)


__all__ = [
    "gaussian_smooth",
    "per_picture_max",
    "picture_groups",
    "picture_rows",
    "smooth_on_pictures",
]
