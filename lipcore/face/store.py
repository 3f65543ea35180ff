"""Save and load a :class:`~lipcore.face.types.TrackSet` as one ``.npz`` file (arrays + JSON meta).

One file written through a temp file and an atomic rename, so a cache entry is either complete or
absent; anything unreadable is reported as None and the caller rebuilds it.
"""

from __future__ import annotations

import io
import json
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.cache import atomic_write_bytes
from lipcore.face.types import N_LANDMARKS, FaceTrack, TrackSet

#: Bumped when the stored layout changes; older files are ignored (rebuilt).
STORE_FORMAT = 1


def trackset_to_bytes(trackset: TrackSet) -> bytes:
    """Serialise a track set to ``.npz`` bytes."""
    arrays: dict[str, np.ndarray] = {}
    tracks_meta = []
    for k, t in enumerate(trackset.tracks):
        p = f"t{k}_"
        arrays[p + "frames"] = np.asarray(t.frames, dtype=np.int64)
        arrays[p + "boxes"] = np.asarray(t.boxes, dtype=np.float32)
        arrays[p + "landmarks"] = np.asarray(t.landmarks, dtype=np.float32)
        arrays[p + "scores"] = np.asarray(t.scores, dtype=np.float32)
        arrays[p + "interpolated"] = np.asarray(t.interpolated, dtype=bool)
        if t.embedding is not None:
            arrays[p + "embedding"] = np.asarray(t.embedding, dtype=np.float32)
        if t.thumbnail is not None:
            arrays[p + "thumbnail"] = np.asarray(t.thumbnail, dtype=np.uint8)
        tracks_meta.append({"track_id": t.track_id})
    meta = {
        "format": STORE_FORMAT,
        "frame_count": int(trackset.frame_count),
        "fps": [trackset.fps.numerator, trackset.fps.denominator],
        "shot_cuts": [int(c) for c in trackset.shot_cuts],
        "backend": trackset.backend,
        "source": str(trackset.source) if trackset.source is not None else None,
        "tracks": tracks_meta,
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def trackset_from_bytes(data: bytes) -> TrackSet:
    """Inverse of :func:`trackset_to_bytes` (raises ValueError/KeyError on damaged data)."""
    return _trackset_from_npz(io.BytesIO(data))


def _trackset_from_npz(source, landmarks_of=None) -> TrackSet:
    """Read a stored track set from a file or buffer; ``landmarks_of(k, z)`` may supply the
    ``k``-th track's landmarks (e.g. memory-mapped) instead of decompressing them here."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:  # closed even when the file is not a readable zip
            return _trackset_from_npz(fh, landmarks_of)
    with np.load(source, allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        if meta.get("format") != STORE_FORMAT:
            raise ValueError(f"track store format {meta.get('format')} != {STORE_FORMAT}")
        tracks = []
        for k, tm in enumerate(meta["tracks"]):
            p = f"t{k}_"
            frames = z[p + "frames"]
            lms = z[p + "landmarks"] if landmarks_of is None else landmarks_of(k, z)
            if lms.shape != (len(frames), N_LANDMARKS, 2):
                raise ValueError(f"track {k}: landmarks shaped {lms.shape}")
            tracks.append(
                FaceTrack(
                    track_id=str(tm["track_id"]),
                    frames=frames,
                    boxes=z[p + "boxes"],
                    landmarks=lms,
                    scores=z[p + "scores"],
                    interpolated=z[p + "interpolated"],
                    embedding=z[p + "embedding"] if p + "embedding" in z.files else None,
                    thumbnail=z[p + "thumbnail"] if p + "thumbnail" in z.files else None,
                )
            )
    return TrackSet(
        tracks=tracks,
        frame_count=int(meta["frame_count"]),
        fps=Fraction(*meta["fps"]),
        shot_cuts=[int(c) for c in meta["shot_cuts"]],
        backend=str(meta["backend"]),
        source=Path(meta["source"]) if meta.get("source") else None,
    )


def save_trackset(path: str | Path, trackset: TrackSet) -> None:
    """Write ``trackset`` to ``path`` atomically."""
    atomic_write_bytes(path, trackset_to_bytes(trackset))


def load_trackset(path: str | Path, mapped: bool = False) -> TrackSet | None:
    """Read a saved track set; None when the file is missing, truncated or from another format.

    The set's ``origin`` names the file's version, so it can be handed to another process by
    reference (:mod:`lipcore.face.track_ref`).

    Args:
        path: The ``.npz`` file.
        mapped: Leave the landmarks (3.8 KB per face and frame, 172 MB for a 30-minute clip)
            on disk: each track's are copied once, uncompressed, beside the file and
            memory-mapped read-only, so only the frames a render touches are read in (and
            :func:`lipcore.scratch.release_pages` gives them back). Falls back to loading
            them when the copy cannot be written.
    """
    path = Path(path)
    try:
        before = path.stat()
        loaded = None
        if mapped and path.is_file():  # (a folder in the entry's place has no copy made)
            try:
                folder = _mapped_folder(path)
            except OSError:
                folder = None
            if folder is not None:
                loaded = _trackset_from_npz(path, lambda k, z: _mapped_landmarks(folder, k, z))
        if loaded is None:
            loaded = trackset_from_bytes(path.read_bytes())
        after = path.stat()
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None
    version = (before.st_ino, before.st_size, before.st_mtime_ns)
    if version == (after.st_ino, after.st_size, after.st_mtime_ns):  # not rewritten meanwhile
        loaded.origin = (path, after.st_size, after.st_mtime_ns)
    return loaded


def _mapped_folder(path: Path) -> Path:
    """The folder of ``path``'s uncompressed landmark copies (named by the file's size and
    mtime, so a rewritten entry never maps an old copy; copies of older versions are removed)."""
    import shutil

    st = path.stat()
    folder = path.with_name(f"{path.name}.mapped-{st.st_size}-{st.st_mtime_ns}")
    if not folder.is_dir():
        for old in path.parent.glob(f"{path.name}.mapped-*"):
            shutil.rmtree(old, ignore_errors=True)
        folder.mkdir(exist_ok=True)
    return folder


def _mapped_landmarks(folder: Path, k: int, z) -> np.ndarray:
    """Track ``k``'s landmarks memory-mapped from ``folder`` (copied out of the zip first,
    streamed: the ``.npy`` member is decompressed into the file, never into memory)."""
    import os
    import shutil
    import uuid

    target = folder / f"t{k}_landmarks.npy"
    if not target.is_file():
        tmp = folder / f".{target.name}.{uuid.uuid4().hex[:8]}.partial"
        try:
            with z.zip.open(f"t{k}_landmarks.npy") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return np.load(target, mmap_mode="r")
