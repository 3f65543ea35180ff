"""Dense landmark-driven image warp: piecewise-affine over a triangulation of control points.

``warp_image(image, src, dst)`` returns an image in which the feature found at ``src[i]`` in the
input lies at ``dst[i]``. The plane is cut into triangles on the destination points (Delaunay);
inside each triangle the output pixel is read from the affinely corresponding input position.
Pixels outside the triangulation are copied unchanged, so fixed anchor points around a region
(see :func:`ring_anchors`) confine the deformation to it. Everything is vectorised: the triangle
of each pixel comes from rasterising the triangle ids (``cv2.fillConvexPoly``, sub-pixel
vertices), its source position from that triangle's affine map, and the resampling from
``cv2.remap``.

Used by the one-shot engine (deform the actor's own lower face to a predicted mouth) and by the
retime engine's morphing transitions (warp two library mouths towards each other).
"""

from __future__ import annotations

import cv2
import numpy as np


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles ``(T, 3)`` (point indices) of ``(P, 2)`` points; empty if degenerate."""
    from scipy.spatial import Delaunay, QhullError

    try:
        return Delaunay(np.asarray(points, np.float64)).simplices.astype(np.int64)
    except QhullError:  # all points on a line: nothing to triangulate
        return np.zeros((0, 3), np.int64)


def warp_maps(
    src_points: np.ndarray,
    dst_points: np.ndarray,
    shape: tuple[int, int],
    triangles: np.ndarray | None = None,
    origin: tuple[int, int] = (0, 0),
    crop: tuple[int, int, int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel sampling maps ``(map_x, map_y)`` for :func:`cv2.remap` (float32, ``shape``).

    Args:
        src_points: ``(P, 2)`` positions of the control points in the input image (x, y).
        dst_points: ``(P, 2)`` where those points must land in the output.
        shape: ``(height, width)`` of the output.
        triangles: ``(T, 3)`` point indices to use instead of the Delaunay triangulation of
            ``dst_points``; a fixed topology keeps triangles from crossing a contour (the lips)
            when points on both sides of it meet.
        origin: ``(x0, y0)`` of the output window in the image: the maps cover pixels
            ``x0..x0+width``, ``y0..y0+height`` (positions stay in image coordinates).
        crop: ``(x0, y0, x1, y1)`` image pixels inside that window: only their maps are made
            and returned. The triangles are still rasterised over the whole window, so each
            pixel gets the triangle it gets there (a triangle clipped by a smaller canvas can
            come out a pixel different along its edges).

    Returns:
        Maps giving, for every output pixel, the input position to read; identity outside the
        triangulated hull of ``dst_points``.
    """
    src = np.asarray(src_points, np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, np.float64).reshape(-1, 2)
    if src.shape != dst.shape:
        raise ValueError(f"src and dst points differ in shape: {src.shape} vs {dst.shape}")
    h, w = int(shape[0]), int(shape[1])
    ox, oy = int(origin[0]), int(origin[1])
    cx0, cy0, cx1, cy1 = (ox, oy, ox + w, oy + h) if crop is None else (int(v) for v in crop)
    map_x = np.empty((cy1 - cy0, cx1 - cx0), np.float32)
    map_y = np.empty((cy1 - cy0, cx1 - cx0), np.float32)
    map_x[:] = np.arange(cx0, cx1, dtype=np.float32)[None, :]
    map_y[:] = np.arange(cy0, cy1, dtype=np.float32)[:, None]
    if len(dst) < 3 or np.allclose(src, dst):
        return map_x, map_y
    simplices = triangulate(dst) if triangles is None else np.asarray(triangles, np.int64)
    if len(simplices) == 0:
        return map_x, map_y
    # Triangle of every output pixel: rasterise the triangle ids (sub-pixel vertices)
    label = np.full((h, w), -1, np.int32)
    for k, corners in enumerate(np.round((dst[simplices] - [ox, oy]) * 16).astype(np.int32)):
        cv2.fillConvexPoly(label, corners, int(k), lineType=cv2.LINE_8, shift=4)
    label = label[cy0 - oy : cy1 - oy, cx0 - ox : cx1 - ox]
    h, w, ox, oy = cy1 - cy0, cx1 - cx0, cx0, cy0
    flat = np.ascontiguousarray(label).ravel()
    at = np.flatnonzero(flat >= 0)
    if at.size == 0:
        return map_x, map_y
    # Affine map of each triangle, destination -> source: [x y 1] @ A.T
    d = np.concatenate([dst[simplices], np.ones((len(simplices), 3, 1))], axis=2)  # (T, 3, 3)
    s = src[simplices]  # (T, 3, 2)
    ok = np.abs(np.linalg.det(d)) > 1e-9
    affine = np.zeros((len(simplices), 3, 2))
    affine[ok] = np.linalg.solve(d[ok], s[ok])
    affine[~ok] = [[1, 0], [0, 1], [0, 0]]
    ids = flat[at]
    px = (at % w + ox).astype(np.float64)
    py = (at // w + oy).astype(np.float64)
    for out, c in ((map_x, affine[:, :, 0]), (map_y, affine[:, :, 1])):
        # x * a + y * b + c in float64, then float32 (the terms summed in this order)
        out.ravel()[at] = (px * c[ids, 0] + py * c[ids, 1] + c[ids, 2]).astype(np.float32)
    return map_x, map_y


def warp_window_maps(
    src_points: np.ndarray,
    dst_points: np.ndarray,
    shape: tuple[int, int],
    triangles: np.ndarray | None = None,
    window: tuple[int, int, int, int] | None = None,
) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray] | None:
    """The box :func:`warp_image` changes (within ``window`` when given) and its maps.

    Args:
        src_points: ``(P, 2)`` control points in the input.
        dst_points: ``(P, 2)`` their positions in the result.
        shape: ``(height, width)`` of the image.
        triangles: Fixed triangle topology (see :func:`warp_maps`).
        window: ``(x0, y0, x1, y1)``: only these pixels are wanted.

    Returns:
        ``((x0, y0, x1, y1), map_x, map_y)``, or None when no wanted pixel moves.
    """
    src = np.asarray(src_points, np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, np.float64).reshape(-1, 2)
    simplices = _simplices(dst, triangles)
    boxes = moving_boxes(src, dst, shape, simplices)
    if boxes is None:
        return None
    bx0, by0, bx1, by1 = x0, y0, x1, y1 = boxes[0]
    if window is not None:
        x0, y0 = max(x0, int(window[0])), max(y0, int(window[1]))
        x1, y1 = min(x1, int(window[2])), min(y1, int(window[3]))
        if x1 <= x0 or y1 <= y0:
            return None
    map_x, map_y = warp_maps(
        src, dst, (by1 - by0, bx1 - bx0), simplices, origin=(bx0, by0), crop=(x0, y0, x1, y1)
    )
    return (x0, y0, x1, y1), map_x, map_y


