"""A face the user points out by hand: keyframed boxes, interpolated, landmarks fitted inside.

For faces the detector cannot find (cartoons, CGI, stylised or tiny faces) the user gives the
face's box on a few frames (``--face-box X,Y,W,H@FRAME``, or in the viewer). Between keys the
box is interpolated linearly (held before the first and after the last key). On each frame
FaceMesh is run on the box; where it finds the face there, its landmarks are used. Where it
does not, a parametric face is placed in the box: the project's mean resting face (learnt with
the mouth-shape model, ``lipcore/data/mouth_shape.json``), so the mouth corners and lips sit at
their usual places in the box and drive the one-shot warp. If FaceMesh finds the face on most
frames, the frames it misses are filled from its neighbours instead, so the two never alternate.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError
from lipcore.face.types import FaceTrack, TrackSet
from lipcore.progress import Progress

#: Share of frames FaceMesh must fit for its landmarks to be used (else the template is).
MESH_MAJORITY = 0.5
_FIX = "write X,Y,W,H or X,Y,W,H@FRAME in pixels, e.g. 120,80,200,220@0 300,90,190,210@120"


def parse_face_boxes(texts: list[str] | str) -> list[tuple[int, float, float, float, float]]:
    """Read ``X,Y,W,H[@FRAME]`` keys (space- or argument-separated) into sorted tuples.

    Args:
        texts: One string with keys separated by spaces, or a list of such strings.

    Returns:
        ``[(frame, x, y, w, h), ...]`` sorted by frame; a key without ``@FRAME`` is frame 0.

    Raises:
        LipsyncError: A key cannot be read, has no area, or two keys share a frame.
    """
    items = texts.split() if isinstance(texts, str) else [t for s in texts for t in s.split()]
    keys = []
    for item in items:
        box, _, frame = item.partition("@")
        try:
            x, y, w, h = (float(v) for v in box.split(","))
            f = int(frame) if frame else 0
        except ValueError as exc:
            raise LipsyncError(f"cannot read the face box {item!r}", fix=_FIX) from exc
        if w <= 0 or h <= 0 or f < 0:
            raise LipsyncError(f"the face box {item!r} has no area or a negative frame", fix=_FIX)
        keys.append((f, x, y, w, h))
    if not keys:
        raise LipsyncError("no face box given", fix=_FIX)
    keys.sort()
    frames = [k[0] for k in keys]
    if len(set(frames)) != len(frames):
        raise LipsyncError("two face boxes are given for the same frame", fix=_FIX)
    return keys


def interpolate_boxes(
    keys: list[tuple[int, float, float, float, float]], n_frames: int
) -> np.ndarray:
    """``(n_frames, 4)`` float32 ``x0, y0, x1, y1`` boxes, linear between keys, held outside."""
    frames = np.array([k[0] for k in keys], np.float64)
    xywh = np.array([k[1:] for k in keys], np.float64)
    t = np.arange(n_frames, dtype=np.float64)
    cols = [np.interp(t, frames, xywh[:, j]) for j in range(4)]
    x, y, w, h = cols
    return np.stack([x, y, x + w, y + h], axis=1).astype(np.float32)


def template_landmarks(box: np.ndarray) -> np.ndarray:
    """The parametric face (mean resting face) placed in ``box`` (``x0, y0, x1, y1``)."""
    from lipcore.engines.mouth_shape import load_mouth_shape_model

    template = load_mouth_shape_model().meta.get("face_template")
    if template is None:
        raise LipsyncError(
            "the mouth-shape model has no face template",
            fix="re-run python -m training.fit_mouth_shape",
        )
    t = np.asarray(template, np.float32)
    x0, y0, x1, y1 = np.asarray(box, np.float32)
    return (t * np.array([x1 - x0, y1 - y0], np.float32) + np.array([x0, y0], np.float32)).astype(
        np.float32
    )


def iter_box_track(
    video: str | Path, keys: list[tuple[int, float, float, float, float]]
) -> Generator[Progress, None, TrackSet]:
    """One face track from the user's keyed boxes (FaceMesh in the box, else the template).

    Args:
        video: The clip (or still image).
        keys: Keys from :func:`parse_face_boxes`.

    Yields:
        Progress per frame.

    Returns:
        A :class:`TrackSet` with the single track ``"box-0"``.
    """
    from lipcore.face.mesh import MeshLandmarker
    from lipcore.media.decode import VideoReader

    with VideoReader(video) as reader:
        n = reader.frame_count
        boxes = interpolate_boxes(keys, n)
        meshed = np.full((n, 478, 2), np.nan, np.float32)
        with MeshLandmarker() as mesh:
            for i, frame in reader.iter_frames():
                pts = mesh.landmarks(frame, boxes[i])
                if pts is not None:
                    meshed[i] = pts
                yield Progress(i + 1, n, "fitting the face in the box")
        fps = reader.fps
    found = np.isfinite(meshed[:, 0, 0])
    if found.mean() >= MESH_MAJORITY:
        # FaceMesh sees the face: fill the frames it missed from the nearest fitted ones
        idx = np.nonzero(found)[0]
        near = idx[np.clip(np.searchsorted(idx, np.arange(n)), 0, len(idx) - 1)]
        landmarks = meshed[near]
        interpolated = ~found
        backend = "face-box+facemesh"
    else:
        landmarks = np.stack([template_landmarks(b) for b in boxes])
        interpolated = np.zeros(n, bool)
        backend = "face-box+template"
    track = FaceTrack(
        track_id="box-0",
        frames=np.arange(n, dtype=np.int64),
        boxes=boxes,
        landmarks=landmarks.astype(np.float32),
        scores=np.where(interpolated, 0.0, 1.0).astype(np.float32),
        interpolated=interpolated,
    )
    return TrackSet([track], n, fps, [], backend, Path(video))


__all__ = ["interpolate_boxes", "iter_box_track", "parse_face_boxes", "template_landmarks"]
