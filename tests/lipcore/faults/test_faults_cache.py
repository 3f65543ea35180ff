"""A cache folder that cannot be used is one clear line (exit 2) before any work; a cache that
fills up mid-run costs nothing: the finished face tracks are used from memory, with a warning.
The render here also checks that a stereo dub stays stereo in the export."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fault_media import ffmpeg

from lipcore.cache import CacheError, cache_root
from lipcore.face.track import cache_entry, iter_track_faces
from lipcore.media.audio import load_audio
from lipcore.media.probe import probe
from lipcore.progress import drain


def _cli(*args: str, cache: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIPSYNC_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "lipcore.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip


def test_a_file_in_the_way_of_the_cache_folder_is_one_line_with_exit_2(
    talking_clip, dub, tmp_path
):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    out = tmp_path / "out.mp4"
    proc = _cli("sync", str(talking_clip), str(dub), "-o", str(out), "-q", cache=blocker)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cache folder cannot be used" in proc.stderr
    assert str(blocker) in proc.stderr and "LIPSYNC_CACHE_DIR" in proc.stderr
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_is_a_cache_error(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    (folder / "v1").mkdir(parents=True)
    (folder / "v1").chmod(0o555)
    monkeypatch.setenv("LIPSYNC_CACHE_DIR", str(folder))
    with pytest.raises(CacheError, match="cache folder cannot be used"):
        cache_root()


def test_a_full_disk_while_storing_the_tracks_keeps_them_in_memory(
    talking_clip, tmp_path, monkeypatch
):
    """A real kernel write failure (EFBIG from a file-size limit, as ENOSPC from a full disk)."""
    monkeypatch.setenv("LIPSYNC_CACHE_DIR", str(tmp_path / "cache"))
    entry = cache_entry(talking_clip)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))  # the entry is ~100 KB
        tracks = drain(iter_track_faces(talking_clip), show=False)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert tracks.tracks and len(tracks.tracks[0].frames) == 80  # every frame tracked
    assert len(tracks.notes) == 1 and "could not store the cache entry" in tracks.notes[0]
    assert not entry.exists()
    assert sorted(p.name for p in entry.parent.iterdir()) == []  # no temp file left behind


def test_sync_finishes_when_the_tracks_cannot_be_cached(talking_clip, dub, tmp_path, monkeypatch):
    """The entry's place is taken by a folder (os.replace fails): warning, exit 0, output.

    The dub is stereo (speech left, silence right), and the export keeps it stereo: one render
    serves both checks, since renders are what make these tests slow.
    """
    cache = tmp_path / "cache"
    monkeypatch.setenv("LIPSYNC_CACHE_DIR", str(cache))
    entry = cache_entry(talking_clip)
    entry.mkdir()
    stereo_dub = tmp_path / "left_only.wav"
    ffmpeg("-i", str(dub), "-af", "pan=stereo|c0=c0|c1=0*c0", str(stereo_dub))
    out = tmp_path / "out.mp4"
    proc = _cli("sync", str(talking_clip), str(stereo_dub), "-o", str(out), "-q",
                "--segment", "1-2", cache=cache)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "warning:" in proc.stderr and "could not store the cache entry" in proc.stderr
    assert out.exists()
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # only the blocker
    assert probe(out).audio.channels == 2
    exported = load_audio(out, 48000, mono=False)
    left, right = (float(np.sqrt(np.mean(exported[:, c] ** 2))) for c in (0, 1))
    assert left > 0.02 and right < 0.01 * left, (left, right)


def _sync_on_a_small_disk(talking_clip, dub, tmp_path, *extra):
    """``lipsync sync`` whose every file write stops at 200 KB (EFBIG, as ENOSPC)."""
    out = tmp_path / "out.mp4"
    out.write_bytes(b"yesterday's render")
    limit = 200_000  # above the cached face tracks, below the 3.2 s encode (~400 KB)

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", str(talking_clip), str(dub), "-o", str(out),
         "-q", *extra],
        capture_output=True, text=True, timeout=300, preexec_fn=small_disk,
        env={**os.environ, "LIPSYNC_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert out.read_bytes() == b"yesterday's render"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    return out, proc.stderr


def test_a_disk_that_fills_while_encoding_is_one_line_and_keeps_the_old_output(
    talking_clip, dub, tmp_path
):
    """The file-size limit is inherited by the encoder; the first write beside the output
    that fails (the export's mixed audio, 1.2 MB of float WAV here, before the encoder's) is
    named in one line (the engine's library, too big for the limit, is only not kept in the
    cache, and the decoded speech stays in memory)."""
    out, stderr = _sync_on_a_small_disk(talking_clip, dub, tmp_path)
    assert str(out.parent) in stderr and "disk" in stderr


def test_a_cache_that_fills_while_storing_a_segment_is_one_line(talking_clip, dub, tmp_path):
    """With --segment the re-synced frames go to the cache first: that write fails, named."""
    _out, stderr = _sync_on_a_small_disk(talking_clip, dub, tmp_path, "--segment", "1-2")
    assert str(tmp_path / "cache") in stderr and "could not be stored" in stderr
    assert not list((tmp_path / "cache").rglob("*.partial*"))
