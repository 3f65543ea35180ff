"""A face the user points out by hand: keyframed boxes, interpolated, landmarks fitted inside.

For faces the detector cannot find (cartoons, CGI, stylised or tiny faces) the user gives the
face's box on a few frames (``--face-box X,Y,W,H@FRAME``, or in the viewer). Between keys the
box is interpolated linearly (held before the first and after the last key). On each frame
FaceMesh is run on the box; where it finds the face there, its landmarks are used. Where it
does not, a parametric face is placed in the box: the project's mean resting face (learnt with
the mouth-shape model, ``lipcore/data/mouth_shape.json``), so the mouth corners and lips sit at
their usual places in the box and drive the one-shot warp. If FaceMesh finds the face on most
frames, the frames it misses are filled from its neighbours instead, so the two never alternate.

A key may also carry the parametric mouth's four points (:data:`MOUTH_HANDLES`: the image-left
and image-right corners, the upper and lower lip's outer centres), in box-relative coordinates
(0..1 of the box's width and height), so they move with the box; between keys they are
interpolated like the box, and a key without them uses the mean face's (or, where FaceMesh
fits, the fitted mouth). The mean face is then bent (each lip half by an affine map, the face
around by the points' motion, the eyes, nose and brow held still) so its lips lie on the user's.
Where FaceMesh fits, its mouth is moved onto the points of the keys that have them, so the user
can also correct a fit that misplaces the mouth.

A key is ``(frame, x, y, w, h)`` or ``(frame, x, y, w, h, lx, ly, rx, ry, ux, uy, dx, dy)``.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import cv2
import numpy as np

from lipcore.errors import LipsyncError
from lipcore.face.types import FaceTrack, TrackSet
from lipcore.progress import Progress

#: Share of frames FaceMesh must fit for its landmarks to be used (else the template is).
MESH_MAJORITY = 0.5
#: The parametric mouth's points a user can move, as FaceMesh indices: image-left corner,
#: image-right corner, upper lip's outer centre, lower lip's outer centre.
MOUTH_HANDLES = (61, 291, 0, 17)
#: FaceMesh points held still when the mouth is moved (the face-alignment points: eyes, nose
#: line, temples, brow), so the crop and the head stay where the box puts them.
_HELD_POINTS = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 127, 356, 70, 300, 105, 334, 10)
#: Smallest mouth width (box units) and lip height (box units, and share of the mouth's width;
#: the mean face's is 0.33) the lips are given: a line-thin drawn mouth still gets lips the
#: warp can open.
_MIN_MOUTH_WIDTH = 0.05
_MIN_LIP_HEIGHT = 0.02
_MIN_LIP_SHARE = 0.15
#: How far (in mouth widths) the lips' move carries into the face around them.
_FADE_REACH = 0.6
_FIX = "write X,Y,W,H or X,Y,W,H@FRAME in pixels, e.g. 120,80,200,220@0 300,90,190,210@120"
_MOUTH_FIX = (
    "after the box write :mouth=LX,LY,RX,RY,UX,UY,DX,DY, the left and right corner, the upper "
    "and lower lip centre as 0..1 of the box's width and height, "
    "e.g. 120,80,200,220@0:mouth=.32,.73,.66,.73,.49,.68,.49,.79"
)

#: One key: ``(frame, x, y, w, h)``, optionally followed by the 8 box-relative mouth values.
BoxKey = tuple


def parse_face_boxes(texts: list[str] | str) -> list[BoxKey]:
    """Read ``X,Y,W,H[@FRAME][:mouth=LX,LY,RX,RY,UX,UY,DX,DY]`` keys into sorted tuples.

    Args:
        texts: One string with keys separated by spaces, or a list of such strings.

    Returns:
        ``[(frame, x, y, w, h[, lx, ly, rx, ry, ux, uy, dx, dy]), ...]`` sorted by frame; a key
        without ``@FRAME`` is frame 0; the mouth values are 0..1 of the box.

    Raises:
        LipsyncError: A key cannot be read, has no area, two keys share a frame, or its mouth
            points are not 8 numbers inside the box with the lips between the corners.
    """
    items = texts.split() if isinstance(texts, str) else [t for s in texts for t in s.split()]
    keys = []
    for item in items:
        head, sep, mouth_text = item.partition(":")
        box, _, frame = head.partition("@")
        try:
            x, y, w, h = (float(v) for v in box.split(","))
            f = int(frame) if frame else 0
        except ValueError as exc:
            raise LipsyncError(f"cannot read the face box {item!r}", fix=_FIX) from exc
        if w <= 0 or h <= 0 or f < 0:
            raise LipsyncError(f"the face box {item!r} has no area or a negative frame", fix=_FIX)
        key: tuple = (f, x, y, w, h)
        if sep:
            key += tuple(_parse_mouth(item, mouth_text))
        keys.append(key)
    if not keys:
        raise LipsyncError("no face box given", fix=_FIX)
    keys.sort()
    frames = [k[0] for k in keys]
    if len(set(frames)) != len(frames):
        raise LipsyncError("two face boxes are given for the same frame", fix=_FIX)
    return keys


def _parse_mouth(item: str, text: str) -> list[float]:
    """The 8 values of a key's ``mouth=...`` part, checked by :func:`check_mouth`."""
    name, eq, values = text.partition("=")
    if name != "mouth" or not eq:
        raise LipsyncError(f"cannot read {text!r} in the face box {item!r}", fix=_MOUTH_FIX)
    try:
        vals = [float(v) for v in values.split(",")]
    except ValueError as exc:
        raise LipsyncError(
            f"cannot read the mouth points {values!r} of {item!r}", fix=_MOUTH_FIX
        ) from exc
    problem = check_mouth(vals)
    if problem:
        raise LipsyncError(f"the mouth points {values!r} of {item!r}: {problem}", fix=_MOUTH_FIX)
    return vals


