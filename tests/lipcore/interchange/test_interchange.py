"""Interchange: EDL, FCP 7 XML and OTIO exports with ProRes mezzanine, parsed back independently.

The clips are a shared talking-face clip re-timed to 23.976 and 29.97 fps with a start timecode
(how a dubbing editor's conformed cut arrives). The lists are read back by OpenTimelineIO's
adapters (independent of our writers), the EDL also by a plain regex, the media by ffprobe, and
the mezzanine's first frame is compared with the clip's frame to prove the cut is frame-exact.
"""

from __future__ import annotations

import json
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lipcore.cli import main
from lipcore.interchange.formats import FORMATS, write_cut
from lipcore.interchange.mezzanine import iter_mezzanine
from lipcore.interchange.read import read_cut, segment_ranges
from lipcore.progress import drain
from lipcore.project import AudioTrack, MediaRef, Project, Segment, save_project
from lipcore.timecode import format_smpte

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"
SPEECH = "audio/B01_en_hdtf_RD_Radio31_16k.wav"


def _retimed_clip(shared_media: Path, out: Path, rate: str, tc: str, seconds: float) -> Path:
    """The shared clip re-labelled at ``rate`` (no frame dropped or added), starting at ``tc``."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(shared_media / CLIP),
            "-t",
            str(seconds),
            "-vf",
            f"scale=160:-2,setpts=N/({rate})/TB",
            "-r",
            rate,
            "-c:v",
            "libx264",
            "-crf",
            "10",
            "-c:a",
            "aac",
            "-timecode",
            tc,
            str(out),
        ],
        check=True,
    )
    return out


def _project(clip: Path, fps: Fraction, frames: int, dub: Path, ranges) -> Project:
    track = AudioTrack(id="dub1", name="Dub", media=MediaRef.from_file(dub))
    return Project(
        video=MediaRef.from_file(clip),
        fps=fps,
        frame_count=frames,
        width=160,
        height=196,
        video_has_audio=True,
        audio_tracks=[track],
        segments=[
            Segment(
                id=f"s{i}", start_frame=a, end_frame=b, audio_track_id="dub1", label=f"line {i}"
            )
            for i, (a, b) in enumerate(ranges)
        ],
    )


def _frame(path: Path, index: int) -> np.ndarray:
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"select=eq(n\\,{index})",
            "-vsync",
            "0",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).astype(np.float32)


def _ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


@pytest.mark.parametrize(
    ("rate", "fps", "start_tc", "seg_tc", "handles", "mezz_start_tc"),
    [
        # 29.97 DF: the clip starts 2 frames before minute 1, whose ;00 and ;01 are skipped
        (
            "30000/1001",
            Fraction(30000, 1001),
            "00:00:59;28",
            ("00:01:00;02", "00:01:01;02"),
            4,
            "00:00:59;28",
        ),
        (
            "24000/1001",
            Fraction(24000, 1001),
            "01:00:00:00",
            ("01:00:00:10", "01:00:01:10"),
            3,
            "01:00:00:07",
        ),
    ],
)
def test_exports_parse_back_with_the_right_timecodes(
    shared_media, tmp_path, rate, fps, start_tc, seg_tc, handles, mezz_start_tc
):
    clip = _retimed_clip(shared_media, tmp_path / "conform.mp4", rate, start_tc, 2.4)
    n = round(2.4 * fps)
    first = 10 if "24000" in rate else 2  # the clip frame at seg_tc[0]
    ranges = [(first, first + round(fps)), (first + 36, first + 46)]
    project = _project(clip, fps, n, shared_media / SPEECH, ranges)
    cut = drain(iter_mezzanine(project, tmp_path / "media", handles, rendered=clip), show=False)

    assert [cut.tc(e.record_in_frame) for e in cut.events][0] == seg_tc[0]
    assert cut.tc(cut.events[0].record_out_frame) == seg_tc[1]
    for fmt in FORMATS.values():
        out = write_cut(cut, fmt.name, tmp_path / f"cut{fmt.suffix}")
        back = read_cut(out, fps, start_frame=cut.start_frame)  # OTIO's own adapters
        assert back.start_frame == cut.start_frame
        assert [
            (e.source_in_frame, e.source_out_frame, e.record_in_frame) for e in back.events
        ] == [(e.source_in_frame, e.source_out_frame, e.record_in_frame) for e in cut.events], (
            fmt.name
        )
        assert [e.media.name for e in back.events] == [e.media.name for e in cut.events]
        assert segment_ranges(back, n) == [
            (a, b, back.events[i].text or back.events[i].name) for i, (a, b) in enumerate(ranges)
        ]
    edl = (tmp_path / "cut.edl").read_text()
    assert ("FCM: DROP FRAME" in edl) == ("30000" in rate)
    event = re.search(r"^001\s+(\S+)\s+V\s+C\s+(\S+) (\S+) (\S+) (\S+)$", edl, re.M)
    assert event.group(2, 3) == seg_tc and event.group(4, 5) == seg_tc
    xml = (tmp_path / "cut.xml").read_text()
    assert f"<string>{start_tc}</string>" in xml
    assert ("<displayformat>DF</displayformat>" in xml) == ("30000" in rate)

    ev = cut.events[0]
    info = _ffprobe(ev.media)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == (
        "prores",
        "HQ",
        "yuv422p10le",
    )
    assert Fraction(video["r_frame_rate"]) == fps
    lo = max(0, first - handles)  # a handle stops at the clip's first frame
    assert (ev.handle_before_frames, ev.handle_after_frames) == (first - lo, handles)
    assert int(video["nb_frames"]) == ev.media_frames == ev.duration_frames + first - lo + handles
    mezz_tc = video.get("tags", {}).get("timecode") or info["format"]["tags"]["timecode"]
    assert mezz_tc == format_smpte(lo, fps, cut.start_frame) == mezz_start_tc
    # frame-exact: the mezzanine's first frame is the clip's frame lo, not a neighbour (the
    # clip moves, so neighbours differ)
    m0 = _frame(ev.media, 0)
    same = np.abs(m0 - _frame(clip, lo)).mean()
    nxt = np.abs(m0 - _frame(clip, lo + 1)).mean()
    assert same < 1.5 and nxt > same + 0.3, (same, nxt)


@pytest.mark.slow
def test_cli_export_timeline_renders_lip_synced_media_with_untouched_handles(
    shared_media, tmp_path
):
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(shared_media / CLIP),
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-crf",
            "10",
            "-c:a",
            "aac",
            str(clip),
        ],
        check=True,
    )
    project = _project(clip, Fraction(25), 100, shared_media / SPEECH, [(30, 60)])
    proj = save_project(project, tmp_path / "talk.lsproj")
    out = tmp_path / "talk.otio"
    rc = main(
        ["export-timeline", str(proj), "--format", "otio", "-o", str(out), "--handles", "5", "-q"]
    )
    assert rc == 0
    cut = read_cut(out, Fraction(25))
    (ev,) = cut.events
    assert (ev.media_frames, ev.source_in_frame, ev.record_in_frame) == (40, 30, 30)
    assert ev.media.parent == tmp_path / "talk_media"
    # handles are the untouched source; inside the segment the mouth was re-synced
    handle = np.abs(_frame(ev.media, 0) - _frame(clip, 25)).mean()
    inside = np.abs(_frame(ev.media, 20) - _frame(clip, 45)).mean()
    assert handle < 1.5 and inside > handle, (handle, inside)


def test_bad_requests_are_user_errors(shared_media, tmp_path, capsys):
    bad = tmp_path / "cut.edl"
    bad.write_text("this is no edl\n001 x\n")
    rc = main(
        [
            "export-timeline",
            str(tmp_path / "none.lsproj"),
            "--format",
            "edl",
            "-o",
            str(tmp_path / "o.edl"),
        ]
    )
    assert rc == 2 and "project file not found" in capsys.readouterr().err
