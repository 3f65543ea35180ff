"""Bringing a library lower face onto a target crop: landmark alignment, morph, region.

The engine only makes the crop and says which region it replaced (the union of the target's and
the library's mouth and chin); the pipeline's one compositor (:mod:`lipcore.render.blend`)
feathers that region, matches skin and lip colour and pastes.

Both crops are already in the canonical aligned space, so only a small residual similarity warp
is needed. It is estimated from points that do not move when the mouth does (eye corners, nose
bridge and base, cheeks at nose height); the jaw and lips are deliberately left out, or an open
library mouth would be squeezed onto a closed target jaw. Where the plan blends two library
frames (a cut), they are first morphed onto one mouth shape (:func:`morph_together`, the dense
warp of :mod:`lipcore.face.warp`), so the blend never shows two mouths; in the engine the
alignment and the morph are composed into one resampling of each library crop.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.face.landmarks import FACE_OVAL

#: Points that stay put while speaking: eye corners, nose bridge/tip/base, cheeks at nose height.
STABLE_POINTS = (33, 133, 263, 362, 168, 6, 197, 195, 5, 4, 1, 98, 327, 2, 93, 323, 234, 454)


def residual_warp(src_landmarks: np.ndarray, dst_landmarks: np.ndarray) -> np.ndarray:
    """``(2, 3)`` similarity taking the library crop onto the target crop (stable points only).

    A least-squares fit over all the stable points: a robust fit (LMEDS) keeps a different
    subset of them from one frame to the next, and the pasted mouth then jitters by a pixel or
    two between frames that should show it still.
    """
    from lipcore.render.align import umeyama

    src = np.asarray(src_landmarks, np.float64)[list(STABLE_POINTS)]
    dst = np.asarray(dst_landmarks, np.float64)[list(STABLE_POINTS)]
    if not (np.isfinite(src).all() and np.isfinite(dst).all()) or np.ptp(src, axis=0).min() < 1:
        return np.float32([[1, 0, 0], [0, 1, 0]])  # degenerate points: keep the alignment
    return umeyama(src, dst).astype(np.float32)


def warp_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine to ``(P, 2)`` points."""
    return (np.asarray(points, np.float32) @ m[:, :2].T + m[:, 2]).astype(np.float32)