def check_mouth(values) -> str | None:
    """Why 8 box-relative mouth values cannot be used, or None when they can.

    They must be 8 finite numbers in 0..1, the left corner left of the right one, and the
    upper lip above the lower one.
    """
    vals = np.asarray(values, np.float64).reshape(-1)
    if len(vals) != 8:
        return f"{len(vals)} numbers given, 8 needed (LX,LY,RX,RY,UX,UY,DX,DY)"
    if not np.all(np.isfinite(vals)) or vals.min() < 0 or vals.max() > 1:
        bad = next(v for v in vals if not (np.isfinite(v) and 0 <= v <= 1))
        return f"{bad:g} lies outside the box (use 0..1 of the box's width and height)"
    if vals[0] >= vals[2]:
        return "the left corner is not left of the right corner"
    if vals[5] > vals[7]:
        return "the upper lip is below the lower lip"
    return None


def key_mouth(key: BoxKey) -> np.ndarray | None:
    """A key's ``(4, 2)`` box-relative mouth points (:data:`MOUTH_HANDLES` order), or None."""
    return np.asarray(key[5:13], np.float64).reshape(4, 2) if len(key) >= 13 else None


def default_mouth() -> np.ndarray:
    """The mean face's ``(4, 2)`` box-relative mouth points (where they sit without a key's)."""
    return _template()[list(MOUTH_HANDLES)].astype(np.float64)


def with_mouth(key: BoxKey, mouth: np.ndarray | None) -> BoxKey:
    """``key`` with its mouth points replaced (None: removed); values rounded to 1e-4."""
    base = tuple(key[:5])
    if mouth is None:
        return base
    vals = [round(float(v), 4) for v in np.asarray(mouth, np.float64).reshape(-1)]
    problem = check_mouth(vals)
    if problem:
        raise ValueError(f"mouth points {vals}: {problem}")
    return base + tuple(vals)


def interpolate_boxes(keys: list[BoxKey], n_frames: int) -> np.ndarray:
    """``(n_frames, 4)`` float32 ``x0, y0, x1, y1`` boxes, linear between keys, held outside."""
    frames = np.array([k[0] for k in keys], np.float64)
    xywh = np.array([k[1:5] for k in keys], np.float64)
    t = np.arange(n_frames, dtype=np.float64)
    cols = [np.interp(t, frames, xywh[:, j]) for j in range(4)]
    x, y, w, h = cols
    return np.stack([x, y, x + w, y + h], axis=1).astype(np.float32)


