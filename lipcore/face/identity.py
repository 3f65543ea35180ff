"""Identity cues for linking face tracks across gaps and shots when no ArcFace model is present.

The appearance descriptor is a hue/saturation histogram of the head region (face, hair and a bit
of collar, located by the mesh) plus a few pose-robust landmark ratios.  It separates people who
differ in skin tone, hair or clothing under similar light; it cannot tell look-alikes apart and
drifts under strong lighting changes, so the tracker uses it only with a strict threshold and
never to merge tracks that overlap in time.  ArcFace embeddings (insightface backend) replace it
when available.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.face import landmarks as L
from lipcore.face.mesh import crop_square

_H_BINS, _S_BINS = 16, 8


def appearance_descriptor(frame_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Colour + geometry descriptor of one face (L2-normalised, compare with a dot product).

    Args:
        frame_bgr: ``(H, W, 3)`` frame.
        landmarks: ``(478, 2)`` FaceMesh points of the face in that frame.

    Returns:
        ``(_H_BINS * _S_BINS + 4,)`` float32 unit vector.
    """
    box = L.landmarks_box(landmarks)
    crop, *_ = crop_square(frame_bgr, box, 1.4, 64)  # head + hair + collar
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    # Drop near-black pixels: padding past the frame edge and deep shadow carry no colour.
    mask = (hsv[..., 2] > 30).astype(np.uint8)
    hist = cv2.calcHist([hsv], [0, 1], mask, [_H_BINS, _S_BINS], [0, 180, 0, 256]).flatten()
    hist = np.sqrt(hist / max(float(hist.sum()), 1.0))  # Hellinger: dot product = Bhattacharyya
    eye = float(L.eye_distance(landmarks))
    s = max(eye, 1e-6)
    lm = landmarks
    geom = np.array(
        [
            np.linalg.norm(lm[L.NOSE_BOTTOM] - lm[L.CHIN]) / s,  # lower face height
            np.linalg.norm(lm[L.MOUTH_RIGHT] - lm[L.MOUTH_LEFT]) / s,
            np.linalg.norm(lm[L.FOREHEAD] - lm[L.CHIN]) / s,
            np.linalg.norm(lm[L.EYE_RIGHT_INNER] - lm[L.EYE_LEFT_INNER]) / s,
        ],
        dtype=np.float32,
    )
    # Geometry gets a small weight: it changes with head turn more than between people.
    vec = np.concatenate([hist.astype(np.float32), 0.15 * geom])
    return (vec / max(float(np.linalg.norm(vec)), 1e-9)).astype(np.float32)


def mean_unit(vectors: list[np.ndarray]) -> np.ndarray | None:
    """Normalised mean of unit vectors (None for an empty list)."""
    if not vectors:
        return None
    m = np.mean(np.stack(vectors), axis=0)
    return (m / max(float(np.linalg.norm(m)), 1e-9)).astype(np.float32)
