"""The one-shot engine's mouth interior from the actor's own open mouth, with teeth kept rigid.

Warping the exemplar's whole opening onto the new one (inner lips to inner lips) stretches its
teeth with the opening: a smile's clenched teeth, pulled to a wide speech opening, became a row of
tall, jagged teeth twice their height (A18); squeezed into a smaller opening, A08's teeth shrank
to half their height and their edges were sheared along the warp's triangles. Real teeth do not
stretch: the upper row is fixed to the skull and shows under the upper lip, the lower row moves
with the jaw above the lower lip, and the mouth between them is dark. :func:`bite_band` finds
where the exemplar's rows meet (the dark band between them, or a clenched bite's darkest line),
and :func:`rigid_teeth_cavity` places the exemplar's upper row under the new upper lip and its
lower row over the new lower lip, each at the face's own scale (the eye-distance ratio, never
the opening's), column by column so each follows its lip's curve, and fills the rest of the new
opening between them with the exemplar's own band (never squeezed) and beyond it a dark cavity
shaded in the face's colours; only an opening smaller than the two rows squeezes the rows.
The result is matched to the target's lighting.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.engines.mouth_colour import lab_mean, lip_ring
from lipcore.engines.mouth_shape import MOUTH_POINTS
from lipcore.face.landmarks import LIPS_INNER
from lipcore.runs import longest_true_run

#: Inner-lip contour, upper half (corner to corner) and lower half, FaceMesh indices (as in
#: :mod:`lipcore.engines.oneshot_render`).
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
_ROW = {p: i for i, p in enumerate(MOUTH_POINTS)}
#: Where the rows meet, as a share of the exemplar's opening from the upper lip down, when its
#: opening is too small to read (:func:`bite_band`): upper incisors show more than lower ones.
UPPER_SHARE = 0.55
#: Share of the new opening's half-width, at each corner, over which the teeth fade into the
#: cavity (the dark corners of a mouth, where the rows curve back out of sight). With the rows
#: at their own height in every opening, 0.3 raised the mouth box's frame-to-frame change on
#: A07 with B22 (its crops, over the original's) from 0.889 to 0.905; 0.5 gave 0.899, 0.6
#: 0.893, 0.7 0.882 (A08's side teeth then all but gone).
CORNER_FADE = 0.6
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
#: Where :func:`bite_band` reads the opening: its central columns (share of the half-width
#: either side of the middle), samples from the upper to the lower lip, and the shares of the
#: opening a clenched bite is looked for in (its ends are the lips' own dark edges).
BITE_COLUMNS = 0.35
BITE_SAMPLES = 48
BITE_SEARCH = (0.2, 0.8)


def _edge(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The contour through ``points`` (sorted by x) at ``xs``; edges held."""
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1]).astype(np.float32)


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


