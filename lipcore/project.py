"""The ``*.lsproj`` project file: schema, load/save, migrations and media relinking.

A project is UTF-8 JSON with an integer ``schema_version``. In memory every media path is absolute;
on disk it is stored relative to the project file (POSIX separators), so a project folder moved
together with its media still opens. Each media reference carries a content fingerprint
(:func:`lipcore.cache.file_fingerprint`) so a moved or replaced file can be relinked and checked.

Units: video times are integer frames on the clip's rational frame rate (``fps`` stored as
``{"num", "den"}``); audio times are integer samples at :data:`SAMPLE_RATE_HZ` (16 kHz, the rate
every engine and meter works at, so project offsets feed
:class:`lipcore.render.request.SegmentSpec` without conversion). Segment ranges are half-open:
``start_frame`` inclusive, ``end_frame`` exclusive. Float seconds never appear in the file.

Derived data (face tracks, waveforms, rendered segments) lives in the cache dir and is only
*referenced* here (a cache key, a rendered file path, the params hash it was made with).

Older files are upgraded by chained ``migrate_N_to_N1(dict) -> dict`` functions registered in
:data:`MIGRATIONS`; a file newer than :data:`SCHEMA_VERSION` is refused with a message saying to
update the application.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from lipcore import __version__
from lipcore.audio.align import Word
from lipcore.cache import atomic_write_bytes
from lipcore.cues.make import CueTrack, MouthCue
from lipcore.cues.shapes import SHAPES
from lipcore.errors import ProjectError
from lipcore.media.encode import DEFAULT_CRF
from lipcore.render.request import AUDIO_RATE, RenderRequest, SegmentSpec

#: Current schema written by :func:`save_project`.
SCHEMA_VERSION = 2
#: File suffix of project files.
PROJECT_SUFFIX = ".lsproj"
#: The ``format`` marker that tells a project file from any other JSON.
FORMAT_NAME = "lipsync-project"
#: Unit of every ``*_samples`` field in the project (same as the render pipeline).
SAMPLE_RATE_HZ = AUDIO_RATE

RENDER_STATUSES = ("none", "stale", "done", "failed")
REFERENCES = ("self", "neutral")
EXPORT_PRESETS = ("mp4_h264_aac", "mov_prores_pcm")
AUDIO_MIXES = ("dub", "mix")


def new_id() -> str:
    """Return a new stable string id (12 hex characters of a uuid4)."""
    return uuid.uuid4().hex[:12]


# --------------------------------------------------------------------------------------- model


@dataclass
class MediaRef:
    """A media file used by the project.

    Attributes:
        path: Absolute path in memory (stored relative to the project file on disk).
        fingerprint: :func:`lipcore.cache.file_fingerprint` of the file when it was added.
        size_bytes: File size when it was added.
    """

    path: Path
    fingerprint: str
    size_bytes: int

    @classmethod
    def from_file(cls, path: str | Path) -> MediaRef:
        """Reference an existing file, computing its fingerprint and size.

        Args:
            path: The media file.

        Returns:
            A :class:`MediaRef` with an absolute path.

        Raises:
            ProjectError: The file does not exist.
        """
        from lipcore.cache import file_fingerprint

        p = Path(os.path.abspath(path))
        if not p.is_file():
            raise ProjectError("media file not found", p, "check the path")
        return cls(path=p, fingerprint=file_fingerprint(p), size_bytes=p.stat().st_size)

    def exists(self) -> bool:
        """Whether the file is where the project expects it."""
        return self.path.is_file()


@dataclass
class AudioTrack:
    """One audio track on the timeline.

    Attributes:
        id: Stable string id.
        name: Label shown on the track header.
        media: The audio (or video-with-audio) file, or None for the clip's original audio.
        offset_samples: Where the file's first sample plays, at 16 kHz, relative to frame 0
            (negative = the file starts before the clip).
        duration_samples: Length of the file's audio at 16 kHz (0 when unknown).
        gain_db: Playback/export gain.
        muted: Track is silent in preview and export.
        solo: Only soloed tracks are heard when any track is soloed.
        face_track_id: The face this speech drives (None = the main face / "auto").
        mouth_cues: The animator's mouth cues for this track (None until analysed); cue
            samples count from the file's first sample, so they move with the track.
        actor: The actor file (``lipsync adapt``) of the face this track drives, or None
            for the generic models; renders of the track's segments use it.
    """

    id: str
    name: str
    media: MediaRef | None = None
    offset_samples: int = 0
    duration_samples: int = 0
    gain_db: float = 0.0
    muted: bool = False
    solo: bool = False
    face_track_id: str | None = None
    mouth_cues: CueTrack | None = None
    actor: MediaRef | None = None

    @property
    def is_original(self) -> bool:
        """True for the clip's own audio track."""
        return self.media is None


@dataclass(frozen=True)
class SegmentOptions:
    """Per-segment render options (everything that changes the rendered pixels besides range).

    Attributes:
        feather_px: Soft edge of the lower-face mask, in crop pixels.
        mouth_strength: 1.0 = engine as is; lower blends toward the original mouth.
        reference: "self" or "neutral" reference frame (see :class:`EngineOptions`).
        neutral_frame: Source frame used as neutral reference (None = automatic).
        audio_offset_samples: Extra shift of the audio for this segment, 16 kHz samples.
        region: Optional ``(x0, y0, x1, y1)`` box in frame pixels restricting the edit.
    """

    feather_px: int = 12
    mouth_strength: float = 1.0
    reference: str = "neutral"
    neutral_frame: int | None = None
    audio_offset_samples: int = 0
    region: tuple[int, int, int, int] | None = None

    def validate(self) -> None:
        """Raise ValueError with a user-readable message when an option is out of range."""
        if not isinstance(self.feather_px, int) or not 0 <= self.feather_px <= 256:
            raise ValueError(f"feather_px must be an integer 0..256, got {self.feather_px!r}")
        if not 0.0 <= float(self.mouth_strength) <= 2.0:
            raise ValueError(f"mouth_strength must be within 0..2, got {self.mouth_strength!r}")
        if self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {self.reference!r}")
        if self.neutral_frame is not None and (
            not isinstance(self.neutral_frame, int) or self.neutral_frame < 0
        ):
            raise ValueError(
                f"neutral_frame must be a frame index >= 0, got {self.neutral_frame!r}"
            )
        if not isinstance(self.audio_offset_samples, int):
            raise ValueError("audio_offset_samples must be an integer number of 16 kHz samples")
        if self.region is not None:
            x0, y0, x1, y1 = self.region
            if not (x1 > x0 and y1 > y0):
                raise ValueError(
                    f"region must be (x0, y0, x1, y1) with x1 > x0, y1 > y0: {self.region}"
                )


