"""Colour and timing fidelity: untouched pixels of a real clip come back to the source's luma
through decode -> BGR -> encode (swscale's default paths shifted every pixel by about -1.9
levels), a 10-bit source keeps its look with a precision warning, and a variable-frame-rate
source gets the documented constant-rate choice as a warning."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from fault_media import ffmpeg

from lipcore.media.decode import VideoReader
from lipcore.media.encode import VideoWriter
from lipcore.media.probe import probe
from lipcore.render.pipeline import render
from lipcore.render.request import RenderRequest, SegmentSpec


def _luma(path, frames: int) -> np.ndarray:
    """Luma in 8-bit levels, read by ffmpeg (independent of the code under test)."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", str(frames), "-f", "rawvideo",
         "-pix_fmt", "gray16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, "<u2").astype(np.float64) / 256.0


def _round_trip(src, out, frames=10):
    with VideoReader(src) as reader:
        pictures = [f for _, f in reader.iter_frames(0, frames)]
        size, fps = (reader.width, reader.height), reader.fps
    codec = "prores" if out.suffix == ".mov" else "h264"
    with VideoWriter(out, *size, fps, sources=[src], codec=codec) as writer:
        for picture in pictures:
            writer.write(picture)
    diff = _luma(out, frames) - _luma(src, frames)
    return float(diff.mean()), float(np.abs(diff).mean()), writer.precision_note


@pytest.fixture(scope="module")
def ten_bit(talking_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("tenbit") / "ten.mp4"
    ffmpeg("-i", str(talking_clip), "-c:v", "libx264", "-pix_fmt", "yuv420p10le",
           "-profile:v", "high10", "-crf", "12", "-c:a", "copy", str(out))  # fmt: skip
    return out


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_untouched_pixels_come_back_to_the_source_luma(suffix, talking_clip, tmp_path):
    bias, mean_abs, note = _round_trip(talking_clip, tmp_path / f"rt{suffix}")
    assert abs(bias) < 0.1, bias  # was -1.87 levels through swscale's default conversions
    assert mean_abs < 0.6, mean_abs  # what is left is the encoder's own (CRF 12) noise
    assert note is None
    if suffix == ".mp4":  # the chroma too (a swapped or mis-scaled U/V would show here)
        src, out = (_planes(p, 10) for p in (talking_clip, tmp_path / f"rt{suffix}"))
        for plane in (1, 2):
            assert abs((out[:, plane] - src[:, plane]).mean()) < 0.1
            assert np.abs(out[:, plane] - src[:, plane]).mean() < 0.5


def _planes(path, frames: int) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", str(frames), "-f", "rawvideo",
         "-pix_fmt", "yuv444p", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    info = probe(path).video
    return np.frombuffer(raw, np.uint8).reshape(-1, 3, info.height, info.width).astype(float)


def test_a_10_bit_source_keeps_its_look_and_says_what_precision_is_kept(ten_bit, tmp_path):
    assert probe(ten_bit).video.bit_depth == 10
    bias, mean_abs, note = _round_trip(ten_bit, tmp_path / "rt.mov")
    assert probe(tmp_path / "rt.mov").video.bit_depth == 10
    assert abs(bias) < 0.1 and mean_abs < 0.5, (bias, mean_abs)
    assert "10-bit" in note and "8-bit precision" in note
    _, _, note = _round_trip(ten_bit, tmp_path / "rt.mp4")
    assert "10-bit" in note and "8-bit" in note


def test_a_10_bit_vfr_source_renders_with_both_warnings(ten_bit, dub, tmp_path):
    vfr = tmp_path / "vfr.mp4"  # every fourth picture dropped: 1/25 s and 2/25 s durations
    ffmpeg("-i", str(ten_bit), "-vf", "select='not(eq(mod(n\\,4)\\,3))'", "-vsync", "vfr",
           "-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-profile:v", "high10", "-c:a", "copy",
           str(vfr))  # fmt: skip
    assert probe(vfr).video.is_vfr
    out = tmp_path / "out.mov"
    request = RenderRequest(video=vfr, audio=dub, output=out, segments=(SegmentSpec(25, 50),))
    result = render(request, show_progress=False)
    text = " | ".join(result.warnings)
    assert "variable frame rate" in text and "constant" in text
    assert "10-bit" in text
    assert probe(out).video.fps == probe(vfr).video.fps