def warp_image(
    image: np.ndarray,
    src_points: np.ndarray,
    dst_points: np.ndarray,
    interpolation: int = cv2.INTER_LINEAR,
    triangles: np.ndarray | None = None,
    window: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Deform ``image`` so the features at ``src_points`` land at ``dst_points``.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` image (any dtype cv2.remap takes).
        src_points: ``(P, 2)`` control points in ``image`` (x, y pixels).
        dst_points: ``(P, 2)`` their positions in the result.
        interpolation: cv2 interpolation flag.
        triangles: Fixed triangle topology (see :func:`warp_maps`).
        window: ``(x0, y0, x1, y1)``: warp only these pixels (the others are copied).

    Returns:
        The warped image, same shape and dtype; unchanged outside the destination hull.
    """
    # Only triangles with a moving corner move pixels (the others map each pixel onto itself,
    # and so does the outside of the hull): maps and resampling are made in their window.
    src = np.asarray(src_points, np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, np.float64).reshape(-1, 2)
    out = image.copy()
    if src.shape != dst.shape:
        raise ValueError(f"src and dst points differ in shape: {src.shape} vs {dst.shape}")
    made = warp_window_maps(src, dst, image.shape[:2], triangles, window)
    if made is None:
        return out
    (x0, y0, x1, y1), map_x, map_y = made
    out[y0:y1, x0:x1] = cv2.remap(
        image, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE
    )
    return out


def _simplices(dst: np.ndarray, triangles: np.ndarray | None) -> np.ndarray:
    if len(dst) < 3:
        return np.zeros((0, 3), np.int64)
    return triangulate(dst) if triangles is None else np.asarray(triangles, np.int64)


#: Pixels beyond a moving triangle's source corners that :func:`warp_image` may read: the
#: rasterised triangle's sub-pixel overhang and the widest kernel (Lanczos, 4 taps a side).
READ_MARGIN_PX = 8


def moving_boxes(
    src_points: np.ndarray,
    dst_points: np.ndarray,
    shape: tuple[int, int],
    triangles: np.ndarray | None = None,
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None:
    """Where :func:`warp_image` writes and where it reads, or None when nothing moves.

    Args:
        src_points: ``(P, 2)`` control points in the input.
        dst_points: ``(P, 2)`` their positions in the result.
        shape: ``(height, width)`` of the image.
        triangles: Fixed triangle topology (see :func:`warp_maps`).

    Returns:
        ``(written, read)`` boxes ``(x0, y0, x1, y1)`` clipped to the image: the window whose
        pixels the warp changes (every other pixel is copied) and a window holding every input
        pixel it samples there (the moving triangles' source corners, the written window itself
        and :data:`READ_MARGIN_PX`).
    """
    h, w = int(shape[0]), int(shape[1])
    src = np.asarray(src_points, np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, np.float64).reshape(-1, 2)
    simplices = _simplices(dst, triangles)
    moving = np.any(src != dst, axis=1)
    if len(simplices) == 0 or not moving[simplices].any():
        return None
    used = np.unique(simplices[moving[simplices].any(axis=1)])
    corners = dst[used]
    x0 = max(int(np.floor(corners[:, 0].min())) - 2, 0)
    y0 = max(int(np.floor(corners[:, 1].min())) - 2, 0)
    x1 = min(int(np.ceil(corners[:, 0].max())) + 3, w)
    y1 = min(int(np.ceil(corners[:, 1].max())) + 3, h)
    if x1 <= x0 or y1 <= y0:
        return None
    both = np.vstack([src[used], [[x0, y0], [x1, y1]]])
    m = READ_MARGIN_PX
    read = (
        max(int(np.floor(both[:, 0].min())) - m, 0),
        max(int(np.floor(both[:, 1].min())) - m, 0),
        min(int(np.ceil(both[:, 0].max())) + m + 1, w),
        min(int(np.ceil(both[:, 1].max())) + m + 1, h),
    )
    return (x0, y0, x1, y1), read


def ring_anchors(
    points: np.ndarray, scale: float = 1.35, count: int = 16, size: int | None = None
) -> np.ndarray:
    """Fixed anchor points on an ellipse around ``points`` (scaled about their centre).

    Put into both the source and the destination set, they pin the warp to the identity at the
    ring, so the deformation fades out between the moving points and the ring.

    Args:
        points: ``(P, 2)`` points the ring must enclose.
        scale: Ring radius as a multiple of the points' half extent on each axis.
        count: Anchors on the ring.
        size: Clip the anchors to ``[0, size - 1]`` when given (a square crop).

    Returns:
        ``(count, 2)`` float32 anchors.
    """
    p = np.asarray(points, np.float64).reshape(-1, 2)
    centre = 0.5 * (p.min(axis=0) + p.max(axis=0))
    half = np.maximum(0.5 * (p.max(axis=0) - p.min(axis=0)), 1.0) * scale
    ang = np.linspace(0, 2 * np.pi, count, endpoint=False)
    ring = centre + np.stack([np.cos(ang) * half[0], np.sin(ang) * half[1]], axis=1)
    if size is not None:
        ring = np.clip(ring, 0, size - 1)
    return ring.astype(np.float32)


__all__ = [
    "READ_MARGIN_PX",
    "moving_boxes",
    "ring_anchors",
    "triangulate",
    "warp_image",
    "warp_maps",
    "warp_window_maps",
]
