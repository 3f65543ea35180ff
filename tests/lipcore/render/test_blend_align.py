"""Alignment maths and blending: exact inverse, untouched pixels outside the mask, soft edges."""

import cv2
import numpy as np

from lipcore.render.align import apply_affine, invert_affine, smooth_transforms, umeyama
from lipcore.render.blend import match_colour, paste_crop, skin_ring


def _similarity(scale, angle_deg, tx, ty):
    a = np.deg2rad(angle_deg)
    r = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([r, [[tx], [ty]]])


def test_umeyama_recovers_a_similarity():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 500, (17, 2))
    m = _similarity(0.7, 12.0, 30.0, -45.0)
    est = umeyama(src, apply_affine(m, src))
    np.testing.assert_allclose(est, m, atol=1e-9)
    back = apply_affine(invert_affine(est), apply_affine(est, src))
    np.testing.assert_allclose(back, src, atol=1e-6)


def test_smoothing_is_centred_and_keeps_constant_motion():
    # A face moving at constant speed must not lag behind after smoothing (no forward window).
    ts = np.stack([_similarity(1.0, 0.0, 3.0 * i, 0.0) for i in range(20)])
    sm = smooth_transforms(ts, radius=2)
    np.testing.assert_allclose(sm[2:-2], ts[2:-2], atol=1e-9)


def _frame():
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)


def test_paste_leaves_pixels_outside_the_mask_bit_exact():
    frame = _frame()
    m = _similarity(1.5, 5.0, -100.0, -60.0)  # frame -> crop
    crop = np.full((256, 256, 3), 200, np.uint8)
    mask = np.zeros((256, 256), np.float32)
    cv2.circle(mask, (128, 170), 50, 1.0, -1)
    out = paste_crop(frame, crop, mask, m)
    inv = invert_affine(m)
    alpha = cv2.warpAffine(mask, inv, (320, 240))
    outside = alpha <= 0
    assert outside.sum() > 0.8 * outside.size
    assert np.array_equal(out[outside], frame[outside])
    inside = alpha > 0.99
    assert inside.sum() > 500
    assert np.abs(out[inside].astype(int) - 200).max() <= 1
    assert frame is not out


def test_colour_match_moves_the_generated_skin_to_the_original():
    ref = np.full((64, 64, 3), (60, 120, 200), np.uint8)
    src = np.full((64, 64, 3), (90, 90, 90), np.uint8)
    region = np.zeros((64, 64), bool)
    region[:, :8] = True
    out = match_colour(src, ref, region)
    assert np.abs(out[5, 5].astype(int) - ref[5, 5]).max() <= 3


def test_skin_ring_is_the_soft_edge_only():
    mask = np.zeros((10, 10), np.float32)
    mask[2:8, 2:8] = 0.5
    mask[4:6, 4:6] = 1.0
    ring = skin_ring(mask)
    assert ring[3, 3] and not ring[4, 4] and not ring[0, 0]
