"""The paste keeps a face's detail: crops cut at the face's native resolution (oversampled) and
pasted back by the one compositor leave the mouth as sharp as it was, where the old fixed 256 px
crop visibly softened it (on a real, sharp clip)."""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.media.decode import VideoReader
from lipcore.render.align import apply_affine, warp_to_crop
from lipcore.render.blend import apply_patch, paste_crop_roi, prepare_paste
from lipcore.render.pipeline import MAX_CROP_SIZE, PASTE_SIZE, native_crop_size
from tests.near_lossless import near_lossless_cut, tracked_and_aligned

#: The sharpest in-sync shared clip.
SHARP_CLIP = "A02"


def _mouth_sharpness(frame: np.ndarray, landmarks: np.ndarray) -> float:
    lips = landmarks[[61, 291, 0, 17]]
    (x0, y0), (x1, y1) = lips.min(0).astype(int) - 8, lips.max(0).astype(int) + 8
    grey = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def test_a_crop_pasted_back_at_native_resolution_keeps_the_mouth_sharp(shared_media, tmp_path):
    clip = near_lossless_cut(shared_media, SHARP_CLIP, 8, tmp_path / "sharp.mp4")
    track, alignment = tracked_and_aligned(clip)
    side = native_crop_size(alignment)
    assert PASTE_SIZE < side <= MAX_CROP_SIZE and side % 32 == 0
    with VideoReader(clip) as reader:
        frames = dict(reader.iter_frames(0, 8))
    kept = {}
    for size in (PASTE_SIZE, side):
        ratios = []
        for row, f in enumerate(track.frames):
            frame, k = frames[int(f)], size / PASTE_SIZE
            m = alignment.transforms[row] * k
            crop = warp_to_crop(frame, m, size)
            lm = apply_affine(m, track.landmarks[row])
            # The engine "generates" the crop it was given: only the round trip shows
            pasted_crop, mask = prepare_paste(crop, crop.copy(), lm, 12 * k)
            out = apply_patch(frame, paste_crop_roi(frame, pasted_crop, mask, m))
            outside = cv2.warpAffine(mask, cv2.invertAffineTransform(m), frame.shape[1::-1]) <= 0
            assert np.array_equal(out[outside], frame[outside])  # untouched outside the mask
            ratios.append(
                _mouth_sharpness(out, track.landmarks[row])
                / _mouth_sharpness(frame, track.landmarks[row])
            )
        kept[size] = float(np.mean(ratios))
    assert kept[side] >= 0.9, kept
    assert kept[side] > kept[PASTE_SIZE] + 0.1, kept


def test_colour_corrections_in_the_masks_window_change_no_pasted_pixel(shared_media, tmp_path):
    """prepare_paste corrects colour only near its mask; the frame must come out as with the
    whole crop corrected (skin and lips), at the native crop size."""
    from lipcore.render.blend import (
        lower_face_mask,
        match_colour,
        match_lip_colour,
        skin_ring,
        soft_mask,
    )

    clip = near_lossless_cut(shared_media, SHARP_CLIP, 30, tmp_path / "sharp.mp4")
    track, alignment = tracked_and_aligned(clip)
    side = native_crop_size(alignment)
    k = side / PASTE_SIZE
    with VideoReader(clip) as reader:
        frames = dict(reader.iter_frames(0, 30))
    a, b = 0, len(track.frames) - 1  # another frame's mouth on the first frame
    m = alignment.transforms[a] * k
    frame = frames[int(track.frames[a])]
    original = warp_to_crop(frame, m, side)
    lm = apply_affine(m, track.landmarks[a])
    generated = warp_to_crop(frames[int(track.frames[b])], alignment.transforms[b] * k, side)
    mouth_lm = apply_affine(alignment.transforms[b] * k, track.landmarks[b])
    region = (lower_face_mask(lm, side, 0) > 0).astype(np.float32)  # the engine's region
    crop, mask = prepare_paste(original, generated, lm, 12 * k, region, mouth_lm)
    # The reference: every correction on the whole crop
    shape = soft_mask(region > 0, 12 * k)
    from lipcore.render.blend import _mouth_area, still_skin

    ring = skin_ring(shape) & ~_mouth_area(side, [lm, mouth_lm])
    ring = ring if ring.sum() >= 64 else skin_ring(shape)
    skin = ring & still_skin(side, lm)  # the means on the skin above the corners
    skin = skin if skin.sum() >= 64 else ring
    whole = match_colour(generated, original, skin, ring)
    whole = match_lip_colour(whole, mouth_lm, original, lm)
    want = paste_crop_roi(frame, whole, mask, m)
    got = paste_crop_roi(frame, crop, mask, m)
    assert got[0] == want[0] and np.array_equal(got[1], want[1])
    assert not np.array_equal(got[1], frame[got[0][1] : got[0][3], got[0][0] : got[0][2]])
    # The render cuts only the original pixels the statistics read: the same frame again
    from lipcore.render.pipeline import _paste

    read = _paste(frame, generated, m, lm, 12 * k, region=region, mouth=mouth_lm)
    assert read[0] == want[0] and np.array_equal(read[1], want[1])
