"""Rendered segments as lossless chunks: only the pixels a re-sync changed, frame by frame.

A segment's render is stored as one ``.lschunk`` file: for every output frame of the segment the
rectangle the paste touched and its pixels, stored as they are (lossless, so splicing a chunk onto
the source gives back exactly the rendered frame). Everything outside the rectangles is the source
clip's own picture, so a chunk of a 3-second segment of a 1080p clip is a few MB, is written in
about the time the engine takes, and an export takes untouched frames straight from the source.

File layout (streamed, bounded memory): the pixel blobs one after another (raw BGR rows,
``"pixels": "raw-bgr"`` in the header; chunks written before it hold uncompressed PNGs and read
the same), then an index
(``np.savez``: frames, rects, offsets, a JSON header) and a 16-byte footer (``b"LSCHUNK1"`` + the
index offset). Written to a temp file and renamed into place, like every output of the tool.

Chunks are keyed by everything that changes their pixels (:func:`chunk_key`), so a segment whose
parameters did not change is never rendered again. The store is kept to a size
(:func:`prune_chunks`, least recently used first; every read or reuse of a chunk counts as a use).
"""

from __future__ import annotations

import io
import json
import os
import struct
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from lipcore.errors import MediaError
from lipcore.media.encode import DEFAULT_CRF

#: File suffix of chunks.
CHUNK_SUFFIX = ".lschunk"
#: Default size the chunk store is pruned to (a 3-s segment of an 844x844 face is ~19 MB:
#: about 200 such segments).
CHUNK_CACHE_BYTES = 4 << 30
#: Bumped when the chunk format or the renderer's output changes (old chunks are not reused).
CHUNK_VERSION = 8  # 4: mouths held on repeated source pictures (render/cadence.py); 5: one-shot
# mouth on the picture clock, its teeth never stretched (engines/picture_clock.py, oneshot_teeth);
# 6: retime's softness cost off for mouths as flat as skin (engines/retime.py DETAIL_FLOOR);
# 7: one-shot teeth rows split at the exemplar's bite and never squeezed before the band between;
# 8: the colour match measured on the skin above the mouth corners (render/blend.still_skin)
_MAGIC = b"LSCHUNK1"
#: How blobs hold pixels: raw BGR rows, the rectangle's shape. Raw is what the stored PNGs of
#: earlier chunks (compression 0) held too, without the encode (a sixth of a segment's writing)
#: and decode per frame; the files are the same size (a 3-s segment of an 844x844 face: ~19 MB).
_RAW = "raw-bgr"