@dataclass
class RenderState:
    """What is known about a segment's rendered result.

    Attributes:
        status: "none" (never rendered), "stale" (rendered with other params), "done", "failed".
        output_path: The rendered segment file (in the render cache), or None.
        params_hash: :meth:`Project.segment_params_hash` at render time, or None.
        message: Error text when ``status == "failed"``.
        engines: ``(engine, why)`` of each engine the last render ran ("auto" resolved to the
            one it chose; schema 2, optional).
    """

    status: str = "none"
    output_path: str | None = None
    params_hash: str | None = None
    message: str = ""
    engines: tuple[tuple[str, str], ...] = ()


@dataclass
class Segment:
    """A range of the clip to re-sync.

    Attributes:
        id: Stable string id.
        start_frame: First frame (inclusive).
        end_frame: End frame (exclusive).
        audio_track_id: The audio track that drives it (None = no new audio: mouth rests).
        face_track_id: The face to re-sync (None = the main face / "auto").
        engine: Engine name ("auto", "retime", "oneshot", "wav2lip").
        options: Render options.
        label: Free text (e.g. the subtitle line the segment came from).
        render: Render status.
        text: The script line spoken in the segment ("" when it has none; schema 2, optional).
        speaker: Who speaks the line ("" when unknown; schema 2, optional).
        drive: What moves the mouth: "audio" (the dub's speech) or "cues" (the dub track's
            mouth cues, as the animator edited them; one-shot engine only; schema 2, optional).
        strength_keys: Blend-strength curve, ``(clip frame, strength 0..1)`` keys, sorted
            (empty = full strength; schema 2, optional; see :mod:`lipcore.render.strength`).
    """

    id: str
    start_frame: int
    end_frame: int
    audio_track_id: str | None = None
    face_track_id: str | None = None
    engine: str = "retime"
    options: SegmentOptions = field(default_factory=SegmentOptions)
    label: str = ""
    render: RenderState = field(default_factory=RenderState)
    text: str = ""
    speaker: str = ""
    drive: str = "audio"
    strength_keys: tuple[tuple[int, float], ...] = ()

    @property
    def duration_frames(self) -> int:
        """Number of frames in the segment."""
        return self.end_frame - self.start_frame

    def render_params(self) -> dict[str, Any]:
        """The segment's own fields that change its rendered pixels (JSON-ready)."""
        params: dict[str, Any] = {
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "audio_track_id": self.audio_track_id,
            "face_track_id": self.face_track_id,
            "engine": self.engine,
            "options": _options_to_dict(self.options),
        }
        if self.drive != "audio":  # audio-driven segments keep the hashes they had
            params["drive"] = self.drive
        if self.strength_keys:  # absent when flat, so older segments keep their hashes
            params["strength_keys"] = [list(k) for k in self.strength_keys]
        return params

    def params_hash(self, context: Mapping[str, Any] | None = None) -> str:
        """Stable hash of the render parameters, optionally with project context.

        Args:
            context: Extra parameters outside the segment (source fingerprint, audio placement);
                :meth:`Project.segment_params_hash` supplies them.

        Returns:
            A 16-character hex digest.
        """
        payload = {"segment": self.render_params(), "context": dict(context or {})}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass
class FaceTracksRef:
    """Where the clip's face tracks are cached (derived data, never stored in the project).

    Attributes:
        cache_key: Key of the face-track entry in the cache dir.
        backend: Detector/tracker name and settings that made them.
        track_ids: Ids of the tracks, main face first.
    """

    cache_key: str
    backend: str = ""
    track_ids: list[str] = field(default_factory=list)


@dataclass
class ExportSettings:
    """How the finished video is written.

    Attributes:
        output_path: Last export target (absolute in memory, relative on disk), or None.
        preset: "mp4_h264_aac" (delivery) or "mov_prores_pcm" (mezzanine for editing suites).
        audio_mix: "dub" (new audio only) or "mix" (new audio over the original, ducked).
        crf: x264 quality for the mp4 preset (lower = better).
    """

    output_path: Path | None = None
    preset: str = "mp4_h264_aac"
    audio_mix: str = "dub"
    crf: int = DEFAULT_CRF


