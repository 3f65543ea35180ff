"""The render pipeline on a real clip: cancelling leaves nothing, previews, audio placement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lipcore.errors import LipsyncError, MediaError, NoFaceError
from lipcore.media.probe import probe
from lipcore.progress import drain
from lipcore.render.pipeline import iter_preview, iter_render
from lipcore.render.request import FaceChoice, RenderRequest, SegmentSpec

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"  # 5 s, one face
SPEECH = "audio/B06_zh_bus_chinese_48k.wav"


@pytest.fixture(scope="module")
def media(shared_media) -> tuple[Path, Path]:
    return shared_media / CLIP, shared_media / SPEECH


def test_cancelling_a_render_leaves_no_output_and_no_temp_files(media, tmp_path):
    clip, speech = media
    out = tmp_path / "cancelled.mp4"
    gen = iter_render(RenderRequest(video=clip, audio=speech, output=out))
    for step in gen:
        if step.stage == "rendering" and step.done >= 20:
            break
    gen.close()  # what a GUI worker does when the user presses Cancel
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_survives_a_cancelled_rerender(media, tmp_path):
    clip, speech = media
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"the user's earlier export")
    gen = iter_render(RenderRequest(video=clip, audio=speech, output=out))
    for step in gen:
        if step.stage == "rendering":
            break
    gen.close()
    assert out.read_bytes() == b"the user's earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_preview_returns_original_and_result_for_chosen_frames(media, tmp_path):
    clip, speech = media
    req = RenderRequest(
        video=clip, audio=speech, output=tmp_path / "unused.mp4", segments=(SegmentSpec(20, 90),)
    )
    shots = drain(iter_preview(req, frames=[10, 50]), show=False)
    assert [f for f, _, _ in shots] == [10, 50]
    (_, o10, r10), (_, o50, r50) = shots
    assert np.array_equal(o10, r10), "frame 10 is outside the segment and must be untouched"
    assert not np.array_equal(o50, r50), "frame 50 is inside the segment and must change"
    assert not (tmp_path / "unused.mp4").exists()


def test_a_region_without_the_face_is_a_clear_error(media, tmp_path):
    clip, speech = media
    req = RenderRequest(
        video=clip,
        audio=speech,
        output=tmp_path / "x.mp4",
        face=FaceChoice(region=(0.0, 0.0, 40.0, 40.0)),
    )
    with pytest.raises(NoFaceError, match="region"):
        drain(iter_render(req), show=False)
    assert not (tmp_path / "x.mp4").exists()


def test_preview_cli_writes_a_side_by_side_png(media, tmp_path):
    clip, speech = media
    png = tmp_path / "preview.png"
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "preview", str(clip), str(speech), "-o", str(png),
         "--count", "2", "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    import cv2

    sheet = cv2.imread(str(png))
    info = probe(clip).video
    row_h = 360
    assert sheet.shape[0] == 2 * row_h
    assert sheet.shape[1] == 2 * round(info.width * row_h / info.height)


def test_preview_of_a_negative_or_empty_frame_list_fails_before_any_work(media, tmp_path):
    clip, speech = media
    req = RenderRequest(video=clip, audio=speech, output=tmp_path / "unused.mp4")
    for frames in ([], [-3, 10]):
        with pytest.raises(LipsyncError, match="cannot preview"):
            next(iter_preview(req, frames=frames))
    with pytest.raises(LipsyncError, match="cannot preview 0 frames"):
        next(iter_preview(req, count=0))


def test_preview_cli_names_frames_past_the_end_instead_of_a_traceback(media, tmp_path):
    clip, speech = media
    png = tmp_path / "preview.png"
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "preview", str(clip), str(speech), "-o", str(png),
         "--frames", "10,99999", "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "99999" in proc.stderr and "Traceback" not in proc.stderr
    assert not png.exists()


def test_a_video_file_given_as_the_new_audio_plays_on_its_own_picture_clock(
    media, shared_media, tmp_path
):
    # H01's audio stream starts 0.844 s before its picture (SYNC-FACTS: place audio by stream
    # start times); as the new speech its head must be dropped, as the encoder does when muxing.
    from lipcore.media.audio import clip_audio, load_audio
    from lipcore.render.pipeline import _load_inputs

    clip, _speech = media
    dub = (
        shared_media
        / "video/H01_multiface_profile_lowlight_cuts_640x360_hamilton_facerecognition.mp4"
    )
    req = RenderRequest(video=clip, audio=dub, output=tmp_path / "out.mp4")
    _info, audio = _load_inputs(req)
    on_clock = clip_audio(dub, 16000)
    n = min(len(audio), len(on_clock))
    assert n > 16000 * 5
    assert np.allclose(audio[:n], on_clock[:n], atol=1e-6)
    assert len(load_audio(dub, 16000)) - len(audio) == round(0.844 * 16000)


@pytest.mark.parametrize(
    ("name", "match"), [("out.avi", "extension"), ("missing/out.mp4", "folder does not exist")]
)
def test_an_unwritable_output_is_refused_before_any_tracking(media, tmp_path, name, match):
    clip, speech = media
    gen = iter_render(RenderRequest(video=clip, audio=speech, output=tmp_path / name))
    with pytest.raises(MediaError, match=match):
        next(gen)  # the first step, not minutes later at the encoder
    assert list(tmp_path.iterdir()) == []


def test_long_audio_pingpong_extends_the_picture_back_and_forth(media, shared_media, tmp_path):
    import soundfile as sf

    from lipcore.media.audio import load_audio
    from lipcore.media.decode import VideoReader

    clip, _ = media
    speech = load_audio(shared_media / "audio/B01_en_hdtf_RD_Radio31_16k.wav")[: int(16000 * 6.5)]
    dub = tmp_path / "dub.wav"
    sf.write(dub, speech, 16000)
    out = tmp_path / "long.mp4"
    req = RenderRequest(video=clip, audio=dub, output=out, long_audio="pingpong")
    result = drain(iter_render(req), show=False)
    n_src = probe(clip).video.frame_count  # 125
    # 6.5 s of speech needs 163 frames at 25 fps (a partial last frame counts).
    assert result.frame_count == probe(out).video.frame_count == 163
    # Output frame 130 plays source frame 2 * (125 - 1) - 130 = 118: compare the top band,
    # far above the face, where only the re-encode differs.
    with VideoReader(clip) as a, VideoReader(out) as b:
        src, res = a.read(2 * (n_src - 1) - 130), b.read(130)
        other = a.read(130 - n_src)
    band = slice(0, 60)
    err = np.abs(src[band].astype(int) - res[band]).mean()
    assert err < 3.0
    assert err < np.abs(other[band].astype(int) - res[band]).mean()
