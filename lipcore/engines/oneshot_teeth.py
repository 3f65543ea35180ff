"""The one-shot engine's mouth interior from the actor's own open mouth, with teeth kept rigid.

Warping the exemplar's whole opening onto the new one (inner lips to inner lips) stretches its
teeth with the opening: a smile's clenched teeth, pulled to a wide speech opening, became a row of
tall, jagged teeth twice their height (A18). Real teeth do not stretch: the upper row is fixed to
the skull and shows under the upper lip, the lower row moves with the jaw above the lower lip, and
the mouth between them is dark. :func:`rigid_teeth_cavity` therefore places the exemplar's upper
half of the opening under the new upper lip and its lower half over the new lower lip, each at
the face's own scale (the eye-distance ratio, never the opening's), column by column so each
half follows its lip's curve; where the new opening is taller than the exemplar's the rows part
over a dark cavity shaded in the face's colours, where it is shorter both rows are squeezed into
it as the whole-opening warp does. The result is matched to the target's lighting like the
stretched interior was. The one-shot engine uses the rigid rows only where the new opening is
taller than the exemplar's (:func:`rigid_share`), the whole-opening warp below.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.engines.mouth_colour import lab_mean, lip_ring
from lipcore.engines.mouth_shape import MOUTH_POINTS
from lipcore.face.landmarks import LIPS_INNER

#: Inner-lip contour, upper half (corner to corner) and lower half, FaceMesh indices (as in
#: :mod:`lipcore.engines.oneshot_render`).
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
_ROW = {p: i for i, p in enumerate(MOUTH_POINTS)}
#: Share of the exemplar's opening, from the upper lip down, that belongs to the upper row (the
#: rest to the lower): upper incisors show more than lower ones.
UPPER_SHARE = 0.55
#: Share of the new opening's half-width, at each corner, over which the teeth fade into the
#: cavity (the dark corners of a mouth, where the rows curve back out of sight).
CORNER_FADE = 0.3
#: Stretch of the exemplar's opening (new gap over its gap, both per eye distance) from which
#: its rows are placed rigidly, and by which they are fully: below, the whole opening is warped
#: onto the new one as before (placing the rows rigidly there too, the teeth flashing to full
#: size as the lips part, raised the mouth-box flicker on A07 with B22 from 1.10 to 1.14 of the
#: original's, and on A06 with B01 from 1.077 to 1.086); between, a blend of the two.
RIGID_STRETCH = (1.0, 1.3)
#: Weights of the lighting match (L, a, b) from the lips around the two openings.
LIGHT_MATCH = (0.6, 0.5, 0.5)
#: Most a placed row shows, in eye distances: the upper incisors under the upper lip, the lower
#: ones over the lower lip. An exemplar whose opening is all teeth (A16's clenched smile) or a
#: blur of teeth and cavity (H07's small soft face) otherwise filled a wide new opening with one
#: pale block; a speaking mouth shows a strip of each row and the dark between.
ROW_MAX_EYE = (0.1, 0.06)
#: An exemplar opening counts as showing its cavity when at least this share of it is darker
#: than :data:`DARK_OF_LIP` times its lips' lightness.
DARK_SHARE_MIN = 0.12
DARK_OF_LIP = 0.5
#: The cavity's lightness is held within this range of the lips' (darkest pixels of the
#: exemplar's opening; a flat black hole reads as a cut-out on a bright face, A16).
CAVITY_OF_LIP = (0.25, 0.42)


def _edge(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The contour through ``points`` (sorted by x) at ``xs``; edges held."""
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1]).astype(np.float32)


def rigid_share(source_lm: np.ndarray, mouth: np.ndarray, eye_px: float) -> float:
    """0..1 how much of the interior is the rigidly placed rows (:data:`RIGID_STRETCH`).

    Args:
        source_lm: ``(478, 2)`` landmarks of the exemplar.
        mouth: ``(P, 2)`` the new mouth, :data:`MOUTH_POINTS` order.
        eye_px: Eye distance of the target in the crop.
    """
    src = np.asarray(source_lm, np.float32)
    src_gap = float(src[14, 1] - src[13, 1]) / max(float(np.linalg.norm(src[263] - src[33])), 1e-6)
    new_gap = float(mouth[_ROW[14], 1] - mouth[_ROW[13], 1]) / max(float(eye_px), 1e-6)
    if src_gap <= 1e-6:
        return 1.0
    lo, hi = RIGID_STRETCH
    return float(np.clip((new_gap / src_gap - lo) / (hi - lo), 0.0, 1.0))


