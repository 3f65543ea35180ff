"""The render pipeline on a real clip: cancelling leaves nothing, previews, audio placement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lipcore.errors import NoFaceError
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
