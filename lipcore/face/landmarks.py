"""FaceMesh (478-point) index constants and small geometric descriptors built on them.

Every function takes landmarks shaped ``(..., 478, 2)`` in pixels (any leading batch/time axes) and
works on the last two axes, so the same call serves one frame or a whole track. Descriptors are
divided by the outer eye-corner distance so they do not depend on the face's size in the frame.

"Right"/"left" follow MediaPipe: the subject's right (which is the image's left in a frontal view).
"""

from __future__ import annotations

import numpy as np

from lipcore.face.types import N_LANDMARKS

# --- single points -------------------------------------------------------------------------------
UPPER_LIP_INNER = 13  # middle of the upper lip's inner edge
LOWER_LIP_INNER = 14  # middle of the lower lip's inner edge
UPPER_LIP_OUTER = 0  # top of the upper lip (philtrum side)
LOWER_LIP_OUTER = 17  # bottom of the lower lip
MOUTH_RIGHT = 61  # subject's right mouth corner (image left)
MOUTH_LEFT = 291  # subject's left mouth corner (image right)
MOUTH_INNER_RIGHT = 78
MOUTH_INNER_LEFT = 308
EYE_RIGHT_OUTER = 33
EYE_RIGHT_INNER = 133
EYE_LEFT_OUTER = 263
EYE_LEFT_INNER = 362
IRIS_RIGHT = 468  # iris centres exist only with refine_landmarks=True (478-point topology)
IRIS_LEFT = 473
NOSE_TIP = 1
NOSE_BOTTOM = 2  # subnasale
CHIN = 152
FOREHEAD = 10

# --- rings and polylines (ordered, so they can be drawn / filled as polygons) -------------------
#: Outer lip contour, clockwise in the image starting at the subject's right corner.
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291,
              375, 321, 405, 314, 17, 84, 181, 91, 146)  # fmt: skip
#: Inner lip contour (the mouth opening), same orientation.
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
              324, 318, 402, 317, 14, 87, 178, 88, 95)  # fmt: skip
#: Face oval, clockwise in the image starting at the top of the forehead.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
             54, 103, 67, 109)  # fmt: skip
#: Bottom of the nose from the subject's right ala to the left one (through the subnasale).
NOSE_BASE = (64, 98, 97, 2, 326, 327, 294)
#: Nose bridge to tip.
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4, 1)
#: Face oval from the subject's left cheek at nose height, down round the chin, up to the right
#: cheek at nose height (the part of the oval below the nose line).
LOWER_FACE_OVAL = (323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                   172, 58, 132, 93)  # fmt: skip
#: Lower-face region to replace: the oval below the nose line, closed across the nose base.
LOWER_FACE = LOWER_FACE_OVAL + tuple(NOSE_BASE)

#: Names of the columns returned by :func:`mouth_shape`.
MOUTH_SHAPE_NAMES = (
    "gap",  # inner lips 13-14
    "width",  # outer corners 61-291
    "inner_width",  # inner corners 78-308
    "outer_height",  # 0-17
    "upper_lip",  # upper lip thickness 0-13
    "lower_lip",  # lower lip thickness 14-17
    "gap_right",  # inner gap off-centre, 82-87
    "gap_left",  # inner gap off-centre, 312-317
)
_MOUTH_PAIRS = ((13, 14), (61, 291), (78, 308), (0, 17), (0, 13), (14, 17), (82, 87), (312, 317))


def _check(landmarks: np.ndarray) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float32)
    if lm.ndim < 2 or lm.shape[-2] != N_LANDMARKS or lm.shape[-1] < 2:
        raise ValueError(f"expected landmarks shaped (..., {N_LANDMARKS}, 2), got {lm.shape}")
    return lm[..., :2]