def _opening_stats(source_crop: np.ndarray, source_lm: np.ndarray) -> tuple[np.ndarray, float]:
    """LAB of the darkest tenth of the exemplar's opening, and the share of it that is dark."""
    size = source_crop.shape[0]
    lm = np.asarray(source_lm, np.float32)
    inner = np.zeros((size, size), np.uint8)
    cv2.fillPoly(inner, [np.round(lm[list(LIPS_INNER)] * 4).astype(np.int32)], 255, cv2.LINE_8, 2)
    lab = cv2.cvtColor(source_crop, cv2.COLOR_BGR2LAB).astype(np.float32)
    pix = lab[inner > 0]
    lip_l = float(lab_mean(source_crop, lip_ring(lm, size))[0])
    if len(pix) < 5:
        return np.array([CAVITY_OF_LIP[0] * lip_l, 140.0, 135.0], np.float32), 0.0
    dark_share = float((pix[:, 0] < DARK_OF_LIP * lip_l).mean())
    darkest = pix[pix[:, 0] <= np.quantile(pix[:, 0], 0.1)].mean(axis=0)
    return darkest, dark_share


def shows_cavity(source_crop: np.ndarray, source_lm: np.ndarray) -> bool:
    """Whether the exemplar's opening shows a dark cavity (not only teeth, or a pale blur).

    Where it does not, the one-shot engine always places its rows rigidly (never warps the
    whole pale opening onto the new one) over a dark cavity of the face's own shading.
    """
    return _opening_stats(source_crop, source_lm)[1] >= DARK_SHARE_MIN


def cavity_lab(source_crop: np.ndarray, source_lm: np.ndarray) -> np.ndarray:
    """The colour (LAB, float) of the actor's own mouth cavity, from the exemplar's darkest part.

    Its lightness is held to :data:`CAVITY_OF_LIP` of the exemplar's lips (a clenched smile's
    darkest pixels are teeth shadows, a blurred opening's darkest are still pale).
    """
    darkest, _ = _opening_stats(source_crop, source_lm)
    size = source_crop.shape[0]
    lip = lab_mean(source_crop, lip_ring(np.asarray(source_lm, np.float32), size))
    lo, hi = CAVITY_OF_LIP
    out = darkest.astype(np.float32).copy()
    out[0] = float(np.clip(out[0], lo * lip[0], hi * lip[0]))
    # Reddish like the lips, never grey (the throat and tongue, not a shadow on teeth)
    out[1] = max(float(out[1]), 128.0 + 0.5 * (float(lip[1]) - 128.0))
    out[2] = max(float(out[2]), 128.0 + 0.3 * (float(lip[2]) - 128.0))
    return out