def bite_band(source_crop: np.ndarray, source_lm: np.ndarray) -> tuple[float, float]:
    """Where the exemplar's bite is: ``(top, bottom)`` of its dark band, as shares of the opening.

    The lightness down the middle of the opening (the median over its central columns, each
    sampled from its upper to its lower inner lip) is bright where the teeth are and dark
    between the rows. The band is the longest run darker than :data:`DARK_OF_LIP` times the
    lips' lightness; clenched teeth (A16, A18's smile) show no such run, and their bite is the
    darkest line between the rows (top = bottom). Shares run from 0 at the upper inner lip to 1
    at the lower one.

    Args:
        source_crop: ``(S, S, 3)`` uint8 BGR exemplar crop.
        source_lm: ``(478, 2)`` its landmarks.
    """
    lm = np.asarray(source_lm, np.float32)
    size = source_crop.shape[0]
    light = cv2.cvtColor(source_crop, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    cx = 0.5 * float(lm[78, 0] + lm[308, 0])
    half = 0.5 * float(lm[308, 0] - lm[78, 0])
    xs = cx + np.linspace(-BITE_COLUMNS, BITE_COLUMNS, 9, dtype=np.float32) * half
    up = _edge(lm[list(INNER_UPPER)], xs)
    lo = _edge(lm[list(INNER_LOWER)], xs)
    if half < 2.0 or float(np.median(lo - up)) < 3.0:
        return UPPER_SHARE, UPPER_SHARE
    t = np.linspace(0.0, 1.0, BITE_SAMPLES, dtype=np.float32)
    ys = up[None, :] + t[:, None] * (lo - up)[None, :]
    map_x = np.broadcast_to(xs[None, :], ys.shape).astype(np.float32)
    profile = cv2.remap(light, map_x, ys.astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    profile = np.median(profile, axis=1)
    lip_l = float(lab_mean(source_crop, lip_ring(lm, size))[0])
    best = longest_true_run(profile < DARK_OF_LIP * lip_l)
    if best[1] - best[0] >= 2:
        return float(t[best[0]]), float(t[best[1] - 1])
    # Clenched: the darkest line between the rows (the lips' own dark edges left out)
    inside = (t >= BITE_SEARCH[0]) & (t <= BITE_SEARCH[1])
    at = float(t[inside][int(np.argmin(profile[inside]))])
    return at, at


def rigid_teeth_maps(
    source_lm: np.ndarray,
    mouth: np.ndarray,
    eye_px: float,
    size: int,
    bite: tuple[float, float] = (UPPER_SHARE, UPPER_SHARE),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each crop pixel of the new opening reads the exemplar, and how much it is teeth.

    Each column of the new opening, from its upper inner lip down: the exemplar's upper row
    (its opening from the upper lip to the top of its bite band ``bite``, at most
    :data:`ROW_MAX_EYE`), then its band, then its lower row (from the bottom of the band to
    its lower lip). The rows keep the face's scale; the band between them is the exemplar's
    own, at the face's scale about its middle and hidden behind the rows where the new opening
    has less room, the dark cavity where it has more; only an opening smaller than the two
    rows squeezes both rows into it. The rows are split at the exemplar's own bite, so a row
    never shows part of the other's teeth or of the dark between: the whole exemplar opening
    warped onto a smaller one squeezed A08's teeth to half their height and sheared their edges
    along the warp's triangles.

    Args:
        source_lm: ``(478, 2)`` landmarks of the exemplar (same crop space as the target).
        mouth: ``(P, 2)`` the new mouth, :data:`MOUTH_POINTS` order, crop pixels.
        eye_px: Eye distance of the target in the crop.
        size: Crop side.
        bite: The exemplar's bite band (:func:`bite_band`), shares of its opening.

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
    gap_src = np.maximum(lo_src - up_src, 0.0)
    up_dst = _edge(mouth[[_ROW[p] for p in INNER_UPPER]], xs)
    lo_dst = _edge(mouth[[_ROW[p] for p in INNER_LOWER]], xs)
    gap_dst = np.maximum(lo_dst - up_dst, 0.0)
    # Inside the exemplar's opening across (its corners: beyond them the cavity shows)
    lo_x, hi_x = float(src[78, 0]), float(src[308, 0])
    across = np.clip(np.minimum(x_src - lo_x, hi_x - x_src) + 0.5, 0.0, 1.0)
    # and fading into the dark towards the new mouth's own corners
    half_dst = max(0.5 * float(mouth[_ROW[308], 0] - mouth[_ROW[78], 0]), 1.0)
    inward = 1.0 - np.abs(xs - cx_dst) / half_dst
    across = (across * np.clip(inward / CORNER_FADE, 0.0, 1.0))[None, :]
    # The exemplar's rows (exemplar pixels) on either side of its bite band, at most the most
    # a row shows
    t0, t1 = float(min(bite)), float(max(bite))
    up_max, lo_max = (r * max(float(eye_px), 1e-6) / s for r in ROW_MAX_EYE)
    row_up = np.minimum(t0 * gap_src, up_max)
    row_lo = np.minimum((1.0 - t1) * gap_src, lo_max)
    # Scale of the rows: the face's, unless the new opening is smaller than both rows (half way
    # between that and the whole exemplar opening fitted into the new one raised A07/B22's
    # mouth-box flicker over the original's from 1.092 to 1.115)
    band_src = np.maximum((t1 - t0) * gap_src, 0.0)
    v = np.minimum(s, gap_dst / np.maximum(row_up + row_lo, 1e-3))
    v = np.maximum(v, 1e-3)[None, :]
    y_up = up_src[None, :] + (ys - up_dst[None, :]) / v
    y_lo = lo_src[None, :] - (lo_dst[None, :] - ys) / v
    w_up = np.clip((up_src + row_up)[None, :] - y_up + 0.5, 0.0, 1.0)
    w_lo = np.clip(y_lo - (lo_src - row_lo)[None, :] + 0.5, 0.0, 1.0) * (1.0 - w_up)
    # Between them the exemplar's own band (its tongue, its dark) at the face's scale about its
    # middle, behind the rows, and the dark beyond it: squeezed into a smaller space it was
    # sampled coarsely and flickered from frame to frame (A07 with B22: the mouth box's change
    # over the original's 0.905 -> 0.924 on the crops)
    band_mid = up_src + 0.5 * (t0 + t1) * gap_src
    mid_dst = 0.5 * (up_dst + v[0] * row_up + lo_dst - v[0] * row_lo)
    y_mid = band_mid[None, :] + (ys - mid_dst[None, :]) / s
    w_mid = np.clip(0.5 * band_src[None, :] - np.abs(y_mid - band_mid[None, :]) + 0.5, 0.0, 1.0)
    w_mid *= (band_src[None, :] >= 1.0) * (1.0 - w_up) * (1.0 - w_lo)
    teeth = np.clip(w_up + w_lo + w_mid, 0.0, 1.0) * across
    # Read each pixel from the part that covers it most (the upper row in front)
    map_y = np.where(w_up >= w_lo, y_up, y_lo)
    map_y = np.where(w_mid > np.maximum(w_up, w_lo), y_mid, map_y).astype(np.float32)
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
    bite: tuple[float, float] | None = None,
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
        bite: The exemplar's bite band (:func:`bite_band`; found here when None).

    Returns:
        ``(S, S, 3)`` uint8 BGR interior (only the opening of ``mouth`` is meant to be read).
    """
    size = target.shape[0]
    if bite is None:
        bite = bite_band(source_crop, source_lm)
    map_x, map_y, teeth = rigid_teeth_maps(source_lm, mouth, eye_px, size, bite)
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
    "BITE_COLUMNS",
    "BITE_SAMPLES",
    "BITE_SEARCH",
    "CAVITY_OF_LIP",
    "CORNER_FADE",
    "ROW_MAX_EYE",
    "UPPER_SHARE",
    "bite_band",
    "cavity_lab",
    "rigid_teeth_cavity",
    "rigid_teeth_maps",
    "shows_cavity",
]
