"""Colour readings of a mouth crop that the one-shot's mouth fill and its teeth share.

:func:`lip_ring` is the soft mask between a face's outer and inner lip outlines, and
:func:`lab_mean` the mean CIE-LAB colour (OpenCV's 8-bit scale) of a crop under a mask: together,
the lips' colour that a borrowed or synthesised interior is lit to match.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.face.landmarks import LIPS_INNER, LIPS_OUTER


def poly_mask(size: int, pts: np.ndarray) -> np.ndarray:
    """``(size, size)`` float32 0..1 anti-aliased fill of the polygon ``pts`` (crop pixels)."""
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(pts * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
    return mask.astype(np.float32) / 255.0


def lip_ring(landmarks: np.ndarray, size: int) -> np.ndarray:
    """``(size, size)`` float32 0..1 mask of the lips: the outer outline less the inner one."""
    lm = np.asarray(landmarks, np.float32)
    return np.clip(
        poly_mask(size, lm[list(LIPS_OUTER)]) - poly_mask(size, lm[list(LIPS_INNER)]), 0, 1
    )


def lab_mean(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``(3,)`` float32 mean LAB of the BGR ``crop`` weighted by ``mask`` (the whole crop's
    mean where the mask covers under 5 pixels)."""
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    w = mask.reshape(-1)
    if w.sum() < 5:
        return lab.mean(axis=0)
    return (lab * w[:, None]).sum(axis=0) / w.sum()
