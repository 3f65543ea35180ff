"""Pick the face to re-sync from a clip's tracks (:class:`lipcore.render.request.FaceChoice`)."""

from __future__ import annotations

import numpy as np

from lipcore.errors import NoFaceError
from lipcore.face.types import FaceTrack, TrackSet
from lipcore.render.request import FaceChoice


def _clip_name(trackset: TrackSet) -> str | None:
    return str(trackset.source) if trackset.source is not None else None


def _inside_region(track: FaceTrack, region: tuple[float, float, float, float]) -> bool:
    """Whether the track's box centre is inside ``region`` on most of its frames."""
    x0, y0, x1, y1 = region
    cx = (track.boxes[:, 0] + track.boxes[:, 2]) / 2
    cy = (track.boxes[:, 1] + track.boxes[:, 3]) / 2
    inside = (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
    return bool(np.mean(inside) >= 0.5)


def _mean_area(track: FaceTrack) -> float:
    b = track.boxes
    return float(np.mean((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))


def choose_track(trackset: TrackSet, choice: FaceChoice | None = None) -> FaceTrack:
    """Return the track the user asked for.

    Args:
        trackset: Tracks of the clip.
        choice: ``track_id`` "auto" (the main face: most frames, then the largest), an explicit
            id, or a ``point`` ``(frame, x, y)`` inside the wanted face's box; ``region`` limits
            the candidates to faces whose centre is mostly inside that box.

    Returns:
        The chosen :class:`FaceTrack`.

    Raises:
        NoFaceError: No track fits (the message names the clip and what to try).
    """
    choice = choice or FaceChoice()
    path = _clip_name(trackset)
    candidates = list(trackset.tracks)
    if not candidates:
        raise NoFaceError(
            "no face was found in the clip", path,
            # Only what every caller accepts: the renders (sync, preview, the editor, which
            # words --face-box as its Draw Face Box tool); they have no --backend option.
            "use a clip where the face is visible, lit and at least ~40 px wide, or point a "
            "face the detector cannot fit (cartoon, CGI) out by hand with --face-box X,Y,W,H",
        )  # fmt: skip
    if choice.region is not None:
        candidates = [t for t in candidates if _inside_region(t, choice.region)]
        if not candidates:
            raise NoFaceError(
                f"no face track inside the region {tuple(round(v) for v in choice.region)}",
                path,
                "enlarge the region or choose a track id (see `lipsync faces`)",
            )
    if choice.point is not None:
        frame, x, y = choice.point
        hits = []
        for t in candidates:
            i = t.index_of(int(frame))
            if i is None:
                continue
            x0, y0, x1, y1 = t.boxes[i]
            if x0 <= x <= x1 and y0 <= y <= y1:
                hits.append((float((x1 - x0) * (y1 - y0)), t))
        if not hits:
            raise NoFaceError(
                f"no face at ({x:.0f}, {y:.0f}) on frame {frame}",
                path,
                "click inside a face box on a frame where that face is tracked",
            )
        # Overlapping boxes: the smallest box is the most specific hit (a face in front).
        return min(hits, key=lambda h: h[0])[1]
    if choice.track_id and choice.track_id != "auto":
        for t in candidates:
            if t.track_id == choice.track_id:
                return t
        known = ", ".join(t.track_id for t in candidates) or "none"
        raise NoFaceError(
            f"no face track {choice.track_id!r} (tracks: {known})",
            path,
            "run `lipsync faces` on the clip to list the track ids",
        )
    return max(candidates, key=lambda t: (len(t.frames), _mean_area(t)))
