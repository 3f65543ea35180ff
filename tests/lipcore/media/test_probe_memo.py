"""A file is probed once per content: repeated probes are free, a changed file is probed again.

The counts are of real ffprobe processes (subprocess.run is wrapped, not replaced), on copies of
shared clips in a temporary folder so the test can touch and replace them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from fractions import Fraction

import pytest


@pytest.fixture
def ffprobe_runs(monkeypatch):
    """A list that grows by one for every ffprobe process started through subprocess.run."""
    runs: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(cmd, *args, **kwargs):
        if isinstance(cmd, (list, tuple)) and "ffprobe" in os.path.basename(str(cmd[0])):
            runs.append([str(c) for c in cmd])
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    return runs


@pytest.fixture
def clips(shared_media, tmp_path):
    """Copies of A04 (25 fps, with sound) and A11 (30 fps, silent) to touch and replace."""
    a04 = tmp_path / "a04.mp4"
    a11 = tmp_path / "a11.mp4"
    shutil.copy(next((shared_media / "video").glob("A04_*.mp4")), a04)
    shutil.copy(next((shared_media / "video").glob("A11_*.mp4")), a11)
    return a04, a11


def test_probing_the_same_file_twice_runs_ffprobe_once(clips, ffprobe_runs, monkeypatch):
    from lipcore.media.probe import probe

    a04, _ = clips
    first = probe(a04)
    assert len(ffprobe_runs) == 1
    again = probe(a04)
    monkeypatch.chdir(a04.parent)
    relative = probe(a04.name)  # the same file by another name
    assert len(ffprobe_runs) == 1, ffprobe_runs
    assert again == first
    assert relative.path == a04.__class__(a04.name)  # each caller gets its own path back
    assert relative.video == first.video and relative.audio == first.audio
    assert first.video.fps == Fraction(25) and first.audio is not None


def test_timecode_and_encoder_colour_reuse_the_probe(clips, ffprobe_runs, tmp_path):
    import numpy as np

    from lipcore.media.encode import VideoWriter
    from lipcore.media.probe import probe
    from lipcore.timecode import read_start_timecode

    a04, _ = clips
    info = probe(a04)
    assert read_start_timecode(a04, info.video.fps).frames == 0
    w, h = info.video.width, info.video.height
    out = tmp_path / "out.mp4"
    with VideoWriter(out, w, h, info.video.fps, audio=a04, color_from=a04) as writer:
        for _ in range(3):
            writer.write(np.zeros((h, w, 3), np.uint8))
    probed = [cmd[-1] for cmd in ffprobe_runs]
    assert probed.count(str(a04)) == 1, ffprobe_runs  # clip, its timecode, colour, audio mux
    assert probe(out).video.frame_count == 3


def test_a_touched_or_replaced_file_is_probed_again(clips, ffprobe_runs):
    from lipcore.media.probe import probe

    a04, a11 = clips
    assert probe(a04).video.fps == Fraction(25)
    stat = a04.stat()
    os.utime(a04, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert probe(a04).video.fps == Fraction(25)
    assert len(ffprobe_runs) == 2  # same content, but the file says it changed
    os.replace(a11, a04)  # another clip under the same name
    replaced = probe(a04)
    assert len(ffprobe_runs) == 3
    assert replaced.video.fps == Fraction(30) and replaced.audio is None
    assert probe(a04) == replaced and len(ffprobe_runs) == 3
