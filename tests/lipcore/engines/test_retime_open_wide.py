"""Retime asked for a mouth wider than its library's widest: the opening shows the actor's teeth.

A synthetic library drawn from its own 478 landmarks (the face of ``test_mouth_opening``): a
closed mouth, a half-open one with a dark interior, and the widest-open one whose opening is
filled with bright teeth. A row of the plan asks for 1.3x the widest gap while the plan still
shows the closed or the half-open frame (the fade out of a cut into a wide mouth, as on A07's
widest frames). The opening retime makes must show the teeth's brightness, not the closed lips
stretched around a darkened interior nor the half-open frame's dark cavity pulled wider.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from lipcore.engines.base import CropBatch
from lipcore.engines.retime import RESHAPE_MAX_OPEN, RetimeEngine, RetimeLibrary, SegmentPlan
from lipcore.face.landmarks import LIPS_INNER, lip_gap
from tests.lipcore.engines.test_mouth_opening import _face, _landmarks

TEETH = (235, 235, 235)  # BGR: the widest mouth's interior, lightness about 235
CAVITY = (20, 15, 35)  # the half-open mouth's dark interior


def _library() -> RetimeLibrary:
    """Rows: 0 closed, 1 half open (dark inside), 2 widest open (teeth inside)."""
    lms = [_landmarks(0.0), _landmarks(3.5), _landmarks(9.0)]
    crops = [_face(lms[0]), _face(lms[1], interior=CAVITY), _face(lms[2], interior=TEETH)]
    n = len(lms)
    zeros = np.zeros((n, 1), np.float32)
    return RetimeLibrary(
        crops=np.stack(crops),
        landmarks=np.stack(lms).astype(np.float32),
        features=zeros,
        shapes=zeros,
        shapes_z=zeros,
        gaps=lip_gap(np.stack(lms)).astype(np.float32),
        speech=np.ones(n, bool),
        run_ids=np.arange(n),
        appearance_dist=np.ones((n, n), np.float32),
        rest=np.array([True, False, False]),
        rest_shape_z=np.zeros(1, np.float32),
        model=None,  # no audio is predicted here: the plan is given
        pose=np.zeros((n, 3), np.float32),
        clip_rows={},
        fps=Fraction(25),
        speech_sec=10.0,
    )


def _opening_lightness(crop: np.ndarray, lm: np.ndarray) -> float:
    """Mean LAB lightness inside the inner lips, 2 px in from them (the lips' edge left out)."""
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(lm[list(LIPS_INNER)] * 4).astype(np.int32)], 1, shift=2)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    assert mask.sum() > 50
    return float(cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)[..., 0][mask > 0].mean())


@pytest.mark.parametrize("shown", [0, 1], ids=["closed", "half-open-dark"])
def test_a_mouth_wider_than_the_widest_keeps_the_teeth_in_its_opening(shown):
    lib = _library()
    widest = int(np.argmax(lib.gaps))
    assert widest == 2 and lib.gaps[0] < 0.02 < lib.gaps[1] < lib.gaps[2]
    teeth_l = _opening_lightness(lib.crops[widest], lib.landmarks[widest])
    assert teeth_l > 200
    want = RESHAPE_MAX_OPEN * float(lib.gaps[widest])
    eng = RetimeEngine(use_phones=False)
    eng.library = lib
    # Row 0: the fade out of a cut, mostly the frame shown, a quarter the widest one
    eng.plan = SegmentPlan(
        predicted_shape=np.array([[want]], np.float32),
        predicted_gap=np.array([want], np.float32),
        path=np.array([widest]),
        blend=[[(widest, 0.25), (shown, 0.75)]],
        voiced=np.ones(1, bool),
        closure=np.zeros(1),
    )
    target_lm = lib.landmarks[shown]
    batch = CropBatch(
        rows=np.array([0]), crops=lib.crops[shown][None].copy(), landmarks=target_lm[None]
    )
    out = eng.generate(batch)
    crop, lm = out.crops[0], out.mouth_landmarks[0]
    # As wide as asked: wider than any frame of the library
    assert float(lip_gap(lm)) > float(lib.gaps[widest]) + 0.03
    # ... and its opening shows the teeth, as bright as the widest frame's (within a few
    # levels lost to resampling at the lips' edge), neither darkened nor the dark cavity
    got = _opening_lightness(crop, lm)
    assert got > teeth_l - 25, (got, teeth_l)
    # Only the lower face is replaced: nothing above the nose
    assert out.regions[0][:130].max() == 0 and out.regions[0].max() > 0


def test_a_frame_open_enough_is_opened_itself():
    """The widest frame (and any frame near it) is opened itself, so a wide mouth that only
    grows a little does not jump to another frame."""
    lib = _library()
    eng = RetimeEngine(use_phones=False)
    eng.library = lib
    want = RESHAPE_MAX_OPEN * float(lib.gaps[2])
    eng.plan = SegmentPlan(
        predicted_shape=np.array([[want]], np.float32),
        predicted_gap=np.array([want], np.float32),
        path=np.array([2]),
        blend=[[(2, 1.0)]],
        closure=np.zeros(1),
    )
    crop, lm = eng._shaped(2, 0)
    assert abs(float(lip_gap(lm)) - want) < 0.01
    rows = slice(0, 115)
    assert np.array_equal(crop[rows], lib.crops[2][rows])  # the same frame, its mouth opened
