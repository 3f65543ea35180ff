"""A window of an affine warp, bit-identical to the same pixels of the whole warp.

The renderer cuts 608-640 px face crops, but only the lower face of each one can change. Warping
only that window with ``cv2.warpAffine`` and a shifted matrix is not exact: OpenCV rounds each
pixel's source position to 1/32 px from two rounded terms (the row's start and the column's step,
both in 1/1024 px), and shifting the matrix changes that rounding, so a few pixels come out one
level off. :func:`warp_affine_window` instead computes the very fixed-point positions
``cv2.warpAffine`` computes for the window's pixels (the same inverse, the same rounding) and
resamples them with ``cv2.remap``, which is what ``cv2.warpAffine`` itself calls on those
positions; for uint8 images the result equals ``cv2.warpAffine(src, m, dsize)[y0:y1, x0:x1]``
exactly (a test checks it on random transforms, for every interpolation and border the renderer
uses; float images take another path inside OpenCV and are not covered).
"""

from __future__ import annotations

import cv2
import numpy as np

#: OpenCV's fixed-point precision of warp coordinates (``AB_BITS``) and of the interpolation
#: tables (``INTER_BITS``).
_AB_BITS = 10
_INTER_BITS = 5
_TAB = 1 << _INTER_BITS


def affine_inverse(m: np.ndarray) -> np.ndarray:
    """The destination -> source matrix, computed as ``cv2.warpAffine`` computes it.

    Args:
        m: ``(2, 3)`` source -> destination affine.

    Returns:
        ``(6,)`` float64 ``(a0, a1, a2, a3, a4, a5)``: a destination pixel ``(x, y)`` reads the
        source at ``(a0 x + a1 y + a2, a3 x + a4 y + a5)``.
    """
    a = np.asarray(m, np.float64).reshape(6).copy()
    d = a[0] * a[4] - a[1] * a[3]
    d = 1.0 / d if d != 0 else 0.0
    a11, a22 = a[4] * d, a[0] * d
    a[0] = a11
    a[1] *= -d
    a[3] *= -d
    a[4] = a22
    b1 = -a[0] * a[2] - a[1] * a[5]
    b2 = -a[3] * a[2] - a[4] * a[5]
    a[2], a[5] = b1, b2
    return a


def affine_window_maps(m: np.ndarray, window: tuple[int, int, int, int]) -> tuple[np.ndarray, ...]:
    """Fixed-point ``cv2.remap`` maps of ``cv2.warpAffine(·, m, ·)`` over ``window``.

    Args:
        m: ``(2, 3)`` source -> destination affine (as given to ``cv2.warpAffine``).
        window: ``(x0, y0, x1, y1)`` destination pixels.

    Returns:
        ``(xy, frac)``: ``(h, w, 2)`` int16 integer source positions and ``(h, w)`` uint16
        interpolation-table indices.
    """
    x0, y0, x1, y1 = (int(v) for v in window)
    a = affine_inverse(m)
    scale = float(1 << _AB_BITS)
    xs = np.arange(x0, x1, dtype=np.float64)
    ys = np.arange(y0, y1, dtype=np.float64)
    # Per column: rint(M0 * x * 1024); per row: rint((M1 * y + M2) * 1024) + rounding delta.
    half = (1 << _AB_BITS) // _TAB // 2
    ax = np.rint(a[0] * xs * scale).astype(np.int32)
    bx = np.rint(a[3] * xs * scale).astype(np.int32)
    ay = np.rint((a[1] * ys + a[2]) * scale).astype(np.int32) + half
    by = np.rint((a[4] * ys + a[5]) * scale).astype(np.int32) + half
    px = ay[:, None] + ax[None, :]
    px >>= _AB_BITS - _INTER_BITS
    py = by[:, None] + bx[None, :]
    py >>= _AB_BITS - _INTER_BITS
    frac = (py & (_TAB - 1)) << _INTER_BITS
    frac |= px & (_TAB - 1)
    px >>= _INTER_BITS
    py >>= _INTER_BITS
    xy = np.empty((y1 - y0, x1 - x0, 2), np.int16)
    xy[..., 0] = np.clip(px, -32768, 32767)
    xy[..., 1] = np.clip(py, -32768, 32767)
    return xy, frac.astype(np.uint16)


