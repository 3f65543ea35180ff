"""The dense landmark warp moves features exactly where asked and leaves the rest alone."""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.face.warp import ring_anchors, warp_image


def _blob_centre(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    hit = np.all(np.abs(image.astype(int) - colour) < 60, axis=2)
    ys, xs = np.nonzero(hit)
    assert len(xs) >= 3, f"colour {colour} vanished"
    return np.array([xs.mean(), ys.mean()])


def _synthetic_face(size: int = 256) -> tuple[np.ndarray, np.ndarray, list]:
    """A skin disc with four coloured 'landmark' dots (mouth corners, lips) and eyes."""
    img = np.full((size, size, 3), (40, 60, 80), np.uint8)
    cv2.circle(img, (128, 128), 100, (120, 160, 200), -1)
    points = np.float32([[96, 170], [160, 170], [128, 160], [128, 182]])
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    for p, c in zip(points, colours, strict=True):
        cv2.circle(img, (int(p[0]), int(p[1])), 1, c, -1)
    cv2.circle(img, (96, 100), 6, (20, 20, 20), -1)
    cv2.circle(img, (160, 100), 6, (20, 20, 20), -1)
    return img, points, colours


def test_features_land_where_asked():
    img, src, colours = _synthetic_face()
    # Open the mouth: lower lip down 14 px, upper lip up 4, corners in by 5 (rounding)
    dst = src + np.float32([[5, 0], [-5, 0], [0, -4], [0, 14]])
    anchors = ring_anchors(src, scale=2.5, count=12, size=256)
    out = warp_image(img, np.vstack([src, anchors]), np.vstack([dst, anchors]))
    for p, c in zip(dst, colours, strict=True):
        x, y = int(round(p[0])), int(round(p[1]))
        assert np.abs(out[y, x].astype(int) - c).max() < 60, (c, out[y, x], p)
        got = _blob_centre(out, c)
        assert np.linalg.norm(got - p) <= 1.0, (c, got, p)  # within a pixel


def test_outside_the_anchor_ring_is_untouched():
    img, src, _ = _synthetic_face()
    dst = src + np.float32([[0, 0], [0, 0], [0, 0], [0, 12]])
    anchors = ring_anchors(src, scale=2.0, count=12, size=256)
    out = warp_image(img, np.vstack([src, anchors]), np.vstack([dst, anchors]))
    hull = np.zeros((256, 256), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(anchors).astype(np.int32)), 1)
    outside = cv2.dilate(hull, np.ones((3, 3), np.uint8)) == 0  # rasterised edge +-1 px
    assert np.array_equal(out[outside], img[outside])
    # The eyes lie outside the ring: exactly the same pixels
    assert np.array_equal(out[90:110, 86:170], img[90:110, 86:170])


def test_identity_when_nothing_moves():
    img, src, _ = _synthetic_face()
    anchors = ring_anchors(src, size=256)
    pts = np.vstack([src, anchors])
    out = warp_image(img, pts, pts)
    assert np.array_equal(out, img)


def test_the_windowed_warp_equals_the_whole_image_warp_pixel_for_pixel():
    """warp_image resamples only the destination hull's window; the result must be the one a
    map over the whole image gives, for every interpolation and near the image's edges too."""
    import cv2

    from lipcore.face.warp import ring_anchors, warp_image, warp_maps

    rng = np.random.default_rng(3)
    img = cv2.GaussianBlur((rng.random((300, 320, 3)) * 255).astype(np.uint8), (5, 5), 1.0)
    for lo, hi in ((80.0, 220.0), (0.0, 120.0), (200.0, 299.0)):
        src = rng.uniform(lo, hi, (16, 2))
        dst = np.clip(src + rng.normal(0, 5, (16, 2)), 0, 299)
        ring = ring_anchors(src, 1.6, 12, 300)
        # fixed points across the picture and its corners, as the mouth warp adds them
        fixed = np.vstack([rng.uniform(0, 299, (6, 2)), [[0, 0], [319, 0], [0, 299], [319, 299]]])
        s, d = np.vstack([src, ring, fixed]), np.vstack([dst, ring, fixed])
        for interp in (cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4):
            mx, my = warp_maps(s, d, img.shape[:2])
            whole = cv2.remap(img, mx, my, interp, borderMode=cv2.BORDER_REPLICATE)
            got = warp_image(img, s, d, interp)
            assert np.array_equal(got, whole), (lo, interp)
            assert (got != img).any()


def _einsum_maps(src, dst, shape, simplices):
    """The maps as first written: every pixel's [x y 1] times its triangle's affine (einsum)."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    label = np.full((h, w), -1, np.int32)
    for k, corners in enumerate(np.round(dst[simplices] * 16).astype(np.int32)):
        cv2.fillConvexPoly(label, corners, int(k), lineType=cv2.LINE_8, shift=4)
    inside = label >= 0
    d = np.concatenate([dst[simplices], np.ones((len(simplices), 3, 1))], axis=2)
    affine = np.linalg.solve(d, src[simplices])
    ids = label[inside]
    px = np.stack([xs[inside], ys[inside], np.ones(ids.size, np.float32)], axis=1)
    pos = np.einsum("mk,mkd->md", px.astype(np.float64), affine[ids]).astype(np.float32)
    map_x[inside], map_y[inside] = pos[:, 0], pos[:, 1]
    return map_x, map_y


def test_maps_and_a_window_of_the_warp_are_bit_identical_to_the_reference():
    """The maps equal the einsum formulation bit for bit, and a warp asked for a window gives
    exactly the whole warp's pixels there (the retime morph makes only the pixels it blends)."""
    from lipcore.face.warp import triangulate, warp_maps

    rng = np.random.default_rng(11)
    img = cv2.GaussianBlur((rng.random((240, 260, 3)) * 255).astype(np.uint8), (5, 5), 1.0)
    src = rng.uniform(60, 180, (14, 2))
    dst = src + rng.normal(0, 4, (14, 2))
    ring = ring_anchors(src, 1.5, 12, 240)
    corners = np.float64([[0, 0], [259, 0], [0, 239], [259, 239]])
    s, d = np.vstack([src, ring, corners]), np.vstack([dst, ring, corners])
    tri = triangulate(d)
    want = _einsum_maps(s, d, img.shape[:2], tri)
    got = warp_maps(s, d, img.shape[:2], tri)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    whole = warp_image(img, s, d, cv2.INTER_LANCZOS4, tri)
    part = warp_image(img, s, d, cv2.INTER_LANCZOS4, tri, window=(90, 70, 170, 150))
    assert np.array_equal(part[70:150, 90:170], whole[70:150, 90:170])
    assert (part[70:150, 90:170] != img[70:150, 90:170]).any()