def has_mouth(keys: list[BoxKey]) -> bool:
    """Whether any key places the mouth."""
    return any(len(k) >= 13 for k in keys)


def interpolate_mouths(keys: list[BoxKey], n_frames: int) -> np.ndarray:
    """``(n_frames, 4, 2)`` box-relative mouth points, linear between keys, held outside.

    A key without mouth points counts with the mean face's (:func:`default_mouth`).
    """
    default = default_mouth()
    frames = np.array([k[0] for k in keys], np.float64)
    rel = np.stack([m if (m := key_mouth(k)) is not None else default for k in keys])
    t = np.arange(n_frames, dtype=np.float64)
    flat = rel.reshape(len(keys), 8)
    cols = [np.interp(t, frames, flat[:, j]) for j in range(8)]
    return np.stack(cols, axis=1).reshape(n_frames, 4, 2)


def box_at(keys: list[BoxKey], frame: int) -> tuple[np.ndarray, np.ndarray]:
    """The interpolated box ``(x0, y0, x1, y1)`` and mouth points (frame pixels) at ``frame``."""
    frames = np.array([k[0] for k in keys], np.float64)
    x, y, w, h = (float(np.interp(frame, frames, [k[1 + j] for k in keys])) for j in range(4))
    box = np.array([x, y, x + w, y + h])
    default = default_mouth().reshape(8)
    rel = np.stack([m.reshape(8) if (m := key_mouth(k)) is not None else default for k in keys])
    at = np.array([np.interp(frame, frames, rel[:, j]) for j in range(8)]).reshape(4, 2)
    return box, mouth_in_box(at, box)


