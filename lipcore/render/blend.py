"""The one compositor: mask, colour match and paste of a generated face crop into the frame.

Engines only make crops (and say which region they replaced, :class:`~lipcore.engines.base.
GeneratedCrops`); everything that decides how new pixels meet old ones lives here, used by the
render pipeline:

- the mask: the engine's hard region, or the target's lower-face polygon, feathered inward so the
  seam sits inside the replaced area (:func:`soft_mask`);
- the colour: the generated skin's LAB statistics moved to the original's on the mask's soft edge
  (:func:`match_colour`), and a mouth taken from another picture given the target's lip colour
  (:func:`match_lip_colour`);
- the paste: the crop warped back with the inverse crop transform into the frame's pixels under
  the mask only (:func:`paste_crop_roi`), at the crop's own resolution; outside the mask the frame
  keeps its original pixels exactly.

The mask follows the target's own (smoothed) landmarks, so it does not flicker.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from lipcore.face.landmarks import LIPS_INNER, LIPS_OUTER, lower_face_polygon

#: How far beyond a paste's mask (crop pixels) the crop's pixels can still reach the frame.
PASTE_TAPS_PX = 4


def soft_mask(hard: np.ndarray, feather_px: float) -> np.ndarray:
    """Feather a hard region inward: 0 at its border, 1 from ``feather_px`` inside.

    Args:
        hard: ``(S, S)`` region (bool, or any array whose non-zero pixels are the region).
        feather_px: Width of the soft edge in pixels; 0 keeps the hard edge.

    Returns:
        ``(S, S)`` float32 mask in [0, 1].
    """
    region = (np.asarray(hard) > 0).astype(np.uint8) * 255
    if feather_px <= 0:
        return region.astype(np.float32) / 255.0
    k = max(3, int(feather_px) | 1)
    # Both steps see only zeros beyond the region's box grown by the kernel (and the mask is
    # exactly 0 there), so they run on that window alone: the same values, bit for bit.
    out = np.zeros(region.shape, np.float32)
    box = _box(region, k + 2)
    if box is None:
        return out
    x0, y0, x1, y1 = box
    # Distance to the border inside the region gives an inward ramp, then a light blur rounds it.
    dist = cv2.distanceTransform(region[y0:y1, x0:x1], cv2.DIST_L2, 5)
    soft = np.clip(dist / float(feather_px), 0.0, 1.0)
    out[y0:y1, x0:x1] = cv2.GaussianBlur(soft.astype(np.float32), (k, k), feather_px / 3.0)
    return out


def _box(mask: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    from lipcore.render.window_warp import box_of

    return box_of(mask, pad)


def paste_reach_px(feather_px: float) -> int:
    """How far (crop pixels) outside an engine's hard region the paste reads the generated crop.

    The feather's blur spreads :func:`soft_mask` up to half its kernel beyond the region (the
    colour statistics' skin ring reaches there), and the paste's resampling
    :data:`PASTE_TAPS_PX` further; a pixel more for rounding.
    """
    k = max(3, int(feather_px) | 1) if feather_px > 0 else 1
    return k // 2 + PASTE_TAPS_PX + 1


def paste_window(
    region: np.ndarray, feather_px: float, landmarks: np.ndarray
) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)``: the crop pixels of the original crop :func:`prepare_paste` reads
    for an engine's ``region`` (None when the region is empty).

    The original is only measured: on the skin ring of the feathered region and on the
    target's lips (``landmarks``, crop pixels).
    """
    from lipcore.render.window_warp import box_of

    box = box_of(np.asarray(region) > 0, paste_reach_px(feather_px))
    if box is None:
        return None
    side = np.asarray(region).shape[0]
    lips = np.round(np.asarray(landmarks, np.float32)[list(LIPS_OUTER)])
    x0, y0 = np.floor(lips.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(lips.max(axis=0)).astype(int) + 3
    return (
        max(min(box[0], x0), 0),
        max(min(box[1], y0), 0),
        min(max(box[2], x1), side),
        min(max(box[3], y1), side),
    )


def lower_face_mask(landmarks_crop: np.ndarray, size: int, feather_px: float) -> np.ndarray:
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
    return soft_mask(hard, feather_px)


def skin_ring(mask: np.ndarray) -> np.ndarray:
    """Boolean region of the mask's soft edge: cheeks and jaw skin, not the mouth itself.

    Colour statistics are compared there, because the mouth's own pixels (teeth, a dark open
    mouth) legitimately differ between the original and the new lower face.
    """
    return (mask > 0.05) & (mask < 0.95)


def match_colour(
    src: np.ndarray, ref: np.ndarray, region: np.ndarray, spread_region: np.ndarray | None = None
) -> np.ndarray:
    """Shift ``src``'s LAB means in ``region`` to ``ref``'s, and its lightness spread mildly.

    The lightness spread is matched within +-15 %; the chroma spread is left alone: scaling the
    chroma spread of the skin would also pull the lips toward the skin colour and wash them out,
    and blow a generated crop with little texture up into noise.

    Args:
        src: ``(H, W, 3)`` uint8 BGR generated crop.
        ref: ``(H, W, 3)`` uint8 BGR original crop.
        region: ``(H, W)`` bool pixels to compare (e.g. :func:`skin_ring`).
        spread_region: Pixels the lightness spread is compared on; None = ``region``.

    Returns:
        The colour-corrected ``src`` (uint8 BGR); the correction applies to the whole crop.
    """
    if region.sum() < 16:
        return src
    lab = cv2.cvtColor(src, cv2.COLOR_BGR2LAB)
    # The reference is only measured: its region's pixels alone are converted (pointwise)
    r = _lab_of(ref[region])
    s_in = lab[region].astype(np.float32)
    s_mu, r_mu = s_in.mean(0), r.mean(0)
    if spread_region is not None:
        r, s_in = _lab_of(ref[spread_region]), lab[spread_region].astype(np.float32)
    s_sd, r_sd = np.maximum(s_in.std(0), 1.0), np.maximum(r.std(0), 1.0)
    gain = np.ones(3, np.float32)
    gain[0] = np.clip(r_sd[0] / s_sd[0], 0.85, 1.15)
    # The correction is per channel and the channels are 8-bit: a table of the 256 values of
    # each, made with the same float32 arithmetic, gives every pixel's result bit for bit.
    return cv2.cvtColor(cv2.LUT(lab, _channel_table(s_mu, gain, r_mu)), cv2.COLOR_LAB2BGR)


def _channel_table(mu: np.ndarray, gain: np.ndarray, to_mu: np.ndarray) -> np.ndarray:
    """``(256, 1, 3)`` uint8 table of ``clip((v - mu) * gain + to_mu + 0.5)`` per channel."""
    v = np.repeat(np.arange(256, dtype=np.float32)[:, None], 3, axis=1)
    out = (v - mu) * gain + to_mu
    return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)


