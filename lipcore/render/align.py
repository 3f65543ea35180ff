"""Face alignment: a per-frame similarity transform from the frame to a canonical square crop.

The transform is fitted (least squares, Umeyama) on landmarks that do not move with speech (eye
corners, nose line, temples), so the crop stays still while the mouth and jaw move inside it. The
canonical positions of those points come from the track itself (its median shape after an
eye-based normalisation), so unusual faces (children, CGI) align as well as average ones. The
eyes sit at 33 % of the crop height and the chin near 87 %, roughly where a face detector box
with Wav2Lip's extra bottom padding puts them.
"""

from __future__ import annotations

import cv2
import numpy as np

#: FaceMesh points that stay put while a person talks (eye corners, nose line, temples, brow).
STABLE_POINTS = np.array(
    [33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 127, 356, 70, 300, 105, 334], dtype=np.int64
)
_EYE_R, _EYE_L = 33, 263  # outer eye corners (subject's right, left)
EYE_Y = 0.33  # eye line height in the crop, as a fraction of its side
EYE_SPAN = 0.45  # outer-eye-corner distance, as a fraction of the crop side


def _eye_similarity(landmarks: np.ndarray, size: int) -> np.ndarray:
    """2x3 similarity mapping the outer eye corners to their canonical crop positions."""
    src = landmarks[[_EYE_R, _EYE_L]].astype(np.float64)
    dst = (
        np.array([[0.5 - EYE_SPAN / 2, EYE_Y], [0.5 + EYE_SPAN / 2, EYE_Y]], dtype=np.float64)
        * size
    )
    return umeyama(src, dst)


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) taking ``src`` to ``dst``.

    Args:
        src: ``(K, 2)`` points.
        dst: ``(K, 2)`` target points.

    Returns:
        ``(2, 3)`` float64 affine matrix.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    var_s = (s**2).sum() / len(src)
    scale = (sig * np.diag(sign)).sum() / max(var_s, 1e-12)
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def apply_affine(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine to ``(..., 2)`` points."""
    return points @ m[:, :2].T + m[:, 2]


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a ``(2, 3)`` affine."""
    return cv2.invertAffineTransform(np.asarray(m, np.float64))


def canonical_template(landmarks: np.ndarray, size: int) -> np.ndarray:
    """Canonical crop positions of :data:`STABLE_POINTS` for one track.

    Args:
        landmarks: ``(N, 478, 2)`` landmarks of the track's frames (a subsample is fine).
        size: Crop side in pixels.

    Returns:
        ``(len(STABLE_POINTS), 2)`` positions in crop pixels.
    """
    step = max(1, len(landmarks) // 200)
    placed = [
        apply_affine(_eye_similarity(lm, size), lm[STABLE_POINTS]) for lm in landmarks[::step]
    ]
    return np.median(np.stack(placed), axis=0)


def smooth_transforms(transforms: np.ndarray, radius: int = 2) -> np.ndarray:
    """Centred moving average of per-frame similarity parameters (no lag, no forward bias).

    Args:
        transforms: ``(N, 2, 3)`` consecutive-frame transforms.
        radius: Frames on each side.

    Returns:
        ``(N, 2, 3)`` smoothed transforms (edges use the frames that exist).
    """
    n = len(transforms)
    if n < 3 or radius < 1:
        return transforms.copy()
    flat = transforms.reshape(n, 6)
    csum = np.vstack([np.zeros((1, 6)), np.cumsum(flat, axis=0)])
    lo = np.clip(np.arange(n) - radius, 0, n)
    hi = np.clip(np.arange(n) + radius + 1, 0, n)
    return ((csum[hi] - csum[lo]) / (hi - lo)[:, None]).reshape(n, 2, 3)


def frame_to_crop(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Per-frame ``(N, 2, 3)`` transforms taking frame pixels to crop pixels.

    Args:
        landmarks: ``(N, 478, 2)`` landmarks in frame pixels.
        template: Canonical positions from :func:`canonical_template`.
    """
    return np.stack([umeyama(lm[STABLE_POINTS], template) for lm in landmarks])


def warp_to_crop(
    frame: np.ndarray, m: np.ndarray, size: int, interpolation: int = cv2.INTER_CUBIC
) -> np.ndarray:
    """Cut the aligned ``size`` x ``size`` crop out of ``frame`` with transform ``m``.

    Cubic by default: a linear cut at sub-pixel offsets is a blur (on A02, cut at the face's
    native scale and pasted back unchanged, the mouth kept 0.58 of its Laplacian variance linear,
    0.81 cubic). Footage that engines keep and paste elsewhere is cut with
    :data:`lipcore.render.footage.FOOTAGE_INTERPOLATION`.

    Args:
        frame: ``(H, W, 3)`` uint8 frame.
        m: ``(2, 3)`` frame -> crop transform.
        size: Crop side in pixels.
        interpolation: OpenCV resampling of the cut.

    Returns:
        ``(size, size, 3)`` uint8 crop.
    """
    return cv2.warpAffine(
        frame, m, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )
