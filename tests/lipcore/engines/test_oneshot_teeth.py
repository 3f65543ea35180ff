"""The one-shot engine's teeth from the actor's own open mouth keep their size.

A synthetic face drawn from its own landmarks (as in ``test_mouth_opening``): the exemplar's open
mouth shows a white upper row and a grey lower row clenched together, as A18's smile does. Opened
wider than the exemplar, the new mouth must show the same rows at the same height, parted over a
dark cavity, not the exemplar's rows stretched to the new opening (which turned A18's smile into
tall jagged teeth); opened less, the rows keep their height and the dark band between them gives
way (the whole opening squeezed into a smaller one halved A08's teeth), and only an opening
smaller than both rows squeezes them; the corners stay dark. The rows are split where the
exemplar's own rows meet, found from its pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.engines.mouth_shape import MOUTH_POINTS
from lipcore.engines.oneshot_render import (
    CavitySource,
    render_mouth,
    reshape_gap,
    synthesise_cavity,
)
from lipcore.engines.oneshot_teeth import bite_band, shows_cavity
from lipcore.face.landmarks import LIPS_INNER
from tests.lipcore.engines.test_mouth_opening import CX, CY, _face, _landmarks

EYE_PX = 100.0  # the synthetic face's eye corners (33, 263) lie 100 px apart
HALF_GAP = 9.0  # the exemplar's inner lips bulge 9 px each way: a 19 px opening in the middle
row = {p: i for i, p in enumerate(MOUTH_POINTS)}


def _exemplar(bite_gap_px: int = 0) -> CavitySource:
    lm = _landmarks(HALF_GAP)
    img = _face(lm, interior=(235, 235, 235))  # the upper row fills the opening ...
    inner = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], 255)
    ys = np.arange(img.shape[0])[:, None]
    img[(inner > 0) & (ys > CY + 1)] = (185, 185, 185)  # ... down to the bite, then the lower
    if bite_gap_px:  # the rows parted over a dark cavity (a speaking mouth, not a clench)
        img[(inner > 0) & (ys > CY - bite_gap_px) & (ys <= CY + bite_gap_px)] = (30, 35, 70)
    return CavitySource(img, lm)


def _column_l(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2LAB)[:, int(CX), 0].astype(float)


def _open(gap_px: float, rigid: bool) -> tuple[np.ndarray, np.ndarray]:
    lm = _landmarks(0.0)
    mouth = reshape_gap(lm, gap_px)
    out = render_mouth(_face(lm), lm, mouth, EYE_PX, _exemplar(), rigid_teeth=rigid)
    return out, mouth


def _runs(col: np.ndarray, top: int, bottom: int) -> tuple[int, int, int]:
    """Lengths (px) of the upper white row, the dark middle, the lower grey row in the opening."""
    seg = col[top : bottom + 1]
    white = int((seg > 200).sum())
    dark = int((seg < 60).sum())
    grey = int(((seg > 150) & (seg <= 200)).sum())
    return white, dark, grey


def _upper_row(col: np.ndarray, top: int) -> int:
    """Length (px) of the bright run under the upper lip (brighter than the lips by 30)."""
    lip_l = _column_l(_face(_landmarks(0.0)))[int(CY - 6)]
    start = top
    while col[start] <= lip_l + 30 and start < top + 3:
        start += 1
    length = 0
    while col[start + length] > lip_l + 30:
        length += 1
    return length


def test_wide_opening_parts_the_actors_rows_at_their_own_height():
    ex_col = _column_l(_exemplar().crop)
    ex_white = int((ex_col[int(CY - HALF_GAP) : int(CY + HALF_GAP) + 1] > 200).sum())
    ex_grey = int(((ex_col > 150) & (ex_col <= 200))[int(CY) : int(CY + HALF_GAP) + 1].sum())
    assert ex_white >= 8 and ex_grey >= 6
    out, mouth = _open(44.0, rigid=True)
    top, bottom = int(np.ceil(mouth[row[13], 1])), int(np.floor(mouth[row[14], 1]))
    assert bottom - top >= 40
    white, dark, grey = _runs(_column_l(out), top, bottom)
    # The rows keep the exemplar's height (within 30%), a third of the opening at most, with
    # the dark cavity between them
    assert abs(white - ex_white) <= 0.3 * ex_white
    assert white <= 0.35 * (bottom - top)
    assert abs(grey - ex_grey) <= 0.4 * ex_grey + 1
    assert dark >= 15
    # Warping the whole exemplar opening onto the new one stretches the upper row instead
    old, _ = _open(44.0, rigid=False)
    assert _upper_row(_column_l(out), top) <= 1.3 * ex_white
    assert _upper_row(_column_l(old), top) >= 1.6 * ex_white


#: A speaking exemplar: a 31 px opening (inner lips from CY - 15.5 to CY + 15.5 in the middle),
#: the upper row down to CY - 8, a dark band to CY + 2, the lower row below: its bite band lies
#: at shares 0.24-0.56 of the opening, well off the middle.
SPEAK_HALF_GAP, SPEAK_ROW_END, SPEAK_BAND_END = 15.0, -8, 2


def _speaking_exemplar(clenched_at: int | None = None) -> CavitySource:
    """Rows parted over a dark band (``clenched_at``: rows meeting at ``CY + clenched_at``)."""
    lm = _landmarks(SPEAK_HALF_GAP)
    img = _face(lm, interior=(185, 185, 185))  # the lower row ...
    inner = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], 255)
    ys = np.arange(img.shape[0])[:, None]
    row_end = SPEAK_ROW_END if clenched_at is None else clenched_at
    img[(inner > 0) & (ys < CY + row_end)] = (235, 235, 235)  # ... under the upper row
    if clenched_at is None:
        img[(inner > 0) & (ys >= CY + SPEAK_ROW_END) & (ys < CY + SPEAK_BAND_END)] = (30, 35, 70)
    return CavitySource(img, lm)


def _share(y: float) -> float:
    """Share of the speaking exemplar's opening (middle column) at crop row ``y``."""
    return (y - (CY - 0.5 - SPEAK_HALF_GAP)) / (2 * SPEAK_HALF_GAP + 1)


def test_the_bite_is_found_where_the_exemplars_rows_meet():
    top, bottom = bite_band(_speaking_exemplar().crop, _speaking_exemplar().landmarks)
    assert abs(top - _share(CY + SPEAK_ROW_END)) <= 0.05, top
    assert abs(bottom - _share(CY + SPEAK_BAND_END)) <= 0.05, bottom
    # Clenched rows show no band: their bite is the line where they meet, not a fixed share
    for at in (-6, 5):
        ex = _speaking_exemplar(clenched_at=at)
        top, bottom = bite_band(ex.crop, ex.landmarks)
        assert top == bottom
        assert abs(top - _share(CY + at)) <= 0.06, (at, top)


def _runs_at(out: np.ndarray, mouth: np.ndarray) -> tuple[int, int, int, int]:
    top, bottom = int(np.ceil(mouth[row[13], 1])), int(np.floor(mouth[row[14], 1]))
    return (*_runs(_column_l(out), top, bottom), bottom - top)


def test_a_smaller_opening_keeps_the_rows_and_squeezes_the_band_between():
    ex = _speaking_exemplar()
    ex_col = _column_l(ex.crop)
    ex_white, ex_dark, ex_grey = _runs(ex_col, int(CY - SPEAK_HALF_GAP), int(CY + SPEAK_HALF_GAP))
    assert ex_white >= 6 and ex_dark >= 8
    lm = _landmarks(0.0)
    # Opened to 0.6 of the exemplar's opening (A08's speech opens at most 0.75 of its widest)
    mouth = reshape_gap(lm, 18.0)
    out = render_mouth(_face(lm), lm, mouth, EYE_PX, ex, rigid_teeth=True)
    white, dark, grey, gap = _runs_at(out, mouth)
    assert gap >= 16
    # The upper row keeps its height, the dark band gives way (but still shows)
    assert abs(white - ex_white) <= 0.25 * ex_white + 1, (white, ex_white)
    assert 2 <= dark < ex_dark
    assert grey >= 3
    # The whole exemplar opening warped onto the smaller one squeezed the row (A08's thin teeth)
    old = render_mouth(_face(lm), lm, mouth, EYE_PX, ex)
    assert _runs_at(old, mouth)[0] <= 0.8 * ex_white
    # Smaller than the two rows together: both are squeezed into it, nothing dark between
    for source in (ex, _exemplar()):
        small = reshape_gap(lm, 8.0)
        out = render_mouth(_face(lm), lm, small, EYE_PX, source, rigid_teeth=True)
        top, bottom = int(np.ceil(small[row[13], 1])), int(np.floor(small[row[14], 1]))
        lip_l = _column_l(_face(lm))[int(CY - 6)]
        assert _column_l(out)[top + 1 : bottom].min() > lip_l + 10
    # Opened wide: near the corners the rows fade into the cavity
    wide, mouth = _open(44.0, rigid=True)
    lab = cv2.cvtColor(wide, cv2.COLOR_BGR2LAB)[..., 0].astype(float)
    corner_x = int(round(mouth[row[78], 0] + 3))
    y = int(np.ceil(mouth[row[13], 1])) + 4
    assert lab[y, corner_x] < lab[y, int(CX)] - 80