def _lab_of(pixels: np.ndarray) -> np.ndarray:
    """``(N, 3)`` float32 LAB of ``(N, 3)`` uint8 BGR pixels (the conversion is per pixel)."""
    lab = cv2.cvtColor(np.ascontiguousarray(pixels).reshape(-1, 1, 3), cv2.COLOR_BGR2LAB)
    return lab.reshape(-1, 3).astype(np.float32)


def _lip_ring(shape: tuple[int, int], landmarks: np.ndarray, size: int) -> np.ndarray:
    """``shape`` bool pixels of the lips themselves (outer contour minus the opening); ``size``
    is the side of the crop they are in (it sets the margin kept from the teeth)."""
    lm = np.asarray(landmarks, np.float32)
    outer = np.zeros(shape, np.uint8)
    cv2.fillPoly(outer, [np.round(lm[list(LIPS_OUTER)]).astype(np.int32)], 255)
    inner = np.zeros(shape, np.uint8)
    cv2.fillPoly(inner, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], 255)
    k = max(3, int(round(size / 85)) | 1)  # keep teeth edges out (3 px at 256)
    inner = cv2.dilate(inner, np.ones((k, k), np.uint8))
    return (outer > 0) & (inner == 0)


def _lip_edge(size: int) -> tuple[int, float]:
    """The lip correction's soft edge in a ``size`` px crop: dilation kernel side, blur sigma."""
    return max(5, int(round(size / 51)) | 1), size / 128.0


def match_lip_colour(
    src_bgr: np.ndarray,
    src_landmarks: np.ndarray,
    dst_bgr: np.ndarray,
    dst_landmarks: np.ndarray,
    crop_size: int | None = None,
) -> np.ndarray:
    """Give lips taken from another picture the target's lip colour (LAB mean shift, soft edge).

    Lip colour drifts over a clip with light and make-up; taken from frames far apart, a
    library of lips alternates pale and dark from one cut to the next. The target sequence is
    smooth, so borrowing its lip colour removes that flicker.

    Args:
        src_bgr: ``(S, S, 3)`` uint8 generated crop.
        src_landmarks: ``(478, 2)`` landmarks of its mouth, crop pixels.
        dst_bgr: ``(S, S, 3)`` uint8 original crop.
        dst_landmarks: ``(478, 2)`` the target's landmarks.
        crop_size: Side of the whole crop when the images are a window of it (the landmarks
            then in window pixels); default the images' own side.

    Returns:
        ``(S, S, 3)`` uint8 corrected crop (or window).
    """
    size = int(crop_size) if crop_size is not None else src_bgr.shape[0]
    lips = _lip_soft(src_bgr.shape[:2], src_landmarks, dst_landmarks, size)
    if lips is None:
        return src_bgr
    return _shift_lips(src_bgr, dst_bgr, *lips)