def rigid_teeth_maps(
    source_lm: np.ndarray, mouth: np.ndarray, eye_px: float, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each crop pixel of the new opening reads the exemplar, and how much it is teeth.

    Args:
        source_lm: ``(478, 2)`` landmarks of the exemplar (same crop space as the target).
        mouth: ``(P, 2)`` the new mouth, :data:`MOUTH_POINTS` order, crop pixels.
        eye_px: Eye distance of the target in the crop.
        size: Crop side.

    Returns:
        ``(map_x, map_y, teeth)``: float32 ``(size, size)`` maps for :func:`cv2.remap` and the
        0..1 weight of the exemplar's pixels (0 = the dark cavity between the rows, or outside
        the exemplar's opening).
    """
    src = np.asarray(source_lm, np.float32)
    mouth = np.asarray(mouth, np.float32)
    src_eye = max(float(np.linalg.norm(src[263] - src[33])), 1e-6)
    s = max(float(eye_px), 1e-6) / src_eye  # the face's scale, never the opening's
    cx_src = 0.5 * float(src[78, 0] + src[308, 0])
    cx_dst = 0.5 * float(mouth[_ROW[78], 0] + mouth[_ROW[308], 0])
    xs = np.arange(size, dtype=np.float32)
    ys = np.arange(size, dtype=np.float32)[:, None]
    x_src = cx_src + (xs - cx_dst) / s  # (size,) exemplar column of each crop column
    up_src = _edge(src[list(INNER_UPPER)], x_src)
    lo_src = _edge(src[list(INNER_LOWER)], x_src)
    split_src = up_src + UPPER_SHARE * np.maximum(lo_src - up_src, 0.0)
    up_dst = _edge(mouth[[_ROW[p] for p in INNER_UPPER]], xs)
    lo_dst = _edge(mouth[[_ROW[p] for p in INNER_LOWER]], xs)
    # Inside the exemplar's opening across (its corners: beyond them the cavity shows)
    lo_x, hi_x = float(src[78, 0]), float(src[308, 0])
    across = np.clip(np.minimum(x_src - lo_x, hi_x - x_src) + 0.5, 0.0, 1.0)
    # and fading into the dark towards the new mouth's own corners
    half_dst = max(0.5 * float(mouth[_ROW[308], 0] - mouth[_ROW[78], 0]), 1.0)
    inward = 1.0 - np.abs(xs - cx_dst) / half_dst
    across = (across * np.clip(inward / CORNER_FADE, 0.0, 1.0))[None, :]
    # The upper row hangs from the new upper lip, the lower row stands on the new lower lip, at
    # the face's scale; an opening smaller than the exemplar's squeezes both rows into it (the
    # exemplar's opening fitted to the new one, as the whole-opening warp does), a larger one
    # parts them and never stretches them
    gap_src = np.maximum(lo_src - up_src, 1e-3)
    v = np.minimum(s, np.maximum(lo_dst - up_dst, 0.0) / gap_src)
    v = np.maximum(v, 1e-3)[None, :]
    y_up = up_src[None, :] + (ys - up_dst[None, :]) / v
    y_lo = lo_src[None, :] - (lo_dst[None, :] - ys) / v
    up_max, lo_max = (r * max(float(eye_px), 1e-6) for r in ROW_MAX_EYE)
    w_up = np.clip(split_src[None, :] - y_up + 0.5, 0.0, 1.0)
    w_up *= np.clip(up_max - (ys - up_dst[None, :]) + 0.5, 0.0, 1.0)
    w_lo = np.clip(y_lo - split_src[None, :] + 0.5, 0.0, 1.0) * (1.0 - w_up)
    w_lo *= np.clip(lo_max - (lo_dst[None, :] - ys) + 0.5, 0.0, 1.0)
    teeth = np.clip(w_up + w_lo, 0.0, 1.0) * across
    # Read each pixel from the row that covers it most (the upper row in front)
    map_y = np.where(w_up >= w_lo, y_up, y_lo).astype(np.float32)
    map_x = np.broadcast_to(x_src[None, :], (size, size)).astype(np.float32)
    return map_x, map_y, teeth.astype(np.float32)


def rigid_teeth_cavity(
    source_crop: np.ndarray,
    source_lm: np.ndarray,
    target: np.ndarray,
    target_lm: np.ndarray,
    mouth: np.ndarray,
    eye_px: float,
    dark: np.ndarray,
) -> np.ndarray:
    """The actor's own teeth placed in the opening of ``mouth`` at their own size (BGR crop).

    Args:
        source_crop: ``(S, S, 3)`` uint8 BGR exemplar crop (the actor's open mouth).
        source_lm: ``(478, 2)`` its landmarks.
        target: ``(S, S, 3)`` uint8 BGR crop being drawn (its lips light the teeth).
        target_lm: ``(478, 2)`` the landmarks of the texture the target was warped from.
        mouth: ``(P, 2)`` the new mouth, :data:`MOUTH_POINTS` order.
        eye_px: Eye distance in the crop.
        dark: ``(S, S, 3)`` BGR cavity shown between and beside the rows.

    Returns:
        ``(S, S, 3)`` uint8 BGR interior (only the opening of ``mouth`` is meant to be read).
    """
    size = target.shape[0]
    map_x, map_y, teeth = rigid_teeth_maps(source_lm, mouth, eye_px, size)
    placed = cv2.remap(source_crop, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    # Match the target's lighting: lightness and colour of the lips around the two openings
    shift = lab_mean(target, lip_ring(target_lm, size)) - lab_mean(
        source_crop, lip_ring(source_lm, size)
    )
    lab = cv2.cvtColor(placed, cv2.COLOR_BGR2LAB).astype(np.float32) + shift * LIGHT_MATCH
    lit = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    w = cv2.GaussianBlur(teeth, (0, 0), 0.6)[..., None]
    out = lit.astype(np.float32) * w + np.asarray(dark, np.float32) * (1.0 - w)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


__all__ = [
    "CAVITY_OF_LIP",
    "CORNER_FADE",
    "ROW_MAX_EYE",
    "RIGID_STRETCH",
    "UPPER_SHARE",
    "cavity_lab",
    "rigid_share",
    "rigid_teeth_cavity",
    "rigid_teeth_maps",
    "shows_cavity",
]
