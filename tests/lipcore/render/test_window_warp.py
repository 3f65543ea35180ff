"""The windowed affine warp equals the same pixels of OpenCV's whole warp, bit for bit."""

import cv2
import numpy as np
import pytest

from lipcore.render.window_warp import box_of, warp_affine_into, warp_affine_window


def _textured(rng, shape):
    return cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 1.2)


@pytest.mark.parametrize(
    ("flags", "border"),
    [
        (cv2.INTER_CUBIC, cv2.BORDER_REPLICATE),
        (cv2.INTER_CUBIC, cv2.BORDER_REFLECT),
        (cv2.INTER_LINEAR, cv2.BORDER_REPLICATE),
        (cv2.INTER_LANCZOS4, cv2.BORDER_REPLICATE),
    ],
)
def test_window_equals_whole_warp(flags, border):
    rng = np.random.default_rng(7)
    img = _textured(rng, (500, 520, 3))
    for _ in range(40):
        angle, scale = rng.uniform(-0.4, 0.4), rng.uniform(0.6, 1.6)
        m = np.float32(
            [
                [scale * np.cos(angle), -scale * np.sin(angle), rng.uniform(-80, 80)],
                [scale * np.sin(angle), scale * np.cos(angle), rng.uniform(-80, 80)],
            ]
        )
        whole = cv2.warpAffine(img, m, (480, 480), flags=flags, borderMode=border)
        x0, y0 = (int(v) for v in rng.integers(0, 300, 2))
        x1, y1 = x0 + int(rng.integers(1, 180)), y0 + int(rng.integers(1, 180))
        part = warp_affine_window(img, m, (x0, y0, x1, y1), flags, border)
        assert np.array_equal(part, whole[y0:y1, x0:x1])


def test_into_fills_only_the_window():
    rng = np.random.default_rng(3)
    m = np.float32([[0.93, 0.11, 12.3], [-0.11, 0.93, -7.9]])
    img = _textured(rng, (300, 300, 3))
    full = cv2.warpAffine(
        img, m, (256, 256), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    into = warp_affine_into(img, m, 256, (-5, 40, 300, 90))
    assert np.array_equal(into[40:90], full[40:90])
    assert not into[:40].any() and not into[90:].any()


def test_box_of():
    mask = np.zeros((50, 60), bool)
    assert box_of(mask, 3) is None
    mask[10:20, 30:41] = True
    assert box_of(mask, 3) == (27, 7, 44, 23)
    assert box_of(mask, 40) == (0, 0, 60, 50)
