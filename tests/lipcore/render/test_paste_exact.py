"""The compositor's faster colour corrections give the very pixels of the plain formulas.

The colour match goes through a per-channel table, the lip shift is computed in its soft edge's
box only, and the original crop is cut at the pixels the statistics read only: each is checked
against the straightforward whole-array computation it replaced, bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lipcore.render.blend import _shift_lips, match_colour
from lipcore.render.window_warp import warp_affine_at, warp_affine_into


def _whole_match_colour(src, ref, region):
    """match_colour as a whole float32 crop computes it (the formula the table reproduces)."""
    s = cv2.cvtColor(src, cv2.COLOR_BGR2LAB).astype(np.float32)
    r = cv2.cvtColor(ref[region].reshape(-1, 1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3)
    r = r.astype(np.float32)
    s_mu, s_sd = s[region].mean(0), np.maximum(s[region].std(0), 1.0)
    r_mu, r_sd = r.mean(0), np.maximum(r.std(0), 1.0)
    gain = np.ones(3, np.float32)
    gain[0] = np.clip(r_sd[0] / s_sd[0], 0.85, 1.15)
    out = (s - s_mu) * gain + r_mu
    return cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _whole_shift_lips(src_bgr, dst_bgr, src_lips, dst_lips, soft):
    """The lip shift over the whole crop."""
    src = cv2.cvtColor(src_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    dst = cv2.cvtColor(dst_bgr[dst_lips].reshape(-1, 1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3)
    shift = dst.astype(np.float32).mean(axis=0) - src[src_lips].mean(axis=0)
    out = src + soft[..., None] * shift
    return cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _pictures(seed: int, side: int = 160):
    """A smooth generated crop and a differently lit original, with a ring-shaped region."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.integers(0, 256, (side, side, 3), np.uint8), (0, 0), 3)
    gain = rng.uniform(0.6, 1.4, 3)
    ref = np.clip(base * gain + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    src = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[:side, :side]
    r = np.hypot(yy - side * rng.uniform(0.4, 0.6), xx - side * rng.uniform(0.4, 0.6))
    return src, ref, (r > side * 0.2) & (r < side * 0.35)


@pytest.mark.parametrize("seed", range(6))
def test_colour_match_table_equals_the_float_formula(seed):
    src, ref, region = _pictures(seed)
    assert np.array_equal(match_colour(src, ref, region), _whole_match_colour(src, ref, region))


@pytest.mark.parametrize("seed", range(4))
def test_lip_shift_in_its_box_equals_the_whole_crop(seed):
    src, ref, region = _pictures(seed)
    side = src.shape[0]
    lips = np.zeros((side, side), np.uint8)
    cv2.ellipse(lips, (side // 2, side // 2 + 10), (30, 12), 0, 0, 360, 255, -1)
    src_lips = lips > 0
    dst_lips = np.roll(src_lips, 3, axis=1)
    soft = cv2.GaussianBlur(cv2.dilate(src_lips.astype(np.float32), np.ones((5, 5))), (0, 0), 2)
    got = _shift_lips(src, ref, src_lips, dst_lips, soft)
    assert np.array_equal(got, _whole_shift_lips(src, ref, src_lips, dst_lips, soft))
    assert np.abs(got.astype(int) - src).max() > 2  # the lips did move


@pytest.mark.parametrize("seed", range(4))
def test_reading_chosen_crop_pixels_equals_the_window_warp(seed):
    rng = np.random.default_rng(seed)
    frame = cv2.GaussianBlur(rng.integers(0, 256, (360, 480, 3), np.uint8), (0, 0), 1.5)
    a = np.deg2rad(rng.uniform(-20, 20))
    k = rng.uniform(1.2, 2.5)
    m = np.array(
        [
            [k * np.cos(a), -k * np.sin(a), rng.uniform(-300, -100)],
            [k * np.sin(a), k * np.cos(a), rng.uniform(-300, -100)],
        ]
    )
    size, window = 300, (40, 90, 270, 290)
    where = rng.random((size, size)) < 0.3
    got = warp_affine_at(frame, m, size, window, where)
    want = warp_affine_into(frame, m, size, window)
    x0, y0, x1, y1 = window
    inside = np.zeros_like(where)
    inside[y0:y1, x0:x1] = where[y0:y1, x0:x1]
    assert inside.sum() > 1000
    assert np.array_equal(got[inside], want[inside])
    assert not got[~inside].any()  # nothing outside the window or the chosen pixels is cut
