"""Options of ``lipsync sync`` / ``preview``: bad values are one-line errors, not tracebacks."""

from __future__ import annotations

from fractions import Fraction

import pytest

from lipcore.cli import build_parser, main
from lipcore.cli.render_options import build_request, parse_time
from lipcore.errors import LipsyncError

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"  # 25 fps
SPEECH = "audio/B06_zh_bus_chinese_48k.wav"


def test_times_in_every_notation_become_frames():
    ntsc = Fraction(30000, 1001)
    assert parse_time("f120", ntsc) == 120
    assert parse_time("1.5", Fraction(25)) == 37
    assert parse_time("0:02.0", Fraction(25)) == 50
    assert parse_time("00:00:01:05", ntsc) == 35  # non-drop timecode on a nominal 30
    with pytest.raises(LipsyncError, match="cannot read the time"):
        parse_time("soon", Fraction(25))


@pytest.mark.parametrize("face", ["a,320,180", "12.5,320,180"])
def test_an_unreadable_face_point_is_a_user_error(shared_media, tmp_path, face):
    args = build_parser().parse_args(
        ["sync", str(shared_media / CLIP), str(shared_media / SPEECH), "-o",
         str(tmp_path / "out.mp4"), "--face", face]
    )  # fmt: skip
    with pytest.raises(LipsyncError, match="face point"):
        build_request(args, tmp_path / "out.mp4")


def test_an_unreadable_preview_frame_list_exits_2(shared_media, tmp_path, capsys):
    png = tmp_path / "p.png"
    code = main(
        ["preview", str(shared_media / CLIP), str(shared_media / SPEECH), "-o", str(png),
         "--frames", "10,fifty", "-q"]
    )  # fmt: skip
    assert code == 2
    assert "frame list" in capsys.readouterr().err
    assert not png.exists()
