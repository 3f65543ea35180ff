"""Source cadence: a re-synced mouth is held exactly where the source repeats a picture."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from lipcore.media.probe import ffmpeg_exe
from lipcore.progress import drain
from lipcore.render.cadence import CadenceTracker, face_region, picture_change
from lipcore.render.pipeline import iter_preview
from lipcore.render.request import RenderRequest, SegmentSpec

CLIP = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"
SPEECH = "audio/B19_en_48k_retalking2.wav"


def _held(changes) -> list[int]:
    tracker = CadenceTracker()
    return [i for i, c in enumerate(changes) if tracker.feed(c)]


def test_repeats_of_a_moving_clip_are_held_and_nothing_else():
    rng = np.random.default_rng(0)
    changes = rng.uniform(2.0, 12.0, 60)
    repeats = list(range(5, 60, 6))  # a 25-fps picture in a 30-fps file
    changes[repeats] = rng.uniform(0.0, 0.3, len(repeats))
    assert _held(changes) == repeats


def test_a_frozen_or_barely_moving_clip_holds_nothing_and_never_twice_in_a_row():
    assert _held(np.zeros(40)) == [], "a still turned into a video keeps its mouth moving"
    assert _held(np.full(40, 0.3)) == []
    # Repeated pictures in a row (a freeze inside a moving clip): at most every other frame
    held = _held([8.0] * 10 + [0.0] * 6 + [8.0] * 10)
    assert held and all(b - a > 1 for a, b in zip(held, held[1:], strict=False))


def test_picture_change_sees_a_repeat_of_a_moving_face_region():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (200, 300, 3), np.uint8)
    moved = np.roll(a, 3, axis=1)
    m = np.array([[1.0, 0.0, -50.0], [0.0, 1.0, -20.0]])  # crop = frame shifted by (50, 20)
    region = face_region(m, 128, a.shape)
    x0, y0, x1, y1 = region
    assert (x0, y0, x1, y1) == (69, 77, 159, 142)  # the lower half of the 128-px crop
    assert picture_change(a, a.copy(), region) == 0.0
    assert picture_change(a, moved, region) > 20.0
    assert picture_change(a, a, (0, 0, 0, 0)) == float("inf")  # nothing to compare


@pytest.fixture(scope="module")
def pulldown_clip(shared_media, tmp_path_factory):
    """Two seconds of A01 (25 fps) as a lossless 30-fps file: every sixth frame a repeat."""
    path = tmp_path_factory.mktemp("cadence") / "a01_30fps.mkv"
    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-i", str(shared_media / CLIP), "-t", "2",
           "-vf", "fps=30", "-c:v", "libx264", "-qp", "0", "-an", str(path)]  # fmt: skip
    subprocess.run(cmd, check=True)
    return path


def test_the_new_mouth_is_held_exactly_where_the_source_repeats(pulldown_clip, shared_media):
    req = RenderRequest(
        video=pulldown_clip,
        audio=shared_media / SPEECH,
        output=pulldown_clip.with_name("unused.mp4"),
        segments=(SegmentSpec(0, 1 << 40, engine="oneshot"),),
    )
    shots = drain(iter_preview(req, frames=list(range(60))), show=False)
    originals = [o for _, o, _ in shots]
    results = [r for _, _, r in shots]
    repeats = [j for j in range(1, 60) if np.array_equal(originals[j], originals[j - 1])]
    assert len(repeats) >= 9, "the fps filter repeats every sixth picture"
    for j in repeats:
        assert np.array_equal(results[j], results[j - 1]), f"frame {j} repeats its picture"
    new = [j for j in range(1, 60) if j not in repeats]
    moved = [j for j in new if not np.array_equal(results[j], results[j - 1])]
    assert len(moved) >= 0.9 * len(new), "on every new picture the mouth follows the speech"
    changed = [j for j in range(60) if not np.array_equal(results[j], originals[j])]
    assert len(changed) >= 55, "the mouth is re-synced, not left as the original"
