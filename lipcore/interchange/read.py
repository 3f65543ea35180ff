"""Read a cut (EDL, FCP 7 XML, OTIO) back through OpenTimelineIO's adapters.

Reading goes through OTIO, not through this package's writers' own logic, so a round trip checks
the files against an independent parser (the one the suites' pipeline tools use).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlparse

from lipcore.errors import LipsyncError
from lipcore.interchange.cut import Cut, CutEvent, default_drop_frame, reel_name
from lipcore.interchange.formats import format_of_path


def _frames(t, fps: Fraction) -> int:
    return round(t.value_rescaled_to(float(fps)))


def read_cut(path: str | Path, fps: Fraction, start_frame: int | None = None) -> Cut:
    """Parse an edit list into a :class:`Cut` (the first video track's clips).

    Args:
        path: ``.edl``, ``.xml`` or ``.otio`` file.
        fps: The frame rate to read it at (an EDL does not say its rate).
        start_frame: Absolute timecode frame where the record timeline starts, for files that
            do not say (EDL); None = the first event's record in.

    Returns:
        The cut; events keep the clip names, media paths and source/record timecodes.

    Raises:
        LipsyncError: The file is missing, of an unknown format, or OTIO cannot parse it.
    """
    import opentimelineio as otio

    path = Path(path)
    fmt = format_of_path(path)
    if not path.is_file():
        raise LipsyncError("edit list not found", path, "check the path")
    kwargs = {"rate": float(fps)} if fmt.name == "edl" else {}
    try:
        timeline = otio.adapters.read_from_file(str(path), adapter_name=fmt.otio_adapter, **kwargs)
    except Exception as exc:  # the adapters raise many types; all mean "cannot parse"
        raise LipsyncError(
            f"cannot read the edit list ({type(exc).__name__}: {exc})",
            path,
            f"check that it is a valid {fmt.label}",
        ) from None
    if isinstance(timeline, otio.schema.SerializableCollection):
        timeline = next(iter(timeline.find_children(descended_from_type=otio.schema.Timeline)))
    tracks = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if not tracks:
        raise LipsyncError("the edit list has no video track", path, "export the picture cut")
    events = []
    track = tracks[0]
    # The EDL reader starts the track at the first record in (source_range.start = -record in).
    shift = -_frames(track.source_range.start_time, fps) if track.source_range else 0
    start = timeline.global_start_time
    if start is not None:
        shift += _frames(start, fps)
        start_frame = _frames(start, fps)
    elif start_frame is None:
        start_frame = shift
    for clip in track.find_clips():
        rec = track.range_of_child(clip)
        src = clip.source_range or clip.available_range()
        ref = clip.media_reference
        media = None
        media_start, media_frames = _frames(src.start_time, fps), _frames(src.duration, fps)
        if isinstance(ref, otio.schema.ExternalReference):
            url = urlparse(ref.target_url)
            media = Path(unquote(url.path)) if url.scheme in ("file", "") else None
            if ref.available_range is not None:
                media_start = _frames(ref.available_range.start_time, fps)
                media_frames = _frames(ref.available_range.duration, fps)
        meta = clip.metadata.get("lipsync", {}) if hasattr(clip.metadata, "get") else {}
        events.append(
            CutEvent(
                name=clip.name,
                reel=str(meta.get("reel") or reel_name(len(events) + 1)),
                media=media,
                media_start_frame=media_start,
                media_frames=media_frames,
                source_in_frame=_frames(src.start_time, fps),
                source_out_frame=_frames(src.start_time, fps) + _frames(src.duration, fps),
                record_in_frame=shift + _frames(rec.start_time, fps),
                segment_id=str(meta.get("segment_id", "")),
                text=str(meta.get("text", "")),
            )
        )
    return Cut(
        name=timeline.name or path.stem,
        fps=Fraction(fps),
        drop_frame=default_drop_frame(fps),
        start_frame=start_frame,
        events=tuple(events),
    )


def segment_ranges(cut: Cut, frame_count: int = 0) -> list[tuple[int, int, str]]:
    """The cut's events as clip frame ranges ``(start, end, name)``.

    The clip is taken to be the cut's record timeline (a conform or an export of it), so a
    record timecode maps to the frame that far from the timeline's start.

    Args:
        cut: A cut read with :func:`read_cut`.
        frame_count: Frames in the clip, to clip ranges to (0 = no limit).

    Returns:
        Non-empty ranges in record order.
    """
    out = []
    for ev in cut.events:
        a = ev.record_in_frame - cut.start_frame
        b = ev.record_out_frame - cut.start_frame
        a, b = max(0, a), (min(b, frame_count) if frame_count else b)
        if b > a:
            out.append((a, b, ev.text or ev.name))
    return out
