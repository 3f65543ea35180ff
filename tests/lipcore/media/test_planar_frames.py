"""Frames that keep their source planes: untouched samples reach the encoder exactly."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.media import VideoReader, VideoWriter
from lipcore.media.colour import bgr_to_yuv444_planes
from lipcore.media.planar import patched_planes, planes_of


@pytest.fixture(scope="module")
def a01_frames(shared_media):
    path = shared_media / "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"
    with VideoReader(path, keep_planes=True) as reader:
        kept = [f for _, f in reader.iter_frames(0, 12)]
    with VideoReader(path) as reader:
        plain = [f for _, f in reader.iter_frames(0, 12)]
    return path, kept, plain


def test_kept_planes_are_the_source_and_bgr_is_unchanged(a01_frames):
    _, kept, plain = a01_frames
    frame = kept[0]
    np.testing.assert_array_equal(np.asarray(frame), plain[0])
    y, u, v = planes_of(frame, frame.colour)
    assert y.shape == (512, 512) and u.shape == v.shape == (256, 256)
    # Any derived array (a view, a copy, arithmetic) is a frame without planes.
    assert frame[1:].planes is None and frame.copy().planes is None
    assert (frame // 2).planes is None and type(np.asarray(frame)) is np.ndarray


def test_patch_changes_only_the_samples_it_touches(a01_frames):
    _, kept, _ = a01_frames
    frame = kept[3]
    planes = planes_of(frame, frame.colour)
    y, u, v = planes
    rect = (101, 51, 333, 201)  # odd edges: the chroma blocks straddle them
    pixels = np.asarray(frame[51:201, 101:333]).copy()
    pixels[20:60, 30:90] //= 2  # a darker block well inside the patch
    pixels[0, 0, 1] ^= 1  # one channel of one pixel changed by one level, at the corner
    new_y, new_u, new_v = patched_planes(frame, planes, (rect, pixels), frame.colour)
    changed = np.zeros(y.shape, bool)
    changed[71:111, 131:191] = True
    changed[51, 101] = True
    np.testing.assert_array_equal(new_y[~changed], y[~changed])
    blocks = np.zeros(u.shape, bool)
    blocks[35:56, 65:96] = True
    blocks[25, 50] = True
    np.testing.assert_array_equal(new_u[~blocks], u[~blocks])
    np.testing.assert_array_equal(new_v[~blocks], v[~blocks])
    # Inside, luma is the patch converted with the decoder's matrix, chroma its 2x2 means.
    ref_y, ref_u, _ = bgr_to_yuv444_planes(pixels[20:60, 30:90].copy(), frame.colour)
    np.testing.assert_array_equal(new_y[71:111, 131:191], ref_y)
    means = ref_u[1:39, 1:59].reshape(19, 2, 29, 2).mean(axis=(1, 3))
    assert np.abs(new_u[36:55, 66:95].astype(float) - means).max() <= 0.5 + 1e-9
    assert (new_y[51, 101], new_u[25, 50], new_v[25, 50]) != (y[51, 101], u[25, 50], v[25, 50])
    # Nothing changed: the source planes themselves, no copy.
    same = patched_planes(frame, planes, (rect, np.asarray(frame[51:201, 101:333])), frame.colour)
    assert same[0] is y


def _chroma_psnr(path, reference):
    import av

    with av.open(str(path)) as container:
        got = [f.to_ndarray(format="yuv420p")[512:] for f in container.decode(video=0)]
    err = np.mean(
        [(g.astype(float) - r.astype(float)) ** 2 for g, r in zip(got, reference, strict=True)]
    )
    return 10 * np.log10(255**2 / err)


def test_planar_writer_keeps_untouched_chroma_closer_to_the_source(a01_frames, tmp_path):
    """Re-encoding A01 unchanged: the planar path loses less chroma than the 4:4:4 pipe."""
    import av

    path, kept, _ = a01_frames
    with av.open(str(path)) as container:
        source = [
            f.to_ndarray(format="yuv420p")[512:]
            for _, f in zip(kept, container.decode(video=0), strict=False)
        ]
    psnr = {}
    for planar in (False, True):
        out = tmp_path / f"planar_{planar}.mp4"
        with VideoWriter(
            out, 512, 512, 25, preset="ultrafast", planar=planar, color_from=path
        ) as w:
            assert w.planar is planar
            for frame in kept:
                w.write_patched(frame, None)
        psnr[planar] = _chroma_psnr(out, source)
    assert psnr[True] > psnr[False] + 0.5, psnr
