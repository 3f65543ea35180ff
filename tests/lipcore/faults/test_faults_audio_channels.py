"""Audio channels: a 5.1 dub is folded down with the ITU-R BS.775 coefficients (dialogue in the
centre keeps its level: -3 dB, not the -15.6 dB of a six-channel mean), and a stereo dub stays
stereo in the exported file (that render is in test_faults_cache.py, which renders once)."""

from __future__ import annotations

import numpy as np
import pytest
from fault_media import ffmpeg

from lipcore.media.audio import downmix, load_audio
from lipcore.media.probe import probe


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.fixture(scope="module")
def surround_dub(dub, tmp_path_factory):
    """The real speech in the centre channel of a 5.1 AAC file, a quiet tone in the surrounds."""
    out = tmp_path_factory.mktemp("surround") / "dub51.m4a"
    ffmpeg("-i", str(dub), "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:d=3.2",
           "-filter_complex",
           "[0:a]aformat=channel_layouts=mono,volume=0.5[c];[1:a]volume=0.05,asplit=2[sl][sr];"
           "anullsrc=r=48000:cl=mono:d=3.2,asplit=3[fl][fr][lfe];"
           "[fl][fr][c][lfe][sl][sr]join=inputs=6:channel_layout=5.1[a]",
           "-map", "[a]", "-c:a", "aac", "-b:a", "384k", str(out))  # fmt: skip
    return out


def test_a_51_dub_keeps_its_centre_dialogue_level(dub, surround_dub):
    info = probe(surround_dub)
    assert info.audio.channels == 6 and info.audio.channel_layout == "5.1"
    speech = load_audio(dub, 16000) * 0.5  # what was put in the centre channel
    mono = load_audio(surround_dub, 16000)
    n = min(len(speech), len(mono))
    level_db = 20 * np.log10(_rms(mono[:n]) / _rms(speech[:n]))
    assert -3.6 < level_db < -2.4, level_db  # BS.775: centre at -3 dB (a mean gave -15.6 dB)
    stereo = load_audio(surround_dub, 48000, mono=False, max_channels=2)
    assert stereo.shape[1] == 2
    # Left and right each carry the centre at -3 dB plus their own surround; not each other's.
    both = stereo[:, 0] - stereo[:, 1]
    tone = np.sin(2 * np.pi * 1000 * np.arange(len(both)) / 48000)
    assert abs(np.corrcoef(both[4800:-4800], tone[4800:-4800])[0, 1]) < 0.2  # same tone L and R


def test_downmix_coefficients_are_bs775():
    names = ("FL", "FR", "FC", "LFE", "BL", "BR")
    eye = np.eye(6, dtype=np.float32)
    stereo = downmix(eye, "5.1", 2)
    g = np.sqrt(0.5)
    expected = {"FL": (1, 0), "FR": (0, 1), "FC": (g, g), "LFE": (0, 0), "BL": (g, 0),
                "BR": (0, g)}  # fmt: skip
    for row, name in enumerate(names):
        np.testing.assert_allclose(stereo[row], expected[name], atol=1e-6)
    assert downmix(np.ones((4, 2), np.float32), "stereo", 2).shape == (4, 2)  # stays stereo
    np.testing.assert_allclose(downmix(np.array([[1.0, 0.0]], np.float32), "stereo", 1), [[0.5]])