def _fill(shape: tuple[int, int], polys: list[np.ndarray]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for p in polys:
        hull = cv2.convexHull(np.round(p).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 255)
    return mask


#: Chin part of the face oval (jaw angle to jaw angle through the chin).
_CHIN_ARC = (150, 149, 176, 148, 152, 377, 400, 378, 379)


def mouth_region_polygon(landmarks: np.ndarray) -> np.ndarray:
    """Points whose hull is the region re-timed: mouth, philtrum's lower half, chin.

    The nose, the nostrils and the cheeks' outer edges stay the target's own: they barely move
    while speaking, and a library frame with a slightly other head turn shows there at once
    (doubled nostrils, hair or background pulled over the cheek).
    """
    lm = np.asarray(landmarks, np.float32)
    right, left = lm[61], lm[291]
    width = left - right
    top = 0.5 * (lm[2] + lm[0])
    top_r = 0.5 * (lm[98] + right) - 0.15 * width
    top_l = 0.5 * (lm[327] + left) + 0.15 * width
    side_r = right - 0.35 * width
    side_l = left + 0.35 * width
    chin = lm[list(_CHIN_ARC)]
    return np.concatenate([np.stack([top_r, top, top_l, side_l, side_r]), chin], axis=0)


def replaced_region(size: int, landmark_sets: list[np.ndarray]) -> np.ndarray:
    """Hard ``(S, S)`` bool region over the mouth and chin of all landmark sets.

    The union matters: where the library jaw is lower than the target's (or the other way round)
    both chins must be covered, or a second chin outline would show. It is clipped to the union
    of the face ovals so the pipeline's inward feather never drags library background or hair in.
    """
    region = _fill((size, size), [mouth_region_polygon(lm) for lm in landmark_sets])
    faces = np.zeros((size, size), np.uint8)
    for lm in landmark_sets:
        oval = np.round(np.asarray(lm, np.float32)[list(FACE_OVAL)]).astype(np.int32)
        cv2.fillPoly(faces, [oval], 255)
    return cv2.bitwise_and(region, faces) > 0


def morph_shape(landmarks: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """The mean mouth (:data:`MOUTH_POINTS` rows) the crops of a morph are warped onto."""
    from lipcore.engines.mouth_shape import MOUTH_POINTS
    from lipcore.engines.oneshot_render import close_crossed_lips

    rows = list(MOUTH_POINTS)
    w = np.asarray(weights, np.float32)
    w = w / max(float(w.sum()), 1e-6)
    return close_crossed_lips(sum(wk * lm[rows] for wk, lm in zip(w, landmarks, strict=True)))


def _eye_px(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[263] - lm[33]))


def morph_together(
    images: list[np.ndarray], landmarks: list[np.ndarray], weights: list[float]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Warp every image's mouth and chin onto their weighted mean shape (a morph, not a fade).

    Blending two library frames as they are shows two mouths at once (the teeth of one, the lips
    of the other). Deformed to one in-between shape along the landmark correspondence first,
    their blend is a single mouth half way from one to the other.

    Args:
        images: ``(S, S, 3)`` uint8 crops, already on the target (residual warp applied).
        landmarks: Their ``(478, 2)`` landmarks.
        weights: Blend weights (summing to 1).

    Returns:
        The warped images and their landmarks (mouth points moved to the mean shape).
    """
    from lipcore.engines.mouth_shape import MOUTH_POINTS
    from lipcore.engines.oneshot_render import warp_mouth

    mean = morph_shape(landmarks, weights)
    out_imgs, out_lms = [], []
    for img, lm in zip(images, landmarks, strict=True):
        out_imgs.append(warp_mouth(img, lm, mean, _eye_px(lm)))
        moved = np.asarray(lm, np.float32).copy()
        moved[list(MOUTH_POINTS)] = mean
        out_lms.append(moved)
    return out_imgs, out_lms


#: Blur (sigma in pixels of a 256 px crop) separating a face's shading from its fine detail.
_DETAIL_SIGMA_256 = 1.5


def _detail_sigma(size: int) -> float:
    return _DETAIL_SIGMA_256 * size / 256.0


def _detail_reach(size: int) -> int:
    """Pixels the detail blur reads on each side (OpenCV's float kernel: 4 sigma, rounded)."""
    return int(round(4 * _detail_sigma(size))) + 1


def _detail_preserving_blend(
    images: list[np.ndarray], weights: list[float], size: int | None = None
) -> np.ndarray:
    """Weighted blend of morphed crops that keeps the fine detail's contrast.

    A plain average of two textures halves the variance of their (uncorrelated) fine detail, so
    every cross-faded frame looked soft next to the frames around it (A01: 0.63 of the
    original's Laplacian variance at fades, 0.88 elsewhere). The shading is averaged as it is;
    the detail is averaged, then scaled by ``1 / sqrt(sum w^2)``, which restores its spread.
    ``size`` is the side of the whole crop when the images are a window of it (it sets the blur).
    """
    w = np.asarray(weights, np.float32)
    w = w / max(float(w.sum()), 1e-6)
    sigma = _detail_sigma(images[0].shape[0] if size is None else size)
    # The blur is linear, so the blend of the shadings is the shading of the blend: with F the
    # weighted mean, low = blur(F) and detail = F - blur(F), and the result is
    # gain * F + (1 - gain) * blur(F), one blur instead of one per image (equal up to float
    # rounding: a level off on about 1e-5 of the pixels).
    mean = images[0].astype(np.float32) * w[0]
    for img, wk in zip(images[1:], w[1:], strict=True):
        mean += img.astype(np.float32) * wk
    smooth = cv2.GaussianBlur(mean, (0, 0), sigma)
    gain = 1.0 / max(float(np.sqrt((w * w).sum())), 1e-6)
    return cv2.addWeighted(mean, gain, smooth, 1.0 - gain, 0.0, dtype=cv2.CV_8U)


def _grow(box: tuple[int, int, int, int], by: int, size: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return max(x0 - by, 0), max(y0 - by, 0), min(x1 + by, size), min(y1 + by, size)


Box = tuple[int, int, int, int]


#: Resampling of a morphed library face: the residual alignment and the morph's warp composed
#: into one position per pixel, read once from the library crop. (Before, the crop was aligned
#: with a cubic warp and the aligned crop then morphed with Lanczos: two resamplings in a row,
#: the second 3.3x the cost of a cubic one.)
MORPH_INTERPOLATION = cv2.INTER_CUBIC


def _outside(window: Box, box: Box) -> list[Box]:
    """``window`` less ``box`` (which lies inside it), as up to four non-empty rectangles."""
    x0, y0, x1, y1 = window
    bx0, by0, bx1, by1 = box
    parts = [(x0, y0, x1, by0), (x0, by1, x1, y1), (x0, by0, bx0, by1), (bx1, by0, x1, by1)]
    return [p for p in parts if p[2] > p[0] and p[3] > p[1]]


def _morphed_window(crop: np.ndarray, m: np.ndarray, window: Box, maps) -> np.ndarray:
    """Library ``crop`` aligned by ``m`` and morphed by ``maps``: the ``window``'s pixels.

    Where the morph moves pixels (the maps' box, inside ``window``) each one is read straight
    from the library crop, at the morph's position taken back through the alignment (one cubic
    resampling); the rest of the window is the exact cubic alignment of
    :func:`~lipcore.render.window_warp.warp_affine_window`.
    """
    from lipcore.render.window_warp import affine_inverse, warp_affine_window

    x0, y0, x1, y1 = window
    face = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
    rest = [window]
    if maps is not None:
        box, map_x, map_y = maps
        a = affine_inverse(m).astype(np.float32)  # target crop -> library crop
        src_x = a[0] * map_x + a[1] * map_y + a[2]
        src_y = a[3] * map_x + a[4] * map_y + a[5]
        bx0, by0, bx1, by1 = box
        face[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0] = cv2.remap(
            crop, src_x, src_y, MORPH_INTERPOLATION, borderMode=cv2.BORDER_REPLICATE
        )
        rest = _outside(window, box)
    for px0, py0, px1, py1 in rest:
        face[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0] = warp_affine_window(
            crop, m, (px0, py0, px1, py1), cv2.INTER_CUBIC
        )
    return face


def library_lower_face(
    target_landmarks: np.ndarray,
    sources: list[tuple[np.ndarray, np.ndarray, float]],
    size: int,
    reach_px: int | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (blended) library lower face on the target's crop, with its region and landmarks.

    Args:
        target_landmarks: ``(478, 2)`` target landmarks in crop pixels.
        sources: ``(crop, landmarks, weight)`` library frames to blend (weights sum to 1);
            several are morphed onto their mean mouth shape before blending.
        size: Crop side in pixels.
        reach_px: How far beyond the region (and the mouths) the crop's pixels are read
            (:attr:`lipcore.engines.base.CropBatch.reach_px`): only that window is warped,
            morphed and blended, exactly as the whole crop would be there; the pixels outside
            it are zero. None = the whole crop.
        out: A zeroed ``(S, S, 3)`` uint8 array to make the crop in (only the window is
            written), or None for a new one.

    Returns:
        ``(crop, region, landmarks)``: ``(S, S, 3)`` uint8 BGR library face residual-warped
        onto the target, the ``(S, S)`` bool region it replaces, and its ``(478, 2)`` landmarks.
    """
    from lipcore.engines.mouth_shape import MOUTH_POINTS
    from lipcore.engines.oneshot_render import mouth_warp_points
    from lipcore.face.warp import warp_window_maps
    from lipcore.render.window_warp import box_of, warp_affine_window

    target = np.asarray(target_landmarks, np.float32)
    mats = [residual_warp(lm, target) for _, lm, _ in sources]
    aligned = [warp_points(lm, m) for (_, lm, _), m in zip(sources, mats, strict=True)]
    weights = [float(w) for _, _, w in sources]
    morph = len(sources) > 1
    if morph:
        mean = morph_shape(aligned, weights)
        warps = [mouth_warp_points(lm, mean, _eye_px(lm), size) for lm in aligned]
        moved = []
        for lm in aligned:
            lm = lm.copy()
            lm[list(MOUTH_POINTS)] = mean
            moved.append(lm)
    else:
        moved = aligned
    region = replaced_region(size, [target, *moved])
    # The window whose pixels are read (region, mouths, the reach), then what making it needs:
    # the detail blur's reach around it (the morph reads the library crops themselves).
    valid = write = None
    if reach_px is not None:
        mouths = np.vstack([lm[list(MOUTH_POINTS)] for lm in [target, *aligned, *moved]])
        pts = np.zeros((size, size), np.uint8)
        corners = np.clip(np.round(mouths), 0, size - 1).astype(np.int64)
        pts[corners[:, 1], corners[:, 0]] = 1
        valid = box_of(region | (pts > 0), int(reach_px) + 1)
        if valid is None:
            valid = (0, 0, 1, 1)
        write = _grow(valid, _detail_reach(size) + 1, size) if morph else valid
    face = np.zeros((size, size, 3), np.uint8) if out is None else out
    window = (0, 0, size, size) if write is None else write
    x0, y0, x1, y1 = window
    if morph:
        faces = []
        for (crop, _, _), m, (src, dst, tri) in zip(sources, mats, warps, strict=True):
            maps = warp_window_maps(src, dst, (size, size), tri, window)
            faces.append(_morphed_window(np.asarray(crop), m, window, maps))
        face[y0:y1, x0:x1] = _detail_preserving_blend(faces, weights, size)
    else:
        # Cubic: at the face's native resolution a linear warp visibly softens the lips
        face[y0:y1, x0:x1] = warp_affine_window(
            np.asarray(sources[0][0]), mats[0], window, cv2.INTER_CUBIC
        )
    lms_out = moved
    w = np.asarray(weights, np.float32) / max(sum(weights), 1e-6)
    lms = sum(wk * lm for wk, lm in zip(w, lms_out, strict=True)).astype(np.float32)
    return face, region, lms


__all__ = [
    "STABLE_POINTS",
    "library_lower_face",
    "morph_shape",
    "morph_together",
    "mouth_region_polygon",
    "replaced_region",
    "residual_warp",
    "warp_points",
]
