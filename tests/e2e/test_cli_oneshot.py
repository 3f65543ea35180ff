"""End to end: ``lipsync sync`` with the default engine on faces without speaking footage.

A18 (a head turning, no audio) and a still PNG taken from A04: before the one-shot engine both
were refused. A user checks that the output has the right length, frame rate and audio, that
the engine chosen and its reason are printed, that the mouth changes and the rest of the
picture does not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lipcore.media.decode import VideoReader
from lipcore.media.probe import probe

SPEECH = "audio/B01_en_hdtf_RD_Radio31_16k.wav"


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _sync(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", *args, "-q"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def speech_2s(shared_media, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("oneshot_e2e") / "speech.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "1", "-t", "2", "-i", str(shared_media / SPEECH),
         str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def a18_render(shared_media, speech_2s) -> tuple[Path, Path, str]:
    clip = next((shared_media / "video").glob("A18_*.mp4"))
    out = speech_2s.with_name("a18.mp4")
    proc = _sync(str(clip), str(speech_2s), "-o", str(out))
    return clip, out, proc.stdout


def test_silent_clip_renders_with_the_oneshot_engine(a18_render):
    clip, out, stdout = a18_render
    assert "engine: oneshot" in stdout and "no audio" in stdout
    s, o = probe(clip), probe(out)
    assert o.video.frame_count == s.video.frame_count
    assert o.video.fps == s.video.fps
    assert (o.video.width, o.video.height) == (s.video.width, s.video.height)
    assert o.audio is not None and o.audio.duration_sec > 1.9


def test_mouth_changes_and_the_upper_face_does_not(a18_render):
    clip, out, _ = a18_render
    with VideoReader(clip) as a, VideoReader(out) as b:
        src = [f for _, f in a.iter_frames(0, 50)]
        dst = [f for _, f in b.iter_frames(0, 50)]
    h, w = src[0].shape[:2]
    # A18 is a 512 px close-up: the mouth lies around the middle of the lower half
    mouth = (slice(int(0.55 * h), int(0.8 * h)), slice(int(0.3 * w), int(0.7 * w)))
    changed = [np.abs(s[mouth].astype(int) - d[mouth].astype(int)).mean() for s, d in
               zip(src, dst, strict=True)]  # fmt: skip
    assert np.mean(changed) > 2.0, "the mouth was not re-synced"
    top = (slice(0, int(0.35 * h)), slice(None))
    # Untouched pixels differ only by the re-encode (x264 CRF 12 costs A18's grain about 39 dB)
    assert min(_psnr(s[top], d[top]) for s, d in zip(src, dst, strict=True)) > 36.0


def test_still_portrait_becomes_a_video_at_the_asked_frame_rate(shared_media, speech_2s):
    png = speech_2s.with_name("portrait.png")
    clip = next((shared_media / "video").glob("A04_*.mp4"))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "2.2", "-i", str(clip), "-frames:v", "1", str(png)],
        check=True,
    )
    out = png.with_name("portrait.mp4")
    stdout = _sync(str(png), str(speech_2s), "-o", str(out), "--fps", "30").stdout
    assert "engine: oneshot" in stdout
    info = probe(out)
    assert info.video.fps == 30
    assert info.video.frame_count == 60  # 2 s of speech at 30 fps
    assert info.audio is not None
    with VideoReader(out) as r:
        frames = [f for _, f in r.iter_frames()]
    h, w = frames[0].shape[:2]
    mouth = (slice(int(0.6 * h), int(0.85 * h)), slice(int(0.3 * w), int(0.7 * w)))
    stack = np.stack([f[mouth].astype(np.float32) for f in frames])
    assert stack.std(axis=0).mean() > 2.0, "the still's mouth does not move"
    top = (slice(0, int(0.3 * h)), slice(None))
    assert _psnr(frames[0][top], frames[-1][top]) > 40.0
