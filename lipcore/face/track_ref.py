"""Face tracks across a process boundary: by reference to their cache entry, not by value.

A long clip's landmarks are large (3.8 KB per face and frame: 172 MB for 30 minutes) and the
track cache already holds them on disk, memory-mapped where used (see
:func:`lipcore.face.store.load_trackset`). Pickling a :class:`~lipcore.face.types.TrackSet`
copies every landmark into the pickle and, on the other side, into memory. So a process handing
tracks to another (the editor to its render worker, the worker back to the editor) sends a
:class:`TrackRef` instead when the set came from a cache entry that is still the same file:

- :func:`to_portable` turns a value into what crosses the boundary (a ``TrackRef`` for a cached
  track set, anything else unchanged: tracks with no cache entry go by value).
- :func:`from_portable` turns it back: the entry opened memory-mapped, memoised per
  :attr:`TrackRef.digest` (the last :data:`MAX_OPEN_TRACKSETS`), so every job of a worker gets
  the *same* track objects and the warm state's per-track digest and alignment memos
  (:mod:`lipcore.render.warm`) hit across jobs.

These two functions are the only place that choice is made.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lipcore.errors import LipsyncError
from lipcore.face.types import TrackSet

#: Track sets opened from references and kept (each only maps its landmarks: page cache, not
#: process memory, holds them).
MAX_OPEN_TRACKSETS = 2

_open: OrderedDict[tuple[str, str | None], TrackSet] = OrderedDict()
_open_lock = threading.Lock()  # the editor's job queues resolve results on their own threads


@dataclass(frozen=True)
class TrackRef:
    """A cached track set named by its cache entry (a few hundred bytes pickled).

    Attributes:
        entry: The track cache's ``.npz`` file.
        size_bytes: Its size when the reference was made.
        mtime_ns: Its modification time then (a rewritten entry is another version).
        digest: Content digest of that version (entry path, size and mtime): the memo key.
        source: The clip the tracks are used for (the same content may have been analysed
            under another name).
        track_ids: The tracks' ids, checked when the entry is opened.
    """

    entry: str
    size_bytes: int
    mtime_ns: int
    digest: str
    source: str | None
    track_ids: tuple[str, ...]


def _entry_digest(entry: Path, size_bytes: int, mtime_ns: int) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{entry.resolve()}\0{size_bytes}\0{mtime_ns}".encode())
    return h.hexdigest()


def reference(trackset: TrackSet) -> TrackRef | None:
    """A reference to ``trackset``'s cache entry, or None when it has none (or it changed).

    Args:
        trackset: Tracks, e.g. from :func:`lipcore.face.track.iter_track_faces`.
    """
    origin = getattr(trackset, "origin", None)
    if origin is None:
        return None
    entry, size_bytes, mtime_ns = origin
    try:
        st = Path(entry).stat()
    except OSError:
        return None
    if (st.st_size, st.st_mtime_ns) != (size_bytes, mtime_ns):
        return None  # the entry was rewritten since these tracks were read: send them
    return TrackRef(
        entry=str(entry),
        size_bytes=int(size_bytes),
        mtime_ns=int(mtime_ns),
        digest=_entry_digest(Path(entry), size_bytes, mtime_ns),
        source=str(trackset.source) if trackset.source is not None else None,
        track_ids=tuple(t.track_id for t in trackset.tracks),
    )


def to_portable(value: Any) -> Any:
    """``value`` as it should cross a process boundary: a cached track set becomes a
    :class:`TrackRef`; anything else (tracks with no cache entry included) is unchanged."""
    if isinstance(value, TrackSet):
        ref = reference(value)
        if ref is not None:
            return ref
    return value


def from_portable(value: Any) -> Any:
    """Inverse of :func:`to_portable`: a :class:`TrackRef` becomes its track set (opened
    memory-mapped, memoised per digest); anything else is unchanged.

    Raises:
        LipsyncError: The cache entry is gone or changed since the reference was made.
    """
    if not isinstance(value, TrackRef):
        return value
    # Keyed by the clip too: two clips whose track files are identical get a set each, so
    # neither's ``source`` is ever rewritten under the other's jobs.
    key = (value.digest, value.source)
    with _open_lock:
        got = _open.get(key)
        if got is None:
            got = _load(value)
            if value.source is not None:
                got.source = Path(value.source)  # a set just read: nobody else holds it yet
            _open[key] = got
            while len(_open) > MAX_OPEN_TRACKSETS:
                _open.popitem(last=False)
        else:
            _open.move_to_end(key)
    return got


def _load(ref: TrackRef) -> TrackSet:
    from lipcore.face.store import load_trackset

    entry = Path(ref.entry)
    fix = "run it again (the face tracks are read anew)"
    try:
        st = entry.stat()
    except OSError as exc:
        raise LipsyncError("the face tracks' cache entry is gone", entry, fix) from exc
    if (st.st_size, st.st_mtime_ns) != (ref.size_bytes, ref.mtime_ns):
        raise LipsyncError("the face tracks' cache entry changed", entry, fix)
    loaded = load_trackset(entry, mapped=True)
    if loaded is None or tuple(t.track_id for t in loaded.tracks) != ref.track_ids:
        raise LipsyncError("the face tracks' cache entry cannot be read", entry, fix)
    return loaded
