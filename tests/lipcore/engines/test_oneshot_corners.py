"""The one-shot warp carries the crease beyond a lip corner with the corner.

A synthetic face drawn from its own landmarks (as in ``test_mouth_opening``) with a dark crease
running out from each lip corner, as a smiling resting frame shows (A16). The corners are drawn
in as a rounded vowel draws them (the engine's own corner moves). With only the fixed cheek
points beyond the corner, the crease's far end stayed where it was while its near end followed
the corner: a stretched dark streak beside the new corner, the smudge seen on A16. With the
corner tails the crease keeps its length and goes where the corner goes.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.engines.mouth_colour import poly_mask
from lipcore.engines.mouth_shape import MOUTH_POINTS
from lipcore.engines.oneshot import _CORNER_MOVES
from lipcore.engines.oneshot_render import CORNER_TAIL_SHARE, corner_tail_points, render_mouth
from lipcore.face.landmarks import LIPS_OUTER
from tests.lipcore.engines.test_mouth_opening import CX, CY, _face, _landmarks

EYE_PX = 100.0  # the synthetic face's eye corners (33, 263) lie 100 px apart
row = {p: i for i, p in enumerate(MOUTH_POINTS)}


def _creased_face() -> tuple[np.ndarray, np.ndarray]:
    lm = _landmarks(0.0)
    face = _face(lm)
    for side in (-1, 1):  # from just beyond the corner (CX -+ 30) out and up
        start, end = (int(CX + side * 31), int(CY)), (int(CX + side * 40), int(CY - 3))
        cv2.line(face, start, end, (40, 40, 90), 2, cv2.LINE_AA)
    return face, lm


def _left_crease(img: np.ndarray, mouth: np.ndarray) -> tuple[int, int]:
    """Leftmost and rightmost column of the dark skin beside the left corner (lips left out)."""
    light = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)[..., 0]
    lips = poly_mask(img.shape[0], mouth[[row[p] for p in LIPS_OUTER]]) > 0.05
    lips = cv2.dilate(lips.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    dark = (light < 100) & ~lips
    y0, x0 = int(CY) - 12, int(CX) - 60
    _, xs = np.nonzero(dark[y0 : int(CY) + 8, x0 : int(CX)])
    return int(xs.min()) + x0, int(xs.max()) + x0


def test_the_crease_beyond_a_corner_moves_with_it():
    face, lm = _creased_face()
    start, end = _left_crease(face, lm[list(MOUTH_POINTS)])
    length = end - start + 1
    assert 8 <= length <= 11
    move_px = 8.0  # 0.08 eye distances in, as A16's rounded frames draw the corners
    mouth = lm[list(MOUTH_POINTS)].copy()
    for p, w, side in _CORNER_MOVES:
        mouth[row[p], 0] += -side * move_px * w
    followed = render_mouth(face, lm, mouth, EYE_PX, None, corner_tails=True)
    new_start, new_end = _left_crease(followed, mouth)
    assert new_end - new_start + 1 <= length + 2
    assert new_start - start >= 0.6 * move_px
    # Without the tails the crease's far end stays behind and the crease is stretched
    left = render_mouth(face, lm, mouth, EYE_PX, None)
    old_start, old_end = _left_crease(left, mouth)
    assert old_end - old_start + 1 >= length + 3
    assert old_start - start <= 0.3 * move_px


def test_corner_tails_lie_outside_the_corners_and_follow_them():
    _, lm = _creased_face()
    mouth = lm[list(MOUTH_POINTS)].copy()
    mouth[row[61]] += (5.0, 2.0)
    src, dst = corner_tail_points(lm, mouth, EYE_PX)
    left, right = src[: len(src) // 2], src[len(src) // 2 :]
    assert (left[:, 0] < lm[61, 0]).all() and (right[:, 0] > lm[291, 0]).all()
    moved = CORNER_TAIL_SHARE * np.float32([5.0, 2.0])
    assert np.allclose(dst[: len(src) // 2] - left, moved, atol=1e-4)
    assert np.allclose(dst[len(src) // 2 :], right)
