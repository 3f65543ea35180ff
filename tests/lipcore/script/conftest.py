"""Test speech for script tests: three TTS lines made with Debian's espeak-ng (no media copied)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

LINES = ("Welcome to the lecture.", "Today we see how sound becomes speech.", "Thank you.")


def speak(text: str, path: Path, speed_wpm: int = 165) -> Path:
    """Write ``text`` as espeak-ng speech (22.05 kHz mono wav)."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: apt-get install espeak-ng (packaging/install.sh)")
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(speed_wpm), "-w", str(path), text], check=True
    )
    return path


@pytest.fixture(scope="session")
def tts_lines(tmp_path_factory) -> Path:
    """A folder 0001.wav .. 0003.wav of the three lecture lines."""
    folder = tmp_path_factory.mktemp("tts") / "lines"
    folder.mkdir()
    for i, text in enumerate(LINES, start=1):
        speak(text, folder / f"{i:04d}.wav")
    return folder
