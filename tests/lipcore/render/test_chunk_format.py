"""The chunk file format: pixels stored raw read back bit for bit; chunks of earlier versions
(uncompressed PNG blobs) still read the same, so a chunk store survives the change.

Real pixels: the mouth region of frames of a real clip (A05).
"""

from __future__ import annotations

import io
import json
import struct

import cv2
import numpy as np
import pytest

from lipcore.media.decode import VideoReader
from lipcore.render.chunks import CHUNK_SUFFIX, ChunkReader, ChunkWriter

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"
RECT = (40, 300, 200, 420)  # x0, y0, x1, y1


@pytest.fixture(scope="module")
def patches(shared_media) -> list[np.ndarray]:
    x0, y0, x1, y1 = RECT
    with VideoReader(shared_media / CLIP) as r:
        return [f[y0:y1, x0:x1].copy() for i, f in r.iter_frames() if i < 6]


def test_pixels_round_trip_exactly_and_frames_without_change_stay_empty(tmp_path, patches):
    path = tmp_path / f"c{CHUNK_SUFFIX}"
    with ChunkWriter(path, {"segment": [10, 17]}) as w:
        for k, p in enumerate(patches):
            w.add(10 + k, RECT, p)
        w.add(16, None, None)  # e.g. strength 0: the source as it is
    r = ChunkReader(path)
    assert list(r.frames) == list(range(10, 17))
    for k, p in enumerate(patches):
        rect, got = r.patch(10 + k)
        assert rect == RECT and got.dtype == np.uint8 and np.array_equal(got, p)
    assert r.patch(16) is None and r.patch(99) is None
    # Raw rows: the file is the pixels plus a small index, no bigger than a stored PNG.
    assert path.stat().st_size < sum(p.nbytes for p in patches) + 8192
    with pytest.raises(ValueError, match="do not fill"), ChunkWriter(path, {}) as w:
        w.add(0, RECT, patches[0][:-1])


def test_a_chunk_written_before_raw_pixels_reads_the_same(tmp_path, patches):
    """The layout of CHUNK_VERSION 2 chunks before raw blobs: PNG (compression 0) per frame."""
    path = tmp_path / f"old{CHUNK_SUFFIX}"
    blobs = [
        cv2.imencode(".png", p, [cv2.IMWRITE_PNG_COMPRESSION, 0])[1].tobytes() for p in patches
    ]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    index = io.BytesIO()
    np.savez(
        index,
        frames=np.arange(len(blobs), dtype=np.int64),
        rects=np.asarray([RECT] * len(blobs), np.int32),
        offsets=offsets,
        header=np.frombuffer(json.dumps({"segment": [0, len(blobs)]}).encode(), np.uint8),
    )
    path.write_bytes(
        b"".join(blobs) + index.getvalue() + b"LSCHUNK1" + struct.pack("<Q", int(offsets[-1]))
    )
    r = ChunkReader(path)
    for k, p in enumerate(patches):
        frame = np.zeros((480, 480, 3), np.uint8)
        r.apply(k, frame)
        x0, y0, x1, y1 = RECT
        assert np.array_equal(frame[y0:y1, x0:x1], p)
