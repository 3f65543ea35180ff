"""Property-based tests (hypothesis) for time and timecode parsing: every notation lands on the
frame it names, timecode round-trips with the editor's display, and any other text is a
LipsyncError, never a negative or absurd frame or another exception."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from lipcore.cli.render_options import MAX_FRAME, parse_time
from lipcore.errors import LipsyncError
from lipcore.timebase import format_timecode, frame_to_sec, sec_to_frame

RATES = st.sampled_from(
    [Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
     Fraction(50), Fraction(60000, 1001), Fraction(60)]
)  # fmt: skip
FRAMES = st.integers(min_value=0, max_value=10_000_000)
#: SMPTE timecode spans one day (it wraps at 24:00:00:00); 24 h at the lowest nominal rate, 24.
TIMECODE_FRAMES = st.integers(min_value=0, max_value=24 * 3600 * 24 - 1)


@given(frame=TIMECODE_FRAMES, fps=RATES)
def test_timecode_round_trips_with_the_display(frame, fps):
    assert parse_time(format_timecode(frame, fps), fps) == frame


@given(frame=FRAMES, fps=RATES)
def test_frame_numbers_and_exact_start_times_name_that_frame(frame, fps):
    assert parse_time(f"f{frame}", fps) == frame
    assert sec_to_frame(frame_to_sec(frame, fps), fps) == frame
    # A start time written to the millisecond (rounded up, as a user reads it off a player)
    # names that frame: a frame lasts more than a millisecond.
    ms = -(-frame * 1000 // fps)
    sec = Decimal(int(ms)) / 1000
    assert parse_time(f"{sec:.3f}", fps) == frame
    minutes, rest = divmod(sec, 60)
    assert parse_time(f"{int(minutes)}:{rest:06.3f}", fps) == frame
    hours, minutes = divmod(int(minutes), 60)
    assert parse_time(f"{hours}:{minutes:02d}:{rest:06.3f}", fps) == frame


@given(text=st.text(max_size=20), fps=RATES)
def test_any_text_is_a_frame_or_a_lipsync_error(text, fps):
    try:
        frame = parse_time(text, fps)
    except LipsyncError as exc:
        assert "time" in str(exc) or "timecode" in str(exc)
    else:
        assert isinstance(frame, int) and 0 <= frame <= MAX_FRAME


@given(h=st.integers(0, 99), m=st.integers(60, 99), s=st.integers(0, 59), fps=RATES)
def test_out_of_range_timecode_fields_are_refused(h, m, s, fps):
    try:
        parse_time(f"{h:02d}:{m:02d}:{s:02d}:00", fps)
    except LipsyncError:
        pass
    else:
        raise AssertionError("minutes >= 60 accepted")