def warp_affine_window(
    src: np.ndarray,
    m: np.ndarray,
    window: tuple[int, int, int, int],
    flags: int = cv2.INTER_CUBIC,
    border: int = cv2.BORDER_REPLICATE,
    border_value: float = 0.0,
) -> np.ndarray:
    """``cv2.warpAffine(src, m, dsize, flags, border)[y0:y1, x0:x1]``, warping only the window.

    Args:
        src: The uint8 image to warp.
        m: ``(2, 3)`` source -> destination affine.
        window: ``(x0, y0, x1, y1)`` destination pixels to make.
        flags: ``cv2.INTER_LINEAR``, ``INTER_CUBIC`` or ``INTER_LANCZOS4``.
        border: The border mode.
        border_value: The constant of ``cv2.BORDER_CONSTANT``.

    Returns:
        ``(y1 - y0, x1 - x0, ...)`` warped pixels, same dtype as ``src``.
    """
    x0, y0, x1, y1 = (int(v) for v in window)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((max(y1 - y0, 0), max(x1 - x0, 0), *src.shape[2:]), src.dtype)
    xy, frac = affine_window_maps(m, window)
    return cv2.remap(src, xy, frac, flags, borderMode=border, borderValue=border_value)


def warp_affine_into(
    src: np.ndarray,
    m: np.ndarray,
    size: int,
    window: tuple[int, int, int, int] | None,
    fill: np.ndarray | None = None,
    flags: int = cv2.INTER_CUBIC,
    border: int = cv2.BORDER_REPLICATE,
) -> np.ndarray:
    """A ``size`` x ``size`` warp of ``src`` whose ``window`` alone is computed (exactly).

    Args:
        src: The image to warp.
        m: ``(2, 3)`` source -> destination affine.
        size: Side of the square output.
        window: ``(x0, y0, x1, y1)`` pixels to make; None = all of them (a plain warpAffine).
        fill: What the pixels outside the window hold (an image of the output's shape; zeros
            when None). They are not the warp's: only the window may be read.
        flags: Interpolation.
        border: Border mode.

    Returns:
        The output image.
    """
    if window is None:
        return cv2.warpAffine(src, m, (size, size), flags=flags, borderMode=border)
    x0, y0, x1, y1 = clip_window(window, size)
    shape = (size, size, *src.shape[2:])
    out = np.zeros(shape, src.dtype) if fill is None else np.array(fill, src.dtype, copy=True)
    out[y0:y1, x0:x1] = warp_affine_window(src, m, (x0, y0, x1, y1), flags, border)
    return out


#: Pixels per row of the position maps :func:`warp_affine_at` resamples.
_AT_ROW = 256


def warp_affine_at(
    src: np.ndarray,
    m: np.ndarray,
    size: int,
    window: tuple[int, int, int, int],
    where: np.ndarray,
) -> np.ndarray:
    """:func:`warp_affine_into` (cubic, replicated border) at the pixels ``where`` alone.

    Each pixel under ``where`` inside ``window`` is exactly the whole warp's (the same
    fixed-point positions, resampled one by one); every other pixel is zero. The compositor's
    colour match reads the original crop only on its skin ring and lips, a fraction of the
    window they lie in.

    Args:
        src: The uint8 BGR image to warp.
        m: ``(2, 3)`` source -> destination affine.
        size: Side of the square output.
        window: ``(x0, y0, x1, y1)`` the pixels may lie in.
        where: ``(size, size)`` bool, the pixels to make.

    Returns:
        The ``(size, size, 3)`` uint8 output.
    """
    out = np.zeros((size, size, 3), np.uint8)
    x0, y0, x1, y1 = clip_window(window, size)
    if x1 <= x0 or y1 <= y0:
        return out
    ys, xs = np.nonzero(where[y0:y1, x0:x1])
    n = len(ys)
    if n == 0:
        return out
    xy, frac = affine_window_maps(m, (x0, y0, x1, y1))
    # The picked positions in rows of _AT_ROW (the last repeated to fill the last row):
    # remap's cost per row is what a long list of single-pixel rows would pay for each pixel.
    rows = -(-n // _AT_ROW)
    take = np.minimum(np.arange(rows * _AT_ROW), n - 1)
    ys, xs = ys[take], xs[take]
    picked = cv2.remap(
        src,
        xy[ys, xs].reshape(rows, _AT_ROW, 2),
        frac[ys, xs].reshape(rows, _AT_ROW),
        cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    out[ys[:n] + y0, xs[:n] + x0] = picked.reshape(-1, 3)[:n]
    return out


def clip_window(window: tuple[int, int, int, int], size: int) -> tuple[int, int, int, int]:
    """``window`` clipped to a ``size`` x ``size`` image (may come out empty)."""
    x0, y0, x1, y1 = (int(v) for v in window)
    return max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)


def box_of(mask: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)`` bounding box of ``mask``'s non-zero pixels grown by ``pad`` (clipped
    to the image), or None when the mask is empty."""
    x, y, w, h = cv2.boundingRect((np.asarray(mask) > 0).astype(np.uint8))
    if not (w and h):
        return None
    hh, ww = mask.shape[:2]
    return max(x - pad, 0), max(y - pad, 0), min(x + w + pad, ww), min(y + h + pad, hh)


__all__ = [
    "affine_inverse",
    "affine_window_maps",
    "box_of",
    "clip_window",
    "warp_affine_at",
    "warp_affine_into",
    "warp_affine_window",
]
