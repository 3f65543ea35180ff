"""Script and cut imports into a document: each builds segments through document methods.

Both run inside one document transaction, so one undo removes everything an import added.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from editor.model.errors import EditError
from lipcore.project import SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from editor.model.document import Document


def import_script(
    doc: Document,
    path: str | Path,
    line_audio: Sequence[str | Path] = (),
    long_dub: bool = False,
    face_track_id: str | None = None,
) -> list[str]:
    """One segment per script line, carrying its text and speaker; takes placed on the slots.

    Line takes (a folder of ``0001.wav``-style files, or line files) become one audio track per
    line, starting at the line's slot and driving its segment. A long dub (``long_dub``) becomes
    one track at frame 0 driving every segment. Without audio the segments use the first dub
    track, as subtitles do.

    Args:
        doc: The document (a clip must be open).
        path: ``.srt`` or ``.vtt`` file.
        line_audio: A folder, line files, or the long dub.
        long_dub: ``line_audio`` is one recording on the clip's clock.
        face_track_id: The face the segments re-sync (None = main face).

    Returns:
        Ids of the created segments, in script order.

    Raises:
        EditError: No clip is open.
        LipsyncError: The script or a take cannot be read.
    """
    from lipcore.script.lines import read_takes
    from lipcore.script.subtitles import read_script

    if doc.project.video is None:
        raise EditError("open a clip before importing a script")
    lines = read_script(path)
    takes = read_takes(list(line_audio), lines, long_dub=long_dub) if line_audio else {}
    fps, n = doc.project.fps, doc.project.frame_count
    ids: list[str] = []
    with doc.transaction("Import script"):
        dub_track = None
        if long_dub and line_audio:
            dub_track = doc.add_audio_track(Path(line_audio[0]), face_track_id=face_track_id)
        for line in lines:
            a, b = line.frames(fps)
            a, b = max(0, a), (min(b, n) if n > 0 else b)
            if b <= a:
                continue
            track_id = dub_track
            take = takes.get(line.index)
            if take is not None and dub_track is None:
                # the take's first sample plays at the slot's start (16 kHz project samples)
                track_id = doc.add_audio_track(
                    take.source,
                    name=f"Line {line.index}",
                    offset_samples=line.start_ms * SAMPLE_RATE_HZ // 1000,
                    face_track_id=face_track_id,
                )
            for lo, hi in doc._free_parts(face_track_id, a, b):
                ids.append(
                    doc.add_segment(
                        lo,
                        hi,
                        track_id,
                        face_track_id,
                        label=line.text,
                        clamp=False,
                        text=line.text,
                        speaker=line.speaker,
                    )
                )
    return ids


def segments_from_cut(doc: Document, path: str | Path) -> list[str]:
    """One segment per event of an edit list; the clip is taken to be the cut's conform.

    Record timecodes map to clip frames from the clip's own start timecode (EDLs, which carry
    no sequence start) or from the sequence start (FCP XML, OTIO).

    Args:
        doc: The document (a clip must be open).
        path: ``.edl``, ``.xml`` (FCP 7) or ``.otio``.

    Returns:
        Ids of the created segments.

    Raises:
        EditError: No clip is open.
        LipsyncError: The file cannot be read.
    """
    from lipcore.interchange.read import read_cut, segment_ranges
    from lipcore.timecode import read_start_timecode

    p = doc.project
    if p.video is None:
        raise EditError("open a clip before importing a cut")
    start = read_start_timecode(p.video.path, p.fps).frames
    cut = read_cut(path, p.fps, start_frame=start)
    ids: list[str] = []
    with doc.transaction("Segments from cut"):
        for a, b, name in segment_ranges(cut, p.frame_count):
            for lo, hi in doc._free_parts(None, a, b):
                ids.append(doc.add_segment(lo, hi, label=name, clamp=False))
    return ids


def replace_line_take(doc: Document, segment_id: str, path: str | Path) -> str:
    """Swap a script line's take for a new file (a new TTS take), as one undo step.

    The line's own track (made by :func:`import_script`) gets the new file, so only the
    segments that track drives (this line) become stale and re-render; the take keeps its slot.

    Args:
        doc: The document.
        segment_id: The line's segment.
        path: The new take.

    Returns:
        The id of the track that now plays the new take.

    Raises:
        EditError: The segment has no track of its own (it shares a long dub).
        MediaError: The file is missing, unreadable or has no audio.
    """
    from editor.model.commands import SetFields
    from lipcore.media.probe import probe, require_audio
    from lipcore.project import MediaRef

    seg = doc.project.segment(segment_id)
    users = [s for s in doc.project.segments if s.audio_track_id == seg.audio_track_id]
    if seg.audio_track_id is None or len(users) != 1:
        raise EditError(
            "this segment's audio is shared with other segments",
            fix="import the script with one take per line to replace a single line",
        )
    audio = require_audio(probe(path))
    changes = {
        "media": MediaRef.from_file(path),
        "duration_samples": int(round(audio.duration_sec * SAMPLE_RATE_HZ)),
    }
    doc._push(SetFields(doc, "Replace take", "track", seg.audio_track_id, changes))
    return seg.audio_track_id


def take_overflow_ms(doc: Document, segment_id: str) -> float:
    """How far a line's take runs past its segment's end, in ms (0 when it fits or is shared).

    Only a track that drives this one segment (a line take from :func:`import_script`) counts:
    a long dub driving many segments has no per-line length to compare.

    Args:
        doc: The document.
        segment_id: The segment.

    Returns:
        The overflow in milliseconds, 0.0 when the take ends inside the segment.
    """
    p = doc.project
    seg = p.segment(segment_id)
    if seg.audio_track_id is None:
        return 0.0
    if sum(1 for s in p.segments if s.audio_track_id == seg.audio_track_id) != 1:
        return 0.0
    track = p.track(seg.audio_track_id)
    if track.is_original or track.duration_samples <= 0:
        return 0.0
    take_end_ms = (track.offset_samples + track.duration_samples) * 1000 / SAMPLE_RATE_HZ
    seg_end_ms = float(seg.end_frame * 1000 / p.fps)
    return round(max(0.0, take_end_ms - seg_end_ms), 1)
