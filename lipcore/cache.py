"""Versioned on-disk cache for derived data (face tracks, features), keyed by content hash.

The cache is an optimisation, never a place where work can be lost: a cache folder that cannot be
created or written is reported once, before any work, as a :class:`CacheError` (the CLI's exit
status 2), and an entry that cannot be stored later (a full disk) is returned to the caller as a
warning by :func:`store_entry`, which keeps the finished result in memory and carries on.

Folders of big entries (rendered segment chunks) are kept to a size by :func:`prune_lru`: the
least recently used entries go first (:func:`mark_used` records a use), never one still
referenced or used moments ago, nor a file still being written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lipcore.errors import LipsyncError

CACHE_VERSION = "v1"

#: What a user can do about a cache folder that cannot be used.
_CACHE_FIX = "free some space, or set LIPSYNC_CACHE_DIR to a writable folder"

#: Cache folders already shown to be writable in this process (checked once each).
_writable: set[Path] = set()


class CacheError(LipsyncError):
    """The cache folder cannot be created or written (read-only, full, or a file in the way)."""


def cache_root() -> Path:
    """Return the cache directory (``$LIPSYNC_CACHE_DIR`` or the XDG user cache).

    Raises:
        CacheError: The folder cannot be created, or a file cannot be written in it.
    """
    env = os.environ.get("LIPSYNC_CACHE_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    root = base / "lipsync" / CACHE_VERSION if not env else base / CACHE_VERSION
    if root not in _writable:
        _ensure_writable_folder(root)
        _writable.add(root)
    return root


def _ensure_writable_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test.{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise _unusable(folder, exc) from exc


def file_fingerprint(path: str | Path, chunk: int = 1 << 20) -> str:
    """Content hash of a media file: size plus the first, middle and last MiB (fast on big files).

    Args:
        path: The file.
        chunk: Bytes read at each of the three places.

    Returns:
        A 32-character hex digest that changes when the content changes.
    """
    path = Path(path)
    size = path.stat().st_size
    h = hashlib.blake2b(digest_size=16)
    h.update(str(size).encode())
    with path.open("rb") as f:
        for offset in sorted({0, max(0, size // 2 - chunk // 2), max(0, size - chunk)}):
            f.seek(offset)
            h.update(f.read(chunk))
    return h.hexdigest()


def settings_key(settings: object) -> str:
    """Stable short hash of a JSON-serialisable settings object (e.g. ``dataclasses.asdict``)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _unusable(folder: Path, exc: OSError) -> CacheError:
    reason = exc.strerror or type(exc).__name__
    return CacheError(f"the cache folder cannot be used ({reason})", folder, _CACHE_FIX)


def cache_path(kind: str, *keys: str, suffix: str = ".npz") -> Path:
    """Path for a cache entry of ``kind`` (e.g. "faces") identified by ``keys``.

    Raises:
        CacheError: The entry's folder cannot be created (e.g. a file is in the way).
    """
    folder = cache_root() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(folder, exc) from exc
    return folder / ("_".join(keys) + suffix)


def store_entry(path: str | Path, data: bytes) -> str | None:
    """Store a cache entry atomically; a failed write is a warning, never an exception.

    Use this for derived data the caller already holds in memory: when the disk is full or the
    folder turned read-only, the entry is simply absent (rebuilt next time), no temp file is left,
    and the caller goes on with its in-memory result.

    Args:
        path: The entry, from :func:`cache_path`.
        data: Its bytes.

    Returns:
        None when stored, else a one-line warning naming the file and the fix.
    """
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return (
            f"{path}: could not store the cache entry ({reason}); the result is used from "
            f"memory and will be computed again next time ({_CACHE_FIX})"
        )
    return None


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file and an atomic rename.

    The temp name is unique per call (not just per process): the editor's worker threads may
    save the same cache entry at once, and a shared temp would be truncated or renamed away
    under another writer. A failed write removes its temp file and leaves ``path`` as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: Entries used more recently than this are never pruned (a render just finished and about to
#: be recorded, a chunk an export is reading).
PRUNE_GRACE_S = 600.0
#: Temp files (``.name.*.tmp``) older than this are a crashed writer's and may be removed; a
#: writer still at work touches its file far more often.
STALE_TEMP_S = 24 * 3600.0


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune_lru` did.

    Attributes:
        removed: Entries deleted (a hard-linked file counts once).
        freed_bytes: Their size.
        kept_bytes: Size of the entries left.
        temps_removed: Stale temp files of crashed writers deleted.
    """

    removed: int
    freed_bytes: int
    kept_bytes: int
    temps_removed: int = 0


def mark_used(path: str | Path) -> None:
    """Record a use of a cache entry (its access time, now; its modification time stays).

    Access times are not reliably kept by the file system (``relatime``, ``noatime``), so the
    cache sets them itself where an entry is reused. A file that cannot be touched is left as is.
    """
    with contextlib.suppress(OSError):
        st = os.stat(path)
        os.utime(path, ns=(time.time_ns(), st.st_mtime_ns))


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def prune_lru(
    folders: Iterable[str | Path],
    max_bytes: int,
    suffix: str,
    keep: Iterable[str | Path] = (),
    grace_s: float = PRUNE_GRACE_S,
    now: float | None = None,
) -> PruneResult:
    """Delete the least recently used entries of ``folders`` until they fit in ``max_bytes``.

    An entry is a file named ``*<suffix>`` (not a dot-name) directly in one of the folders.
    Hard links of one file (e.g. a chunk in the store and its link in the editor's render
    cache) are one entry: its size is counted once, its last use is the latest access or
    modification of any link, and it is deleted with all its links (deleting one link frees
    nothing). Never deleted: entries in ``keep`` (by file identity, so any link of them counts),
    entries used within ``grace_s``, and files being written (temp names; those older than
    :data:`STALE_TEMP_S` are a crashed writer's and go).

    Args:
        folders: The folders holding the entries.
        max_bytes: Size to prune down to.
        suffix: File suffix of the entries (".lschunk").
        keep: Entries still referenced (the open project's renders).
        grace_s: Entries used this recently stay whatever the size.
        now: The current time (seconds since the epoch); default the clock.

    Returns:
        What was removed and what is left.
    """
    now = time.time() if now is None else float(now)
    kept_ids = set()
    for p in keep:
        with contextlib.suppress(OSError):
            st = os.stat(p)
            kept_ids.add((st.st_dev, st.st_ino))
    groups: dict[tuple[int, int], list] = {}  # id -> [size, last use, paths]
    temps = 0
    for folder in dict.fromkeys(Path(f) for f in folders):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if _is_temp(entry.name):
                if now - st.st_mtime > STALE_TEMP_S:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        temps += 1
                continue
            if entry.name.startswith(".") or not entry.name.endswith(suffix):
                continue
            g = groups.setdefault((st.st_dev, st.st_ino), [st.st_size, 0.0, []])
            g[1] = max(g[1], st.st_atime, st.st_mtime)
            g[2].append(entry.path)
    total = sum(g[0] for g in groups.values())
    removed = freed = 0
    for ident, (size, used, paths) in sorted(groups.items(), key=lambda kv: kv[1][1]):
        if total <= max_bytes:
            break
        if ident in kept_ids or now - used < grace_s:
            continue
        whole = True
        for p in paths:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
            except OSError:
                whole = False  # a link left behind keeps the file: nothing freed
        if whole:
            removed += 1
            freed += size
            total -= size
    return PruneResult(removed, freed, total, temps)
