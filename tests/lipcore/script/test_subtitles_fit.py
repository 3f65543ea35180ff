"""Script import (SRT, WebVTT), takes from a folder or a long dub, and the fit table."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from lipcore.cli import main
from lipcore.errors import LipsyncError
from lipcore.script.fit import fit_check, format_fit_table
from lipcore.script.lines import TAKE_RATE_HZ, takes_from_folder, takes_from_long_dub
from lipcore.script.subtitles import ScriptLine, read_script

SRT = """1
00:00:00,300 --> 00:00:02,200
Welcome to the <i>lecture</i>.

2
00:00:02,500 --> 00:00:04,170
LECTURER: Today we see how sound
becomes speech.

3
00:00:06,200 --> 00:00:07,400
Thank you.
"""

VTT = """WEBVTT

intro
00:00:00.300 --> 00:00:02.200
<v Anna Berg>Welcome to the lecture.

00:00:02.500 --> 00:00:04.170
<v.loud Ben>Today we see how sound
becomes speech.

00:06.200 --> 00:07.400
Thank you.
"""


def test_srt_and_vtt_give_the_same_lines_with_speakers(tmp_path):
    (tmp_path / "a.srt").write_text(SRT, encoding="utf-8-sig")
    (tmp_path / "a.vtt").write_text(VTT)
    srt_lines = read_script(tmp_path / "a.srt")
    vtt_lines = read_script(tmp_path / "a.vtt")
    assert [(ln.start_ms, ln.end_ms) for ln in srt_lines] == [
        (300, 2200),
        (2500, 4170),
        (6200, 7400),
    ]
    assert [(ln.start_ms, ln.end_ms) for ln in vtt_lines] == [
        (ln.start_ms, ln.end_ms) for ln in srt_lines
    ]
    assert srt_lines[1].text == vtt_lines[1].text == "Today we see how sound becomes speech."
    assert srt_lines[0].text == "Welcome to the lecture."  # markup removed
    assert [ln.speaker for ln in srt_lines] == ["", "Lecturer", ""]
    assert [ln.speaker for ln in vtt_lines] == ["Anna Berg", "Ben", ""]
    assert srt_lines[1].frames(25) == (62, 105)  # start floored, end rounded up


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("a.srt", "1\n00:00:01,000 --> nonsense\nhi\n", "not a valid SRT"),
        ("a.vtt", "no header\n\n00:01.000 --> 00:02.000\nhi\n", "not a valid WebVTT"),
        ("a.txt", "hi", "use .srt or .vtt"),
        ("b.srt", "1\n00:00:02,000 --> 00:00:01,000\nbackwards\n", "ends before it starts"),
    ],
)
def test_bad_scripts_name_the_file_and_the_fix(tmp_path, name, content, match):
    (tmp_path / name).write_text(content)
    with pytest.raises(LipsyncError, match=match) as info:
        read_script(tmp_path / name)
    assert name in str(info.value)


def _lines():
    return [
        ScriptLine(1, 300, 2200, "a"),
        ScriptLine(2, 2500, 4170, "b"),
        ScriptLine(3, 6200, 7400, "c"),
    ]


def test_long_dub_is_cut_into_the_lines_at_its_pauses(tts_lines, tmp_path):
    lines = _lines()
    takes = takes_from_folder(tts_lines, lines)
    dub = np.zeros(8 * TAKE_RATE_HZ, np.float32)
    starts_ms = (350, 2450, 6300)  # a voice actor is never exactly on the slot
    for (_, take), ms in zip(sorted(takes.items()), starts_ms, strict=True):
        a = ms * TAKE_RATE_HZ // 1000
        dub[a : a + len(take.samples)] = take.samples
    sf.write(tmp_path / "dub.wav", dub, TAKE_RATE_HZ)
    cut = takes_from_long_dub(tmp_path / "dub.wav", lines)
    assert sorted(cut) == [1, 2, 3]
    for i, ms in zip((1, 2, 3), starts_ms, strict=True):
        assert abs(cut[i].source_start_ms - ms) < 60
        assert abs(cut[i].duration_ms - takes[i].duration_ms) < 120


def test_fit_table_lists_the_overflow_and_the_total(tts_lines, tmp_path, capsys):
    lines = _lines()
    takes = takes_from_folder(tts_lines, lines)
    report = fit_check(lines, takes, clip_end_ms=8000)
    over = [r.index for r in report.over]
    assert over == [2]  # "Today we see how sound becomes speech." at 165 wpm is > 1.67 s
    row = report.rows[1]
    assert row.overflow_ms == pytest.approx(takes[2].duration_ms - 1670, abs=0.1)
    assert report.total_overflow_ms == row.overflow_ms
    assert row.gap_after_ms == 6200 - 4170
    text = format_fit_table(report)
    assert "1 of 3 lines overflow" in text and "over" in text
    (tmp_path / "a.srt").write_text(SRT)
    assert main(["fit", str(tmp_path / "a.srt"), str(tts_lines), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["lines_over"] == 1
    assert printed["total_overflow_ms"] == pytest.approx(report.total_overflow_ms, abs=0.2)
    assert [ln["status"] for ln in printed["lines"]] == ["fits", "over", "fits"]
    assert printed["lines"][1]["speaker"] == "Lecturer"


def test_missing_takes_and_bad_line_files_are_reported(tts_lines, tmp_path, capsys):
    lines = _lines()
    only_two = {k: v for k, v in takes_from_folder(tts_lines, lines).items() if k != 3}
    assert fit_check(lines, only_two).rows[2].status == "missing"
    (tmp_path / "a.srt").write_text(SRT)
    stray = tmp_path / "0009.wav"
    stray.write_bytes((tts_lines / "0001.wav").read_bytes())
    assert main(["fit", str(tmp_path / "a.srt"), str(stray)]) == 2
    assert "names line 9" in capsys.readouterr().err
