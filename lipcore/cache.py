"""Versioned on-disk cache for derived data (face tracks, features), keyed by content hash."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

CACHE_VERSION = "v1"


def cache_root() -> Path:
    """Return the cache directory (``$LIPSYNC_CACHE_DIR`` or the XDG user cache)."""
    env = os.environ.get("LIPSYNC_CACHE_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    root = base / "lipsync" / CACHE_VERSION if not env else base / CACHE_VERSION
    root.mkdir(parents=True, exist_ok=True)
    return root


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


def cache_path(kind: str, *keys: str, suffix: str = ".npz") -> Path:
    """Path for a cache entry of ``kind`` (e.g. "faces") identified by ``keys``."""
    folder = cache_root() / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder / ("_".join(keys) + suffix)


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
