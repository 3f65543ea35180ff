"""OpenTimelineIO: the cut as an ``opentimelineio`` timeline (written as ``.otio`` JSON).

OTIO keeps rational times, so the timeline's ``global_start_time`` carries the start timecode
and every clip's media reference carries its available range (handles included); the segment
id and script line ride along in ``metadata["lipsync"]``.
"""

from __future__ import annotations

from lipcore.interchange.cut import Cut


def cut_to_timeline(cut: Cut):
    """The cut as an ``opentimelineio.schema.Timeline`` with one video and one audio track.

    Args:
        cut: The edit list.

    Returns:
        The timeline.
    """
    import opentimelineio as otio

    rate = float(cut.fps)
    rt = otio.opentime.RationalTime
    tr = otio.opentime.TimeRange
    timeline = otio.schema.Timeline(name=cut.name, global_start_time=rt(cut.start_frame, rate))
    timeline.metadata["lipsync"] = {
        "fps": [cut.fps.numerator, cut.fps.denominator],
        "drop_frame": cut.drop_frame,
    }
    for kind in (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio):
        track = otio.schema.Track(name=f"{kind} 1", kind=kind)
        at = cut.start_frame
        for ev in cut.events:
            if ev.record_in_frame > at:
                track.append(
                    otio.schema.Gap(
                        source_range=tr(rt(0, rate), rt(ev.record_in_frame - at, rate))
                    )
                )
            ref = otio.schema.MissingReference()
            if ev.media is not None:
                ref = otio.schema.ExternalReference(
                    target_url=ev.media.as_uri(),
                    available_range=tr(rt(ev.media_start_frame, rate), rt(ev.media_frames, rate)),
                )
            clip = otio.schema.Clip(
                name=ev.name,
                media_reference=ref,
                source_range=tr(rt(ev.source_in_frame, rate), rt(ev.duration_frames, rate)),
            )
            clip.metadata["lipsync"] = {
                "segment_id": ev.segment_id,
                "text": ev.text,
                "reel": ev.reel,
            }
            track.append(clip)
            at = ev.record_out_frame
        timeline.tracks.append(track)
    return timeline


def cut_to_otio(cut: Cut) -> str:
    """The cut as ``.otio`` JSON text."""
    import opentimelineio as otio

    return otio.adapters.write_to_string(cut_to_timeline(cut), "otio_json")