class ChunkWriter:
    """Write a chunk frame by frame; :meth:`close` renames it into place, :meth:`abort` drops it.

    Args:
        path: The ``.lschunk`` file to write.
        header: JSON-ready facts about the chunk (source clip, fps, segment); kept in the file.
    """

    def __init__(self, path: str | Path, header: dict[str, Any]):
        self.path = Path(path)
        self.header = {**dict(header), "pixels": _RAW}
        self._tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        self._file = None
        self._frames: list[int] = []
        self._rects: list[tuple[int, int, int, int]] = []
        self._offsets: list[int] = [0]

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def add(self, frame: int, rect: tuple[int, int, int, int] | None, pixels: np.ndarray | None):
        """Add output frame ``frame``: ``pixels`` (BGR) replace the source inside ``rect``.

        Args:
            frame: Output frame index.
            rect: ``(x0, y0, x1, y1)`` in frame pixels, or None when the frame is unchanged.
            pixels: ``(y1 - y0, x1 - x0, 3)`` uint8 BGR (ignored when ``rect`` is None).
        """
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        blob = b""
        if rect is not None and pixels is not None and pixels.size:
            x0, y0, x1, y1 = (int(v) for v in rect)
            if pixels.shape != (y1 - y0, x1 - x0, 3):
                raise ValueError(f"pixels {pixels.shape} do not fill the rectangle {rect}")
            blob = np.ascontiguousarray(pixels, np.uint8).tobytes()
        self._write(blob)
        self._frames.append(int(frame))
        self._rects.append(tuple(int(v) for v in rect) if blob else (0, 0, 0, 0))
        self._offsets.append(self._offsets[-1] + len(blob))

    def close(self) -> Path:
        """Write the index and move the chunk into place; returns its path."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._tmp, "wb")  # noqa: SIM115
        buf = io.BytesIO()
        np.savez(
            buf,
            frames=np.asarray(self._frames, np.int64),
            rects=np.asarray(self._rects, np.int32).reshape(-1, 4),
            offsets=np.asarray(self._offsets, np.int64),
            header=np.frombuffer(json.dumps(self.header).encode(), np.uint8),
        )
        index_at = self._offsets[-1]
        self._write(buf.getvalue() + _MAGIC + struct.pack("<Q", index_at))
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise self._full(exc) from exc
        return self.path

    def _write(self, data: bytes) -> None:
        try:
            self._file.write(data)
        except OSError as exc:
            raise self._full(exc) from exc

    def _full(self, exc: OSError):
        from lipcore.cache import CacheError

        return CacheError(
            f"the rendered segment could not be stored in the cache ({exc.strerror or exc})",
            self.path.parent,
            "free disk space there, or choose another cache folder (LIPSYNC_CACHE_DIR)",
        )

    def abort(self) -> None:
        """Drop the half-written chunk."""
        if self._file is not None:
            self._file.close()
        self._tmp.unlink(missing_ok=True)


class ChunkReader:
    """Random access to the frames of a chunk.

    Args:
        path: A ``.lschunk`` file.

    Raises:
        MediaError: The file is not a complete chunk.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                f.seek(-16, os.SEEK_END)
                tail = f.read(16)
                if tail[:8] != _MAGIC:
                    raise ValueError("no chunk footer")
                (index_at,) = struct.unpack("<Q", tail[8:])
                f.seek(index_at)
                index = f.read()[:-16]
            with np.load(io.BytesIO(index), allow_pickle=False) as z:
                self.frames = z["frames"]
                self.rects = z["rects"]
                self._offsets = z["offsets"]
                self.header = json.loads(z["header"].tobytes().decode())
        except (OSError, ValueError, KeyError) as exc:
            raise MediaError(
                f"not a readable render chunk ({exc})", self.path, "render the segment again"
            ) from exc
        self._row = {int(f): i for i, f in enumerate(self.frames)}
        from lipcore.cache import mark_used

        mark_used(self.path)  # read: recently used, the last a pruning removes

    def __contains__(self, frame: int) -> bool:
        return int(frame) in self._row

    def patch(self, frame: int) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
        """``(rect, pixels)`` of output frame ``frame``, or None where the source is unchanged."""
        import cv2

        row = self._row.get(int(frame))
        if row is None:
            return None
        a, b = int(self._offsets[row]), int(self._offsets[row + 1])
        if b <= a:
            return None
        with open(self.path, "rb") as f:
            f.seek(a)
            blob = np.frombuffer(bytearray(f.read(b - a)), np.uint8)
        x0, y0, x1, y1 = (int(v) for v in self.rects[row])
        if self.header.get("pixels") == _RAW:
            return (x0, y0, x1, y1), blob.reshape(y1 - y0, x1 - x0, 3)
        return (x0, y0, x1, y1), cv2.imdecode(blob, cv2.IMREAD_COLOR)  # an earlier PNG chunk

    def apply(self, frame: int, picture: np.ndarray) -> np.ndarray:
        """Put this chunk's pixels for output frame ``frame`` onto ``picture`` (in place).

        Only pixels the render changed are written, so chunks of two faces on the same frames
        combine; with one chunk the result is exactly the rendered frame.

        Returns:
            ``picture``.
        """
        got = self.patch(frame)
        if got is None:
            return picture
        (x0, y0, x1, y1), pixels = got
        roi = picture[y0:y1, x0:x1]
        changed = np.any(roi != pixels, axis=2)
        roi[changed] = pixels[changed]
        return picture


def track_digest(track) -> str:
    """Content hash of a face track (its frames and landmarks): part of a chunk's key."""
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    from lipcore.scratch import release_pages

    h.update(np.ascontiguousarray(track.frames, np.int64).tobytes())
    # Block by block (the same digest): a long clip's landmarks are never copied whole.
    for a in range(0, len(track.landmarks), _DIGEST_ROWS):
        h.update(np.ascontiguousarray(track.landmarks[a : a + _DIGEST_ROWS], np.float32).data)
    release_pages(track.landmarks)
    return h.hexdigest()


#: Landmark rows hashed at a time by :func:`track_digest` (4 MB).
_DIGEST_ROWS = 1024


def chunk_key(
    *,
    video_fp: str,
    audio_fp: str,
    audio_offset_samples: int,
    output_frames: int,
    policy: str,
    track: str,
    spec,
    footage_fps: tuple[str, ...] = (),
    checkpoint_fp: str | None = None,
) -> str:
    """Key of a segment's chunk: everything that changes its pixels.

    Args:
        video_fp: Fingerprint of the clip.
        audio_fp: Fingerprint of the driving audio.
        audio_offset_samples: Where that audio starts (16 kHz), track plus segment offset.
        output_frames: Frames in the output (a segment at the very end has no fade-out).
        policy: The long-audio policy (which source frame each output frame shows).
        track: :func:`track_digest` of the re-synced face track.
        spec: The :class:`~lipcore.render.request.SegmentSpec` (its own offset is folded into
            ``audio_offset_samples``).
        footage_fps: Fingerprints of extra footage.
        checkpoint_fp: Fingerprint of a neural engine's weights.

    Returns:
        A 16-character hex key.
    """
    from lipcore.cache import settings_key

    seg = asdict(spec)
    seg.pop("audio_offset_samples", None)
    if not seg.get("strength_keys"):
        seg.pop("strength_keys", None)  # no curve: the keys of chunks made before curves stand
    return settings_key(
        {
            "v": CHUNK_VERSION,
            "video": video_fp,
            "audio": [audio_fp, int(audio_offset_samples)],
            "out": [int(output_frames), policy],
            "track": track,
            "segment": seg,
            "footage": list(footage_fps),
            "checkpoint": checkpoint_fp,
        }
    )


