"""Pasting a generated face crop back into the frame: feathered lower-face mask, colour match.

Outside the mask the frame keeps its original pixels exactly; inside, the generated lower face
is warped back with the inverse crop transform and blended with a soft edge, so no box edge or
seam shows. The mask follows the target's own (smoothed) landmarks, so it does not flicker.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.face.landmarks import lower_face_polygon


def lower_face_mask(landmarks_crop: np.ndarray, size: int, feather_px: int) -> np.ndarray:
    """Soft ``(size, size)`` float32 mask of the region below the nose, in crop space.

    Args:
        landmarks_crop: ``(478, 2)`` landmarks in crop pixels.
        size: Crop side in pixels.
        feather_px: Width of the soft edge, in crop pixels; the edge fades inward so the
            mask is 0 at the polygon's border and the seam sits inside the replaced area.

    Returns:
        Mask in [0, 1].
    """
    poly = np.round(lower_face_polygon(landmarks_crop)).astype(np.int32)
    hard = np.zeros((size, size), np.uint8)
    cv2.fillPoly(hard, [poly], 255)
    if feather_px <= 0:
        return hard.astype(np.float32) / 255.0
    # Distance to the border inside the polygon gives an inward ramp, then a light blur rounds it.
    dist = cv2.distanceTransform(hard, cv2.DIST_L2, 5)
    soft = np.clip(dist / float(feather_px), 0.0, 1.0)
    k = max(3, int(feather_px) | 1)
    return cv2.GaussianBlur(soft.astype(np.float32), (k, k), feather_px / 3.0)


def skin_ring(mask: np.ndarray) -> np.ndarray:
    """Boolean region of the mask's soft edge: cheeks and jaw skin, not the mouth itself.

    Colour statistics are compared there, because the mouth's own pixels (teeth, a dark open
    mouth) legitimately differ between the original and the new lower face.
    """
    return (mask > 0.05) & (mask < 0.95)


def match_colour(src: np.ndarray, ref: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Shift ``src``'s colour statistics (LAB mean and std) in ``region`` to ``ref``'s.

    Args:
        src: ``(H, W, 3)`` uint8 BGR generated crop.
        ref: ``(H, W, 3)`` uint8 BGR original crop.
        region: ``(H, W)`` bool pixels to compare (e.g. :func:`skin_ring`).

    Returns:
        The colour-corrected ``src`` (uint8 BGR); the correction applies to the whole crop.
    """
    w = region
    if w.sum() < 16:
        return src
    s = cv2.cvtColor(src, cv2.COLOR_BGR2LAB).astype(np.float32)
    r = cv2.cvtColor(ref, cv2.COLOR_BGR2LAB).astype(np.float32)
    s_mu, s_sd = s[w].mean(0), s[w].std(0) + 1e-3
    r_mu, r_sd = r[w].mean(0), r[w].std(0) + 1e-3
    # Limit the gain so a generated crop with little texture is not blown up into noise.
    gain = np.clip(r_sd / s_sd, 0.5, 2.0)
    out = (s - s_mu) * gain + r_mu
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def paste_crop(
    frame: np.ndarray,
    crop: np.ndarray,
    mask: np.ndarray,
    m_frame_to_crop: np.ndarray,
) -> np.ndarray:
    """Blend ``crop`` into ``frame`` through the inverse of ``m_frame_to_crop``, by ``mask``.

    Only the bounding box of the warped mask is touched, so outside it the frame is returned
    bit-exact.

    Args:
        frame: ``(H, W, 3)`` uint8 BGR frame (not modified).
        crop: ``(S, S, 3)`` uint8 BGR generated crop.
        mask: ``(S, S)`` float32 blend weights in crop space.
        m_frame_to_crop: ``(2, 3)`` transform used to cut the crop.

    Returns:
        A new frame.
    """
    patch = paste_crop_roi(frame, crop, mask, m_frame_to_crop)
    return frame.copy() if patch is None else apply_patch(frame, patch)


def apply_patch(
    frame: np.ndarray, patch: tuple[tuple[int, int, int, int], np.ndarray] | None
) -> np.ndarray:
    """``frame`` with a patch from :func:`paste_crop_roi` written in (a copy; None = as is).

    Args:
        frame: ``(H, W, 3)`` uint8 BGR frame (not modified).
        patch: ``((x0, y0, x1, y1), pixels)`` or None for an unchanged frame.

    Returns:
        The patched copy, or ``frame`` itself when there is no patch.
    """
    if patch is None:
        return frame
    (x0, y0, x1, y1), pixels = patch
    out = frame.copy()
    out[y0:y1, x0:x1] = pixels
    return out


def paste_crop_roi(
    frame: np.ndarray,
    crop: np.ndarray,
    mask: np.ndarray,
    m_frame_to_crop: np.ndarray,
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The pixels :func:`paste_crop` changes: ``((x0, y0, x1, y1), roi)``, or None.

    Works on the crop's bounding box only (no copy of the whole frame), which is also what a
    render chunk stores.

    Args:
        frame: ``(H, W, 3)`` uint8 BGR frame (not modified).
        crop: ``(S, S, 3)`` uint8 BGR generated crop.
        mask: ``(S, S)`` float32 blend weights in crop space.
        m_frame_to_crop: ``(2, 3)`` transform used to cut the crop.

    Returns:
        The rectangle in frame pixels and its new ``(y1 - y0, x1 - x0, 3)`` uint8 content, or
        None when the crop lies outside the frame.
    """
    h, w = frame.shape[:2]
    # Only where the mask is non-zero can a pixel change: its box in crop space (plus a pixel
    # of margin for the interpolation), mapped to the frame, is the region to work on.
    mx, my, mw, mh = cv2.boundingRect((mask > 0).astype(np.uint8))
    if mw == 0 or mh == 0:
        return None
    corners = np.array(
        [
            [mx - 1, my - 1],
            [mx + mw + 1, my - 1],
            [mx - 1, my + mh + 1],
            [mx + mw + 1, my + mh + 1],
        ],
        np.float64,
    )
    inv = cv2.invertAffineTransform(np.asarray(m_frame_to_crop, np.float64))
    pts = corners @ inv[:, :2].T + inv[:, 2]
    x0, y0 = np.floor(pts.min(0)).astype(int) - 1
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    # Warp into the region of interest only: shift the inverse transform by the ROI origin.
    inv_roi = inv.copy()
    inv_roi[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(
        crop, inv_roi, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    alpha = cv2.warpAffine(mask, inv_roi, size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    src = frame[y0:y1, x0:x1]
    # (1 - a) * src + a * new, rounded; where a is 0 this is exactly src (no rounding drift).
    res = cv2.blendLinear(src, warped, 1.0 - alpha, alpha)
    return (int(x0), int(y0), int(x1), int(y1)), res
