"""The compositor's colour match reads the skin that stays put while the target speaks.

Below the mouth corners the target's own chin and jaw shading move with the speech the clip
had; a colour match whose means were measured there carried that motion into the new mouth,
frame by frame (retime's flicker on A06). On a real frame of a shared clip: a shadow over the
target's chin alone leaves the new lower face's lightness level as it is, while a change of the
light over the whole face is still followed.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipcore.media.decode import VideoReader
from lipcore.render.align import apply_affine, warp_to_crop
from lipcore.render.blend import prepare_paste, still_skin
from lipcore.render.pipeline import PASTE_SIZE
from tests.near_lossless import near_lossless_cut, tracked_and_aligned

CLIP = "A02"


def _lightness(img: np.ndarray, where: np.ndarray) -> float:
    return float(cv2.cvtColor(img, cv2.COLOR_BGR2LAB)[..., 0][where].astype(np.float32).mean())


def test_a_chin_shadow_of_the_target_does_not_reach_the_new_mouth(shared_media, tmp_path):
    clip = near_lossless_cut(shared_media, CLIP, 2, tmp_path / "frames.mp4")
    track, alignment = tracked_and_aligned(clip)
    with VideoReader(clip) as reader:
        frame = dict(reader.iter_frames(0, 2))[int(track.frames[0])]
    m = alignment.transforms[0]
    crop = warp_to_crop(frame, m, PASTE_SIZE)
    lm = apply_affine(m, track.landmarks[0]).astype(np.float32)
    above = still_skin(PASTE_SIZE, lm)
    corner = max(lm[61, 1], lm[291, 1])
    assert above[int(corner) - 1].all() and not above[int(corner) + 1].any()

    lips = np.zeros((PASTE_SIZE, PASTE_SIZE), np.uint8)
    cv2.fillPoly(lips, [np.round(lm[[61, 40, 0, 270, 291, 321, 17, 91]]).astype(np.int32)], 1)
    lips = lips > 0
    # The engine's new mouth is the target's own face (the crop itself): only the match acts.
    own = _lightness(crop, lips)

    # A shadow over the target's chin only (below its mouth corners): the new lower face keeps
    # its lightness level (measured on the whole ring, the mouth was pulled down by 15 levels
    # of L); the shadow's added spread still raises the mouth's contrast a little (at most 15 %).
    shaded = crop.astype(np.int16)
    shaded[int(np.ceil(corner)) :] -= 30
    shaded = np.clip(shaded, 0, 255).astype(np.uint8)
    matched, mask = prepare_paste(shaded, crop.copy(), lm, 12.0)
    skin = above & (mask > 0.5) & ~lips
    assert skin.sum() > 200
    assert abs(_lightness(matched, skin) - _lightness(crop, skin)) < 2.5  # whole ring: ~15
    assert abs(_lightness(matched, lips) - own) < 10.0

    # The light dimmed over the whole face: the new mouth follows it.
    dim = np.clip(crop.astype(np.int16) - 30, 0, 255).astype(np.uint8)
    matched, _ = prepare_paste(dim, crop.copy(), lm, 12.0)
    assert _lightness(matched, lips) < own - 12.0  # 30 BGR levels are about 19 of L
    assert _lightness(matched, skin) < _lightness(crop, skin) - 12.0
