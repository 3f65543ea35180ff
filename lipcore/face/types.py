"""Face data shared by detectors, the tracker, engines and the editor.

Landmarks always use the MediaPipe FaceMesh topology (478 points, ``refine_landmarks=True``) in
source-frame pixel coordinates of the *displayed* (rotation-applied) frame, whichever backend found
the face: detector backends only find boxes and identity, the mesh landmarker refines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

N_LANDMARKS = 478


@dataclass
class FaceDetection:
    """One face in one frame.

    Attributes:
        box: ``(4,)`` float32 ``x0, y0, x1, y1`` in frame pixels.
        score: Detector confidence in [0, 1].
        kps5: ``(5, 2)`` eyes (right, left as seen by the subject), nose tip, mouth corners.
        landmarks: ``(478, 2)`` FaceMesh points, or None when the mesh was not run or failed.
        embedding: Identity vector (L2-normalised), or None.
    """

    box: np.ndarray
    score: float
    kps5: np.ndarray
    landmarks: np.ndarray | None = None
    embedding: np.ndarray | None = None


@dataclass
class FaceTrack:
    """One person's face over a range of frames (gaps allowed).

    Attributes:
        track_id: Stable string id ("face-0", "face-1", ...), ordered by screen time.
        frames: ``(N,)`` int64 sorted frame indices where the face is known.
        boxes: ``(N, 4)`` float32 smoothed boxes.
        landmarks: ``(N, 478, 2)`` float32 smoothed FaceMesh points.
        scores: ``(N,)`` float32 detection confidence (0 for interpolated frames).
        interpolated: ``(N,)`` bool, True where the face was filled in across a short gap.
        embedding: Mean identity vector of the track, or None.
        thumbnail: BGR uint8 image of the face (about 96x96), or None.
    """

    track_id: str
    frames: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray
    scores: np.ndarray
    interpolated: np.ndarray
    embedding: np.ndarray | None = None
    thumbnail: np.ndarray | None = None

    @property
    def first_frame(self) -> int:
        """First frame of the track."""
        return int(self.frames[0])

    @property
    def last_frame(self) -> int:
        """Last frame of the track (inclusive)."""
        return int(self.frames[-1])

    def index_of(self, frame: int) -> int | None:
        """Row of ``frame`` in the per-frame arrays, or None when the face is not known there."""
        i = int(np.searchsorted(self.frames, frame))
        if i < len(self.frames) and self.frames[i] == frame:
            return i
        return None

    def ranges(self) -> list[tuple[int, int]]:
        """Contiguous ``(first, last)`` frame ranges (inclusive) where the face is known."""
        if len(self.frames) == 0:
            return []
        breaks = np.nonzero(np.diff(self.frames) > 1)[0]
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [len(self.frames) - 1]])
        pairs = zip(starts, ends, strict=True)
        return [(int(self.frames[s]), int(self.frames[e])) for s, e in pairs]


@dataclass
class TrackSet:
    """All face tracks of one clip, plus the shot cuts found while tracking.

    Attributes:
        tracks: Tracks ordered by descending number of frames (the main face first).
        frame_count: Frames in the clip.
        fps: Clip frame rate.
        shot_cuts: Frame indices where a new shot starts (the first frame of each new shot).
        backend: Name and settings of the detector that produced the tracks.
        source: Path of the analysed clip.
        notes: Warnings about how the set was produced (e.g. it could not be cached); not
            stored, shown to the user by whoever asked for the tracks.
        origin: ``(cache entry, size in bytes, mtime in ns)`` of the track-cache file the set
            was read from, or None; lets :mod:`lipcore.face.track_ref` send it to another
            process by reference. Not stored, not compared.
    """

    tracks: list[FaceTrack]
    frame_count: int
    fps: Fraction
    shot_cuts: list[int] = field(default_factory=list)
    backend: str = ""
    source: Path | None = None
    notes: list[str] = field(default_factory=list, compare=False)
    origin: tuple[Path, int, int] | None = field(default=None, compare=False, repr=False)

    def get(self, track_id: str) -> FaceTrack:
        """Return the track with ``track_id`` (KeyError naming the known ids otherwise)."""
        for t in self.tracks:
            if t.track_id == track_id:
                return t
        known = ", ".join(t.track_id for t in self.tracks) or "none"
        raise KeyError(f"no face track {track_id!r} (known: {known})")

    def at_frame(self, frame: int) -> list[tuple[FaceTrack, int]]:
        """Tracks visible at ``frame`` with their row index."""
        out = []
        for t in self.tracks:
            i = t.index_of(frame)
            if i is not None:
                out.append((t, i))
        return out
