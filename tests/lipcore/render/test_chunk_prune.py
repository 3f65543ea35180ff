"""Keeping the chunk store to a size: least recently used chunks go, referenced ones never.

Real small chunks: mouth-region pixels of frames of a real clip (A05) written with the
renderer's own :class:`~lipcore.render.chunks.ChunkWriter`, some hard-linked into an editor-style
render cache. What a user relies on: after pruning the store fits the limit, the open project's
chunks and a chunk used a moment ago are all there and read back the same pixels, a chunk
still being written is untouched, and a pruned chunk is gone with its render-cache link (or
nothing would be freed).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from lipcore.cache import STALE_TEMP_S, mark_used, prune_lru
from lipcore.media.decode import VideoReader
from lipcore.render.chunks import CHUNK_SUFFIX, ChunkReader, ChunkWriter, prune_chunks

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"


@pytest.fixture(scope="module")
def mouths(shared_media) -> list[np.ndarray]:
    """Eight 96x128 BGR regions around the mouth of real frames."""
    with VideoReader(shared_media / CLIP) as r:
        frames = [f.copy() for i, f in r.iter_frames() if i < 8]
    h, w = frames[0].shape[:2]
    y0, x0 = int(h * 0.6), int(w * 0.4)
    return [f[y0 : y0 + 96, x0 : x0 + 128] for f in frames]


def _chunk(path: Path, mouths: list[np.ndarray], shift: int) -> Path:
    with ChunkWriter(path, {"segment": [0, len(mouths)], "fps": [25, 1]}) as w:
        for k, m in enumerate(mouths):
            w.add(k, (10, 20, 138, 116), np.roll(m, shift, axis=1))
    return path


def _age(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


def test_pruning_keeps_the_project_and_recent_chunks_and_frees_the_oldest(tmp_path, mouths):
    store, renders = tmp_path / "chunks", tmp_path / "renders"
    renders.mkdir()
    chunks = [_chunk(store / f"c{k}{CHUNK_SUFFIX}", mouths, k) for k in range(5)]
    size = chunks[0].stat().st_size
    assert size > 100_000  # real pixels, stored losslessly
    for k, c in enumerate(chunks):  # c0 the oldest ... c4 the newest, all beyond the grace
        _age(c, 7200 - 600 * k)
    project = renders / f"hash0{CHUNK_SUFFIX}"
    os.link(chunks[0], project)  # the open project's render: the oldest, and kept
    os.link(chunks[1], renders / f"hash1{CHUNK_SUFFIX}")  # an old project's: goes with c1
    _age(chunks[0], 7200)
    _age(chunks[1], 6600)
    before = ChunkReader(project).patch(3)
    ChunkReader(chunks[2])  # read a moment ago (the preview played it): recently used
    writing = ChunkWriter(store / f"new{CHUNK_SUFFIX}", {})
    writing.add(0, (0, 0, 128, 96), mouths[0])  # a render still running: a temp file
    stale = store / f".dead{CHUNK_SUFFIX}.1234abcd.tmp"
    stale.write_bytes(b"x" * 1000)
    _age(stale, STALE_TEMP_S + 60)

    result = prune_chunks(2 * size + size // 2, keep=[project], linked=[renders], root=store)

    left = sorted(p.name for p in store.glob(f"*{CHUNK_SUFFIX}"))
    assert left == [f"c0{CHUNK_SUFFIX}", f"c2{CHUNK_SUFFIX}"]  # c1, c3 went (oldest first)
    assert not (renders / f"hash1{CHUNK_SUFFIX}").exists()  # with its link: space freed
    assert project.exists() and (store / f"c0{CHUNK_SUFFIX}").samefile(project)
    assert result.removed == 3 and result.freed_bytes == 3 * size  # c1, c3, c4
    assert result.kept_bytes == 2 * size <= 2 * size + size // 2
    assert result.temps_removed == 1 and not stale.exists()
    assert writing._tmp.exists()  # the chunk being written is untouched ...
    writing.add(1, (0, 0, 128, 96), mouths[1])
    assert writing.close().is_file()  # ... and completes
    # The kept chunks read back exactly what was written.
    got = ChunkReader(project).patch(3)
    assert got[0] == before[0] and np.array_equal(got[1], before[1])
    assert np.array_equal(
        ChunkReader(store / f"c2{CHUNK_SUFFIX}").patch(5)[1], np.roll(mouths[5], 2, axis=1)
    )


def test_use_is_recorded_in_the_access_time_not_the_modification_time(tmp_path, mouths):
    c = _chunk(tmp_path / f"a{CHUNK_SUFFIX}", mouths, 0)
    _age(c, 5000)
    mtime = c.stat().st_mtime_ns
    mark_used(c)
    st = c.stat()
    assert st.st_mtime_ns == mtime  # derived videos compare against it: unchanged
    assert time.time() - st.st_atime < 60


def test_within_the_limit_or_within_the_grace_nothing_goes(tmp_path, mouths):
    store = tmp_path / "chunks"
    chunks = [_chunk(store / f"c{k}{CHUNK_SUFFIX}", mouths, k) for k in range(3)]
    size = chunks[0].stat().st_size
    assert prune_lru([store], 3 * size, CHUNK_SUFFIX).removed == 0
    # Over the limit, but all just written (an export may be about to read them).
    assert prune_lru([store], 0, CHUNK_SUFFIX).removed == 0
    assert all(c.exists() for c in chunks)
    # Past the grace, a limit of 0 empties the store.
    assert prune_lru([store], 0, CHUNK_SUFFIX, grace_s=0).removed == 3
    assert not list(store.glob(f"*{CHUNK_SUFFIX}"))
