"""The clip's SMPTE timecode for the editor's views (ruler, transport, inspector).

The clip's own start timecode is derived data (read from the file with ffprobe), so it is not
stored in the project: it is read once per clip file and content, and cached here.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any


@functools.lru_cache(maxsize=16)
def _start_frames(path: str, fingerprint: str, fps: Fraction) -> int:
    from lipcore.errors import LipsyncError
    from lipcore.timecode import read_start_timecode

    try:
        return read_start_timecode(path, fps).frames
    except LipsyncError:  # an unreadable or missing clip shows plain clip time
        return 0


def clip_start_frames(project: Any) -> int:
    """The project clip's start timecode as a frame count (0 without a clip or a timecode)."""
    video = getattr(project, "video", None)
    if video is None or not video.exists():
        return 0
    return _start_frames(str(video.path), video.fingerprint, Fraction(project.fps))


def clip_timecode(project: Any, frame: int) -> str:
    """SMPTE timecode of clip ``frame``: drop-frame at 29.97/59.94, the clip's start included."""
    from lipcore.timecode import format_smpte

    return format_smpte(max(0, int(frame)), Fraction(project.fps), clip_start_frames(project))
