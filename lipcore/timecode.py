"""SMPTE timecode: display, entry and the source start timecode of a file.

One owner for timecode in the project: the CLI's time parser, the editor's ruler and inspector,
and the interchange writers all go through these functions. Counting is done by the
``timecode`` package (a well-tested SMPTE implementation, including drop-frame); this module
pins down the conventions around it:

- frames are 0-based frame indices of the clip (the ``timecode`` package counts from 1);
- drop-frame is used at 29.97 and 59.94 (the NTSC rates 30000/1001 and 60000/1001) unless the
  caller asks for non-drop, and is written with ``;`` before the frames (``00:01:00;02``);
- 23.976 (24000/1001) is counted at a nominal 24 fps with no dropped numbers, as every editing
  suite does; 24, 25, 30, 50 and 60 are plain;
- a clip's own start timecode (ffprobe's ``timecode`` tag on the format, the video stream or a
  QuickTime ``tmcd`` data track) shifts the display and entry by that many frames.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from lipcore.errors import LipsyncError

#: Frame rates (exact) at which drop-frame counting exists.
DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))

_TC_RE = re.compile(r"^(\d{1,2})[:.](\d{2})[:.](\d{2})([:;.,])(\d{2,3})$")


def is_drop_frame_rate(fps: Fraction) -> bool:
    """Whether ``fps`` is a rate with drop-frame timecode (29.97 or 59.94).

    Args:
        fps: Exact frame rate.

    Returns:
        True for 30000/1001 and 60000/1001.
    """
    return Fraction(fps) in DROP_FRAME_RATES


def nominal_fps(fps: Fraction) -> int:
    """The whole number of frame labels per timecode second (24 for 23.976, 30 for 29.97).

    Args:
        fps: Exact frame rate.

    Returns:
        The rounded rate.
    """
    return max(1, round(Fraction(fps)))


def _rate_text(fps: Fraction) -> str:
    """The frame rate as the ``timecode`` package expects it."""
    fps = Fraction(fps)
    if fps.denominator == 1:
        return str(fps.numerator)
    if fps.denominator == 1001:
        # '29.97', '59.94' and '23.976' select the package's NTSC handling (drop-frame for the
        # first two); other x/1001 rates are counted at their nominal rate.
        return {24000: "23.976", 30000: "29.97", 48000: "47.952", 60000: "59.94"}.get(
            fps.numerator, str(nominal_fps(fps))
        )
    return str(nominal_fps(fps))


@functools.lru_cache(maxsize=64)
def _timecode_cls(fps: Fraction, drop_frame: bool):
    from timecode import Timecode

    def make(**kw):
        return Timecode(_rate_text(fps), force_non_drop_frame=not drop_frame, **kw)

    return make


def _use_drop(fps: Fraction, drop_frame: bool | None) -> bool:
    if drop_frame is None:
        return is_drop_frame_rate(fps)
    return bool(drop_frame) and is_drop_frame_rate(fps)


def format_smpte(
    frame: int, fps: Fraction, start_frame: int = 0, drop_frame: bool | None = None
) -> str:
    """SMPTE timecode of a frame, e.g. ``01:00:10:12`` or ``00:01:00;02`` (drop-frame).

    Args:
        frame: 0-based frame index in the clip.
        fps: Exact frame rate of the clip.
        start_frame: The clip's start timecode as a frame count (see :func:`read_start_timecode`),
            added to ``frame``; 0 for clips without one.
        drop_frame: Force drop-frame on or off; None = drop-frame at 29.97/59.94, else non-drop.

    Returns:
        ``HH:MM:SS:FF``, or ``HH:MM:SS;FF`` in drop-frame. Past 24 hours it wraps as SMPTE does.

    Raises:
        ValueError: ``frame + start_frame`` is negative.
    """
    total = int(frame) + int(start_frame)
    if total < 0:
        raise ValueError(f"timecode of a negative frame count ({total})")
    fps = Fraction(fps)
    return str(_timecode_cls(fps, _use_drop(fps, drop_frame))(frames=total + 1))


def parse_smpte(
    text: str, fps: Fraction, start_frame: int = 0, drop_frame: bool | None = None
) -> int:
    """Frame index of a SMPTE timecode: the inverse of :func:`format_smpte`.

    ``;`` (or ``,``/``.`` before the frames) marks drop-frame as the SMPTE convention does; a
    ``:`` timecode at 29.97/59.94 is read as drop-frame too unless ``drop_frame`` is False,
    because that is how the editor shows it.

    Args:
        text: ``HH:MM:SS:FF`` or ``HH:MM:SS;FF``.
        fps: Exact frame rate.
        start_frame: The clip's start timecode as a frame count, subtracted from the result.
        drop_frame: Force the counting; None = decided by the separator and the rate.

    Returns:
        The 0-based frame index in the clip.

    Raises:
        LipsyncError: Not a timecode, a frame number past the rate, a number dropped in
            drop-frame (e.g. ``00:01:00;00``), or a time before the clip's start timecode.
    """
    fps = Fraction(fps)
    m = _TC_RE.match(text.strip())
    if not m:
        raise LipsyncError(
            f"{text!r} is not a timecode", fix="write HH:MM:SS:FF, e.g. 00:01:02:12"
        )
    hh, mm, ss, sep, ff = m.groups()
    h, mi, s, f = int(hh), int(mm), int(ss), int(ff)
    nominal = nominal_fps(fps)
    if mi > 59 or s > 59 or f >= nominal:
        raise LipsyncError(
            f"timecode {text!r} is out of range at {float(fps):g} fps",
            fix=f"minutes and seconds go to 59, frames to {nominal - 1}",
        )
    if drop_frame is None and sep != ":":
        drop_frame = True  # ';' (or ',' '.') marks drop-frame
    drop = _use_drop(fps, drop_frame)
    if drop and s == 0 and mi % 10 != 0 and f < 2 * (nominal // 30):
        raise LipsyncError(
            f"timecode {text!r} does not exist in drop-frame (those numbers are skipped)",
            fix=f"use {hh}:{mm}:00;{2 * (nominal // 30):02d}",
        )
    label = f"{h:02d}:{mi:02d}:{s:02d}{';' if drop else ':'}{f:02d}"
    tc = _timecode_cls(fps, drop)(start_timecode=label)
    frame = tc.frames - 1 - int(start_frame)
    if frame < 0:
        raise LipsyncError(
            f"timecode {text!r} is before the clip's start "
            f"({format_smpte(0, fps, start_frame, drop_frame)})",
            fix="enter a timecode within the clip, or frames as f120",
        )
    return frame


@dataclass(frozen=True)
class StartTimecode:
    """The start timecode a media file carries.

    Attributes:
        text: The timecode as stored (``01:00:00:00``, ``00:59:59;28``).
        frames: It as a frame count at the file's rate (0 = ``00:00:00:00``).
        drop_frame: Whether the file says drop-frame (``;`` in ffprobe's tag).
        source: Where it was found: "format", "video", "tmcd" or "none".
    """

    text: str
    frames: int
    drop_frame: bool
    source: str


NO_START_TIMECODE = StartTimecode("00:00:00:00", 0, False, "none")


def read_start_timecode(path: str | Path, fps: Fraction) -> StartTimecode:
    """The start timecode of a media file, from ffprobe's ``timecode`` tags.

    Looks at the video stream's tags, then a ``tmcd`` data stream's, then the container's
    (the order ffmpeg itself uses when it copies timecode).

    Args:
        path: A media file.
        fps: The clip's exact frame rate (to count the timecode in frames).

    Returns:
        A :class:`StartTimecode`; :data:`NO_START_TIMECODE` when the file has none.

    Raises:
        MediaError: ffprobe cannot read the file.
    """
    from lipcore.media.probe import ffprobe_json

    data = ffprobe_json(path)  # the clip's remembered probe: no ffprobe run of its own
    found: list[tuple[str, str]] = []
    for stream in data.get("streams", []):
        tc = (stream.get("tags") or {}).get("timecode")
        if not tc:
            continue
        if stream.get("codec_type") == "video":
            found.insert(0, ("video", tc))
        elif stream.get("codec_tag_string") == "tmcd" or stream.get("codec_type") == "data":
            found.append(("tmcd", tc))
    fmt_tc = (data.get("format", {}).get("tags") or {}).get("timecode")
    if fmt_tc:
        found.append(("format", fmt_tc))
    for source, text in found:
        drop = ";" in text or "," in text
        try:
            frames = parse_smpte(text, fps, drop_frame=drop and is_drop_frame_rate(fps))
        except LipsyncError:
            continue
        return StartTimecode(text, frames, drop and is_drop_frame_rate(fps), source)
    return NO_START_TIMECODE
