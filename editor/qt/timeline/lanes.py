"""What the timeline draws: plain view records built from the document by the main window.

The timeline never reads the document itself; it is handed these records and reports gestures
through signals. That keeps every edit on the document's path (and in the undo log).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QColor, QImage

#: Render states of a segment and the colour the segment lane uses for each.
STATUS_COLORS: dict[str, QColor] = {
    "none": QColor(92, 104, 122),
    "stale": QColor(214, 150, 40),
    "queued": QColor(120, 120, 180),
    "rendering": QColor(52, 132, 228),
    "done": QColor(58, 170, 96),
    "failed": QColor(212, 64, 64),
}

#: What each render state means, for tooltips and the legend.
STATUS_TEXT: dict[str, str] = {
    "none": "not rendered",
    "stale": "stale (options changed)",
    "queued": "queued",
    "rendering": "rendering",
    "done": "rendered",
    "failed": "failed",
}


@dataclass
class WaveLane:
    """One audio lane: the original audio or a dub track.

    Attributes:
        track_id: Audio track id ("original" for the clip's own audio).
        name: Label in the lane header.
        peaks: ``(N, 2)`` float32 min/max envelope, one row per ``1 / peaks_per_sec`` s from the
            track's first sample, or None while it is computed.
        peaks_per_sec: Rows of ``peaks`` per second.
        offset_frames: Where the track's first sample plays, in clip frames.
        length_frames: Track length in clip frames.
        muted: Whether the track is muted.
        solo: Whether the track is soloed.
        movable: Whether it can be slid (dub tracks) or not (the original).
        color: Waveform colour.
    """

    track_id: str
    name: str
    peaks: np.ndarray | None
    peaks_per_sec: float
    offset_frames: int
    length_frames: int
    muted: bool = False
    solo: bool = False
    movable: bool = True
    color: QColor = field(default_factory=lambda: QColor(90, 180, 250))


@dataclass
class FaceLane:
    """One detected face track in the face lane.

    Attributes:
        track_id: Face track id.
        ranges: ``(first, last)`` inclusive frame ranges where the face is on screen.
        thumbnail: Face picture, or None.
        selected: Whether this is the face being re-synced.
    """

    track_id: str
    ranges: list[tuple[int, int]]
    thumbnail: QImage | None = None
    selected: bool = False


@dataclass
class SegmentItem:
    """A segment in the segment lane.

    Attributes:
        segment_id: Segment id.
        start_frame: First frame (inclusive).
        end_frame: Last frame (exclusive).
        status: One of :data:`STATUS_COLORS`.
        progress: 0..1 render progress when rendering.
        label: Short text shown inside the segment.
        row: Row of the segment lane (one row per face when several faces are re-synced).
        strength_keys: Blend-strength keys ``(clip frame, strength 0..1)``, drawn as a curve.
    """

    segment_id: str
    start_frame: int
    end_frame: int
    status: str = "none"
    progress: float = 0.0
    label: str = ""
    row: int = 0
    strength_keys: tuple[tuple[int, float], ...] = ()
