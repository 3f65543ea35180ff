"""Exact time arithmetic: rational rates, and float seconds read as the decimals users typed."""

from __future__ import annotations

from fractions import Fraction

import pytest

from lipcore.timebase import (
    as_fps,
    frame_to_mel_index,
    frame_to_sample,
    frames_in,
    sec_to_frame,
)

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize(
    ("sec", "fps", "frame"),
    [
        (0.36, Fraction(25), 9),  # 0.36 s is exactly frame 9, not 8.99999...
        (0.29, Fraction(100), 29),
        (1.001, NTSC, 30),  # 1.001 s at 29.97 is exactly frame 30
        (Fraction(1001, 1000), NTSC, 30),
        (0.0399, Fraction(25), 0),
        (2, Fraction(24000, 1001), 47),
    ],
)
def test_seconds_to_frame_is_exact_for_decimal_floats(sec, fps, frame):
    assert sec_to_frame(sec, fps) == frame


def test_frames_in_counts_a_partial_frame_but_not_float_noise():
    assert frames_in(0.2, Fraction(25)) == 5  # float 0.2 is 0.2000000000000000111...
    assert frames_in(0.2001, Fraction(25)) == 6
    assert frames_in(Fraction(16016, 16000), NTSC) == 30


def test_rational_rates_map_frames_to_samples_and_mel_steps_exactly():
    assert as_fps(29.97) == NTSC and as_fps("30000/1001") == NTSC
    assert frame_to_sample(30, NTSC, 48000) == 48048
    assert frame_to_sample(1, NTSC, 16000) == 533  # 533.866... floored
    assert frame_to_mel_index(300, Fraction(24000, 1001)) == 1001


def test_decimal_strings_snap_to_ntsc_rates_like_floats():
    from lipcore.timebase import as_fps

    assert as_fps("29.97") == as_fps(29.97) == Fraction(30000, 1001)
    assert as_fps("30000/1001") == Fraction(30000, 1001)
    assert as_fps("25") == 25