def _lip_soft(
    shape: tuple[int, int], src_landmarks: np.ndarray, dst_landmarks: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The lip correction's pixels in a ``shape`` window: ``(src_lips, dst_lips, soft)``, or
    None when either mouth shows too few lip pixels to measure."""
    src_lips = _lip_ring(shape, src_landmarks, size)
    dst_lips = _lip_ring(shape, dst_landmarks, size)
    least = 30 * (size / 256.0) ** 2
    if src_lips.sum() < least or dst_lips.sum() < least:
        return None
    k, sigma = _lip_edge(size)
    soft = cv2.GaussianBlur(
        cv2.dilate(src_lips.astype(np.float32), np.ones((k, k), np.uint8)), (0, 0), sigma
    )
    return src_lips, dst_lips, soft


def _shift_lips(
    src_bgr: np.ndarray,
    dst_bgr: np.ndarray,
    src_lips: np.ndarray,
    dst_lips: np.ndarray,
    soft: np.ndarray,
) -> np.ndarray:
    """``src_bgr`` with its lips' LAB mean moved to ``dst_bgr``'s, through the ``soft`` edge."""
    lab = cv2.cvtColor(src_bgr, cv2.COLOR_BGR2LAB)
    shift = _lab_of(dst_bgr[dst_lips]).mean(axis=0) - lab[src_lips].astype(np.float32).mean(axis=0)
    # Where the soft edge is 0 a pixel keeps its value (v + 0 * shift rounds back to v), so the
    # shift is computed in the edge's box alone: the same values, bit for bit.
    box = _box(soft, 0)
    if box is not None:
        x0, y0, x1, y1 = box
        part = lab[y0:y1, x0:x1].astype(np.float32) + soft[y0:y1, x0:x1, None] * shift
        lab[y0:y1, x0:x1] = np.clip(part + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _mouth_area(size: int, landmark_sets: list[np.ndarray]) -> np.ndarray:
    """``(S, S)`` bool pixels of the mouths (outer lip contours, slightly dilated)."""
    area = np.zeros((size, size), np.uint8)
    for lm in landmark_sets:
        hull = cv2.convexHull(
            np.round(np.asarray(lm, np.float32)[list(LIPS_OUTER)]).astype(np.int32)
        )
        cv2.fillConvexPoly(area, hull, 255)
    k = max(3, int(round(size / 36)) | 1)  # 7 px at 256
    return cv2.dilate(area, np.ones((k, k), np.uint8)) > 0


def still_skin(size: int, landmarks: np.ndarray) -> np.ndarray:
    """``(S, S)`` bool pixels above the target's mouth corners: skin that does not move with its
    mouth (cheeks beside the nose, the philtrum), where the colour match measures its means.

    Below the corners the target's own chin, jaw shadow and lower-lip fold move with the speech
    the clip had, and colour means measured there carried that motion into the new mouth,
    picture by picture: on A06 dubbed with B01 the lightness shift changed by 4.3 levels from one
    picture to the next even where the library picture stayed the same (the target's ring's own
    mean by 3.2), and retime's mouth flickered 1.11x the original's; with the means measured
    here, 1.04x (8-s bench; A02 0.99 -> 0.97, A07 1.07 -> 1.07, A01 1.03 -> 1.02). The lightness
    spread is still compared on the whole ring: compared here as well, the mouths of A01 and A02
    flickered more (1.06, 1.00), their contrast following a gain of a smaller sample.

    Args:
        size: Crop side in pixels.
        landmarks: ``(478, 2)`` target landmarks in crop pixels.

    Returns:
        The rows of the crop above the lower of the two mouth corners (61, 291).
    """
    lm = np.asarray(landmarks, np.float32)
    corner = max(float(lm[61, 1]), float(lm[291, 1]))
    rows = np.arange(size, dtype=np.float32)[:, None] < corner
    return np.broadcast_to(rows, (size, size))


#: Reads the original crop at chosen pixels: given an ``(S, S)`` bool mask, an ``(S, S, 3)``
#: uint8 image whose pixels under the mask are the original crop's (the others are not read).
CropReader = Callable[[np.ndarray], np.ndarray]


def prepare_paste(
    original: np.ndarray | CropReader,
    generated: np.ndarray,
    landmarks: np.ndarray,
    feather_px: float,
    region: np.ndarray | None = None,
    mouth_landmarks: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The colour-matched crop and the soft mask to paste it with, in crop space.

    Args:
        original: ``(S, S, 3)`` uint8 BGR target crop (the frame as it is), or a
            :data:`CropReader` of it: the original is only measured (on the skin ring and the
            target's lips), so only those pixels need to be cut from the frame.
        generated: ``(S, S, 3)`` uint8 BGR engine crop.
        landmarks: ``(478, 2)`` target landmarks in crop pixels.
        feather_px: Soft edge width in crop pixels.
        region: ``(S, S)`` float32 the engine's hard region with its opacity; None = the target's
            lower face.
        mouth_landmarks: Landmarks of a mouth from another picture (lip colour is matched).

    Returns:
        ``(crop, mask)``: uint8 BGR crop and float32 mask in [0, 1].
    """
    size = generated.shape[0]
    opacity = None
    if region is None:
        shape = lower_face_mask(landmarks, size, feather_px)
    else:
        opacity = np.clip(np.asarray(region, np.float32), 0.0, 1.0)
        shape = soft_mask(opacity > 0, feather_px)
    # Skin only: lips on the soft edge would make the colour follow the mouth's shape. The
    # means are read on the ring's skin that stays put while the target speaks (see
    # :func:`still_skin`), the lightness spread on the whole ring.
    mouths = [landmarks] if mouth_landmarks is None else [landmarks, mouth_landmarks]
    ring = skin_ring(shape) & ~_mouth_area(size, mouths)
    ring = ring if ring.sum() >= 64 else skin_ring(shape)
    skin = ring & still_skin(size, landmarks)
    skin = skin if skin.sum() >= 64 else ring
    mask = shape if opacity is None else shape * opacity
    # Only crop pixels near the mask reach the frame (the paste's resampling looks a few pixels
    # beyond it), so the per-pixel colour corrections are made in the mask's window alone; the
    # lip correction's soft edge needs its own margin around the lips.
    x, y, w, h = cv2.boundingRect((mask > 0).astype(np.uint8))
    if not (w and h):
        return generated.copy(), mask.astype(np.float32)
    k, sigma = _lip_edge(size)
    lip_margin = 2 * k + int(np.ceil(4 * sigma))  # the dilation, then the blur's reach
    pad = PASTE_TAPS_PX + (lip_margin if mouth_landmarks is not None else 0)
    x0, y0 = max(x - pad, 0), max(y - pad, 0)
    x1, y1 = min(x + w + pad, size), min(y + h + pad, size)
    win = (slice(y0, y1), slice(x0, x1))
    # Within that window, the corrections are pointwise once their statistics are known: they
    # are made only where the paste reads (the mask's box and its taps) and where the statistics
    # are measured (the skin ring, both lips); the lips' soft edge is drawn in the whole window.
    lips = None
    if mouth_landmarks is not None:
        shift = np.float32([x0, y0])
        lips = _lip_soft(
            (y1 - y0, x1 - x0), mouth_landmarks - shift, np.asarray(landmarks) - shift, size
        )
    used = (mask[win] > 0) if lips is None else (mask[win] > 0) | lips[0] | lips[1]
    bx, by, bw, bh = cv2.boundingRect(used.astype(np.uint8))
    sx, sy, sw, sh = cv2.boundingRect(ring[win].astype(np.uint8))
    if sw and sh:
        bx, by = min(bx, sx), min(by, sy)
        bw, bh = max(bx + bw, sx + sw) - bx, max(by + bh, sy + sh) - by
    t = PASTE_TAPS_PX
    sub = (slice(max(by - t, 0), by + bh + t), slice(max(bx - t, 0), bx + bw + t))
    if callable(original):
        read = np.zeros((size, size), bool)
        read[win][sub] = ring[win][sub] if lips is None else ring[win][sub] | lips[1][sub]
        original = original(read)
    crop = generated.copy()
    part = match_colour(generated[win][sub], original[win][sub], skin[win][sub], ring[win][sub])
    if lips is not None:
        part = _shift_lips(part, original[win][sub], *(a[sub] for a in lips))
    crop[win][sub] = part
    return crop, mask.astype(np.float32)


def blend_in_crop(original: np.ndarray, crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``(1 - mask) * original + mask * crop`` in crop space (previews, tests), uint8."""
    return cv2.blendLinear(original, crop, 1.0 - mask, mask.astype(np.float32))


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