def chunk_root() -> Path:
    """Folder of the chunk store in the lipsync cache."""
    from lipcore.cache import cache_root

    root = cache_root() / "chunks"
    root.mkdir(parents=True, exist_ok=True)
    return root


def prune_chunks(
    max_bytes: int = CHUNK_CACHE_BYTES,
    keep: Iterable[str | Path] = (),
    linked: Iterable[str | Path] = (),
    root: str | Path | None = None,
):
    """Keep the chunk store within ``max_bytes``, least recently used chunks first.

    Chunks still referenced (``keep``: the open project's renders), used in the last minutes,
    or being written are never removed (see :func:`lipcore.cache.prune_lru`).

    Args:
        max_bytes: Size to prune down to.
        keep: Chunks that must stay (any hard link of them).
        linked: Other folders holding hard links of chunks (the editor's render cache): a
            chunk goes with its links there, or deleting it would free nothing.
        root: The chunk store (default :func:`chunk_root`).

    Returns:
        The :class:`~lipcore.cache.PruneResult`.
    """
    from lipcore.cache import prune_lru

    store = Path(root) if root is not None else chunk_root()
    return prune_lru([store, *linked], int(max_bytes), CHUNK_SUFFIX, keep=keep)


def is_chunk(path: str | Path) -> bool:
    """True when ``path`` names a render chunk (by suffix)."""
    return Path(path).suffix == CHUNK_SUFFIX


class ChunkVideo:
    """A chunk seen as a video: the source clip's frames with the chunk's pixels put on top.

    What the editor's viewer reads for a rendered segment (preview plays chunks).

    Args:
        chunk: The ``.lschunk`` file (its header names the source clip).
        video: Override of the source clip (e.g. after relinking).
    """

    def __init__(self, chunk: str | Path, video: str | Path | None = None):
        from lipcore.media.decode import VideoReader

        self.chunk = ChunkReader(chunk)
        self.path = Path(chunk)
        src = Path(video) if video is not None else Path(self.chunk.header["video"])
        self._reader = VideoReader(src)
        self._timeline = self.chunk.header.get("timeline")

    @property
    def frame_count(self) -> int:
        """Frames of the output the chunk belongs to."""
        return int(self.chunk.header.get("output_frames", self._reader.frame_count))

    def _source_of(self, frame: int) -> int:
        from lipcore.render.timeline import OutputTimeline

        t = self._timeline
        if not t:
            return frame
        tl = OutputTimeline(int(t[0]), int(t[1]), self._reader.fps, str(t[2]))
        return tl.source_of(frame)

    def read(self, frame: int) -> np.ndarray:
        """Output frame ``frame`` (BGR), the source where the chunk did not change it."""
        picture = self._reader.read(self._source_of(int(frame)))
        return self.chunk.apply(int(frame), picture)

    def close(self) -> None:
        """Close the source reader."""
        self._reader.close()


def iter_chunk_video(chunk: str | Path, crf: int = DEFAULT_CRF):
    """The chunk's segment as a short H.264 video (cached), for tools that read videos.

    Frame 0 of the video is the segment's first frame. The editor's sync meter reads it.

    Args:
        chunk: A ``.lschunk`` file.
        crf: x264 quality.

    Yields:
        Progress per written frame.

    Returns:
        The cached video's path.
    """
    from fractions import Fraction

    from lipcore.cache import cache_path
    from lipcore.media.encode import VideoWriter
    from lipcore.progress import Progress

    chunk = Path(chunk)
    out = cache_path("chunk-video", chunk.stem, suffix=".mp4")
    if out.is_file() and out.stat().st_mtime >= chunk.stat().st_mtime:
        return out
    video = ChunkVideo(chunk)
    try:
        frames = [int(f) for f in video.chunk.frames]
        first = video.read(frames[0]) if frames else None
        if first is None:
            raise MediaError("the chunk has no frames", chunk, "render the segment again")
        h, w = first.shape[:2]
        fps = Fraction(*video.chunk.header["fps"])
        with VideoWriter(out, w, h, fps, crf=crf, preset="veryfast") as writer:  # for meters
            for k, f in enumerate(frames):
                writer.write(first if k == 0 else video.read(f))
                yield Progress(k + 1, len(frames), "reading the render")
    finally:
        video.close()
    return out
