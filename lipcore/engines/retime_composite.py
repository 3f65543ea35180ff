"""Putting a library lower face onto a target crop: landmark alignment, colour match, soft mask.

Both crops are already in the canonical aligned space, so only a small residual similarity warp
is needed. It is estimated from points that do not move when the mouth does (eye corners, nose
bridge and base, cheeks at nose height); the jaw and lips are deliberately left out, or an open
library mouth would be squeezed onto a closed target jaw. Where the plan blends two library
frames (a cut), they are first morphed onto one mouth shape (:func:`morph_together`, the dense
warp of :mod:`lipcore.face.warp`), so the blend never shows two mouths.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.face.landmarks import FACE_OVAL, LIPS_INNER, LIPS_OUTER

#: Points that stay put while speaking: eye corners, nose bridge/tip/base, cheeks at nose height.
STABLE_POINTS = (33, 133, 263, 362, 168, 6, 197, 195, 5, 4, 1, 98, 327, 2, 93, 323, 234, 454)


def residual_warp(src_landmarks: np.ndarray, dst_landmarks: np.ndarray) -> np.ndarray:
    """``(2, 3)`` similarity taking the library crop onto the target crop (stable points only)."""
    src = np.asarray(src_landmarks, np.float32)[list(STABLE_POINTS)]
    dst = np.asarray(dst_landmarks, np.float32)[list(STABLE_POINTS)]
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if m is None:  # degenerate points: keep the canonical alignment as it is
        m = np.float32([[1, 0, 0], [0, 1, 0]])
    return m.astype(np.float32)


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


def lower_face_mask(size: int, landmark_sets: list[np.ndarray], feather_px: float) -> np.ndarray:
    """Soft ``(S, S)`` float32 mask in [0, 1] over the mouth and chin of all landmark sets.

    The union matters: where the library jaw is lower than the target's (or the other way round)
    both chins must be covered, or a second chin outline would show. It is clipped to the union
    of the face ovals so the soft edge never drags library background or hair in.
    """
    region = _fill((size, size), [mouth_region_polygon(lm) for lm in landmark_sets])
    faces = np.zeros((size, size), np.uint8)
    for lm in landmark_sets:
        oval = np.round(np.asarray(lm, np.float32)[list(FACE_OVAL)]).astype(np.int32)
        cv2.fillPoly(faces, [oval], 255)
    hard = cv2.bitwise_and(region, faces)
    # Feather inward so the soft edge lies on the face, not outside it
    k = max(1, int(round(feather_px / 2)))
    hard = cv2.erode(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    sigma = max(feather_px / 2.0, 0.5)
    return cv2.GaussianBlur(hard.astype(np.float32) / 255.0, (0, 0), sigma)


def _stats(lab: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    px = lab[region]
    return px.mean(axis=0), np.maximum(px.std(axis=0), 1.0)


def match_colour(src_bgr: np.ndarray, dst_bgr: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Shift ``src_bgr`` so its LAB means inside ``region`` equal those of ``dst_bgr``.

    The lightness spread is matched too, within +-15 %; the chroma spread is left alone.

    Args:
        src_bgr: ``(S, S, 3)`` uint8 image to correct.
        dst_bgr: ``(S, S, 3)`` uint8 reference.
        region: ``(S, S)`` bool pixels to measure (skin around the mouth, not the mouth itself:
            teeth and the dark mouth interior would bias the statistics).

    Returns:
        ``(S, S, 3)`` uint8 corrected image.
    """
    if region.sum() < 50:
        return src_bgr
    src = cv2.cvtColor(src_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    dst = cv2.cvtColor(dst_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    mu_s, sd_s = _stats(src, region)
    mu_d, sd_d = _stats(dst, region)
    # Lightness: mean and (mildly) contrast. Chroma: mean only. Scaling the chroma spread of
    # the skin would also pull the lips toward the skin colour and wash them out
    gain = np.ones(3, np.float32)
    gain[0] = np.clip(sd_d[0] / sd_s[0], 0.85, 1.15)
    out = (src - mu_s) * gain + mu_d
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _lip_ring(size: int, landmarks: np.ndarray) -> np.ndarray:
    """``(S, S)`` bool pixels of the lips themselves (outer contour minus the opening)."""
    lm = np.asarray(landmarks, np.float32)
    outer = np.zeros((size, size), np.uint8)
    cv2.fillPoly(outer, [np.round(lm[list(LIPS_OUTER)]).astype(np.int32)], 255)
    inner = np.zeros((size, size), np.uint8)
    cv2.fillPoly(inner, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], 255)
    inner = cv2.dilate(inner, np.ones((3, 3), np.uint8))  # keep teeth edges out
    return (outer > 0) & (inner == 0)


def match_lip_colour(
    src_bgr: np.ndarray, src_landmarks: np.ndarray, dst_bgr: np.ndarray, dst_landmarks: np.ndarray
) -> np.ndarray:
    """Give the library lips the target's lip colour (LAB mean shift, soft-edged).

    Lip colour drifts over a clip with light and make-up; taken from frames far apart, a
    library of lips alternates pale and dark from one cut to the next. The target sequence is
    smooth, so borrowing its lip colour removes that flicker.
    """
    size = src_bgr.shape[0]
    src_lips, dst_lips = _lip_ring(size, src_landmarks), _lip_ring(size, dst_landmarks)
    return _shift_lip_colour(src_bgr, src_lips, dst_bgr, dst_lips, _lip_softness(src_lips))


def _lip_softness(src_lips: np.ndarray) -> np.ndarray:
    """The soft-edged weight of the lip colour shift around ``src_lips``."""
    return cv2.GaussianBlur(
        cv2.dilate(src_lips.astype(np.float32), np.ones((5, 5), np.uint8)), (0, 0), 2.0
    )


def _shift_lip_colour(
    src_bgr: np.ndarray,
    src_lips: np.ndarray,
    dst_bgr: np.ndarray,
    dst_lips: np.ndarray,
    soft: np.ndarray,
) -> np.ndarray:
    """:func:`match_lip_colour` on images (or the same window of them) with their lip rings."""
    if src_lips.sum() < 30 or dst_lips.sum() < 30:
        return src_bgr
    src = cv2.cvtColor(src_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    dst = cv2.cvtColor(dst_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    shift = dst[dst_lips].mean(axis=0) - src[src_lips].mean(axis=0)
    out = src + soft[..., None] * shift
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _window(size: int, masks: list[np.ndarray]) -> tuple[slice, slice] | None:
    """The smallest rectangle holding every non-zero pixel of ``masks``, or None."""
    boxes = [cv2.boundingRect((m > 0).astype(np.uint8)) for m in masks]
    boxes = [b for b in boxes if b[2] > 0 and b[3] > 0]
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return slice(y0, min(y1, size)), slice(x0, min(x1, size))


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
    from lipcore.engines.oneshot_render import close_crossed_lips, warp_mouth

    rows = list(MOUTH_POINTS)
    w = np.asarray(weights, np.float32)
    w = w / max(float(w.sum()), 1e-6)
    mean = close_crossed_lips(sum(wk * lm[rows] for wk, lm in zip(w, landmarks, strict=True)))
    out_imgs, out_lms = [], []
    for img, lm in zip(images, landmarks, strict=True):
        eye = float(np.linalg.norm(lm[263] - lm[33]))
        out_imgs.append(warp_mouth(img, lm, mean, eye))
        moved = np.asarray(lm, np.float32).copy()
        moved[rows] = mean
        out_lms.append(moved)
    return out_imgs, out_lms


def composite_lower_face(
    target_crop: np.ndarray,
    target_landmarks: np.ndarray,
    sources: list[tuple[np.ndarray, np.ndarray, float]],
    strength: float = 1.0,
    feather_px: float = 10.0,
) -> np.ndarray:
    """Return the target crop with the (blended) library lower faces composited in.

    Args:
        target_crop: ``(S, S, 3)`` uint8 BGR target.
        target_landmarks: ``(478, 2)`` target landmarks in crop pixels.
        sources: ``(crop, landmarks, weight)`` library frames to blend (weights sum to 1);
            several are morphed onto their mean mouth shape before blending.
        strength: Opacity of the new lower face (``options.mouth_strength`` clipped to [0, 1]).
        feather_px: Softness of the mask edge in crop pixels.

    Returns:
        ``(S, S, 3)`` uint8 BGR crop.
    """
    size = target_crop.shape[0]
    warped_imgs, warped_lms, weights = [], [], []
    for crop, lm, w in sources:
        m = residual_warp(lm, target_landmarks)
        warped_imgs.append(
            cv2.warpAffine(
                crop, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
        )
        warped_lms.append(warp_points(lm, m))
        weights.append(float(w))
    if len(warped_imgs) > 1:
        warped_imgs, warped_lms = morph_together(warped_imgs, warped_lms, weights)
    all_lms = [np.asarray(target_landmarks, np.float32), *warped_lms]
    mask = lower_face_mask(size, all_lms, feather_px)
    hard = mask > 0.5
    mouth = _fill((size, size), [lm[list(LIPS_OUTER)] for lm in all_lms])
    mouth = cv2.dilate(mouth, np.ones((7, 7), np.uint8)) > 0
    skin = hard & ~mouth
    target_lips = _lip_ring(size, target_landmarks)
    lips = [_lip_ring(size, lm) for lm in warped_lms]
    # Where the mask is 0 the result is the target's own pixel whatever the blend holds, and
    # every colour step is per pixel (its statistics come from the skin and the lips): working
    # in the window of the mask and the lips gives the same pixels for a fraction of the work.
    window = _window(size, [mask, target_lips, *lips])
    out = target_crop.copy()
    if window is None:
        return out
    target = target_crop[window]
    blend = np.zeros(target.shape, np.float32)
    for img, ring, w in zip(warped_imgs, lips, weights, strict=True):
        img = match_colour(img[window], target, skin[window])
        soft = _lip_softness(ring)[window]
        img = _shift_lip_colour(img, ring[window], target, target_lips[window], soft)
        blend += w * img.astype(np.float32)
    alpha = (mask[window] * float(np.clip(strength, 0.0, 1.0)))[..., None]
    mixed = target.astype(np.float32) * (1.0 - alpha) + blend * alpha
    out[window] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


__all__ = [
    "STABLE_POINTS",
    "composite_lower_face",
    "lower_face_mask",
    "match_colour",
    "match_lip_colour",
    "morph_together",
    "mouth_region_polygon",
    "residual_warp",
    "warp_points",
]
