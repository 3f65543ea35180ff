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
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        if meta.get("format") != STORE_FORMAT:
            raise ValueError(f"track store format {meta.get('format')} != {STORE_FORMAT}")
        tracks = []
        for k, tm in enumerate(meta["tracks"]):
            p = f"t{k}_"
            frames = z[p + "frames"]
            lms = z[p + "landmarks"]
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


def load_trackset(path: str | Path) -> TrackSet | None:
    """Read a saved track set; None when the file is missing, truncated or from another format."""
    path = Path(path)
    try:
        return trackset_from_bytes(path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None
