"""Landmark geometry on real FaceMesh output: lip gap, mouth descriptor, lower-face polygon."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lipcore.face import landmarks as L
from lipcore.face.types import N_LANDMARKS


@pytest.fixture(scope="module")
def a01_mesh(read_frame, mp_detector, mesher):
    frame = read_frame("A01", 40)
    dets = mp_detector.detect(frame)
    assert len(dets) == 1
    lm = mesher.landmarks(frame, dets[0].box)
    assert lm is not None
    return frame, dets[0], lm


def test_mesh_is_478_points_inside_the_detected_face(a01_mesh):
    frame, det, lm = a01_mesh
    assert lm.shape == (N_LANDMARKS, 2) and lm.dtype == np.float32
    x0, y0, x1, y1 = det.box
    # Mouth and nose inside the detector's box, eyes above the mouth.
    for idx in (L.UPPER_LIP_INNER, L.MOUTH_RIGHT, L.MOUTH_LEFT, L.NOSE_TIP):
        assert x0 <= lm[idx, 0] <= x1 and y0 <= lm[idx, 1] <= y1
    assert lm[L.EYE_RIGHT_OUTER, 1] < lm[L.UPPER_LIP_INNER, 1]
    # Subject's right (image left) corner has the smaller x in a frontal view.
    assert lm[L.MOUTH_RIGHT, 0] < lm[L.MOUTH_LEFT, 0]
    assert lm[L.EYE_RIGHT_OUTER, 0] < lm[L.EYE_LEFT_OUTER, 0]


def test_descriptors_are_scale_free_and_batch(a01_mesh):
    _, _, lm = a01_mesh
    gap = L.lip_gap(lm)
    assert gap.shape == () and 0 <= float(gap) < 0.6
    # Scaling the face does not change scale-normalised descriptors.
    np.testing.assert_allclose(L.lip_gap(lm * 2.5), gap, rtol=1e-5)
    shape = L.mouth_shape(lm)
    assert shape.shape == (len(L.MOUTH_SHAPE_NAMES),)
    np.testing.assert_allclose(L.mouth_shape(lm * 0.5 + 7), shape, rtol=1e-4)
    # Width of the mouth is about half the outer eye-corner distance or more.
    assert 0.4 < shape[L.MOUTH_SHAPE_NAMES.index("width")] < 1.2
    batch = np.stack([lm, lm, lm])[None]  # (1, 3, 478, 2)
    assert L.lip_gap(batch).shape == (1, 3)
    assert L.mouth_shape(batch).shape == (1, 3, 8)
    assert L.lower_face_polygon(batch).shape == (1, 3, len(L.LOWER_FACE), 2)
    assert L.kps5_from_mesh(batch).shape == (1, 3, 5, 2)
    with pytest.raises(ValueError, match="478"):
        L.lip_gap(np.zeros((468, 2)))


def test_lower_face_polygon_holds_mouth_and_chin_not_eyes(a01_mesh):
    _, _, lm = a01_mesh
    poly = L.lower_face_polygon(lm).reshape(-1, 1, 2)

    def inside(idx: int) -> bool:
        return cv2.pointPolygonTest(poly, tuple(map(float, lm[idx])), False) >= 0

    for idx in L.LIPS_OUTER + (L.CHIN,):
        assert inside(idx), idx
    for idx in (L.EYE_RIGHT_OUTER, L.EYE_LEFT_OUTER, L.IRIS_LEFT, L.FOREHEAD, L.NOSE_TIP):
        assert not inside(idx), idx


def test_lip_gap_follows_the_mouth(read_frame, mp_detector, mesher):
    # A14 (child talking): over a second of speech the gap must vary, and closed-mouth frames
    # stay near 0 while open ones are clearly above.
    gaps = []
    for i in range(0, 50, 5):
        frame = read_frame("A14", i)
        det = mp_detector.detect(frame)[0]
        gaps.append(float(L.lip_gap(mesher.landmarks(frame, det.box))))
    assert min(gaps) < 0.08 and max(gaps) - min(gaps) > 0.04, gaps


def test_kps5_order_matches_insightface(a01_mesh):
    _, det, lm = a01_mesh
    k = L.kps5_from_mesh(lm)
    # Same order as the detector's keypoints: each point is near its detector counterpart.
    eye = float(L.eye_distance(lm))
    assert np.all(np.linalg.norm(k[:3] - det.kps5[:3], axis=1) < 0.25 * eye)


def test_follow_agrees_with_the_whole_mesh_and_lets_go_of_a_lost_face(read_frame, mesher):
    # A14 (child talking, head moving): follow frame to frame from the previous landmarks alone
    # (the landmark model on a 192 px region, no face finder) and compare with the whole mesh
    # run afresh on each frame's face box: the same points within a few % of the eye distance,
    # and the same mouth opening.
    frame = read_frame("A14", 0)
    h, w = frame.shape[:2]
    prev = mesher.landmarks(frame, np.array([0, 0, w, h], np.float32))
    assert prev is not None
    dists, gaps_followed, gaps_fresh = [], [], []
    for i in range(1, 40, 3):
        frame = read_frame("A14", i)
        followed = mesher.follow(frame, prev)
        assert followed is not None and followed.shape == (N_LANDMARKS, 2)
        fresh = mesher.landmarks(frame, L.landmarks_box(followed))
        eye = float(L.eye_distance(fresh))
        dists.append(float(np.linalg.norm(followed - fresh, axis=1).mean()) / eye)
        gaps_followed.append(float(L.lip_gap(followed)))
        gaps_fresh.append(float(L.lip_gap(fresh)))
        prev = followed
    assert np.mean(dists) < 0.04 and max(dists) < 0.08, dists
    assert np.corrcoef(gaps_followed, gaps_fresh)[0, 1] > 0.8
    # The face moved away (the region now holds background only): the fit is reported lost.
    empty = np.full_like(frame, 90)
    assert mesher.follow(empty, prev) is None
