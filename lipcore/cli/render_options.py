"""Options shared by ``lipsync sync`` and ``lipsync preview``, turned into a render request."""

from __future__ import annotations

import argparse
import re
from fractions import Fraction
from pathlib import Path

from lipcore.engines.base import EngineOptions
from lipcore.engines.registry import ENGINE_NAMES
from lipcore.errors import LipsyncError
from lipcore.face.boxes import parse_face_boxes
from lipcore.render.request import (
    AUDIO_RATE,
    LONG_AUDIO_POLICIES,
    FaceChoice,
    RenderRequest,
    SegmentSpec,
)


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    """Add the clip, audio, face, segment and engine options to ``p``."""
    p.add_argument("video", type=Path, help="the clip whose face is re-synced (never overwritten)")
    p.add_argument("audio", type=Path, help="the new speech: wav, mp3, m4a, flac or a video file")
    p.add_argument(
        "--face",
        default="auto",
        help="face track id from 'lipsync faces' (default: auto = the main face), or "
        "FRAME,X,Y = the face under that pixel on that frame",
    )
    p.add_argument(
        "--segment",
        action="append",
        default=[],
        metavar="START-END",
        help="time range to re-sync, repeatable; times in seconds (1.5), mm:ss.ff, "
        "SMPTE timecode HH:MM:SS:FF (HH:MM:SS;FF drop-frame; the clip's own start timecode "
        "counts) or frames (f120); default: the whole clip",
    )
    p.add_argument(
        "--face-box",
        action="append",
        default=[],
        metavar="X,Y,W,H[@FRAME][:mouth=LX,LY,RX,RY,UX,UY,DX,DY]",
        help="point out the face by hand where the detector cannot find it (cartoon, CGI): its "
        "box in pixels, repeatable or space-separated keyframes, interpolated between frames; "
        ":mouth= places the mouth the warp opens (left and right corner, upper and lower lip "
        "centre, as 0..1 of the box's width and height; interpolated like the box)",
    )
    p.add_argument(
        "--region",
        metavar="X0,Y0,X1,Y1",
        help="only re-sync a face inside this box (pixels of the displayed frame)",
    )
    p.add_argument(
        "--engine",
        default="auto",
        choices=ENGINE_NAMES,
        help="auto (default): retime where the clip shows the actor speaking long enough, "
        "oneshot otherwise (any face, even a still), wav2lip when --checkpoint is given",
    )
    p.add_argument(
        "--fps",
        type=Fraction,
        help="output frame rate when VIDEO is a still image (default 25)",
    )
    p.add_argument("--checkpoint", type=Path, help="model checkpoint for --engine wav2lip")
    p.add_argument(
        "--footage",
        type=Path,
        action="append",
        default=[],
        help="extra footage of the same actor speaking (improves the built-in engine)",
    )
    p.add_argument(
        "--actor",
        type=Path,
        default=None,
        help="actor file from lipsync adapt: the actor's mouth shapes and footage",
    )
    p.add_argument(
        "--audio-offset",
        type=float,
        default=0.0,
        metavar="SEC",
        help="start the new audio this many seconds after the first frame (negative = earlier)",
    )
    p.add_argument(
        "--long-audio",
        choices=LONG_AUDIO_POLICIES,
        default="cut",
        help="when the audio outlasts the picture: cut the audio (default), or hold the last "
        "frame, loop the clip, or play it back and forth",
    )
    p.add_argument("--mouth-strength", type=float, default=1.0, help="0..2, 1 = as generated")
    p.add_argument(
        "--reference",
        choices=("neutral", "self"),
        default="neutral",
        help="reference frame: a neutral resting frame (default) or each frame itself",
    )
    p.add_argument("--feather", type=int, default=12, help="mask edge width (px of a 256 crop)")


