"""Shot-cut detection on downscaled frames (colour histogram + pixel difference).

A hard cut changes both the colour distribution and the pixels of the whole picture from one frame
to the next; a moving head or a camera pan changes the pixels but hardly the histogram, and a
lighting flicker changes the histogram a little and the pixels a little.  So a cut needs both
measures to be high (or the histogram to change drastically), and shots have a minimum length so a
flash does not cut twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Width of the thumbnails compared (height follows the aspect ratio).
SMALL_WIDTH_PX = 64


@dataclass(frozen=True)
class CutSettings:
    """Thresholds of :class:`ShotCutDetector`.

    Attributes:
        hist_threshold: Bhattacharyya distance of HSV histograms above which a cut is possible.
        diff_threshold: Mean absolute grey difference (0-1) that must also be exceeded.
        hist_alone_threshold: Histogram distance that is a cut on its own.
        min_shot_frames: Shortest shot; a cut closer than this to the previous one is ignored.
    """

    hist_threshold: float = 0.30
    diff_threshold: float = 0.06
    hist_alone_threshold: float = 0.6
    min_shot_frames: int = 6


def small_frame(frame_bgr: np.ndarray) -> np.ndarray:
    """Downscale a frame for cut detection (area-averaged, so noise and grain wash out)."""
    h, w = frame_bgr.shape[:2]
    height = max(4, round(SMALL_WIDTH_PX * h / max(w, 1)))
    return cv2.resize(frame_bgr, (SMALL_WIDTH_PX, height), interpolation=cv2.INTER_AREA)


def _hist(small_bgr: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
    return cv2.normalize(hist, hist, alpha=1.0, norm_type=cv2.NORM_L1).flatten()


def cut_scores(prev_small: np.ndarray, cur_small: np.ndarray) -> tuple[float, float]:
    """Histogram distance (0-1) and mean grey difference (0-1) between two small frames."""
    hist_dist = float(
        cv2.compareHist(_hist(prev_small), _hist(cur_small), cv2.HISTCMP_BHATTACHARYYA)
    )
    g0 = cv2.cvtColor(prev_small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    g1 = cv2.cvtColor(cur_small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return hist_dist, float(np.mean(np.abs(g0 - g1)) / 255.0)


class ShotCutDetector:
    """Streaming cut detector: feed frames in order, get True on the first frame of a new shot.

    Args:
        settings: Thresholds.
    """

    def __init__(self, settings: CutSettings | None = None):
        self.settings = settings or CutSettings()
        self._prev: np.ndarray | None = None
        self._since_cut = 0
        self.cuts: list[int] = []

    def update(self, index: int, frame_bgr: np.ndarray) -> bool:
        """Compare ``frame_bgr`` (frame ``index``) with the previous frame fed.

        Returns:
            True when ``index`` starts a new shot (never for the first frame fed).
        """
        return self.update_small(index, small_frame(frame_bgr))

    def update_small(self, index: int, small: np.ndarray) -> bool:
        """:meth:`update` with the frame already reduced by :func:`small_frame`.

        Lets the reduction run where the frame is decoded (a worker thread).
        """
        prev, self._prev = self._prev, small
        self._since_cut += 1
        if prev is None or prev.shape != small.shape:
            return False
        s = self.settings
        hist_dist, diff = cut_scores(prev, small)
        is_cut = (hist_dist > s.hist_threshold and diff > s.diff_threshold) or (
            hist_dist > s.hist_alone_threshold
        )
        if is_cut and self._since_cut >= s.min_shot_frames:
            self._since_cut = 0
            self.cuts.append(index)
            return True
        return False


def detect_shot_cuts(frames, settings: CutSettings | None = None) -> list[int]:
    """Shot cuts of an iterable of ``(index, frame_bgr)`` pairs (first frame of each new shot)."""
    det = ShotCutDetector(settings)
    for index, frame in frames:
        det.update(index, frame)
    return det.cuts
