"""Shapes a footage lacks, in the opening direction: a closed mouth warped open and filled.

A synthetic face drawn from its own 478 landmarks (so every landmark is exactly where the drawing
puts it): skin, lips closed, eyes. :func:`reshape_mouth` must move the lips exactly as asked, show
a dark opening between them (synthesised, or the actor's own open mouth when one is given), close
again without a trace of the interior, and leave the eyes untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.engines.oneshot_render import CavitySource, reshape_mouth
from lipcore.face.landmarks import LIPS_INNER, LIPS_OUTER, lip_gap

SKIN = (120, 150, 200)
LIP = (90, 80, 170)
CX, CY = 128.0, 170.0


def _landmarks(inner_half_gap: float) -> np.ndarray:
    lm = np.tile(np.float32([CX, 40.0]), (478, 1))
    up = np.linspace(np.pi, 0, 11)
    down = np.linspace(0, -np.pi, 11)[1:-1]
    outer = [(CX + 30 * np.cos(t), CY - 10 * np.sin(t)) for t in np.r_[up, down]]
    lm[list(LIPS_OUTER)] = outer
    xs_up = CX + 24 * np.cos(up)
    xs_down = CX + 24 * np.cos(down)
    bulge_up = np.sin(up) * inner_half_gap
    bulge_down = -np.sin(down) * inner_half_gap
    inner = [(x, CY - 0.5 - b) for x, b in zip(xs_up, bulge_up, strict=True)]
    inner += [(x, CY + 0.5 + b) for x, b in zip(xs_down, bulge_down, strict=True)]
    lm[list(LIPS_INNER)] = inner
    from lipcore.engines.mouth_shape import CHIN_ARC

    ts = np.linspace(0.2, np.pi - 0.2, len(CHIN_ARC))
    lm[list(CHIN_ARC)] = np.stack([CX - 70 * np.cos(ts), CY + 55 * np.sin(ts)], 1)
    fixed = {
        33: (78, 100), 133: (108, 100), 362: (148, 100), 263: (178, 100), 168: (128, 95),
        6: (128, 110), 197: (128, 120), 195: (128, 128), 5: (128, 135), 4: (128, 140),
        1: (128, 143), 98: (115, 148), 327: (141, 148), 2: (128, 150), 64: (112, 146),
        294: (144, 146), 234: (40, 120), 454: (216, 120), 93: (45, 150), 323: (211, 150),
        132: (50, 170), 361: (206, 170), 58: (60, 190), 288: (196, 190),
    }  # fmt: skip
    for k, v in fixed.items():
        lm[k] = v
    return lm


def _face(lm: np.ndarray, interior=(30, 25, 60)) -> np.ndarray:
    img = np.full((256, 256, 3), (40, 60, 80), np.uint8)
    cv2.circle(img, (128, 140), 110, SKIN, -1)
    cv2.fillPoly(img, [np.round(lm[list(LIPS_OUTER)]).astype(np.int32)], LIP, cv2.LINE_AA)
    cv2.fillPoly(img, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], interior, cv2.LINE_AA)
    for x in (93, 163):
        cv2.circle(img, (x, 100), 8, (20, 20, 20), -1)
    return img


def _column(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2LAB)[:, int(CX), 0].astype(float)


def test_closed_mouth_opens_where_asked_with_a_dark_cavity():
    lm = _landmarks(0.0)
    face = _face(lm)
    out, new_lm = reshape_mouth(face, lm, 20.0)
    # The landmarks say what was asked: a 20 px opening, the jaw doing most of it
    assert abs((new_lm[14, 1] - new_lm[13, 1]) - 20.0) < 0.5
    assert new_lm[14, 1] - lm[14, 1] > new_lm[13, 1] - lm[13, 1] + 5
    assert lip_gap(new_lm) > lip_gap(lm) + 0.15
    # ... and so do the pixels: lip colour just above and below, an opening between with
    # teeth under the upper lip (lighter than the lips) and a dark cavity in its middle
    col = _column(out)
    lip_l = _column(face)[int(CY - 6)]
    top, bottom = int(np.ceil(new_lm[13, 1])), int(np.floor(new_lm[14, 1]))
    assert (col[top : bottom + 1] < 0.5 * lip_l).sum() >= 5  # the cavity
    assert col[top + 1 : top + 4].mean() > lip_l + 20
    assert abs(col[top - 3] - lip_l) < 20 and abs(col[bottom + 3] - lip_l) < 20
    # The eyes and everything above the nose are untouched
    assert np.array_equal(out[:115], face[:115])


def test_opening_borrows_the_actors_own_open_mouth():
    open_lm = _landmarks(9.0)
    green = _face(open_lm, interior=(40, 200, 40))  # the actor's open mouth: a green interior
    lm = _landmarks(0.0)
    out, new_lm = reshape_mouth(_face(lm), lm, 18.0, CavitySource(green, open_lm))
    top, bottom = int(np.ceil(new_lm[13, 1])) + 3, int(np.floor(new_lm[14, 1])) - 3
    inside = out[top:bottom, int(CX) - 8 : int(CX) + 8].reshape(-1, 3).astype(float)
    assert inside[:, 1].mean() > inside[:, 2].mean() + 40  # green, not the synthetic cavity


def test_opened_mouth_closes_again_without_its_interior():
    lm = _landmarks(0.0)
    opened, open_lm = reshape_mouth(_face(lm), lm, 20.0)
    closed, closed_lm = reshape_mouth(opened, open_lm, 0.0)
    assert abs(closed_lm[14, 1] - closed_lm[13, 1]) < 0.5
    col = _column(closed)
    lip_l = _column(_face(lm))[int(CY - 6)]
    mid = int(round(closed_lm[13, 1]))
    # at most the thin seam where the lips meet is darker than the lips
    dark = np.nonzero(col[mid - 8 : mid + 9] < 0.7 * lip_l)[0]
    assert len(dark) <= 4
