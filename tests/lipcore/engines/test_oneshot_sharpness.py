"""The one-shot engine keeps the mouth's detail: it works on crops cut at the face's native
resolution (``any_crop_size``), where the old fixed 256 px crop cut A01's 512p face at 0.66 of
its frame scale and the dubbed mouth came out soft (0.84 of the original's Laplacian variance).

On real frames of A01 through the whole one-shot path a render takes: the footage cut, the
resting frame placed on each target, the mouth warp, the compositor's paste. Both sizes render
the same plan, so only the resampling differs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lipcore.engines.oneshot import OneShotEngine
from lipcore.engines.oneshot_render import MOUTH_POINTS, warp_mouth
from lipcore.engines.retime_composite import residual_warp, warp_points
from lipcore.media.decode import VideoReader
from lipcore.progress import drain
from lipcore.render.blend import apply_patch, paste_crop_roi, prepare_paste
from lipcore.render.footage import iter_source_footage
from lipcore.render.pipeline import PASTE_SIZE, _scaled, native_crop_size
from tests.near_lossless import near_lossless_cut, tracked_and_aligned

CLIP = "A01"
FRAMES = 8
#: Where A01's lips are closed (inner gap 0.002-0.02 eye distances): the resting frame is then
#: a real frame of the cut, not one closed by warping.
START_S = "2.2"


def _sharpness(frame: np.ndarray, landmarks: np.ndarray) -> float:
    lips = landmarks[[61, 291, 0, 17]]
    (x0, y0), (x1, y1) = lips.min(0).astype(int) - 8, lips.max(0).astype(int) + 8
    grey = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


@pytest.fixture(scope="module")
def a01(shared_media, tmp_path_factory):
    out = tmp_path_factory.mktemp("cut") / "a01.mp4"
    clip = near_lossless_cut(shared_media, CLIP, FRAMES, out, start_s=START_S)
    track, alignment = tracked_and_aligned(clip)
    with VideoReader(clip) as reader:
        frames = dict(reader.iter_frames(0, FRAMES))
    return clip, track, alignment, frames


def _render(a01, size: int) -> float:
    """Mean mouth sharpness of the one-shot's warped resting mouth pasted back, over its own."""
    clip, track, alignment, frames = a01
    scaled = _scaled(alignment, size)
    footage = drain(iter_source_footage(clip, scaled, None), show=False)
    engine = OneShotEngine(use_phones=False)
    engine.crop_size = size
    drain(engine.prepare(footage), show=False)
    assert not engine.synthetic_rest
    # The resting mouth placed on each target and moved by the warp (a sub-pixel lift of the
    # lips, as between frames), without the painted interior: the resampling alone
    out = []
    for crop, target_lm in zip(footage.crops, footage.landmarks, strict=True):
        target_lm = np.asarray(target_lm, np.float32)
        m = residual_warp(engine.rest_landmarks, target_lm)
        rest_here = warp_points(engine.rest_landmarks, m)
        eye = float(np.linalg.norm(target_lm[263] - target_lm[33]))
        texture, tex_lm = engine._rest_texture(crop, target_lm, m, rest_here, eye)
        mouth = tex_lm[list(MOUTH_POINTS)] + np.float32([0.3, -0.4]) * size / PASTE_SIZE
        out.append(warp_mouth(texture, tex_lm, mouth, eye))
    # The mouth shown is the resting frame's: its detail in its own frame is the reference
    rest = next(k for k, c in enumerate(footage.crops) if np.array_equal(c, engine.rest_crop))
    rest_row = track.index_of(int(footage.frames[rest]))
    reference = _sharpness(frames[int(footage.frames[rest])], track.landmarks[rest_row])
    kept = []
    for k, index in enumerate(footage.frames):
        row = track.index_of(int(index))
        frame, m = frames[int(index)], scaled.transforms[row]
        crop, mask = prepare_paste(footage.crops[k], out[k], footage.landmarks[k], 12 * size / 256)
        pasted = apply_patch(frame, paste_crop_roi(frame, crop, mask, m))
        lm = track.landmarks[row]
        kept.append(_sharpness(pasted, lm) / reference)
    return float(np.mean(kept))


def test_the_oneshot_mouth_keeps_its_detail_at_the_faces_native_size(a01):
    _, _, alignment, _ = a01
    assert OneShotEngine.any_crop_size  # the pipeline gives it the native size
    side = native_crop_size(alignment)
    assert side > PASTE_SIZE  # A01's face is larger than the old fixed crop
    kept = {size: _render(a01, size) for size in (PASTE_SIZE, side)}
    # Measured: 0.50 at 256 px, 0.80 at 576 px (cut and pasted back alone: 0.70 and 1.01; the
    # rest is mostly the targets' mouth boxes holding more skin than the resting frame's)
    assert kept[side] >= 0.75, kept
    assert kept[side] <= 1.1, kept  # a resampling, not a sharpening filter
    assert kept[side] > kept[PASTE_SIZE] + 0.2, kept
