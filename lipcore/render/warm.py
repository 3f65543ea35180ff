"""Warm state between renders: prepared engines and file fingerprints, kept by one session.

The editor (and the benches) hold one :class:`WarmState` and hand it to every render, so a
re-render of a segment finds the face's footage library already built: in memory when it was
used in this session, else on disk (``<cache>/engines/<key>``, keyed by clip content, face track
and the engine's :meth:`~lipcore.engines.base.Engine.prepare_key`), and only otherwise built.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from pathlib import Path

from lipcore.engines.base import Engine

#: Prepared engines kept in memory (each holds a library of up to ~300 MB of crops, mapped).
MAX_WARM_ENGINES = 4
#: Probes and decoded dubs kept in memory.
MAX_FILE_ENTRIES = 16
#: Track alignments kept (each holds its track: one per face of the clips being worked on).
MAX_ALIGNMENTS = 4


class WarmState:
    """Prepared engines and fingerprints of one session (not thread-safe: one render at a time).

    Args:
        max_engines: How many prepared engines to keep.
    """

    def __init__(self, max_engines: int = MAX_WARM_ENGINES):
        self.max_engines = int(max_engines)
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._fingerprints: dict[tuple[str, int, int], str] = {}
        self._digests: dict[int, tuple[weakref.ref, str]] = {}
        self._alignments: dict[tuple[str, int], object] = {}
        self._files: OrderedDict[tuple[str, str, int, int], object] = OrderedDict()

    def engine(self, key: str) -> Engine | None:
        """The prepared engine stored under ``key`` (marks it recently used), or None."""
        eng = self._engines.get(key)
        if eng is not None:
            self._engines.move_to_end(key)
        return eng

    def keep_engine(self, key: str, engine: Engine) -> None:
        """Remember a prepared engine (the least recently used one beyond the limit goes)."""
        self._engines[key] = engine
        self._engines.move_to_end(key)
        while len(self._engines) > self.max_engines:
            self._engines.popitem(last=False)

    def fingerprint(self, path: str | Path) -> str:
        """:func:`lipcore.cache.file_fingerprint`, memoised by path, size and mtime."""
        from lipcore.cache import file_fingerprint

        st = Path(path).stat()
        key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
        fp = self._fingerprints.get(key)
        if fp is None:
            fp = self._fingerprints[key] = file_fingerprint(path)
        return fp

    def remember(self, kind: str, path: str | Path, compute):
        """``compute()`` for a file, kept while the file keeps its size and mtime.

        What a re-render would otherwise redo for the same media: probing it, decoding a dub's
        16 kHz samples (a few MB per minute). The last :data:`MAX_FILE_ENTRIES` are kept.

        Args:
            kind: What is kept ("probe", "speech-16k").
            path: The file it belongs to.
            compute: Zero-argument callable making the value.
        """
        st = Path(path).stat()
        key = (kind, str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
        if key in self._files:
            self._files.move_to_end(key)
            return self._files[key]
        value = compute()
        self._files[key] = value
        while len(self._files) > MAX_FILE_ENTRIES:
            self._files.popitem(last=False)
        return value

    def track_digest(self, track) -> str:
        """:func:`lipcore.render.chunks.track_digest`, memoised per track object.

        The memo holds the track weakly: tracks sent to the editor's worker process by value
        (those with no track-cache entry, see :mod:`lipcore.face.track_ref`) arrive as a new
        copy per job, and holding them here kept the landmarks of the last 64 jobs alive
        (``bench/editor_soak.py``: the render worker grew ~4 MB a render on a 20-s clip).
        Cached tracks arrive by reference and are the same objects job after job.
        """
        from lipcore.render.chunks import track_digest

        got = self._digests.get(id(track))
        if got is not None and got[0]() is track:
            return got[1]
        digest = track_digest(track)
        self._digests = {k: v for k, v in self._digests.items() if v[0]() is not None}
        self._digests[id(track)] = (weakref.ref(track), digest)
        return digest

    def alignment(self, track, size: int):
        """:func:`lipcore.render.footage.align_track` of ``track``, memoised by its content.

        Fitting the template and smoothing every frame's transform costs time in proportion to
        the clip; a segment's re-render should not. Keyed by the track's digest (not the
        object), so a job that brings its own copy of the same track (the editor's worker
        process) finds it too, and the last :data:`MAX_ALIGNMENTS` are kept.
        """
        from lipcore.render.footage import align_track

        key = (self.track_digest(track), int(size))
        aligned = self._alignments.get(key)
        if aligned is not None:
            self._alignments[key] = self._alignments.pop(key)  # most recently used last
            return aligned
        aligned = align_track(track, size=size)
        self._alignments[key] = aligned
        while len(self._alignments) > MAX_ALIGNMENTS:
            self._alignments.pop(next(iter(self._alignments)))
        return aligned
