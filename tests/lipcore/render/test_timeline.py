"""Output timeline: length policies for audio longer/shorter than the picture, segment clipping."""

from fractions import Fraction

import numpy as np
import pytest

from lipcore.render.request import SegmentSpec
from lipcore.render.timeline import clamp_segments, place_audio, plan_timeline

FPS = Fraction(25)


def test_short_audio_keeps_the_picture_length():
    t = plan_timeline(100, FPS, audio_samples=16000, offset_samples=0, policy="pingpong")
    assert t.output_frames == 100
    assert [t.source_of(j) for j in (0, 50, 99)] == [0, 50, 99]


def test_long_audio_cut_by_default_keeps_the_picture():
    t = plan_timeline(100, FPS, audio_samples=16000 * 10, offset_samples=0, policy="cut")
    assert t.output_frames == 100


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("hold", [0, 3, 4, 4, 4, 4, 4, 4]),
        ("loop", [0, 3, 4, 0, 1, 2, 3, 4]),
        ("pingpong", [0, 3, 4, 3, 2, 1, 0, 1]),
    ],
)
def test_long_audio_extends_the_picture(policy, expected):
    # 5 source frames, audio long enough for 8 frames (0.32 s at 25 fps).
    t = plan_timeline(5, FPS, audio_samples=int(16000 * 0.32), offset_samples=0, policy=policy)
    assert t.output_frames == 8
    assert [t.source_of(j) for j in (0, 3, 4, 5, 6, 7, 8, 9)] == expected


def test_audio_offset_counts_towards_its_end():
    t = plan_timeline(5, FPS, audio_samples=int(16000 * 0.2), offset_samples=3200, policy="hold")
    assert t.output_frames == 10  # 0.2 s + 0.2 s offset at 25 fps


def test_ntsc_rate_is_exact():
    fps = Fraction(30000, 1001)
    t = plan_timeline(300, fps, audio_samples=16016 * 20, offset_samples=0, policy="hold")
    assert t.output_frames == 600  # 20.02 s of audio at 29.97 fps is exactly 600 frames


def test_place_audio_offsets_and_cuts():
    a = np.arange(1, 11, dtype=np.float32)
    assert place_audio(a, 3, 8).tolist() == [0, 0, 0, 1, 2, 3, 4, 5]
    assert place_audio(a, -8, 4).tolist() == [9, 10, 0, 0]


def test_segments_clipped_sorted_and_checked():
    t = plan_timeline(100, FPS, 16000, 0, "cut")
    segs = clamp_segments((SegmentSpec(60, 500), SegmentSpec(10, 20)), t)
    assert [(s.start_frame, s.end_frame) for s in segs] == [(10, 20), (60, 100)]
    assert [(s.start_frame, s.end_frame) for s in clamp_segments((), t)] == [(0, 100)]
    with pytest.raises(ValueError, match="overlap"):
        clamp_segments((SegmentSpec(10, 30), SegmentSpec(20, 40)), t)
    with pytest.raises(ValueError, match="outside"):
        clamp_segments((SegmentSpec(200, 300),), t)
    with pytest.raises(ValueError, match="empty"):
        clamp_segments((SegmentSpec(10, 10),), t)


def test_segment_edges_fade_in_and_out_except_at_the_clip_ends():
    from lipcore.render.pipeline import EDGE_BLEND_FRAMES, _edge_weight

    mid = SegmentSpec(10, 30)
    weights = [_edge_weight(f, mid, 100) for f in range(10, 30)]
    assert weights[0] < weights[1] < weights[EDGE_BLEND_FRAMES - 1] < 1.0
    assert weights[EDGE_BLEND_FRAMES] == 1.0 and weights[-EDGE_BLEND_FRAMES - 1] == 1.0
    assert weights[-1] < weights[-2] < 1.0
    whole = SegmentSpec(0, 100)
    assert _edge_weight(0, whole, 100) == 1.0 and _edge_weight(99, whole, 100) == 1.0