def mouth_in_box(rel: np.ndarray, box) -> np.ndarray:
    """Box-relative ``(4, 2)`` mouth points to frame pixels in ``box`` (``x0, y0, x1, y1``)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return np.asarray(rel, np.float64) * [x1 - x0, y1 - y0] + [x0, y0]


def mouth_of_box(points: np.ndarray, box) -> np.ndarray:
    """Frame-pixel ``(4, 2)`` mouth points to box-relative ones, clipped into the box."""
    x0, y0, x1, y1 = (float(v) for v in box)
    rel = (np.asarray(points, np.float64) - [x0, y0]) / [max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)]
    return np.clip(rel, 0.0, 1.0)


def _template() -> np.ndarray:
    """The mean resting face, ``(478, 2)`` in box-relative coordinates."""
    from lipcore.engines.mouth_shape import load_mouth_shape_model

    template = load_mouth_shape_model().meta.get("face_template")
    if template is None:
        raise LipsyncError(
            "the mouth-shape model has no face template",
            fix="re-run python -m training.fit_mouth_shape",
        )
    return np.asarray(template, np.float64)


def _bend_mouth(template: np.ndarray, mouth: np.ndarray) -> np.ndarray:
    """The box-relative template bent so its :data:`MOUTH_HANDLES` lie on ``mouth``.

    The lips follow exactly: each lip point moves with the affine map of its half, the upper
    lip with the triangle (corners, upper centre), the lower with (corners, lower centre), so the
    two halves meet on the corners' line and keep their drawn shape. Every other point moves
    with the four handles' displacements (inverse-distance weighted), fading out within about
    a mouth's width and toward the held points (eyes, nose line, brow), which stay: the crop,
    the head and the chin stay where the box puts them (the chin only makes room below a
    lowered lip). The asked mouth is first given a minimal width and lip height, so a
    line-thin drawn mouth still gets lips the warp can open.
    """
    from lipcore.engines.mouth_shape import CHIN_ARC
    from lipcore.face.landmarks import LIPS_INNER, LIPS_OUTER

    want = np.asarray(mouth, np.float64).copy()
    centre_x = (want[0, 0] + want[1, 0]) / 2
    half_w = max(want[1, 0] - want[0, 0], _MIN_MOUTH_WIDTH) / 2
    want[0, 0], want[1, 0] = centre_x - half_w, centre_x + half_w
    centre_y = (want[2, 1] + want[3, 1]) / 2
    min_h = max(_MIN_LIP_HEIGHT, _MIN_LIP_SHARE * 2 * half_w)
    half_h = max(want[3, 1] - want[2, 1], min_h) / 2
    want[2, 1], want[3, 1] = centre_y - half_h, centre_y + half_h
    have = template[list(MOUTH_HANDLES)]
    bent = template.copy()
    # Other points: the handles' motion, weighted by nearness, fading toward the held points
    move = want - have
    d_handle = np.linalg.norm(template[:, None] - have[None], axis=2) + 1e-6  # (478, 4)
    shepard = (1.0 / d_handle**2) / (1.0 / d_handle**2).sum(1, keepdims=True)
    d_held = np.linalg.norm(template[:, None] - template[list(_HELD_POINTS)][None], axis=2)
    near_held, near_mouth = d_held.min(1), d_handle.min(1)
    # Gone within about a mouth's width: the chin and jaw are the box's, not the lips'
    reach = _FADE_REACH * max(float(want[1, 0] - want[0, 0]), _MIN_MOUTH_WIDTH)
    fade = near_held / (near_held + near_mouth) * np.exp(-((near_mouth / reach) ** 2))
    bent += fade[:, None] * (shepard @ move)
    bent[list(_HELD_POINTS)] = template[list(_HELD_POINTS)]
    # The chin stays below the lower lip (by at least half its usual distance)
    chin = list(CHIN_ARC)
    floor = want[3, 1] + 0.5 * (template[chin, 1] - have[3, 1])
    bent[chin, 1] = np.maximum(bent[chin, 1], floor)
    # Lips: exact, one affine map per half
    lips = np.array(sorted(set(LIPS_OUTER) | set(LIPS_INNER)))
    left, right = have[0], have[1]
    edge = right - left
    rel = template[lips] - left
    side = np.sign(edge[0] * rel[:, 1] - edge[1] * rel[:, 0])  # which side of the corners' line
    up = have[2] - left
    upper_side = np.sign(edge[0] * up[1] - edge[1] * up[0]) or -1.0
    for rows, centre in ((lips[side == upper_side], 2), (lips[side != upper_side], 3)):
        src = np.stack([have[0], have[1], have[centre]])
        dst = np.stack([want[0], want[1], want[centre]])
        m = cv2.getAffineTransform(src.astype(np.float32), dst.astype(np.float32))
        bent[rows] = template[rows] @ m[:, :2].T + m[:, 2]
    return bent


def template_landmarks(box: np.ndarray, mouth: np.ndarray | None = None) -> np.ndarray:
    """The parametric face (mean resting face) placed in ``box`` (``x0, y0, x1, y1``).

    Args:
        box: The face's box in frame pixels.
        mouth: Optional ``(4, 2)`` box-relative mouth points (:data:`MOUTH_HANDLES` order);
            the face is bent so its lips lie there.

    Returns:
        ``(478, 2)`` float32 landmarks in frame pixels.
    """
    t = _template()
    if mouth is not None:
        t = _bend_mouth(t, mouth)
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    return (t * np.array([x1 - x0, y1 - y0]) + np.array([x0, y0])).astype(np.float32)


def iter_box_track(video: str | Path, keys: list[BoxKey]) -> Generator[Progress, None, TrackSet]:
    """One face track from the user's keyed boxes (FaceMesh in the box, else the template).

    Where FaceMesh fits the face on most frames its landmarks are used, and keys with mouth
    points correct its mouth there (the correction is interpolated between keys, none on keys
    without points), so the head's own motion is still followed. Otherwise the template is
    placed in each frame's box, bent to the keys' mouth points.

    Args:
        video: The clip (or still image).
        keys: Keys from :func:`parse_face_boxes`.

    Yields:
        Progress per frame.

    Returns:
        A :class:`TrackSet` with the single track ``"box-0"``.
    """
    from lipcore.face.mesh import MeshLandmarker
    from lipcore.media.decode import VideoReader

    placed = has_mouth(keys)
    with VideoReader(video) as reader:
        n = reader.frame_count
        boxes = interpolate_boxes(keys, n)
        meshed = np.full((n, 478, 2), np.nan, np.float32)
        with MeshLandmarker() as mesh:
            for i, frame in reader.iter_frames():
                pts = mesh.landmarks(frame, boxes[i])
                if pts is not None:
                    meshed[i] = pts
                yield Progress(i + 1, n, "fitting the face in the box")
        fps = reader.fps
    found = np.isfinite(meshed[:, 0, 0])
    if found.mean() >= MESH_MAJORITY:
        # FaceMesh sees the face: fill the frames it missed from the nearest fitted ones
        idx = np.nonzero(found)[0]
        near = idx[np.clip(np.searchsorted(idx, np.arange(n)), 0, len(idx) - 1)]
        landmarks = meshed[near]
        interpolated = ~found
        backend = "face-box+facemesh"
        if placed:
            landmarks = _corrected_mesh(landmarks, boxes, keys)
            backend = "face-box+facemesh+mouth"
    elif placed:
        landmarks = _placed_landmarks(boxes, interpolate_mouths(keys, n))
        interpolated = np.zeros(n, bool)
        backend = "face-box+mouth"
    else:
        landmarks = np.stack([template_landmarks(b) for b in boxes])
        interpolated = np.zeros(n, bool)
        backend = "face-box+template"
    track = FaceTrack(
        track_id="box-0",
        frames=np.arange(n, dtype=np.int64),
        boxes=boxes,
        landmarks=landmarks.astype(np.float32),
        scores=np.where(interpolated, 0.0, 1.0).astype(np.float32),
        interpolated=interpolated,
    )
    return TrackSet([track], n, fps, [], backend, Path(video))


def _corrected_mesh(landmarks: np.ndarray, boxes: np.ndarray, keys: list[BoxKey]) -> np.ndarray:
    """FaceMesh landmarks with their mouth moved onto the keys' points, in between blended.

    On a key with points the mouth handles land on them; the correction (points minus the
    fitted mouth, box-relative) is interpolated between keys and is zero on keys without points.
    """
    n = len(landmarks)
    size = np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-6).astype(np.float64)  # (n, 2)
    rel = (landmarks.astype(np.float64) - boxes[:, None, :2]) / size[:, None]  # (n, 478, 2)
    handles = list(MOUTH_HANDLES)
    frames = np.array([min(int(k[0]), n - 1) for k in keys], np.float64)
    offsets = np.stack(
        [
            (m - rel[int(f), handles]) if (m := key_mouth(k)) is not None else np.zeros((4, 2))
            for k, f in zip(keys, frames, strict=True)
        ]
    ).reshape(len(keys), 8)
    t = np.arange(n, dtype=np.float64)
    offset = np.stack([np.interp(t, frames, offsets[:, j]) for j in range(8)], 1)
    out = landmarks.astype(np.float64).copy()
    for i in np.nonzero(np.abs(offset).max(1) > 1e-4)[0]:
        want = np.clip(rel[i, handles] + offset[i].reshape(4, 2), 0.0, 1.0)
        out[i] = _bend_mouth(rel[i], want) * size[i] + boxes[i, :2]
    return out.astype(np.float32)


def _placed_landmarks(boxes: np.ndarray, mouths: np.ndarray) -> np.ndarray:
    """``(n, 478, 2)`` templates bent to ``mouths``, each distinct mouth bent once."""
    out = np.empty((len(boxes), 478, 2), np.float32)
    cache: dict[bytes, np.ndarray] = {}
    template = _template()
    for i, (box, mouth) in enumerate(zip(boxes, mouths, strict=True)):
        k = np.round(mouth, 5).tobytes()
        if k not in cache:
            cache[k] = _bend_mouth(template, mouth)
        x0, y0, x1, y1 = np.asarray(box, np.float64)
        out[i] = cache[k] * [x1 - x0, y1 - y0] + [x0, y0]
    return out


__all__ = [
    "MOUTH_HANDLES",
    "BoxKey",
    "box_at",
    "check_mouth",
    "default_mouth",
    "has_mouth",
    "interpolate_boxes",
    "interpolate_mouths",
    "iter_box_track",
    "key_mouth",
    "mouth_in_box",
    "mouth_of_box",
    "parse_face_boxes",
    "template_landmarks",
    "with_mouth",
]
