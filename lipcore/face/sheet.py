"""Contact sheet: one image with every track's thumbnail, id and screen time."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lipcore.errors import MediaError
from lipcore.face.types import TrackSet

_CELL_PX = 128
_LABEL_PX = 34


def contact_sheet(trackset: TrackSet, columns: int = 6) -> np.ndarray:
    """Render the thumbnails of all tracks in a grid, labelled with id and seconds on screen.

    Args:
        trackset: Tracks of a clip.
        columns: Thumbnails per row.

    Returns:
        ``(H, W, 3)`` uint8 BGR image (a single "no faces" cell when there are no tracks).
    """
    n = max(1, len(trackset.tracks))
    cols = max(1, min(columns, n))
    rows = (n + cols - 1) // cols
    cell_h = _CELL_PX + _LABEL_PX
    sheet = np.full((rows * cell_h, cols * _CELL_PX, 3), 32, dtype=np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    if not trackset.tracks:
        cv2.putText(
            sheet, "no faces", (10, cell_h // 2), font, 0.6, (200, 200, 200), 1, cv2.LINE_AA
        )
        return sheet
    fps = float(trackset.fps) or 25.0
    for k, track in enumerate(trackset.tracks):
        y, x = (k // cols) * cell_h, (k % cols) * _CELL_PX
        thumb = track.thumbnail
        if thumb is not None:
            sheet[y : y + _CELL_PX, x : x + _CELL_PX] = cv2.resize(
                thumb, (_CELL_PX, _CELL_PX), interpolation=cv2.INTER_LINEAR
            )
        cv2.rectangle(sheet, (x, y), (x + _CELL_PX - 1, y + cell_h - 1), (90, 90, 90), 1)
        seconds = len(track.frames) / fps
        cv2.putText(sheet, track.track_id, (x + 4, y + _CELL_PX + 14), font, 0.45,
                    (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
        span = f"{track.first_frame}-{track.last_frame} {seconds:.1f}s"
        cv2.putText(sheet, span, (x + 4, y + _CELL_PX + 29), font, 0.38,
                    (190, 190, 190), 1, cv2.LINE_AA)  # fmt: skip
    return sheet


def write_contact_sheet(trackset: TrackSet, path: str | Path, columns: int = 6) -> Path:
    """Write :func:`contact_sheet` to a PNG file.

    Args:
        trackset: Tracks of a clip.
        path: Output ``.png`` path (its folder must exist).
        columns: Thumbnails per row.

    Returns:
        The written path.

    Raises:
        MediaError: The image could not be written.
    """
    path = Path(path)
    ok = False
    try:
        ok = cv2.imwrite(str(path), contact_sheet(trackset, columns))
    except cv2.error:
        ok = False
    if not ok:
        raise MediaError(
            "cannot write the contact sheet",
            path,
            "use a .png path in an existing, writable folder",
        )
    return path
