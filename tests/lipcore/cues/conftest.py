"""Speech for the mouth-cue tests: shared real clips and two synthetic voices made on the spot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lipcore.media.audio import load_audio

#: Many closures, with their words known: the text is the independent reference.
TTS_TEXT = (
    "Bob bought a big map. Mom made maple pie for my baby brother, "
    "and Pam paid the plumber by the pub."
)


def _tts(tmp_path_factory, tool: str, args: list[str]) -> Path:
    """Run a TTS command; ``OUT`` in ``args`` is replaced by the wav path."""
    if shutil.which(tool) is None:
        pytest.fail(
            f"{tool} not installed: run packaging/install.sh --dev (apt-get install {tool})"
        )
    out = tmp_path_factory.mktemp(tool) / "tts.wav"
    cmd = [tool, *(str(out) if a == "OUT" else a for a in args)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def flite_voice(tmp_path_factory):
    """(16 kHz samples, text) of Flite's diphone voice 'slt' reading :data:`TTS_TEXT`."""
    path = _tts(tmp_path_factory, "flite", ["-voice", "slt", "-t", TTS_TEXT, "-o", "OUT"])
    return load_audio(path), TTS_TEXT


@pytest.fixture(scope="session")
def flite_short(tmp_path_factory):
    """(16 kHz samples, text) of Flite reading a short sentence (for the slower recogniser)."""
    text = "Bob bought a big map. Mom made maple pie."
    path = _tts(tmp_path_factory, "flite", ["-voice", "slt", "-t", text, "-o", "OUT"])
    return load_audio(path), text


@pytest.fixture(scope="session")
def espeak_voice(tmp_path_factory):
    """(16 kHz samples, text) of espeak-ng's formant voice reading :data:`TTS_TEXT`."""
    path = _tts(tmp_path_factory, "espeak-ng", ["-v", "en-us", "-s", "150", "-w", "OUT", TTS_TEXT])
    return load_audio(path), TTS_TEXT


@pytest.fixture(scope="session")
def english(shared_media):
    return load_audio(shared_media / "audio" / "B21_en_16k_20s_latentsync_demo2.wav")
