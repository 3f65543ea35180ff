"""A library mouth pasted into a frame keeps its detail: footage crops are cut with
:data:`~lipcore.render.footage.FOOTAGE_INTERPOLATION` (Lanczos4), the first of the three
resamplings a library mouth goes through (cut, residual alignment, paste), and the one that cost
most with a cubic kernel. On real frames of A01 (the clip whose dubbed mouths were softest)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lipcore.engines.retime_composite import library_lower_face
from lipcore.media.decode import VideoReader
from lipcore.progress import drain
from lipcore.render.align import apply_affine, warp_to_crop
from lipcore.render.blend import apply_patch, paste_crop_roi
from lipcore.render.footage import iter_source_footage
from lipcore.render.pipeline import _scaled, native_crop_size
from tests.near_lossless import near_lossless_cut, tracked_and_aligned

CLIP = "A01"
FRAMES = 6
#: Where the target's landmarks sit against the library frame's (crop pixels): the residual
#: alignment then moves the library mouth by a fraction of a pixel, as it does between frames.
SHIFT_PX = np.float32([0.4, -0.3])


def _mouth_box(landmarks: np.ndarray) -> tuple[int, int, int, int]:
    lips = landmarks[[61, 291, 0, 17]]
    (x0, y0), (x1, y1) = lips.min(0).astype(int) - 8, lips.max(0).astype(int) + 8
    return int(x0), int(y0), int(x1), int(y1)


def _grey(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY).astype(np.float32)


def _sharpness(frame: np.ndarray, box: tuple[int, int, int, int]) -> float:
    return float(cv2.Laplacian(_grey(frame, box), cv2.CV_32F).var())


@pytest.fixture(scope="module")
def a01(shared_media, tmp_path_factory):
    clip = near_lossless_cut(
        shared_media, CLIP, FRAMES, tmp_path_factory.mktemp("cut") / "a01.mp4"
    )
    track, alignment = tracked_and_aligned(clip)
    size = native_crop_size(alignment)
    scaled = _scaled(alignment, size)
    footage = drain(iter_source_footage(clip, scaled, None), show=False)
    with VideoReader(clip) as reader:
        frames = dict(reader.iter_frames(0, FRAMES))
    return track, scaled, footage, frames


def _paste_library_mouth(frame, m, crop, crop_lm):
    """The retime path for one library frame: residual alignment onto the target (its own
    frame, landmarks moved by SHIFT_PX), then the compositor's paste, under the hard region."""
    size = crop.shape[0]
    target_lm = np.asarray(crop_lm, np.float32) + SHIFT_PX
    face, region, _ = library_lower_face(target_lm, [(crop, crop_lm, 1.0)], size)
    return apply_patch(frame, paste_crop_roi(frame, face, region.astype(np.float32), m))


def test_a_library_mouth_pasted_through_the_retime_path_keeps_its_detail(a01):
    track, scaled, footage, frames = a01
    kept = {"footage cut": [], "cubic cut": []}
    shifts = []
    for k, index in enumerate(footage.frames):
        row = track.index_of(int(index))
        frame, m = frames[int(index)], scaled.transforms[row]
        box = _mouth_box(track.landmarks[row])
        for name, crop in (
            ("footage cut", np.asarray(footage.crops[k])),
            ("cubic cut", warp_to_crop(frame, m, scaled.size)),  # the cut before this change
        ):
            out = _paste_library_mouth(frame, m, crop, footage.landmarks[k])
            kept[name].append(_sharpness(out, box) / _sharpness(frame, box))
            if name == "footage cut":
                (dx, dy), _ = cv2.phaseCorrelate(_grey(frame, box), _grey(out, box))
                shifts.append((dx, dy))
        # the footage's landmarks are the track's, in crop pixels
        assert np.allclose(footage.landmarks[k], apply_affine(m, track.landmarks[row]), atol=1e-3)
    ratio = {name: float(np.mean(v)) for name, v in kept.items()}
    assert ratio["footage cut"] >= 0.95, ratio
    assert ratio["footage cut"] <= 1.1, ratio  # a resampling, not a sharpening filter
    assert ratio["footage cut"] > ratio["cubic cut"] + 0.03, ratio
    # Geometry: the mouth lands where the residual alignment puts it (the target's landmarks
    # moved by SHIFT_PX in the crop, so by that much over the crop's scale in the frame)
    inv = cv2.invertAffineTransform(scaled.transforms[0].astype(np.float64))
    want = inv[:, :2] @ SHIFT_PX.astype(np.float64)
    got = np.mean(shifts, axis=0)
    assert np.abs(got - want).max() < 0.25, (got, want)
