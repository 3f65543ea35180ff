"""What to render: the clip, the new audio, the face, the segments and the options.

Times are integer frames (video) and integer samples (audio at :data:`AUDIO_RATE`), never float
seconds, so that project files and caches are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from lipcore.engines.base import EngineOptions
from lipcore.media.encode import DEFAULT_CRF

AUDIO_RATE = 16000  # every engine and meter works on 16 kHz mono

#: How to handle new audio that is longer than the picture.
LONG_AUDIO_POLICIES = ("cut", "hold", "loop", "pingpong")
#: What moves a segment's mouth: the new speech, or the animator's mouth cues of its track.
DRIVES = ("audio", "cues")


@dataclass(frozen=True)
class SegmentSpec:
    """A range of the clip to re-sync.

    Attributes:
        start_frame: First frame (inclusive).
        end_frame: Last frame (exclusive).
        audio_offset_samples: Extra shift of the new audio for this segment, at 16 kHz
            (positive = the speech comes later).
        engine: Engine name ("auto", "retime", "oneshot", "wav2lip").
        options: Engine options (mouth strength, reference frame).
        feather_px: Width of the soft edge of the lower-face mask, in crop pixels.
        drive: "audio" (the speech shapes the mouth) or "cues" (``cues`` do; only the one-shot
            engine follows cues, and "auto" then means the one-shot engine).
        cues: Mouth cues ``(shape, start_sample, end_sample)`` on the new audio's own clock
            (16 kHz, sample 0 = the audio's first sample, before any offset), Rhubarb letters
            "A"-"H" and "X"; time not covered by a cue rests (X). Only read when
            ``drive == "cues"``; keep them to the ones overlapping the segment, so that editing
            a cue elsewhere leaves this segment's chunk key alone.
        strength_keys: Blend-strength curve, ``(clip frame, strength 0..1)`` keys (empty = full
            strength); see :mod:`lipcore.render.strength`.
    """

    start_frame: int
    end_frame: int
    audio_offset_samples: int = 0
    engine: str = "auto"
    options: EngineOptions = field(default_factory=EngineOptions)
    feather_px: int = 12
    drive: str = "audio"
    cues: tuple[tuple[str, int, int], ...] = ()
    strength_keys: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class FaceChoice:
    """Which face to re-sync: a track id, a point on a frame, or "auto" (the main speaker).

    Attributes:
        track_id: A track id from :func:`lipcore.face.track.track_faces`, or "auto".
        point: ``(frame, x, y)``: the track whose box contains this point on that frame.
        region: Optional ``(x0, y0, x1, y1)`` limiting edits to faces inside this box.
        boxes: The face pointed out by hand: ``(frame, x, y, w, h)`` keys, interpolated between
            (see :mod:`lipcore.face.boxes`); replaces face detection when given. A key may add
            the parametric mouth's 8 box-relative values.
    """

    track_id: str = "auto"
    point: tuple[int, float, float] | None = None
    region: tuple[float, float, float, float] | None = None
    boxes: tuple[tuple, ...] = ()


@dataclass(frozen=True)
class RenderRequest:
    """Everything the pipeline needs to write one output video.

    Attributes:
        video: Source clip (never overwritten).
        audio: New speech (any format ffmpeg reads).
        output: Output file (.mp4 = H.264/AAC, .mov = ProRes/PCM).
        face: Which face to re-sync.
        segments: Ranges to re-sync; empty = the whole clip.
        audio_offset_samples: Where the new audio starts, at 16 kHz, relative to frame 0.
        long_audio: What to do when the new audio outlasts the picture (see LONG_AUDIO_POLICIES).
        footage: Extra footage of the same actor for engines that learn from footage.
        checkpoint: Model checkpoint for neural engines.
        actor: An actor file (``lipsync adapt``): the one-shot engine uses its adapted
            mouth-shape model, the retime engine its footage as extra footage.
        audio_mix: "dub" (new audio only) or "mix" (new audio over the original, ducked).
        output_audio: Audio to mux instead of ``audio``, already on the video clock (its first
            sample plays with frame 0), e.g. a mix of several dub tracks when each render pass
            re-syncs one speaker; ``audio`` still drives the mouth.
        crf: x264 quality (lower = better); the default keeps untouched pixels near-lossless.
        still_fps: Output frame rate when ``video`` is a still image (None = 25); a still is
            held for the whole new audio.
    """

    video: Path
    audio: Path
    output: Path
    face: FaceChoice = field(default_factory=FaceChoice)
    segments: tuple[SegmentSpec, ...] = ()
    audio_offset_samples: int = 0
    long_audio: str = "cut"
    footage: tuple[Path, ...] = ()
    checkpoint: Path | None = None
    actor: Path | None = None
    audio_mix: str = "dub"
    output_audio: Path | None = None
    crf: int = DEFAULT_CRF
    still_fps: Fraction | None = None