#: ``f120``: a frame index.
_FRAME = re.compile(r"f([0-9]+)")
#: ``HH:MM:SS:FF`` SMPTE timecode, ``;FF`` for drop-frame (read by lipcore.timecode).
_TIMECODE = re.compile(r"([0-9]+):([0-9]{1,2}):([0-9]{1,2})[:;.,]([0-9]{1,2})")
#: ``ss.s``, ``mm:ss.s`` or ``hh:mm:ss.s`` (minutes and seconds below 60 after the first part).
_CLOCK = re.compile(r"(?:([0-9]+):)??(?:([0-9]+):)?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

#: Latest frame a time may name (2**40 frames: 1394 years at 25 fps); beyond it is a typo.
MAX_FRAME = 1 << 40


def parse_time(text: str, fps: Fraction, start_frame: int = 0) -> int:
    """A time given as seconds, ``mm:ss.s``, SMPTE timecode or ``f<frame>`` -> frame index.

    Seconds are floored to the frame showing at that time; timecode is SMPTE as the editor
    shows it (:func:`lipcore.timebase.format_timecode`, drop-frame at 29.97/59.94), so the
    two round-trip.

    Args:
        text: ``1.5``, ``0:02.5``, ``f120``, ``HH:MM:SS:FF`` or drop-frame ``HH:MM:SS;FF``.
        fps: The clip's exact frame rate.
        start_frame: The clip's start timecode in frames (timecodes are source timecode, as in
            an editing suite; seconds and frames count from the clip's first frame).

    Returns:
        The 0-based frame index.

    Raises:
        LipsyncError: The text is none of these forms, has minutes, seconds or frames out of
            range, or names a frame past :data:`MAX_FRAME`.
    """
    fix = "use seconds (1.5), mm:ss, HH:MM:SS:FF or f120"
    raw = text
    text = text.strip()
    frame = None
    if m := _FRAME.fullmatch(text):
        frame = int(m.group(1))
    elif _TIMECODE.fullmatch(text):
        from lipcore.timecode import parse_smpte

        frame = parse_smpte(text, fps, start_frame)
    elif (m := _CLOCK.fullmatch(text)) and text:
        h, mi, sec = m.group(1), m.group(2), Fraction(m.group(3))
        if (mi is not None and sec >= 60) or (h is not None and int(mi) >= 60):
            raise LipsyncError(f"the time {raw!r} has minutes or seconds >= 60", fix=fix)
        total = sec + 60 * int(mi or 0) + 3600 * int(h or 0)
        frame = int(total * fps)
    if frame is None:
        raise LipsyncError(f"cannot read the time {raw!r}", fix=fix)
    if frame > MAX_FRAME:
        raise LipsyncError(f"the time {raw!r} is past any clip's end", fix=fix)
    return frame


def build_request(args: argparse.Namespace, output: Path) -> RenderRequest:
    """Turn parsed arguments into a :class:`RenderRequest` (probes the clip for its frame rate)."""
    from lipcore.media.probe import probe, require_video
    from lipcore.timecode import read_start_timecode

    fps = require_video(probe(args.video)).fps
    start_tc = read_start_timecode(args.video, fps).frames
    options = EngineOptions(mouth_strength=args.mouth_strength, reference=args.reference)
    segments = []
    for text in args.segment:
        start, sep, end = text.partition("-")
        if not sep:
            raise LipsyncError(f"segment {text!r} has no END", fix="write START-END, e.g. 1.5-4")
        segments.append(
            SegmentSpec(
                parse_time(start, fps, start_tc),
                parse_time(end, fps, start_tc),
                engine=args.engine,
                options=options,
                feather_px=args.feather,
            )
        )
    if not segments:  # the whole clip; the renderer clips the end to the output's length
        segments.append(
            SegmentSpec(0, 1 << 40, engine=args.engine, options=options, feather_px=args.feather)
        )
    region = None
    if args.region:
        try:
            x0, y0, x1, y1 = (float(v) for v in args.region.split(","))
        except ValueError as exc:
            raise LipsyncError(
                f"cannot read the region {args.region!r}", fix="write X0,Y0,X1,Y1 in pixels"
            ) from exc
        region = (x0, y0, x1, y1)
    boxes = tuple(parse_face_boxes(args.face_box)) if getattr(args, "face_box", None) else ()
    face = FaceChoice(region=region, boxes=boxes)
    if args.face != "auto":
        bits = args.face.split(",")
        if len(bits) == 3:
            try:
                point = (int(bits[0]), float(bits[1]), float(bits[2]))
            except ValueError as exc:
                raise LipsyncError(
                    f"cannot read the face point {args.face!r}",
                    fix="write FRAME,X,Y with a whole frame number, e.g. 40,320,180",
                ) from exc
            face = FaceChoice(point=point, region=region, boxes=boxes)
        else:
            face = FaceChoice(track_id=args.face, region=region, boxes=boxes)
    return RenderRequest(
        video=args.video,
        audio=args.audio,
        output=output,
        face=face,
        segments=tuple(segments),
        audio_offset_samples=round(args.audio_offset * AUDIO_RATE),
        long_audio=args.long_audio,
        footage=tuple(args.footage),
        checkpoint=args.checkpoint,
        actor=getattr(args, "actor", None),
        still_fps=getattr(args, "fps", None),
    )