@dataclass
class Project:
    """Everything the user edits, saved as one ``*.lsproj`` file.

    Attributes:
        id: Stable project id (names the autosave of unsaved projects).
        schema_version: Schema of the file it came from (always :data:`SCHEMA_VERSION` after load).
        app_version: Version of the application that last saved it.
        video: The source clip, or None before a clip is opened.
        fps: Exact frame rate of the clip.
        frame_count: Frames in the clip.
        width: Displayed width in pixels.
        height: Displayed height in pixels.
        video_has_audio: Whether the clip has its own audio stream.
        audio_tracks: Audio tracks, top to bottom.
        face_tracks: Cached face tracks of the clip, or None before tracking.
        segments: Segments sorted by ``(face_track_id, start_frame)`` is *not* guaranteed; use
            :meth:`sorted_segments`.
        export: Export settings.
        still_fps: Frame rate renders give a still-image clip (schema 2, optional; None for
            a video clip).
        face_boxes: Faces pointed out by hand: ``(frame, x, y, w, h)`` keys per face target
            (a face track id, or "auto" for the main face), interpolated between keys as
            :mod:`lipcore.face.boxes` does (schema 2, optional). A key may add the parametric
            mouth's 8 box-relative values (corners, upper and lower lip; optional per key).
    """

    id: str = field(default_factory=new_id)
    schema_version: int = SCHEMA_VERSION
    app_version: str = __version__
    video: MediaRef | None = None
    fps: Fraction = Fraction(25)
    frame_count: int = 0
    width: int = 0
    height: int = 0
    video_has_audio: bool = False
    audio_tracks: list[AudioTrack] = field(default_factory=list)
    face_tracks: FaceTracksRef | None = None
    segments: list[Segment] = field(default_factory=list)
    export: ExportSettings = field(default_factory=ExportSettings)
    still_fps: Fraction | None = None
    face_boxes: dict[str, tuple[tuple, ...]] = field(default_factory=dict)

    # -- lookups

    def boxes_for(self, face_track_id: str | None) -> tuple[tuple, ...]:
        """The hand-drawn face box keys of a face target (``()`` when it has none)."""
        return tuple(self.face_boxes.get(face_track_id or "auto", ()))

    def track(self, track_id: str) -> AudioTrack:
        """Return the audio track with ``track_id`` (KeyError naming the known ids otherwise)."""
        for t in self.audio_tracks:
            if t.id == track_id:
                return t
        raise KeyError(f"no audio track {track_id!r}")

    def segment(self, segment_id: str) -> Segment:
        """Return the segment with ``segment_id`` (KeyError otherwise)."""
        for s in self.segments:
            if s.id == segment_id:
                return s
        raise KeyError(f"no segment {segment_id!r}")

    def sorted_segments(self) -> list[Segment]:
        """Segments in timeline order (start frame, then face track)."""
        return sorted(self.segments, key=lambda s: (s.start_frame, s.face_track_id or ""))

    def media_refs(self) -> list[MediaRef]:
        """Every media reference of the project (video first)."""
        refs = [self.video] if self.video is not None else []
        refs += [t.media for t in self.audio_tracks if t.media is not None]
        return refs

    # -- render parameters

    def segment_params_hash(self, segment: Segment) -> str:
        """Hash of everything that changes a segment's rendered pixels.

        Besides the segment's own fields this covers the source clip's fingerprint, the face
        tracks it was tracked with, and the driving track's file, placement and actor file
        (moving a dub track makes the segments it drives stale; muting or gain does not).

        Args:
            segment: A segment of this project.

        Returns:
            A 16-character hex digest.
        """
        context: dict[str, Any] = {
            "video": self.video.fingerprint if self.video else None,
            "fps": [self.fps.numerator, self.fps.denominator],
            "face_tracks": self.face_tracks.cache_key if self.face_tracks else None,
        }
        if segment.audio_track_id is not None:
            try:
                t = self.track(segment.audio_track_id)
            except KeyError:
                context["audio"] = "missing"
            else:
                context["audio"] = {
                    "media": t.media.fingerprint if t.media else "original",
                    "offset_samples": t.offset_samples,
                }
                if t.actor is not None:  # only when set: older hashes stay valid
                    context["audio"]["actor"] = t.actor.fingerprint
                if segment.drive == "cues":  # only the cues this segment shows
                    context["cues"] = [list(c) for c in self.segment_cues(segment)]
        boxes = self.boxes_for(segment.face_track_id)
        if boxes:  # only when drawn, so hashes of projects without boxes stay as they were
            context["face_boxes"] = [list(k) for k in boxes]
        if self.still_fps is not None:
            context["still_fps"] = [self.still_fps.numerator, self.still_fps.denominator]
        return segment.params_hash(context)

    def segment_cues(self, segment: Segment) -> tuple[tuple[str, int, int], ...]:
        """The driving track's mouth cues that overlap ``segment`` (on the track's own clock).

        Returns:
            ``(shape, start_sample, end_sample)`` triples, 16 kHz, sample 0 = the track's first
            sample; empty when the track has no cues. A cue edit outside the segment leaves
            them (and so the segment's chunk) unchanged.
        """
        if segment.audio_track_id is None:
            return ()
        try:
            track = self.track(segment.audio_track_id)
        except KeyError:
            return ()
        if track.mouth_cues is None:
            return ()
        from lipcore.timebase import frame_to_sample

        opts = segment.options
        shift = track.offset_samples + opts.audio_offset_samples
        lo = frame_to_sample(segment.start_frame, self.fps, AUDIO_RATE) - shift
        hi = frame_to_sample(segment.end_frame, self.fps, AUDIO_RATE) - shift
        return tuple(
            (c.shape, c.start_sample, c.end_sample)
            for c in track.mouth_cues.cues
            if c.end_sample > lo and c.start_sample < hi
        )

    def segment_spec(self, segment: Segment) -> SegmentSpec:
        """The render pipeline's description of ``segment``.

        Its ``audio_offset_samples`` is the segment's own nudge only; the driving track's offset
        goes into :attr:`RenderRequest.audio_offset_samples` (the pipeline adds the two), see
        :meth:`render_request`.

        Args:
            segment: A segment of this project.

        Returns:
            A :class:`lipcore.render.request.SegmentSpec`.
        """
        from lipcore.engines.base import EngineOptions

        opts = segment.options
        return SegmentSpec(
            start_frame=segment.start_frame,
            end_frame=segment.end_frame,
            audio_offset_samples=opts.audio_offset_samples,
            engine=segment.engine,
            options=EngineOptions(
                mouth_strength=float(opts.mouth_strength),
                reference=opts.reference,
                neutral_frame=opts.neutral_frame,
            ),
            feather_px=opts.feather_px,
            drive=segment.drive,
            cues=self.segment_cues(segment) if segment.drive == "cues" else (),
            strength_keys=tuple(segment.strength_keys),
        )

    def render_request(
        self,
        segment_ids: list[str] | tuple[str, ...],
        output: str | Path,
        checkpoint: str | Path | None = None,
        audio_mix: str | None = None,
        crf: int | None = None,
    ) -> RenderRequest:
        """A :class:`~lipcore.render.request.RenderRequest` rendering some segments.

        The segments must share one audio track and one face (the pipeline drives one face with
        one audio per request); render a multi-speaker project in one request per group.

        Args:
            segment_ids: Segments to render.
            output: Output file (.mp4 or .mov).
            checkpoint: Model checkpoint for neural engines.
            audio_mix: Output sound ("dub" or "mix"); default the project's export setting.
            crf: x264 quality; default the project's export setting.

        Returns:
            The request: the clip, the track's file (the clip itself for the original track)
            placed at the track's offset, the face, the segments and the export mix/quality.

        Raises:
            ProjectError: No clip, no segments, a segment without audio track, or segments that
                do not share one audio track, face and edit region.
        """
        from lipcore.render.request import FaceChoice, RenderRequest

        if self.video is None:
            raise ProjectError("the project has no clip", None, "open a video first")
        segs = [self.segment(i) for i in segment_ids]
        if not segs:
            raise ProjectError("no segment to render", None, "select one or more segments")
        keys = {(s.audio_track_id, s.face_track_id, s.options.region) for s in segs}
        if len(keys) != 1:
            raise ProjectError(
                "the segments use different audio tracks, faces or edit regions",
                None,
                "render them separately",
            )
        track_id, face_id, region = keys.pop()
        if track_id is None:
            raise ProjectError(
                "the segment has no audio track (no dub track drives it)",
                None,
                "import audio and choose it in the inspector",
            )
        track = self.track(track_id)
        audio = track.media.path if track.media is not None else self.video.path
        boxes = self.boxes_for(face_id)
        return RenderRequest(
            video=self.video.path,
            audio=audio,
            output=Path(output),
            face=FaceChoice(
                # A drawn box replaces detection: its one track is the face to drive.
                track_id="auto" if boxes else (face_id or "auto"),
                region=tuple(float(v) for v in region) if region is not None else None,
                boxes=boxes,
            ),
            still_fps=self.still_fps,
            segments=tuple(
                self.segment_spec(s) for s in sorted(segs, key=lambda s: s.start_frame)
            ),
            audio_offset_samples=track.offset_samples,
            checkpoint=Path(checkpoint) if checkpoint is not None else None,
            actor=track.actor.path if track.actor is not None else None,
            audio_mix=self.export.audio_mix if audio_mix is None else audio_mix,
            crf=self.export.crf if crf is None else int(crf),
        )


