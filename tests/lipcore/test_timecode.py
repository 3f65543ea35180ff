"""SMPTE timecode: known values, agreement with OpenTimelineIO's counter, files' start timecode."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import opentimelineio as otio
import pytest

from lipcore.cli.render_options import parse_time
from lipcore.errors import LipsyncError
from lipcore.timebase import format_timecode
from lipcore.timecode import format_smpte, parse_smpte, read_start_timecode

NTSC30 = Fraction(30000, 1001)
NTSC60 = Fraction(60000, 1001)
FILM = Fraction(24000, 1001)


@pytest.mark.parametrize(
    ("fps", "frame", "text"),
    [
        (NTSC30, 1799, "00:00:59;29"),
        (NTSC30, 1800, "00:01:00;02"),  # ;00 and ;01 are skipped at each minute
        (NTSC30, 17982, "00:10:00;00"),  # ... except every tenth minute
        (NTSC30, 107892, "01:00:00;00"),  # one hour of 29.97 DF = 107892 frames
        (NTSC60, 3600, "00:01:00;04"),  # 59.94 drops four numbers
        (NTSC60, 215784, "01:00:00;00"),
        (FILM, 86400, "01:00:00:00"),  # 23.976 counts at 24 with nothing dropped
        (Fraction(24), 86399, "00:59:59:23"),
        (Fraction(25), 90000, "01:00:00:00"),
    ],
)
def test_known_timecodes_both_ways(fps, frame, text):
    assert format_smpte(frame, fps) == text
    assert parse_smpte(text, fps) == frame


@pytest.mark.parametrize("fps", [NTSC30, NTSC60, FILM, Fraction(24), Fraction(25)])
def test_every_frame_of_the_first_eleven_minutes_matches_opentimelineio(fps):
    # OTIO's opentime is an independent SMPTE counter (C++), used by the editing suites' tools.
    step = 7 if fps > 40 else 3
    for frame in range(0, int(11 * 60 * fps), step):
        ours = format_smpte(frame, fps)
        theirs = otio.opentime.to_timecode(otio.opentime.RationalTime(frame, float(fps)))
        assert ours == theirs, frame
        assert parse_smpte(ours, fps) == frame


def test_non_drop_at_2997_on_request_and_errors_name_the_fix():
    assert format_smpte(1800, NTSC30, drop_frame=False) == "00:01:00:00"
    assert parse_smpte("00:01:00:00", NTSC30, drop_frame=False) == 1800
    with pytest.raises(LipsyncError, match="does not exist in drop-frame"):
        parse_smpte("00:01:00;00", NTSC30)
    with pytest.raises(LipsyncError, match="out of range"):
        parse_smpte("00:00:00:25", Fraction(25))
    with pytest.raises(LipsyncError, match="before the clip's start"):
        parse_smpte("00:59:00:00", Fraction(25), start_frame=90000)


def test_cli_times_take_timecode_relative_to_the_clip_start():
    assert parse_time("01:00:02:00", Fraction(25), start_frame=90000) == 50
    assert parse_time("00:01:00;02", NTSC30) == 1800
    assert parse_time("f12", NTSC30, start_frame=107892) == 12  # frames stay clip-relative
    assert format_timecode(50, Fraction(25), 90000) == "01:00:02:00"


def _clip(path, rate: str, *extra: str) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=64x48:r={rate}:d=0.5"]
        + list(extra)
        + [str(path)],
        check=True,
    )


def test_start_timecode_is_read_from_a_tmcd_track_and_mp4_tags(tmp_path):
    mov = tmp_path / "tc.mov"
    _clip(mov, "30000/1001", "-c:v", "mpeg4", "-timecode", "00:59:59;28")
    tc = read_start_timecode(mov, NTSC30)
    assert tc.drop_frame and tc.text == "00:59:59;28"
    assert format_smpte(2, NTSC30, tc.frames) == "01:00:00;00"
    mp4 = tmp_path / "tc.mp4"
    _clip(mp4, "24000/1001", "-c:v", "mpeg4", "-timecode", "01:00:00:00")
    tc = read_start_timecode(mp4, FILM)
    assert tc.frames == 86400 and not tc.drop_frame
    plain = tmp_path / "plain.mp4"
    _clip(plain, "25", "-c:v", "mpeg4")
    assert read_start_timecode(plain, Fraction(25)).source == "none"
