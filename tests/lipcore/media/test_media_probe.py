"""probe(): exact numbers from real and synthetic clips, and clear errors for bad inputs."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from lipcore.cli import main as cli_main
from lipcore.errors import MediaError
from lipcore.media import probe, require_audio, require_video


def test_real_clips(shared_clip):
    a01 = probe(shared_clip("A01"))
    assert (a01.video.width, a01.video.height, a01.video.fps) == (512, 512, 25)
    assert a01.video.frame_count == 200 and a01.audio.sample_rate == 16000

    a10 = probe(shared_clip("A10"))
    assert a10.video.codec == "hevc" and (a10.video.width, a10.video.height) == (1080, 1920)
    assert a10.video.fps == 30 and a10.video.frame_count == 600 and not a10.video.is_vfr

    h01 = probe(shared_clip("H01"))
    assert h01.video.fps == Fraction(2997, 100) and h01.video.frame_count == 275
    assert abs(h01.video.start_sec - 0.852019) < 1e-6
    assert abs(h01.audio.start_sec - 0.008005) < 1e-6

    a11 = probe(shared_clip("A11"))
    assert a11.audio is None and a11.video.frame_count == 270
    with pytest.raises(MediaError, match="no audio stream"):
        require_audio(a11)


def test_synthetic_clips(clips):
    ntsc = probe(clips["ntsc"]).video
    assert ntsc.fps == Fraction(30000, 1001) and ntsc.frame_count == 90
    odd = probe(clips["odd"]).video
    assert (odd.width, odd.height) == (321, 241)
    only_audio = probe(clips["audio_only"])
    assert only_audio.video is None and only_audio.audio.codec == "aac"
    with pytest.raises(MediaError, match="no video stream") as err:
        require_video(only_audio)
    assert "audio_only.m4a" in str(err.value)
    assert probe(clips["video_only"]).audio is None


@pytest.mark.parametrize(
    ("key", "message"),
    [("empty", "empty"), ("text", "not a readable video or audio file")],
)
def test_bad_files_give_clear_errors(clips, key, message):
    with pytest.raises(MediaError, match=message) as err:
        probe(clips[key])
    assert err.value.path == clips[key] and err.value.fix


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(MediaError, match="folder"):
        probe(tmp_path)


def test_cli_probe_json_and_text(shared_clip, capsys):
    assert cli_main(["probe", str(shared_clip("H01")), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["video"]["fps"] == {"num": 2997, "den": 100}
    assert data["video"]["frame_count"] == 275 and data["audio"]["sample_rate"] == 44100
    assert cli_main(["probe", str(shared_clip("A10"))]) == 0
    text = capsys.readouterr().out
    assert "1080x1920" in text and "frames     600" in text


def test_cli_probe_bad_input_exits_2_with_one_line(clips, capsys):
    assert cli_main(["probe", str(clips["text"])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "notes.mp4" in err