# ------------------------------------------------------------------------------ serialisation


def _rel(path: Path, base: Path | None) -> str:
    """Path as stored: relative to ``base`` with '/' separators, absolute if impossible."""
    if base is None:
        return Path(path).as_posix()
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()


def _abs(stored: str, base: Path) -> Path:
    p = Path(stored)
    if p.is_absolute():
        return p
    return Path(os.path.normpath(base / p))


def _media_to_dict(ref: MediaRef | None, base: Path | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {
        "path": _rel(ref.path, base),
        "fingerprint": ref.fingerprint,
        "size_bytes": ref.size_bytes,
    }


def _options_to_dict(o: SegmentOptions) -> dict[str, Any]:
    return {
        "feather_px": o.feather_px,
        "mouth_strength": o.mouth_strength,
        "reference": o.reference,
        "neutral_frame": o.neutral_frame,
        "audio_offset_samples": o.audio_offset_samples,
        "region": list(o.region) if o.region is not None else None,
    }


def project_to_dict(project: Project, base_dir: Path | None) -> dict[str, Any]:
    """Serialise ``project`` to the current schema.

    Args:
        project: The project.
        base_dir: Folder media paths are made relative to (the project file's folder), or None
            to store absolute paths (autosaves of unsaved projects).

    Returns:
        A JSON-ready dict.
    """
    p = project
    return {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "app_version": __version__,
        "id": p.id,
        "video": _media_to_dict(p.video, base_dir),
        "fps": {"num": p.fps.numerator, "den": p.fps.denominator},
        "frame_count": p.frame_count,
        "width": p.width,
        "height": p.height,
        "video_has_audio": p.video_has_audio,
        "sample_rate_hz": SAMPLE_RATE_HZ,
        "audio_tracks": [
            {
                "id": t.id,
                "name": t.name,
                "media": _media_to_dict(t.media, base_dir),
                "offset_samples": t.offset_samples,
                "duration_samples": t.duration_samples,
                "gain_db": t.gain_db,
                "muted": t.muted,
                "solo": t.solo,
                "face_track_id": t.face_track_id,
                "mouth_cues": _cues_to_dict(t.mouth_cues),
                "actor": _media_to_dict(t.actor, base_dir),
            }
            for t in p.audio_tracks
        ],
        "face_tracks": None
        if p.face_tracks is None
        else {
            "cache_key": p.face_tracks.cache_key,
            "backend": p.face_tracks.backend,
            "track_ids": list(p.face_tracks.track_ids),
        },
        "segments": [
            {
                "id": s.id,
                "start_frame": s.start_frame,
                "end_frame": s.end_frame,
                "audio_track_id": s.audio_track_id,
                "face_track_id": s.face_track_id,
                "engine": s.engine,
                "label": s.label,
                "text": s.text,
                "speaker": s.speaker,
                **({"drive": s.drive} if s.drive != "audio" else {}),
                "strength_keys": [[f, v] for f, v in s.strength_keys],
                "options": _options_to_dict(s.options),
                "params_hash": p.segment_params_hash(s),
                "render": {
                    "status": s.render.status,
                    "output_path": s.render.output_path,
                    "params_hash": s.render.params_hash,
                    "message": s.render.message,
                    "engines": [list(e) for e in s.render.engines],
                },
            }
            for s in p.segments
        ],
        "export": {
            "output_path": None
            if p.export.output_path is None
            else _rel(p.export.output_path, base_dir),
            "preset": p.export.preset,
            "audio_mix": p.export.audio_mix,
            "crf": p.export.crf,
        },
        "still_fps": None
        if p.still_fps is None
        else {"num": p.still_fps.numerator, "den": p.still_fps.denominator},
        "face_boxes": {face: [list(k) for k in keys] for face, keys in p.face_boxes.items()},
    }


class _Reader:
    """Typed field access that names the file, the field and the fix on any problem."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, what: str) -> ProjectError:
        return ProjectError(
            f"project file is damaged: {where} {what}",
            self.path,
            "restore it from the .autosave file next to it or from a backup",
        )

    def get(
        self, d: Mapping[str, Any], key: str, types: type | tuple[type, ...], where: str
    ) -> Any:
        if not isinstance(d, Mapping):
            raise self.fail(where, "is not an object")
        if key not in d:
            raise self.fail(f"{where}.{key}" if where else key, "is missing")
        value = d[key]
        # bool is an int subclass; an int field must not accept true/false
        bad_bool = isinstance(value, bool) and bool not in (
            types if isinstance(types, tuple) else (types,)
        )
        field_name = f"{where}.{key}" if where else key
        if not isinstance(value, types) or bad_bool:
            name = (
                types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
            )
            raise self.fail(field_name, f"should be {name}, not {_short(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(field_name, f"should be a finite number, not {value!r}")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise self.fail(field_name, f"is out of range ({_short(value)})")
        return value

    def within(self, value: float, low: float, high: float, field_name: str) -> None:
        """Fail naming ``field_name`` unless ``low <= value <= high``."""
        if not low <= value <= high:
            raise self.fail(field_name, f"should be within {low}..{high}, not {value!r}")

    def opt(
        self, d: Mapping[str, Any], key: str, types: type | tuple[type, ...], where: str
    ) -> Any:
        if d.get(key) is None:
            return None
        return self.get(d, key, types, where)


def _drive_of(r: Any, sd: Mapping[str, Any], where: str) -> str:
    """A segment's stored ``drive`` ("audio" when absent: files from before it existed)."""
    from lipcore.render.request import DRIVES

    drive = r.opt(sd, "drive", str, where) or "audio"
    if drive not in DRIVES:
        raise r.fail(f"{where}.drive", f"should be one of {DRIVES}, not {drive!r}")
    return drive


def _cues_to_dict(track: CueTrack | None) -> dict[str, Any] | None:
    if track is None:
        return None
    return {
        "fps": {"num": track.fps.numerator, "den": track.fps.denominator},
        "duration_samples": track.duration_samples,
        "source": track.source,
        "cues": [[c.shape, c.start_sample, c.end_sample, c.phone] for c in track.cues],
        "words": [[w.text, w.start_sample, w.end_sample] for w in track.words],
    }


def _cues_from(r: _Reader, d: Any, where: str) -> CueTrack | None:
    """Mouth cues (optional since schema 2; absent in older files)."""
    if d is None:
        return None
    fps_d = r.get(d, "fps", dict, where)
    num, den = r.get(fps_d, "num", int, where), r.get(fps_d, "den", int, where)
    if num <= 0 or den <= 0:
        raise r.fail(f"{where}.fps", f"must be positive, not {num}/{den}")
    cues = []
    end = 0
    for i, row in enumerate(r.get(d, "cues", list, where)):
        ok = (
            isinstance(row, list)
            and len(row) == 4
            and row[0] in SHAPES
            and all(isinstance(v, int) and not isinstance(v, bool) for v in row[1:3])
            and isinstance(row[3], str)
            and row[1] == end
            and row[2] > row[1]
        )
        if not ok:
            raise r.fail(f"{where}.cues[{i}]", f"should be [shape, start, end, phone] "
                         f"starting where the previous cue ends, not {row!r}")  # fmt: skip
        cues.append(MouthCue(row[0], row[1], row[2], row[3]))
        end = row[2]
    words = []
    for i, row in enumerate(r.opt(d, "words", list, where) or []):
        ok = (
            isinstance(row, list)
            and len(row) == 3
            and isinstance(row[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in row[1:])
        )
        if not ok:
            raise r.fail(f"{where}.words[{i}]", f"should be [text, start, end], not {row!r}")
        words.append(Word(row[0], row[1], row[2], ()))
    return CueTrack(
        tuple(cues),
        r.get(d, "duration_samples", int, where),
        Fraction(num, den),
        r.get(d, "source", str, where),
        tuple(words),
    )


#: The largest integer a project field may hold: 2**53, exact in every JSON reader (a frame or
#: sample count past it is damage, not a long clip: 2**53 samples at 48 kHz are 5900 years).
MAX_INT = 1 << 53


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _media_from(r: _Reader, d: Any, base: Path, where: str) -> MediaRef | None:
    if d is None:
        return None
    return MediaRef(
        path=_abs(r.get(d, "path", str, where), base),
        fingerprint=r.get(d, "fingerprint", str, where),
        size_bytes=r.get(d, "size_bytes", int, where),
    )


def _gain_db(r: _Reader, td: Mapping[str, Any], where: str) -> float:
    gain = float(r.get(td, "gain_db", (int, float), where))
    r.within(gain, -200.0, 60.0, f"{where}.gain_db")
    return gain


def _strength_keys_from(r: _Reader, sd: Mapping[str, Any], where: str) -> tuple:
    """A segment's optional blend-strength keys (absent = none), checked by the one rule."""
    from lipcore.render.strength import check_keys

    keys = r.opt(sd, "strength_keys", list, where)
    if not keys:
        return ()
    field_name = f"{where}.strength_keys"
    for i, key in enumerate(keys):
        if not isinstance(key, list) or len(key) != 2:
            raise r.fail(f"{field_name}[{i}]", f"should be [frame, strength], not {_short(key)}")
    try:
        return check_keys(keys)
    except ValueError as exc:
        raise r.fail(field_name, str(exc)) from None


def _check_segments_fit(r: _Reader, segments: list[Segment], clip_frames: int) -> None:
    """Segments lie inside the clip (when its length is known) and never overlap on one face."""
    lanes: dict[str | None, list[tuple[int, int, int]]] = {}
    for i, seg in enumerate(segments):
        if clip_frames > 0 and seg.end_frame > clip_frames:
            raise r.fail(
                f"segments[{i}]",
                f"ends at frame {seg.end_frame}, past the clip's {clip_frames} frames",
            )
        lanes.setdefault(seg.face_track_id, []).append((seg.start_frame, seg.end_frame, i))
    for spans in lanes.values():
        spans.sort()
        for (_, end_a, a), (start_b, _, b) in zip(spans, spans[1:], strict=False):
            if start_b < end_a:
                raise r.fail(f"segments[{b}]", f"overlaps segments[{a}] on the same face")


def project_from_dict(data: Mapping[str, Any], path: Path) -> Project:
    """Build a :class:`Project` from a dict in the *current* schema.

    Args:
        data: Parsed JSON (already migrated).
        path: The project file (media paths are relative to its folder).

    Returns:
        The project, with absolute media paths.

    Raises:
        ProjectError: A field is missing or has the wrong type.
    """
    r = _Reader(path)
    base = path.parent
    fps_d = r.get(data, "fps", dict, "")
    num, den = r.get(fps_d, "num", int, "fps"), r.get(fps_d, "den", int, "fps")
    if num <= 0 or den <= 0:
        raise r.fail("fps", f"must be positive, not {num}/{den}")
    if num > 1_000_000 or den > 1_000_000 or num > 1000 * den:
        raise r.fail("fps", f"is not a video frame rate ({num}/{den})")
    tracks = []
    for i, td in enumerate(r.get(data, "audio_tracks", list, "")):
        w = f"audio_tracks[{i}]"
        tracks.append(
            AudioTrack(
                id=r.get(td, "id", str, w),
                name=r.get(td, "name", str, w),
                media=_media_from(r, td.get("media"), base, f"{w}.media"),
                offset_samples=r.get(td, "offset_samples", int, w),
                duration_samples=r.opt(td, "duration_samples", int, w) or 0,
                gain_db=_gain_db(r, td, w),
                muted=r.get(td, "muted", bool, w),
                solo=r.get(td, "solo", bool, w),
                face_track_id=r.opt(td, "face_track_id", str, w),
                mouth_cues=_cues_from(r, td.get("mouth_cues"), f"{w}.mouth_cues"),
                actor=_media_from(r, td.get("actor"), base, f"{w}.actor"),
            )
        )
    segments = []
    for i, sd in enumerate(r.get(data, "segments", list, "")):
        w = f"segments[{i}]"
        od = r.get(sd, "options", dict, w)
        ow = f"{w}.options"
        region = r.opt(od, "region", list, ow)
        if region is not None and (
            len(region) != 4
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in region)
        ):
            raise r.fail(f"{ow}.region", f"should be 4 integers [x0, y0, x1, y1], not {region!r}")
        options = SegmentOptions(
            feather_px=r.get(od, "feather_px", int, ow),
            mouth_strength=float(r.get(od, "mouth_strength", (int, float), ow)),
            reference=r.get(od, "reference", str, ow),
            neutral_frame=r.opt(od, "neutral_frame", int, ow),
            audio_offset_samples=r.get(od, "audio_offset_samples", int, ow),
            region=tuple(region) if region is not None else None,
        )
        try:
            options.validate()
        except ValueError as exc:
            raise r.fail(ow, str(exc)) from None
        rd = r.get(sd, "render", dict, w)
        status = r.get(rd, "status", str, f"{w}.render")
        if status not in RENDER_STATUSES:
            raise r.fail(
                f"{w}.render.status", f"should be one of {RENDER_STATUSES}, not {status!r}"
            )
        seg = Segment(
            id=r.get(sd, "id", str, w),
            start_frame=r.get(sd, "start_frame", int, w),
            end_frame=r.get(sd, "end_frame", int, w),
            audio_track_id=r.opt(sd, "audio_track_id", str, w),
            face_track_id=r.opt(sd, "face_track_id", str, w),
            engine=r.get(sd, "engine", str, w),
            options=options,
            label=r.opt(sd, "label", str, w) or "",
            text=r.opt(sd, "text", str, w) or "",
            speaker=r.opt(sd, "speaker", str, w) or "",
            drive=_drive_of(r, sd, w),
            strength_keys=_strength_keys_from(r, sd, w),
            render=RenderState(
                status=status,
                output_path=r.opt(rd, "output_path", str, f"{w}.render"),
                params_hash=r.opt(rd, "params_hash", str, f"{w}.render"),
                message=r.opt(rd, "message", str, f"{w}.render") or "",
                engines=_engines_from(r, rd, f"{w}.render"),
            ),
        )
        if seg.end_frame <= seg.start_frame or seg.start_frame < 0:
            raise r.fail(w, f"has an empty or negative range {seg.start_frame}..{seg.end_frame}")
        segments.append(seg)
    clip_frames = r.get(data, "frame_count", int, "")
    _check_segments_fit(r, segments, clip_frames)
    fd = data.get("face_tracks")
    face_tracks = None
    if fd is not None:
        face_tracks = FaceTracksRef(
            cache_key=r.get(fd, "cache_key", str, "face_tracks"),
            backend=r.opt(fd, "backend", str, "face_tracks") or "",
            track_ids=r.get(fd, "track_ids", list, "face_tracks"),
        )
    if face_tracks is not None and not all(isinstance(t, str) for t in face_tracks.track_ids):
        raise r.fail("face_tracks.track_ids", "should be a list of strings")
    track_ids = {t.id for t in tracks}
    for i, seg in enumerate(segments):
        if seg.audio_track_id is not None and seg.audio_track_id not in track_ids:
            raise r.fail(
                f"segments[{i}].audio_track_id",
                f"refers to no audio track ({seg.audio_track_id!r})",
            )
    ed = r.get(data, "export", dict, "")
    out = r.opt(ed, "output_path", str, "export")
    export = ExportSettings(
        output_path=_abs(out, base) if out is not None else None,
        preset=r.get(ed, "preset", str, "export"),
        audio_mix=r.get(ed, "audio_mix", str, "export"),
        crf=r.get(ed, "crf", int, "export"),
    )
    if export.preset not in EXPORT_PRESETS:
        raise r.fail("export.preset", f"should be one of {EXPORT_PRESETS}, not {export.preset!r}")
    if export.audio_mix not in AUDIO_MIXES:
        raise r.fail("export.audio_mix", f"should be one of {AUDIO_MIXES}")
    if not 0 <= export.crf <= 51:
        raise r.fail("export.crf", f"should be within 0..51, not {export.crf}")
    for key in ("frame_count", "width", "height"):
        if r.get(data, key, int, "") < 0:
            raise r.fail(key, "must not be negative")
    for key in ("width", "height"):
        r.within(r.get(data, key, int, ""), 0, 1 << 16, key)
    ids = [t.id for t in tracks] + [s.id for s in segments]
    if len(ids) != len(set(ids)):
        raise r.fail("ids", "are not unique")
    return Project(
        id=r.get(data, "id", str, ""),
        schema_version=SCHEMA_VERSION,
        app_version=r.get(data, "app_version", str, ""),
        video=_media_from(r, data.get("video"), base, "video"),
        fps=Fraction(num, den),
        frame_count=r.get(data, "frame_count", int, ""),
        width=r.get(data, "width", int, ""),
        height=r.get(data, "height", int, ""),
        video_has_audio=r.get(data, "video_has_audio", bool, ""),
        audio_tracks=tracks,
        face_tracks=face_tracks,
        segments=segments,
        export=export,
        still_fps=_still_fps_from(r, data),
        face_boxes=_face_boxes_from(r, data),
    )


def _engines_from(r: _Reader, rd: Mapping[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    """The optional ``render.engines`` list of ``[engine, why]`` pairs."""
    items = r.opt(rd, "engines", list, where) or []
    if not all(
        isinstance(e, list) and len(e) == 2 and all(isinstance(v, str) for v in e) for e in items
    ):
        raise r.fail(f"{where}.engines", "should be a list of [engine, reason] string pairs")
    return tuple((e[0], e[1]) for e in items)


def _still_fps_from(r: _Reader, data: Mapping[str, Any]) -> Fraction | None:
    """The optional ``still_fps`` of a still-image clip."""
    d = r.opt(data, "still_fps", dict, "")
    if d is None:
        return None
    num, den = r.get(d, "num", int, "still_fps"), r.get(d, "den", int, "still_fps")
    if num <= 0 or den <= 0 or num > 1000 * den:
        raise r.fail("still_fps", f"is not a video frame rate ({num}/{den})")
    return Fraction(num, den)


def _face_boxes_from(r: _Reader, data: Mapping[str, Any]) -> dict[str, tuple[tuple, ...]]:
    """The optional ``face_boxes``: ``{face: [[frame, x, y, w, h(, mouth x8)], ...]}``, by frame.

    A key may carry the parametric mouth's 8 box-relative values after the box (see
    :mod:`lipcore.face.boxes`); a key without them uses the mean face's mouth.
    """
    from lipcore.face.boxes import check_mouth

    d = r.opt(data, "face_boxes", dict, "") or {}
    out = {}
    for face, keys in d.items():
        where = f"face_boxes.{face}"
        ok = isinstance(keys, list) and all(
            isinstance(k, list)
            and len(k) in (5, 13)
            and isinstance(k[0], int)
            and k[0] >= 0
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in k)
            and k[3] > 0
            and k[4] > 0
            for k in keys
        )
        if not ok:
            raise r.fail(
                where,
                "should be a list of [frame, x, y, w, h] keys with w, h > 0, each optionally "
                "followed by 8 mouth values",
            )
        for k in keys:
            problem = check_mouth(k[5:]) if len(k) == 13 else None
            if problem:
                raise r.fail(f"{where} (frame {k[0]})", f"has unusable mouth points: {problem}")
        out[face] = tuple(
            (int(k[0]),) + tuple(float(v) for v in k[1:]) for k in sorted(keys, key=lambda k: k[0])
        )
    return out


# ------------------------------------------------------------------------------- migrations


def migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 adds optional per-feature data; a schema-1 file simply has none of it.

    Every field new in schema 2 is read with a default when absent, so this step only stamps
    the version; features that need more than a default put their upgrade here.
    """
    out = dict(data, schema_version=2)
    return out


#: ``{N: migrate_N_to_N1}``: each upgrades a schema-N dict to schema N+1 (and sets the version).
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: migrate_1_to_2}


def migrate(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Upgrade a parsed project dict to :data:`SCHEMA_VERSION` by chaining migrations.

    Args:
        data: Parsed JSON of any supported schema (not modified).
        path: The file it came from (for messages).

    Returns:
        A dict in the current schema.

    Raises:
        ProjectError: The version is missing, not an integer, newer than supported, or has no
            migration path.
    """
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError(
            f"project file has no valid integer schema_version (found {version!r})",
            path,
            "it may not be a lipsync project; open the .lsproj file saved by the editor",
        )
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"project was saved by a newer lipsync (schema {version}; this version "
            f"{__version__} reads up to schema {SCHEMA_VERSION})",
            path,
            "update lipsync to open it",
        )
    out = copy.deepcopy(data)
    while out["schema_version"] < SCHEMA_VERSION:
        n = out["schema_version"]
        step = MIGRATIONS.get(n)
        if step is None:
            raise ProjectError(
                f"no migration from project schema {n} to {n + 1}",
                path,
                "open it with the lipsync version that saved it and save it again",
            )
        out = step(out)
        if out.get("schema_version") != n + 1:
            raise RuntimeError(f"migration {step.__name__} did not set schema_version {n + 1}")
    return out


# ------------------------------------------------------------------------------- load / save


def dumps_project(project: Project, base_dir: Path | None) -> str:
    """The project as JSON text (sorted, indented, UTF-8 safe), paths relative to ``base_dir``."""
    return json.dumps(project_to_dict(project, base_dir), indent=2, ensure_ascii=False) + "\n"


def save_project(project: Project, path: str | Path, *, relative_paths: bool = True) -> Path:
    """Write ``project`` to ``path`` atomically.

    The JSON is written to a temp file in the same folder, flushed and fsynced, then renamed over
    the target with :func:`os.replace`, so a crash or a full disk leaves the old file intact.

    Args:
        project: The project.
        path: Target ``*.lsproj`` file (any suffix is accepted: autosaves use ``.autosave``).
        relative_paths: Store media paths relative to the file's folder (False for autosaves
            of unsaved projects kept in the user cache).

    Returns:
        The absolute path written.

    Raises:
        ProjectError: The file cannot be written (the previous file is kept).
    """
    path = Path(os.path.abspath(path))
    text = dumps_project(project, path.parent if relative_paths else None)
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise ProjectError(
            f"could not save the project ({exc.strerror or exc}); the previous file is unchanged",
            path,
            "check free disk space and write permission, or save under another name",
        ) from exc
    _fsync_dir(path.parent)
    project.app_version = __version__
    return path


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_project(path: str | Path) -> Project:
    """Read a project file, migrating older schemas.

    Args:
        path: A ``*.lsproj`` (or ``.autosave``) file.

    Returns:
        The project with absolute media paths resolved against the file's folder.

    Raises:
        ProjectError: The file is missing, not UTF-8 JSON, not a project, from a newer version,
            or has missing/invalid fields. The message names the file and the fix.
    """
    path = Path(os.path.abspath(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError("project file not found", path, "check the path") from None
    except OSError as exc:
        raise ProjectError(
            f"cannot read project file ({exc.strerror})", path, "check permissions"
        ) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ProjectError(
            "project file is nested too deeply to be a project",
            path,
            "it is damaged or not a lipsync project; restore it from the .autosave file",
        ) from None
    except UnicodeDecodeError:
        raise ProjectError(
            "project file is not UTF-8 text",
            path,
            "it is not a lipsync project or it is damaged; restore it from the .autosave file",
        ) from None
    except json.JSONDecodeError as exc:
        raise ProjectError(
            f"project file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            path,
            "it was probably cut short; restore it from the .autosave file next to it or a backup",
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ProjectError(
            f"project file holds a number that cannot be read ({str(exc)[:80]})",
            path,
            "it is damaged; restore it from the .autosave file next to it or a backup",
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ProjectError(
            "not a lipsync project file",
            path,
            "open a .lsproj file saved by the lipsync editor",
        )
    data = migrate(data, path)
    return project_from_dict(data, path)


# ---------------------------------------------------------------------------------- relinking


@dataclass(frozen=True)
class MissingMedia:
    """A media file the project refers to but cannot find.

    Attributes:
        ref: The reference (its ``path`` is where the file was expected).
        role: "video" or "audio".
        owner_id: Track id for audio, "" for the video.
    """

    ref: MediaRef
    role: str
    owner_id: str


@dataclass(frozen=True)
class RelinkResult:
    """Outcome of :func:`relink`.

    Attributes:
        updated: Number of references now pointing at the new file.
        fingerprint_matches: Whether the new file has the same content fingerprint.
        warning: User-facing text when the content differs (None when it matches).
    """

    updated: int
    fingerprint_matches: bool
    warning: str | None


def find_missing_media(project: Project) -> list[MissingMedia]:
    """List every media reference whose file is not at its expected path.

    Args:
        project: A loaded project.

    Returns:
        Missing files, the video first; the same file used twice is listed twice.
    """
    out = []
    if project.video is not None and not project.video.exists():
        out.append(MissingMedia(project.video, "video", ""))
    for t in project.audio_tracks:
        if t.media is not None and not t.media.exists():
            out.append(MissingMedia(t.media, "audio", t.id))
    return out


def relink(project: Project, old: MediaRef | str | Path, new_path: str | Path) -> RelinkResult:
    """Point every reference to ``old`` at ``new_path``, checking the content fingerprint.

    A different fingerprint is allowed (the user may have re-encoded the file) but reported in
    :attr:`RelinkResult.warning`, and the references take the new fingerprint, so segments
    rendered from the old content become stale.

    Args:
        project: The project (modified in place).
        old: The missing reference, or its expected path.
        new_path: Where the file is now.

    Returns:
        A :class:`RelinkResult`.

    Raises:
        ProjectError: ``new_path`` does not exist, or nothing in the project refers to ``old``.
    """
    new_ref = MediaRef.from_file(new_path)
    old_path = old.path if isinstance(old, MediaRef) else Path(os.path.abspath(old))
    old_fp = old.fingerprint if isinstance(old, MediaRef) else None
    matches: list[MediaRef] = [r for r in project.media_refs() if r.path == old_path]
    if not matches:
        raise ProjectError(
            f"the project does not use {old_path}",
            new_ref.path,
            "pick one of the files listed as missing",
        )
    if old_fp is None:
        old_fp = matches[0].fingerprint
    same = old_fp == new_ref.fingerprint
    for r in matches:
        r.path, r.fingerprint, r.size_bytes = new_ref.path, new_ref.fingerprint, new_ref.size_bytes
    warning = None
    if not same:
        warning = (
            f"{new_ref.path.name} is not the same content as the missing {old_path.name} "
            "(fingerprint differs); rendered segments that use it are marked stale"
        )
    return RelinkResult(updated=len(matches), fingerprint_matches=same, warning=warning)


def relink_folder(project: Project, folder: str | Path) -> list[RelinkResult]:
    """Relink every missing file whose name is found directly in ``folder``.

    Args:
        project: The project (modified in place).
        folder: Where the media were moved.

    Returns:
        One :class:`RelinkResult` per relinked file.
    """
    folder = Path(folder)
    results = []
    seen: set[Path] = set()
    for miss in find_missing_media(project):
        if miss.ref.path in seen:
            continue
        seen.add(miss.ref.path)
        candidate = folder / miss.ref.path.name
        if candidate.is_file():
            results.append(relink(project, replace(miss.ref), candidate))
    return results
