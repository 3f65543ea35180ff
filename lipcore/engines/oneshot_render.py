"""Drawing one frame of the one-shot engine: warp the lower face, fill the mouth opening.

:func:`render_mouth` deforms a texture crop of the actor (their resting frame placed on the
target, or the target itself) with the dense warp of :mod:`lipcore.face.warp` so its lips and chin
take a new shape, then fills the inner-lip opening where the texture had none: from the actor's
own open-mouth frame when one exists (:class:`CavitySource`, real teeth and tongue), otherwise
synthesised from the face's own colours (a dark cavity shaded from the lip colour, an upper teeth
band under the upper lip, a lower one when the mouth is wide open).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from lipcore.engines.mouth_colour import lab_mean, lip_ring, poly_mask
from lipcore.engines.mouth_shape import CHIN_ARC, MOUTH_POINTS
from lipcore.engines.oneshot_teeth import bite_band, cavity_lab, rigid_teeth_cavity, shows_cavity
from lipcore.face.landmarks import LIPS_INNER, LIPS_OUTER
from lipcore.face.warp import ring_anchors, triangulate, warp_image

#: Points that stay put while the mouth moves: eyes, nose, cheeks, jaw angles.
ANCHOR_POINTS = (33, 133, 263, 362, 168, 6, 197, 195, 5, 4, 1, 98, 327, 2, 64, 294,
                 234, 454, 93, 323, 132, 361, 58, 288)  # fmt: skip
#: Upper and lower inner-lip points facing each other across the opening.
INNER_PAIRS = ((13, 14), (82, 87), (81, 178), (80, 88), (191, 95),
               (312, 317), (311, 402), (310, 318), (415, 324))  # fmt: skip
#: Inner-lip contour, upper half (subject's right corner to left corner) and lower half.
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
_ROW = {p: i for i, p in enumerate(MOUTH_POINTS)}
#: Points around the outside of each lip corner (how far, eye distances; how much of the
#: corner's motion they take; at which angles from the mouth's line) that move with the corner
#: in :func:`mouth_warp_points` when asked (``corner_tails``). The crease at a corner lies
#: beyond the landmark: with nothing there but the fixed points on the cheeks, a corner drawn
#: 0.08 eye distances in and 0.06 down (A16, a rounded vowel) left its crease behind, stretched
#: into a streaked dark smudge beside the new corner. Further out or more turned up and down,
#: they came within a corner's motion of the fixed ring above the mouth and folded triangles.
CORNER_TAIL_EYE = 0.08
CORNER_TAIL_SHARE = 0.85
CORNER_TAIL_ANGLES_DEG = (-30.0, 0.0, 30.0)
#: Resampling of the warp: Lanczos keeps the lips' and skin's fine texture (bicubic softens it).
WARP_INTERPOLATION = cv2.INTER_LANCZOS4


@dataclass
class CavitySource:
    """The actor's own open mouth: a crop and its landmarks (same crop space as the targets).

    Its colour readings are the same for every frame it fills, so each is made once (on a
    576-px crop they take about 50 ms, and a frame asks for them up to twice).
    """

    crop: np.ndarray
    landmarks: np.ndarray

    @cached_property
    def has_cavity(self) -> bool:
        """Whether its opening shows a dark cavity (:func:`~.oneshot_teeth.shows_cavity`)."""
        return shows_cavity(self.crop, self.landmarks)

    @cached_property
    def cavity_colour(self) -> np.ndarray:
        """LAB of its own mouth cavity (:func:`~.oneshot_teeth.cavity_lab`)."""
        return cavity_lab(self.crop, self.landmarks)

    @cached_property
    def bite(self) -> tuple[float, float]:
        """Its bite band, shares of its opening (:func:`~.oneshot_teeth.bite_band`)."""
        return bite_band(self.crop, self.landmarks)

    @cached_property
    def lip_colour(self) -> np.ndarray:
        """Mean LAB of its lips."""
        return lab_mean(self.crop, lip_ring(self.landmarks, self.crop.shape[0]))


def close_crossed_lips(mouth: np.ndarray) -> np.ndarray:
    """Where a lower inner-lip point rose above its upper partner, meet them halfway.

    Args:
        mouth: ``(P, 2)`` points in :data:`MOUTH_POINTS` order.

    Returns:
        A corrected copy.
    """
    out = np.asarray(mouth, np.float32).copy()
    for up, lo in INNER_PAIRS:
        a, b = _ROW[up], _ROW[lo]
        if out[b, 1] < out[a, 1]:
            mid = 0.5 * (out[a, 1] + out[b, 1])
            out[a, 1] = out[b, 1] = mid
    return out


#: Lower lip (outer and inner contour) points, which rise with the jaw when the mouth closes.
LOWER_LIP = (375, 321, 405, 314, 17, 84, 181, 91, 146, 324, 318, 402, 317, 14, 87, 178, 88, 95)
UPPER_LIP = (185, 40, 39, 37, 0, 267, 269, 270, 409, 191, 80, 81, 82, 13, 312, 311, 310, 415)
#: Share of the closing done by the jaw (the rest by the upper lip coming down).
JAW_SHARE = 0.7


def reshape_gap(landmarks: np.ndarray, gap_px: float) -> np.ndarray:
    """The :data:`MOUTH_POINTS` of ``landmarks`` with the inner-lip gap changed to ``gap_px``.

    The lower lip and the chin move (the jaw does most of it), the upper lip the rest of the
    way; the corners stay, so the lips in between follow a parabola.

    Args:
        landmarks: ``(478, 2)`` landmarks.
        gap_px: Wanted opening between the inner-lip midpoints (13-14), pixels (0 = closed).

    Returns:
        ``(P, 2)`` points in :data:`MOUTH_POINTS` order.
    """
    lm = np.asarray(landmarks, np.float32)
    out = lm[list(MOUTH_POINTS)].copy()
    delta = max(float(gap_px), 0.0) - max(float(lm[14, 1] - lm[13, 1]), 0.0)
    cx = 0.5 * float(lm[61, 0] + lm[291, 0])
    half = max(0.5 * float(lm[291, 0] - lm[61, 0]), 1.0)
    for p in LOWER_LIP + UPPER_LIP:
        w = float(np.clip(1.0 - ((lm[p, 0] - cx) / half) ** 2, 0.0, 1.0))
        share = JAW_SHARE if p in LOWER_LIP else -(1.0 - JAW_SHARE)
        out[_ROW[p], 1] += share * delta * w
    for p in CHIN_ARC:
        out[_ROW[p], 1] += JAW_SHARE * delta * 0.8
    return close_crossed_lips(out)


def closed_mouth(landmarks: np.ndarray) -> np.ndarray:
    """The :data:`MOUTH_POINTS` of ``landmarks`` with the lips brought together."""
    return reshape_gap(landmarks, 0.0)


def seal_lips(crop: np.ndarray, mouth: np.ndarray) -> np.ndarray:
    """Draw the line where closed lips meet (a darkened lip colour) over a squeezed opening.

    A mouth closed by warping keeps a thin line of what was inside (teeth show as a pale
    seam); closed lips meet in a soft dark line instead.
    """
    size = crop.shape[0]
    pts = np.asarray(mouth, np.float32)
    lips = np.clip(
        poly_mask(size, pts[[_ROW[p] for p in LIPS_OUTER]])
        - poly_mask(size, pts[[_ROW[p] for p in LIPS_INNER]]),
        0, 1,
    )  # fmt: skip
    lab = lab_mean(crop, lips)
    seam = 0.5 * (pts[[_ROW[p] for p in INNER_UPPER]] + pts[[_ROW[p] for p in INNER_LOWER]])
    line = np.zeros((size, size), np.uint8)
    cv2.polylines(line, [np.round(seam * 4).astype(np.int32)], False, 255, 2, cv2.LINE_AA, 2)
    alpha = cv2.GaussianBlur(line.astype(np.float32) / 255.0, (0, 0), 0.8)[..., None]
    colour = np.array([0.62 * lab[0], lab[1], lab[2]], np.float32)
    bgr = cv2.cvtColor(colour.reshape(1, 1, 3).astype(np.uint8), cv2.COLOR_LAB2BGR)
    out = crop.astype(np.float32) * (1 - alpha) + bgr.astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def inner_gap_px(mouth: np.ndarray) -> float:
    """Opening between the inner-lip midpoints (13-14), in pixels."""
    return float(mouth[_ROW[14], 1] - mouth[_ROW[13], 1])


def synthesise_cavity(
    target: np.ndarray,
    target_lm: np.ndarray,
    mouth: np.ndarray,
    eye_px: float,
    teeth: bool = True,
    cavity_colour: np.ndarray | None = None,
) -> np.ndarray:
    """A mouth interior for the opening of ``mouth``, in the target's colours (BGR crop).

    The cavity is the lip colour darkened and desaturated, darkest in its middle; an upper teeth
    band hangs under the upper inner lip (lighter than the skin, nearly neutral), a lower band
    shows above the lower lip only when the mouth is wide open. ``teeth=False`` gives the bare
    cavity (what shows between the actor's own teeth rows, :mod:`lipcore.engines.oneshot_teeth`);
    ``cavity_colour`` (LAB, in this crop's lighting) gives the actor's own cavity colour
    instead of the one derived from the lips, shaded more gently (it is measured, not guessed).
    """
    size = target.shape[0]
    lm = np.asarray(target_lm, np.float32)
    outer = poly_mask(size, lm[list(LIPS_OUTER)])
    inner = poly_mask(size, lm[list(LIPS_INNER)])
    lips = np.clip(outer - cv2.dilate(inner, np.ones((3, 3), np.uint8)), 0, 1)
    lip = lab_mean(target, lips)
    skin_region = np.zeros((size, size), np.float32)
    cv2.circle(skin_region, tuple(np.round(lm[2]).astype(int)), max(int(0.12 * eye_px), 3), 1, -1)
    skin = lab_mean(target, skin_region)
    gap = max(inner_gap_px(mouth), 0.0)
    up = mouth[[_ROW[p] for p in INNER_UPPER]]
    lo = mouth[[_ROW[p] for p in INNER_LOWER]]
    img = np.zeros((size, size, 3), np.float32)
    if cavity_colour is None:
        cavity_l, depth = 0.22 * lip[0], 0.45
        img[..., 1] = 128 + 0.55 * (lip[1] - 128)
        img[..., 2] = 128 + 0.35 * (lip[2] - 128)
    else:
        cavity_l, depth = float(cavity_colour[0]), 0.2
        img[..., 1], img[..., 2] = float(cavity_colour[1]), float(cavity_colour[2])
    img[..., 0] = cavity_l
    # Darker towards the throat: shade by distance from the lip line
    opening = poly_mask(size, np.concatenate([up, lo[::-1]]))
    dist = cv2.distanceTransform((opening > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    img[..., 0] *= 1.0 - depth * np.clip(dist / max(0.25 * gap, 1.0), 0, 1)
    teeth_l = float(np.clip(max(skin[0] * 1.05 + 12.0, lip[0] + 40.0), 0, 235))
    tooth = np.array([teeth_l, 128 + 1.0, 128 + 6.0], np.float32)
    # Teeth fill the middle of the opening, not its corners (there the cavity shows): each band
    # tapers to nothing towards the corners along the same parabola the lips open by
    cx = float(mouth[_ROW[13], 0])
    half_w = max(0.5 * float(mouth[_ROW[308], 0] - mouth[_ROW[78], 0]), 1.0)
    xs = np.arange(size, dtype=np.float32)[None, :]
    across = np.clip(1.0 - ((xs - cx) / (0.8 * half_w)) ** 2, 0.0, 1.0)
    shade = np.repeat(np.clip(0.55 + 0.45 * across, 0.0, 1.0), size, axis=0)
    ys = np.arange(size, dtype=np.float32)[:, None]

    def band_mask(edge: np.ndarray, depth: float, down: bool) -> np.ndarray:
        # Pixels within ``depth * taper`` of the lip edge (below it for the upper teeth)
        line = np.interp(xs[0], edge[:, 0], edge[:, 1]).astype(np.float32)[None, :]
        taper = np.sqrt(across)
        inside = (ys - line) if down else (line - ys)
        return (np.clip((depth * taper - inside) + 0.5, 0.0, 1.0) * (inside > -1.0)) * opening

    band = min(0.38 * gap, 0.075 * eye_px) if teeth else 0.0
    if band >= 1.0:
        upper_teeth = band_mask(up[np.argsort(up[:, 0])], band, down=True)
        # Faint gaps between the teeth (a tooth is about a tenth of the eye distance wide)
        tooth_w = max(0.1 * eye_px, 3.0)
        seams = 1.0 - 0.18 * np.clip(1.0 - np.abs(((xs - cx) / tooth_w) % 1.0 - 0.5) * 8, 0, 1)
        t_img = np.empty_like(img)
        t_img[..., 0] = (tooth[0] * shade + cavity_l * (1 - shade)) * seams
        t_img[..., 1], t_img[..., 2] = tooth[1], tooth[2]
        img = img * (1 - upper_teeth[..., None]) + t_img * upper_teeth[..., None]
    if teeth and gap > 0.16 * eye_px:
        lband = min(0.2 * gap, 0.045 * eye_px)
        lower_teeth = band_mask(lo[np.argsort(lo[:, 0])], lband, down=False) * 0.6
        dim = np.empty_like(img)
        dim[..., 0] = 0.8 * tooth[0] * shade + cavity_l * (1 - shade)
        dim[..., 1], dim[..., 2] = tooth[1], tooth[2]
        img = img * (1 - lower_teeth[..., None]) + dim * lower_teeth[..., None]
    bgr = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    return cv2.GaussianBlur(bgr, (0, 0), 0.6)


def borrowed_cavity(
    source: CavitySource, target: np.ndarray, target_lm: np.ndarray, mouth: np.ndarray
) -> np.ndarray:
    """The actor's own open mouth interior warped into the opening of ``mouth`` (BGR crop)."""
    src_lm = np.asarray(source.landmarks, np.float32)
    idx = list(LIPS_INNER) + list(LIPS_OUTER)
    src_pts = src_lm[idx]
    dst_pts = mouth[[_ROW[p] for p in idx]]
    size = target.shape[0]
    anchors = ring_anchors(dst_pts, scale=1.8, count=12, size=size)
    src_anchor = ring_anchors(src_pts, scale=1.8, count=12, size=size)
    warped = warp_image(
        source.crop, np.vstack([src_pts, src_anchor]), np.vstack([dst_pts, anchors]),
        interpolation=cv2.INTER_CUBIC,
    )  # fmt: skip
    # Match the target's lighting: lightness and colour of the lips around the opening
    n_inner = len(LIPS_INNER)
    ring = np.clip(poly_mask(size, dst_pts[n_inner:]) - poly_mask(size, dst_pts[:n_inner]), 0, 1)
    shift = lab_mean(target, lip_ring(target_lm, size)) - lab_mean(warped, ring)
    lab = cv2.cvtColor(warped, cv2.COLOR_BGR2LAB).astype(np.float32) + shift * [0.6, 0.5, 0.5]
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _own_cavity(source: CavitySource, target: np.ndarray, target_lm: np.ndarray) -> np.ndarray:
    """The exemplar's cavity colour (:func:`cavity_lab`) in the target's lighting (LAB)."""
    own, src_lip = source.cavity_colour, source.lip_colour
    dst_lip = lab_mean(target, lip_ring(target_lm, target.shape[0]))
    out = own.copy()
    out[0] = own[0] * float(dst_lip[0]) / max(float(src_lip[0]), 1.0)
    out[1:] = own[1:] + 0.5 * (dst_lip[1:] - src_lip[1:])
    return out


def mouth_triangles(points: np.ndarray, eye_px: float) -> np.ndarray:
    """Triangles for a warp whose first rows are :data:`MOUTH_POINTS`, never crossing the lips.

    The points are triangulated with the inner lips held apart (so the opening is its own fan of
    triangles between the upper and the lower inner contour, and no triangle joins an inner-lip
    point to the far side of the other lip); source and destination then share that topology.
    """
    ref = np.asarray(points, np.float64).copy()
    sep = 0.015 * eye_px
    for up, lo in INNER_PAIRS:
        a, b = _ROW[up], _ROW[lo]
        if ref[b, 1] - ref[a, 1] < 2 * sep:
            mid = 0.5 * (ref[a, 1] + ref[b, 1])
            ref[a, 1], ref[b, 1] = mid - sep, mid + sep
    return triangulate(ref)


def warp_mouth(
    texture: np.ndarray,
    texture_lm: np.ndarray,
    mouth: np.ndarray,
    eye_px: float,
    interpolation: int = WARP_INTERPOLATION,
    corner_tails: bool = False,
) -> np.ndarray:
    """Deform ``texture`` so its :data:`MOUTH_POINTS` lie at ``mouth`` (no interior painting).

    Eyes, nose, cheeks and jaw angles stay put, and a ring of fixed points around the mouth
    and chin confines the deformation to the lower face.

    Args:
        texture: ``(S, S, 3)`` uint8 BGR crop.
        texture_lm: ``(478, 2)`` its landmarks.
        mouth: ``(P, 2)`` wanted positions of :data:`MOUTH_POINTS` (crop pixels).
        eye_px: Eye distance in the crop.
        interpolation: OpenCV resampling of the warp.
        corner_tails: Carry the skin just beyond each lip corner with it
            (:func:`corner_tail_points`).

    Returns:
        ``(S, S, 3)`` uint8 BGR crop.
    """
    src, dst, triangles = mouth_warp_points(
        texture_lm, mouth, eye_px, texture.shape[0], corner_tails=corner_tails
    )
    return warp_image(texture, src, dst, interpolation=interpolation, triangles=triangles)


def corner_tail_points(
    texture_lm: np.ndarray, mouth: np.ndarray, eye_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points around the outside of the lip corners (61, 291) in the texture, and where they go.

    Each corner gets :data:`CORNER_TAIL_ANGLES_DEG` points :data:`CORNER_TAIL_EYE` from it
    (straight out along the line through both corners, and turned up and down from there),
    moving by :data:`CORNER_TAIL_SHARE` of its corner's motion: the crease and the shading at
    a corner go where the corner goes, and the stretch is taken up by the plain cheek beyond.

    Returns:
        ``(src, dst)``, each ``(2 * len(CORNER_TAIL_ANGLES_DEG), 2)`` float32.
    """
    lm = np.asarray(texture_lm, np.float32)
    corners = lm[[61, 291]]
    new = np.asarray(mouth, np.float32)[[_ROW[61], _ROW[291]]]
    axis = corners[0] - corners[1]
    axis = axis / max(float(np.linalg.norm(axis)), 1e-6)
    src, dst = [], []
    for k, outward in enumerate((axis, -axis)):
        for deg in CORNER_TAIL_ANGLES_DEG:
            a = np.radians(deg)
            c, s_ = float(np.cos(a)), float(np.sin(a))
            d = np.float32([c * outward[0] - s_ * outward[1], s_ * outward[0] + c * outward[1]])
            at = corners[k] + CORNER_TAIL_EYE * float(eye_px) * d
            src.append(at)
            dst.append(at + CORNER_TAIL_SHARE * (new[k] - corners[k]))
    return np.asarray(src, np.float32), np.asarray(dst, np.float32)


def mouth_warp_points(
    texture_lm: np.ndarray,
    mouth: np.ndarray,
    eye_px: float,
    size: int,
    corner_tails: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The control points and triangles of :func:`warp_mouth` on a ``size`` px crop.

    Returns:
        ``(src, dst, triangles)`` for :func:`lipcore.face.warp.warp_image`: the texture's mouth
        points, fixed anchors, a ring around the mouth and the crop's corners (with
        ``corner_tails`` also :func:`corner_tail_points`), and where they go.
    """
    lm = np.asarray(texture_lm, np.float32)
    src_mouth = lm[list(MOUTH_POINTS)]
    fixed = lm[list(ANCHOR_POINTS)]
    ring = ring_anchors(np.vstack([src_mouth, mouth]), scale=1.45, count=20, size=size)
    edge = np.float32([[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]])
    src = np.vstack([src_mouth, fixed, ring, edge])
    dst = np.vstack([mouth, fixed, ring, edge])
    if corner_tails:
        tail_src, tail_dst = corner_tail_points(lm, mouth, eye_px)
        src, dst = np.vstack([src, tail_src]), np.vstack([dst, tail_dst])
    return src, dst, mouth_triangles(dst, eye_px)


def render_mouth(
    texture: np.ndarray,
    texture_lm: np.ndarray,
    mouth: np.ndarray,
    eye_px: float,
    cavity: CavitySource | None = None,
    light_at_new_lips: bool = False,
    rigid_teeth: bool = False,
    corner_tails: bool = False,
) -> np.ndarray:
    """Deform ``texture``'s lower face so :data:`MOUTH_POINTS` lie at ``mouth``; fill the opening.

    Args:
        texture: ``(S, S, 3)`` uint8 BGR crop giving the face's pixels (already on the target).
        texture_lm: ``(478, 2)`` its landmarks.
        mouth: ``(P, 2)`` wanted positions of :data:`MOUTH_POINTS` (crop pixels).
        eye_px: Eye distance in the crop (sizes the teeth).
        cavity: The actor's own open mouth, or None to synthesise the interior.
        light_at_new_lips: Match the borrowed interior's lighting to the lips where the warp
            put them (``mouth``) rather than where they were in the texture (``texture_lm``).
            On the warped crop the old lip ring of a mouth opened far covers the stretched
            opening, whose dark pixels then darken the borrowed teeth (a closed A07 frame opened
            to 0.2 eye distances: the opening's mean lightness 57 instead of the real open
            frame's 75, teeth 5% of it instead of 15%).
        rigid_teeth: Place ``cavity``'s teeth rows at their own size under the new lips, split
            at its own bite (:func:`lipcore.engines.oneshot_teeth.rigid_teeth_cavity`), instead
            of warping its whole opening onto the new one (which stretches or squeezes the
            teeth with the opening).
        corner_tails: Carry the creases beyond the lip corners with them
            (:func:`corner_tail_points`).

    Returns:
        ``(S, S, 3)`` uint8 BGR crop.
    """
    size = texture.shape[0]
    lm = np.asarray(texture_lm, np.float32)
    mouth = close_crossed_lips(mouth)
    out = warp_mouth(texture, lm, mouth, eye_px, corner_tails=corner_tails)
    gap = inner_gap_px(mouth)
    tex_gap = max(inner_gap_px(lm[list(MOUTH_POINTS)]), 0.0)
    if gap < 0.8:
        # Lips pressed shut over an open texture mouth: draw where they meet, not the squeezed
        # interior (a pale line of teeth)
        return seal_lips(out, mouth) if tex_gap > 2.0 else out
    # Where the texture's own opening is smaller than the wanted one, its interior is a
    # stretched lip line: paint the interior instead (fully when the texture mouth was closed)
    weight = float(np.clip(1.0 - tex_gap / gap, 0.0, 1.0))
    if weight <= 0.0:
        return out
    ring_lm = lm
    if light_at_new_lips:
        ring_lm = lm.copy()
        ring_lm[list(MOUTH_POINTS)] = mouth
    if cavity is not None and rigid_teeth:
        # The actor's rows at their own size, split at their own bite, the band between them
        # squeezed or parted over the actor's own dark
        drawn_lm = lm.copy()
        drawn_lm[list(MOUTH_POINTS)] = mouth
        dark = synthesise_cavity(
            out, lm, mouth, eye_px, teeth=False, cavity_colour=_own_cavity(cavity, out, lm)
        )
        interior = rigid_teeth_cavity(
            cavity.crop, cavity.landmarks, out, drawn_lm, mouth, eye_px, dark, cavity.bite
        )
    elif cavity is not None:
        interior = borrowed_cavity(cavity, out, ring_lm, mouth)
    else:
        interior = synthesise_cavity(out, lm, mouth, eye_px)
    inner = mouth[[_ROW[p] for p in LIPS_INNER]]
    mask = cv2.GaussianBlur(poly_mask(size, inner), (0, 0), 0.7) * weight
    blended = out.astype(np.float32) * (1 - mask[..., None]) + interior * mask[..., None]
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def reshape_mouth(
    crop: np.ndarray,
    landmarks: np.ndarray,
    gap_px: float,
    cavity: CavitySource | None = None,
    light_at_new_lips: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A frame's mouth made to open to ``gap_px`` (either way): the shape a library lacks.

    Closing squeezes the opening and draws where the lips meet; opening warps the lips apart
    (the jaw most of the way) and fills the new opening with the actor's own open mouth
    (``cavity``) or, without one, a cavity and teeth synthesised in the face's colours.

    Args:
        crop: ``(S, S, 3)`` uint8 BGR crop.
        landmarks: ``(478, 2)`` its landmarks.
        gap_px: Wanted inner-lip gap (13-14), pixels.
        cavity: The actor's own open mouth (same crop space), or None.
        light_at_new_lips: See :func:`render_mouth`.

    Returns:
        ``(crop, landmarks)`` with the mouth points moved to the new shape.
    """
    lm = np.asarray(landmarks, np.float32)
    eye = float(np.linalg.norm(lm[263] - lm[33]))
    mouth = reshape_gap(lm, gap_px)
    out = render_mouth(crop, lm, mouth, eye, cavity, light_at_new_lips=light_at_new_lips)
    if gap_px < 1.0 and inner_gap_px(lm[list(MOUTH_POINTS)]) > 2.0:
        out = seal_lips(out, mouth)
    new_lm = lm.copy()
    new_lm[list(MOUTH_POINTS)] = mouth
    return out, new_lm


__all__ = [
    "ANCHOR_POINTS",
    "CORNER_TAIL_ANGLES_DEG",
    "CORNER_TAIL_EYE",
    "CORNER_TAIL_SHARE",
    "CavitySource",
    "borrowed_cavity",
    "close_crossed_lips",
    "corner_tail_points",
    "closed_mouth",
    "inner_gap_px",
    "mouth_warp_points",
    "render_mouth",
    "reshape_gap",
    "reshape_mouth",
    "seal_lips",
    "synthesise_cavity",
    "warp_mouth",
]