def _dist(lm: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(lm[..., a, :] - lm[..., b, :], axis=-1)


def eye_distance(landmarks: np.ndarray) -> np.ndarray:
    """Outer eye-corner distance (points 33-263) in pixels, shape ``(...)``; the face's scale."""
    lm = _check(landmarks)
    return _dist(lm, EYE_RIGHT_OUTER, EYE_LEFT_OUTER)


def lip_gap(landmarks: np.ndarray) -> np.ndarray:
    """Mouth opening: inner-lip gap (13-14) divided by the outer eye-corner distance (33-263).

    Args:
        landmarks: ``(..., 478, 2)`` FaceMesh points.

    Returns:
        ``(...)`` float32, about 0 for a closed mouth and 0.3-0.5 for a wide-open one.
    """
    lm = _check(landmarks)
    scale = np.maximum(_dist(lm, EYE_RIGHT_OUTER, EYE_LEFT_OUTER), 1e-6)
    return (_dist(lm, UPPER_LIP_INNER, LOWER_LIP_INNER) / scale).astype(np.float32)


def mouth_shape(landmarks: np.ndarray) -> np.ndarray:
    """Small scale-normalised mouth descriptor (see :data:`MOUTH_SHAPE_NAMES` for the columns).

    Args:
        landmarks: ``(..., 478, 2)`` FaceMesh points.

    Returns:
        ``(..., 8)`` float32 distances divided by the outer eye-corner distance.
    """
    lm = _check(landmarks)
    scale = np.maximum(_dist(lm, EYE_RIGHT_OUTER, EYE_LEFT_OUTER), 1e-6)
    cols = [_dist(lm, a, b) / scale for a, b in _MOUTH_PAIRS]
    return np.stack(cols, axis=-1).astype(np.float32)


def lower_face_polygon(landmarks: np.ndarray) -> np.ndarray:
    """Polygon of the lower face (the region a lip-sync engine replaces).

    The face oval below the nose line, from one cheek round the chin to the other, closed across
    the base of the nose, so the mouth, chin and jaw are inside and the eyes and nose are not.

    Args:
        landmarks: ``(..., 478, 2)`` FaceMesh points.

    Returns:
        ``(..., 26, 2)`` float32 polygon vertices in the landmarks' coordinates.
    """
    lm = _check(landmarks)
    return lm[..., list(LOWER_FACE), :].astype(np.float32)


def kps5_from_mesh(landmarks: np.ndarray) -> np.ndarray:
    """Five keypoints in the insightface/ArcFace order from FaceMesh points.

    Order: subject's right eye (image left), left eye, nose tip, right mouth corner, left mouth
    corner. Eye centres are the iris centres (468/473) of the refined mesh.

    Args:
        landmarks: ``(..., 478, 2)`` FaceMesh points.

    Returns:
        ``(..., 5, 2)`` float32.
    """
    lm = _check(landmarks)
    return lm[..., [IRIS_RIGHT, IRIS_LEFT, NOSE_TIP, MOUTH_RIGHT, MOUTH_LEFT], :].astype(
        np.float32
    )


def landmarks_box(landmarks: np.ndarray) -> np.ndarray:
    """Tight ``x0, y0, x1, y1`` box around the points, shape ``(..., 4)``."""
    lm = _check(landmarks)
    return np.concatenate([lm.min(axis=-2), lm.max(axis=-2)], axis=-1).astype(np.float32)


def landmark_jitter(landmarks: np.ndarray) -> float:
    """Landmark stability of a contiguous run: mean frame-to-frame acceleration, per eye distance.

    Uses the second difference (``p[t+1] - 2 p[t] + p[t-1]``) so that steady head motion does not
    count as jitter; only the high-frequency wobble does.

    Args:
        landmarks: ``(T, 478, 2)`` points of consecutive frames.

    Returns:
        Mean point jitter divided by the mean outer eye-corner distance (nan for T < 3).
    """
    lm = _check(landmarks)
    if lm.shape[0] < 3:
        return float("nan")
    acc = lm[2:] - 2 * lm[1:-1] + lm[:-2]
    scale = float(np.mean(eye_distance(lm)))
    return float(np.mean(np.linalg.norm(acc, axis=-1)) / max(scale, 1e-6))
