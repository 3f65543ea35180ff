"""A format-neutral edit list: the events of one video track at one frame rate.

Every time is an integer frame count in *absolute* timecode frames (the clip's start timecode
included), so writers only format them and readers only parse them; nothing here is a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from lipcore.timecode import format_smpte, is_drop_frame_rate


@dataclass(frozen=True)
class CutEvent:
    """One clip on the record timeline.

    Attributes:
        name: Clip name (the mezzanine file's stem; suites relink by it).
        reel: Tape/reel name, at most 8 characters (CMX3600 limit).
        media: The media file, or None when the event only marks a range (an imported cut).
        media_start_frame: Absolute timecode frame of the media's first frame.
        media_frames: Frames in the media file (handles included).
        source_in_frame: Absolute source timecode of the first used frame.
        source_out_frame: Absolute source timecode after the last used frame (exclusive).
        record_in_frame: Absolute record timecode where the event starts.
        segment_id: The project segment it came from ("" for imported events).
        text: The segment's script line, if any (written as a comment/marker).
    """

    name: str
    reel: str
    media: Path | None
    media_start_frame: int
    media_frames: int
    source_in_frame: int
    source_out_frame: int
    record_in_frame: int
    segment_id: str = ""
    text: str = ""

    @property
    def duration_frames(self) -> int:
        """Frames used on the record timeline."""
        return self.source_out_frame - self.source_in_frame

    @property
    def record_out_frame(self) -> int:
        """Absolute record timecode after the event's last frame."""
        return self.record_in_frame + self.duration_frames

    @property
    def handle_before_frames(self) -> int:
        """Media frames available before the source in point."""
        return self.source_in_frame - self.media_start_frame

    @property
    def handle_after_frames(self) -> int:
        """Media frames available after the source out point."""
        return self.media_start_frame + self.media_frames - self.source_out_frame


@dataclass(frozen=True)
class Cut:
    """An edit list: a named sequence of events at one rate.

    Attributes:
        name: Sequence title.
        fps: Exact frame rate.
        drop_frame: Timecode counting (drop-frame only exists at 29.97/59.94).
        start_frame: Absolute timecode frame where the record timeline starts.
        events: Events in record order, not overlapping.
        width: Frame width in pixels (0 = unknown).
        height: Frame height in pixels (0 = unknown).
    """

    name: str
    fps: Fraction
    drop_frame: bool
    start_frame: int
    events: tuple[CutEvent, ...] = field(default_factory=tuple)
    width: int = 0
    height: int = 0

    def tc(self, absolute_frame: int) -> str:
        """SMPTE text of an absolute frame count in this cut's counting."""
        return format_smpte(absolute_frame, self.fps, drop_frame=self.drop_frame)

    @property
    def end_frame(self) -> int:
        """Absolute record timecode after the last event (the start when empty)."""
        return max((e.record_out_frame for e in self.events), default=self.start_frame)


def default_drop_frame(fps: Fraction) -> bool:
    """Drop-frame is the default counting wherever it exists (29.97, 59.94)."""
    return is_drop_frame_rate(fps)


def reel_name(index: int) -> str:
    """A unique CMX3600 reel name of at most 8 characters (``LS0001``)."""
    return f"LS{index:04d}"[:8]