def test_bare_cavity_has_no_teeth():
    lm = _landmarks(0.0)
    mouth = reshape_gap(lm, 30.0)
    face = _face(lm)
    with_teeth = synthesise_cavity(face, lm, mouth, EYE_PX)
    bare = synthesise_cavity(face, lm, mouth, EYE_PX, teeth=False)
    top, bottom = int(np.ceil(mouth[row[13], 1])), int(np.floor(mouth[row[14], 1]))
    lip_l = _column_l(face)[int(CY - 6)]
    assert _column_l(with_teeth)[top + 1 : top + 4].mean() > lip_l + 20
    assert _column_l(bare)[top + 1 : bottom].max() < lip_l


def _blurred_exemplar() -> CavitySource:
    """An open mouth whose teeth and cavity a soft, small face blurred into one pale blob (H07)."""
    lm = _landmarks(13.0)
    return CavitySource(_face(lm, interior=(200, 200, 205)), lm)


def test_an_exemplar_without_a_dark_cavity_still_gives_a_dark_mouth():
    # Clenched teeth (A16's smile) and a pale blur (H07) show no cavity of their own; opened
    # a little further than the exemplar (where the whole opening was still warped over, in part),
    # the new mouth shows a strip of each row with the actor's dark between, not a pale block
    lm = _landmarks(0.0)
    lip_l = _column_l(_face(lm))[int(CY - 6)]
    for ex in (_exemplar(), _blurred_exemplar()):
        assert not shows_cavity(ex.crop, ex.landmarks)
        ex_gap = float(ex.landmarks[14, 1] - ex.landmarks[13, 1])
        for stretch in (1.15, 1.5):
            mouth = reshape_gap(lm, stretch * ex_gap)
            out = render_mouth(_face(lm), lm, mouth, EYE_PX, ex, rigid_teeth=True)
            top, bottom = int(np.ceil(mouth[row[13], 1])), int(np.floor(mouth[row[14], 1]))
            col = _column_l(out)[top + 1 : bottom]
            dark = col < 0.5 * lip_l
            assert dark.sum() >= 0.2 * (bottom - top), (stretch, col)
            # ... below teeth brighter than the lips, as the actor's are
            assert col[: len(col) // 3].max() > lip_l + 20
            # The cavity is the face's own dark red, not a black hole (nor grey)
            lab = cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[top + 1 : bottom, int(CX)]
            assert lab[dark, 0].min() >= 0.15 * lip_l
            assert lab[dark, 1].mean() > 132
    # An exemplar showing its own cavity is told apart
    assert shows_cavity(_exemplar(bite_gap_px=3).crop, _exemplar(bite_gap_px=3).landmarks)
