"""Source cadence: the pictures a clip shows twice, so the new mouth is held on them too.

Many clips repeat pictures: film or 25-fps video converted to 30 fps (every fifth or sixth frame
shows the previous picture again), 15-fps screen captures in 30-fps files, pulldown. A re-synced
mouth that moves on such a frame while the rest of the picture stands still is an artefact of its
own (the mouth "swims" on a frozen face), and it makes the mouth box change more often than the
original's ever does. The pipeline therefore detects, frame by frame and causally (it streams),
where the face region repeats the previous picture, and shows the previous frame's new mouth
again there; every engine gets it, because it happens where the crops are pasted.

A frame repeats its predecessor when the mean absolute luma change of the face region is near
zero against the changes the clip usually makes: at most :data:`REPEAT_MAX_CHANGE` grey levels
and at most :data:`REPEAT_SHARE` of the median of the last :data:`HISTORY_FRAMES` changes. Only
single repeats are held (a picture shown twice; the frame after a held one is rendered anew), and
nothing is held where the clip hardly moves at all (a frozen shot, a still turned into a video:
there the new mouth must keep moving), nor where the output does not step forward through the
source (a held or reversed picture of a long-audio policy).
"""

from __future__ import annotations

from collections import deque

import numpy as np

#: Largest mean absolute luma change (grey levels) of the face region between two frames that
#: still counts as the same picture. Measured on the shared clips' lower faces after an h264 round
#: trip: A06's repeats (a 25-fps picture in a 30-fps file) change by 0.01-0.25, A07's by
#: 0.01-0.7 (its generator redrew some repeated faces slightly), speech by 1-20; a quiet
#: presenter's still face (A14's first second) by 0.5-0.9, which the share below keeps out.
REPEAT_MAX_CHANGE = 1.0
#: A repeat changes by at most this share of the clip's usual (median) change.
REPEAT_SHARE = 0.2
#: The usual change is the median over this many recent rendered frames.
HISTORY_FRAMES = 12
#: Changes needed in the history before anything is held (a segment's first frames render anew).
MIN_HISTORY = 2
#: The face region must usually change by at least this much for repeats to mean anything.
MIN_MOTION = 0.5
#: Side the face region is subsampled to (pixels) before comparing: enough to see a repeat.
COMPARE_SIDE = 96

__all__ = [
    "CadenceTracker",
    "face_region",
    "picture_change",
]


def face_region(m_frame_to_crop: np.ndarray, crop_side: float, frame_shape) -> tuple[int, ...]:
    """The frame rectangle ``(x0, y0, x1, y1)`` of the lower half of a face crop.

    Args:
        m_frame_to_crop: ``(2, 3)`` frame -> crop transform.
        crop_side: Side of the crop that transform maps to, in pixels.
        frame_shape: ``(H, W, ...)`` of the frame.

    Returns:
        The bounding rectangle in frame pixels, clipped to the frame (may be empty).
    """
    m = np.vstack([np.asarray(m_frame_to_crop, np.float64), [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(m)[:2]
    s = float(crop_side)
    corners = np.array([[0.15 * s, 0.45 * s, 1], [0.85 * s, 0.45 * s, 1],
                        [0.15 * s, 0.95 * s, 1], [0.85 * s, 0.95 * s, 1]])  # fmt: skip
    pts = corners @ inv.T
    h, w = frame_shape[:2]
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int)
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def picture_change(prev: np.ndarray, cur: np.ndarray, region: tuple[int, ...]) -> float:
    """Mean absolute luma change (grey levels) between two frames inside ``region``.

    Args:
        prev: ``(H, W, 3)`` uint8 BGR frame before.
        cur: ``(H, W, 3)`` uint8 BGR frame after.
        region: ``(x0, y0, x1, y1)`` in frame pixels (from :func:`face_region`).

    Returns:
        The change, subsampled to about :data:`COMPARE_SIDE` pixels across; ``inf`` for an
        empty region (nothing to compare: never a repeat).
    """
    x0, y0, x1, y1 = region
    if x1 - x0 < 2 or y1 - y0 < 2:
        return float("inf")
    step = max(1, max(x1 - x0, y1 - y0) // COMPARE_SIDE)
    a = prev[y0:y1:step, x0:x1:step].astype(np.float32)
    b = cur[y0:y1:step, x0:x1:step].astype(np.float32)
    luma = np.array([0.114, 0.587, 0.299], np.float32)  # BGR weights
    return float(np.abs((a - b) @ luma).mean())


class CadenceTracker:
    """Decides, one frame at a time, whether a frame repeats the previous picture.

    Call :meth:`feed` with each frame's change against the frame before it (from
    :func:`picture_change`), or :meth:`skip` where there is none to compare (no face, the output
    did not step forward through the source). A True answer means: show the previous frame's new
    mouth again.
    """

    def __init__(self) -> None:
        self._history: deque[float] = deque(maxlen=HISTORY_FRAMES)
        self._last_held = False

    def feed(self, change: float) -> bool:
        """Whether the frame with this change repeats its predecessor (and is to be held)."""
        if not np.isfinite(change):
            self.skip()
            return False
        usual = float(np.median(self._history)) if len(self._history) >= MIN_HISTORY else 0.0
        repeat = (
            not self._last_held
            and usual >= MIN_MOTION
            and change <= min(REPEAT_MAX_CHANGE, REPEAT_SHARE * usual)
        )
        if not repeat:
            # The usual change is that of frames that show a new picture
            self._history.append(change)
        self._last_held = repeat
        return repeat

    def skip(self) -> None:
        """A frame with nothing to compare (rendered anew; it tells nothing of the cadence)."""
        self._last_held = False
