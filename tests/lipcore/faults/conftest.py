"""Fault-corpus fixtures: short real clips and dubs cut from the shared media with ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_media import ffmpeg

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"  # one frontal face, 25 fps
SPEECH = "audio/B19_en_48k_retalking2.wav"


@pytest.fixture(scope="session")
def talking_clip(shared_media, tmp_path_factory) -> Path:
    """3.2 s of a real talking face (the built-in engine needs 3 s of footage)."""
    out = tmp_path_factory.mktemp("faults") / "talking.mp4"
    ffmpeg("-i", str(shared_media / CLIP), "-t", "3.2", "-c:v", "libx264", "-crf", "12",
           "-c:a", "aac", str(out))  # fmt: skip
    return out


@pytest.fixture(scope="session")
def dub(shared_media, tmp_path_factory) -> Path:
    """3.2 s of real speech, 48 kHz."""
    out = tmp_path_factory.mktemp("faults") / "dub.wav"
    ffmpeg("-i", str(shared_media / SPEECH), "-t", "3.2", str(out))
    return out
