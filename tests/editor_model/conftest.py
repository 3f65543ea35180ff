"""Fixtures for the Qt-free editor model tests: small generated clips and a ready document."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from editor.model.document import Document


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def generated_media(tmp_path_factory) -> Path:
    """A 2 s 64x48 25 fps H.264/AAC clip with a tone, and two mono WAV 'dubs' (1.5 s, 1.0 s)."""
    d = tmp_path_factory.mktemp("gen_media")
    video = "-f lavfi -i testsrc=size=64x48:rate=25:duration=2"
    tone = "-f lavfi -i sine=frequency=440:duration=2:sample_rate=48000"
    codecs = "-shortest -c:v libx264 -pix_fmt yuv420p -c:a aac"
    _ffmpeg(*f"{video} {tone} {codecs}".split(), str(d / "clip.mp4"))
    _ffmpeg(
        *"-f lavfi -i sine=frequency=300:duration=1.5:sample_rate=16000".split(),
        str(d / "dub.wav"),
    )
    _ffmpeg(
        *"-f lavfi -i sine=frequency=500:duration=1:sample_rate=22050".split(), str(d / "dub2.wav")
    )
    # A saved project next to the media: copying the folder gives each test a ready document
    # without probing the files again (and exercises relative media paths on every load).
    template = Document()
    template.open_video(d / "clip.mp4")
    template.add_audio_track(d / "dub.wav", name="Dub")
    template.save(d / "template.lsproj")
    return d


@pytest.fixture
def media(generated_media, tmp_path) -> Path:
    """A private copy of the generated media (tests may move or delete files)."""
    d = tmp_path / "media"
    shutil.copytree(generated_media, d)
    return d


@pytest.fixture
def doc(media) -> Document:
    """A document with the clip open (50 frames), its original track and one dub track."""
    d = Document.load(media / "template.lsproj")
    d.path = None  # behave like a fresh, never-saved document
    return d
