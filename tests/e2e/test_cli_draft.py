"""``lipsync sync --draft`` on a real clip: a small, range-only review render, marked draft."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lipcore.media.probe import probe

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"  # 590x590, 25 fps, 5 s
SPEECH = "audio/B19_en_48k_retalking2.wav"


@pytest.mark.slow
def test_draft_renders_the_segment_span_small(shared_media, tmp_path):
    out = tmp_path / "draft.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", str(shared_media / CLIP),
         str(shared_media / SPEECH), "-o", str(out), "--segment", "1-2.2", "--draft",
         "--draft-scale", "0.4", "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "DRAFT of frames 25-55 at 0.4x" in proc.stdout
    video = probe(out).video
    assert (video.width, video.frame_count) == (236, 30)  # 590 * 0.4, frames 25-55 only


def test_a_draft_without_a_range_is_refused(shared_media, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", str(shared_media / CLIP),
         str(shared_media / SPEECH), "-o", str(tmp_path / "d.mp4"), "--draft"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--segment START-END" in proc.stderr
    assert not (tmp_path / "d.mp4").exists()
