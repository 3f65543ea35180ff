"""The render pipeline: one output video from a clip, new audio, a face and segments.

Planning (probe once, face track, output timeline, segments) is cheap and comes first; engines are
prepared only when some segment must actually be rendered, from the session's
:class:`~lipcore.render.warm.WarmState` or the on-disk library when possible. A segment renders
only its own frames (decoded with a seek) and its audio features come from a window around it,
so its cost does not grow with the clip.

Two ways to the output:

- live (``chunks=None``): one streaming pass decodes, re-syncs and encodes every frame;
- chunked (``chunks=`` a folder): each segment is rendered into a lossless chunk keyed by its
  parameters (:mod:`lipcore.render.chunks`), reused when it already exists, and one pass over the
  clip splices the chunks onto the source frames and encodes once
  (:func:`lipcore.render.splice.iter_splice`). The editor and ``lipsync sync --segment`` use it.

``iter_render`` is a generator (progress with preview frames; cancel = stop iterating, and the
half-written output is removed); ``render`` drains it with a progress bar for the CLI;
``iter_preview`` runs the same path without encoding and returns chosen frames side by side.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy as np

from lipcore.engines.base import CropBatch, Engine, EngineOptions, GeneratedCrops, SegmentDrive
from lipcore.errors import LipsyncError, MediaError
from lipcore.face.types import FaceTrack, TrackSet
from lipcore.media.prefetch import mapped, prefetch
from lipcore.media.sample_file import SampleFile
from lipcore.progress import Progress, drain
from lipcore.render.align import warp_to_crop
from lipcore.render.blend import (
    apply_patch,
    paste_crop_roi,
    paste_reach_px,
    paste_window,
    prepare_paste,
)
from lipcore.render.cadence import CadenceTracker, face_region, picture_change
from lipcore.render.footage import (
    FOOTAGE_INTERPOLATION,
    TrackAlignment,
    align_track,
    iter_source_footage,
)
from lipcore.render.mix import MIX_DUCK_GAIN, OUTPUT_AUDIO_RATE, MixTrack
from lipcore.render.request import AUDIO_RATE, RenderRequest, SegmentSpec
from lipcore.render.strength import segment_strength
from lipcore.render.timeline import (
    OutputTimeline,
    clamp_segments,
    place_audio,
    plan_timeline,
    timeline_samples,
)
from lipcore.render.warm import WarmState
from lipcore.render.window_warp import warp_affine_at
from lipcore.scratch import release_heap, release_pages
from lipcore.timebase import frame_to_mel_index, frame_to_sample

#: Side of the canonical crop the alignment is fitted in, and the least side a crop is pasted
#: from (an engine's smaller crop is scaled up to it first; a larger one is pasted as it is).
#: ``SegmentSpec.feather_px`` is in pixels of this side.
PASTE_SIZE = 256
#: Largest crop side given to an engine that works at any size (``Engine.any_crop_size``): the
#: face's native resolution, oversampled, up to this (1500 library crops of 640 px: 1.8 GB).
MAX_CROP_SIZE = 640
#: Crop pixels per frame pixel for such an engine. Measured on A02 (cut, then pasted back
#: unchanged): the mouth keeps 0.81 of its Laplacian variance at 1x, 0.96 at 1.5x, 1.00 at 2x;
#: every further warp inside the engine costs less the finer the crop.
CROP_OVERSAMPLE = 1.5
#: Frames handed to the engine at once.
BATCH_FRAMES = 16
#: Frames over which a segment fades in from and out to the original mouth (inside the segment,
#: so a segment's render needs no frames outside it).
EDGE_BLEND_FRAMES = 3
#: Audio around a segment its features are computed on (VAD and mel settle within it), 16 kHz.
DRIVE_MARGIN_SAMPLES = 2 * AUDIO_RATE
#: Window starts are multiples of this (the mel hop, 200, and the VAD's 30 ms frame, 480), so a
#: segment's features equal those of the whole track on the same grid.
_DRIVE_GRID_SAMPLES = 2400
#: Output frames the engine plans at once (a longer segment is planned window by window).
DRIVE_FRAMES = 1500
#: Library crops taken from the footage at most (the engine keeps at most this many anyway).
MAX_FOOTAGE_FRAMES = 1500

__all__ = [
    "BATCH_FRAMES",
    "EDGE_BLEND_FRAMES",
    "MAX_CROP_SIZE",
    "MIX_DUCK_GAIN",
    "OUTPUT_AUDIO_RATE",
    "PASTE_SIZE",
    "RenderResult",
    "iter_preview",
    "iter_render",
    "native_crop_size",
    "render",
]

#: The engines of one render, by (engine name, options) of the segments they serve; segments
#: whose engine does not depend on the options share one prepared engine.
_Engines = dict[tuple[str, EngineOptions], Engine]
#: What a frame's render changed: ``((x0, y0, x1, y1), pixels)`` or None.
Patch = tuple[tuple[int, int, int, int], np.ndarray] | None


@dataclass
class RenderResult:
    """What a finished render produced.

    Attributes:
        output: The written file (None for previews).
        frame_count: Frames in the output.
        fps: Output frame rate.
        track_id: The face track that was re-synced.
        segments: The segments as rendered (clipped to the output).
        frames_changed: Frames whose mouth was replaced.
        warnings: Things the user should know (audio cut, frames without a face).
        chunks: The chunk of each segment (chunked renders), in segment order.
        rendered_segments: How many segments the engine actually ran on (the others were
            taken from existing chunks).
        engines: ``(engine name, why)`` of each engine that ran ("auto" resolved to the one it
            chose); empty when every segment came from existing chunks.
    """

    output: Path | None
    frame_count: int
    fps: Fraction
    track_id: str
    segments: list[SegmentSpec]
    frames_changed: int = 0
    warnings: list[str] = field(default_factory=list)
    chunks: list[Path] = field(default_factory=list)
    rendered_segments: int = 0
    engines: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Plan:
    request: RenderRequest
    timeline: OutputTimeline
    track: FaceTrack
    tracks: TrackSet
    segments: list[SegmentSpec]
    audio_16k: SampleFile  # the new audio as loaded, before placing (read in windows)
    warnings: list[str]
    frame_size: tuple[int, int]  # displayed width, height of the clip
    video_info: object
    warm: WarmState
    # (engine name, why it was chosen) of each engine prepared for this render.
    engine_choices: dict[str, str] = field(default_factory=dict)


class _FrameSource:
    """Random-ish access to source frames for forward, held, looped and reversed output.

    It keeps the last ``chunk`` decoded frames: a held frame is the one before, and going
    backwards decodes ``chunk`` frames ending at the one asked for, then reads them from the
    end. Frames on their way through the render's queues are kept alive by those, not here
    (at 720p a frame with its planes is 4 MB).
    """

    def __init__(self, reader, chunk: int = 32):
        self._reader = reader
        self._chunk = chunk
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._it: Iterator[tuple[int, np.ndarray]] | None = None
        self._next = -1

    def get(self, index: int) -> np.ndarray:
        if index in self._cache:
            return self._cache[index]
        if index != self._next or self._it is None:
            # Going backwards (pingpong) decodes a chunk ending at ``index`` forward once; any
            # other jump seeks (a segment's render starts at its own first frame).
            back = bool(self._cache) and index < max(self._cache)
            start = max(0, index - self._chunk + 1) if back else index
            self.close()
            # Decoded a few frames ahead in a worker thread, overlapping the engine's work.
            self._it = prefetch(self._reader.iter_frames(start), name="render-decode")
            self._next = start
        for i, frame in self._it:
            self._next = i + 1
            self._cache[i] = frame
            while len(self._cache) > self._chunk:
                self._cache.popitem(last=False)
            if i == index:
                return frame
        raise MediaError(f"frame {index} could not be decoded", self._reader.path)

    def close(self) -> None:
        """Release the current decode pass (its demuxer and decoder state)."""
        if self._it is not None:
            self._it.close()
            self._it = None


#: The documented choice for variable-frame-rate sources (see README, "Reliability").
VFR_WARNING = (
    "the source has a variable frame rate; the output is constant {fps:.3f} fps: each output "
    "frame shows the source picture on screen at its time (pictures are repeated or dropped, "
    "by at most half a frame), and the audio is placed on that constant clock"
)


def _refuse_overwriting_a_source(request: RenderRequest) -> None:
    out = Path(request.output).resolve()
    sources = (request.video, request.audio, request.output_audio, request.actor)
    for src in (*sources, *request.footage):
        if src is not None and out == Path(src).resolve():
            raise MediaError(
                "the output would overwrite a source file", out, "choose another output name"
            )


def _load_inputs(request: RenderRequest, warm: WarmState | None = None) -> tuple:
    from lipcore.media.probe import probe, require_audio, require_video
    from lipcore.media.sample_file import speech_file

    warm = warm if warm is not None else WarmState()
    video_info = warm.remember("probe", request.video, lambda: probe(request.video))
    require_video(video_info)
    audio_info = warm.remember("probe", request.audio, lambda: probe(request.audio))
    require_audio(audio_info)
    _refuse_overwriting_a_source(request)
    # On disk, read in windows: a segment's drive needs only the audio around it.
    audio = warm.remember(
        "speech-16k",
        request.audio,
        lambda: speech_file(request.audio, AUDIO_RATE, info=audio_info),
    )
    if len(audio) == 0:
        raise MediaError("the audio track is empty", request.audio, "choose a file with speech")
    return video_info, audio


def _choose(request: RenderRequest, tracks: TrackSet) -> FaceTrack:
    from lipcore.face.select import choose_track

    return choose_track(tracks, request.face)


def _writer_for(request: RenderRequest, plan: _Plan | None = None, **kwargs):
    from lipcore.media.encode import VideoWriter

    sources = (request.video, request.audio, request.output_audio, *request.footage)
    codec = "prores" if Path(request.output).suffix.lower() == ".mov" else "h264"
    if plan is None:
        # The writer's own checks (a source as output, a missing folder, an extension the codec
        # cannot go in) run now, not after minutes of face tracking: constructing opens nothing.
        return VideoWriter(
            request.output, 2, 2, 25, codec=codec, sources=sources, color_from=request.video
        )
    return VideoWriter(
        request.output,
        plan.frame_size[0],
        plan.frame_size[1],
        plan.timeline.fps,
        codec=codec,
        crf=request.crf,
        sources=sources,
        expected_frames=plan.timeline.output_frames,
        color_from=request.video,
        **kwargs,
    )


def iter_render(
    request: RenderRequest,
    tracks: TrackSet | None = None,
    engine: Engine | None = None,
    warm: WarmState | None = None,
    chunks: str | Path | None = None,
) -> Generator[Progress, None, RenderResult]:
    """Render ``request`` to its output file.

    Args:
        request: What to render.
        tracks: Face tracks of the clip when already known (else found, with the disk cache).
        engine: A prepared-or-not engine instance (else built from the segments' engine name).
        warm: Prepared engines and fingerprints kept between renders (a session's).
        chunks: A folder of segment chunks: each segment is rendered into (or reused from) a
            chunk there, then one pass splices them onto the source. None renders live.

    Yields:
        Progress through the stages, with a preview frame now and then.

    Returns:
        The render result; the output file exists only once the generator has finished.
    """
    _refuse_overwriting_a_source(request)
    _writer_for(request)
    plan = yield from _plan(request, tracks, warm)
    if chunks is not None:
        return (yield from _iter_render_chunked(plan, engine, Path(chunks)))
    engines, alignment = yield from _prepare_engines(plan, engine)
    changed = 0
    with (
        _opencv_threads(1),
        _output_audio(plan) as audio_out,
        # Decoded frames keep their source planes: the encoder gets them as they are, with only
        # each patch's changed pixels converted (lipcore.media.planar).
        closing(_iter_frames(plan, engines, alignment, keep_planes=True)) as rendered,
        _writer_for(request, plan, audio=audio_out, planar=True) as writer,
    ):
        if writer.precision_note:
            plan.warnings.append(writer.precision_note)
        for j, original, patch in rendered:
            writer.write_patched(original, patch)
            changed += patch is not None
            if j % 10 == 0 or j == plan.timeline.output_frames - 1:
                preview = np.asarray(apply_patch(original, patch)) if j % 50 == 0 else None
                yield Progress(
                    j + 1, plan.timeline.output_frames, "rendering", preview_frame=preview
                )
    if changed == 0:
        plan.warnings.append("no frame was changed: the chosen face is not in the segments")
    return _result(plan, Path(request.output), changed)


@contextmanager
def _opencv_threads(count: int) -> Iterator[None]:
    """OpenCV's own worker threads set to ``count`` for the block, then restored.

    A full render already keeps both cores busy with its own threads (decode ahead, the
    engine's frame pool, the compositor, the encoder feed and x264's threads); OpenCV
    splitting each call over its pool on top of them only adds hand-offs: measured on the
    720p bench, 1 CPU s less per 500 frames with one thread (25.2 vs 26.4 s, two pairs).
    """
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def _result(plan: _Plan, output: Path | None, changed: int, **kwargs) -> RenderResult:
    return RenderResult(
        output=output,
        frame_count=plan.timeline.output_frames,
        fps=plan.timeline.fps,
        track_id=plan.track.track_id,
        segments=plan.segments,
        frames_changed=changed,
        warnings=plan.warnings,
        engines=list(plan.engine_choices.items()),
        **kwargs,
    )


def render(request: RenderRequest, show_progress: bool = True, **kwargs) -> RenderResult:
    """Run :func:`iter_render` to the end with a progress bar and return its result."""
    return drain(iter_render(request, **kwargs), show=show_progress, desc="lipsync")


def iter_preview(
    request: RenderRequest,
    frames: list[int] | None = None,
    count: int = 4,
    tracks: TrackSet | None = None,
    engine: Engine | None = None,
    warm: WarmState | None = None,
) -> Generator[Progress, None, list[tuple[int, np.ndarray, np.ndarray]]]:
    """Render without encoding and return ``(frame, original, result)`` for chosen frames.

    Args:
        request: What to render (its output is not written).
        frames: Output frames to return; default ``count`` frames spread over the segments'
            frames where the face is tracked.
        count: How many frames to pick when ``frames`` is None.
        tracks: Known face tracks.
        engine: An engine instance.
        warm: Prepared engines kept between renders.

    Returns:
        The chosen frames, original beside result (BGR).

    Raises:
        LipsyncError: ``frames`` is empty or names a frame outside the output, or ``count`` < 1
            (checked before the slow face tracking where the output length is not needed).
    """
    fix = "pick output frames from 0 up to the clip's frame count minus one"
    if frames is not None and (not frames or min(frames) < 0):
        raise LipsyncError(f"cannot preview frames {list(frames)}", request.video, fix)
    if frames is None and count < 1:
        raise LipsyncError(f"cannot preview {count} frames", request.video, "ask for 1 or more")
    plan = yield from _plan(request, tracks, warm)
    engines, alignment = yield from _prepare_engines(plan, engine)
    if frames is None:
        candidates = [
            f
            for seg in plan.segments
            for f in range(seg.start_frame, seg.end_frame)
            if plan.track.index_of(plan.timeline.source_of(f)) is not None
        ] or list(range(plan.timeline.output_frames))
        picks = np.linspace(0, len(candidates) - 1, min(count, len(candidates)))
        frames = sorted({candidates[int(round(p))] for p in picks})
    outside = [f for f in frames if f >= plan.timeline.output_frames]
    if outside:
        # Otherwise the loop below ends before reaching them and they are silently missing.
        raise LipsyncError(
            f"frames {outside} lie past the end of the output "
            f"({plan.timeline.output_frames} frames)",
            request.video,
            fix,
        )
    wanted = set(frames)
    last = max(wanted)
    out = []
    with closing(_iter_frames(plan, engines, alignment)) as rendered:
        for j, original, patch in rendered:
            if j in wanted:
                out.append((j, original, apply_patch(original, patch)))
            if j % 10 == 0:
                yield Progress(j + 1, last + 1, "previewing")
            if j >= last:
                break
    return out


def _plan(
    request: RenderRequest, tracks: TrackSet | None, warm: WarmState | None
) -> Generator[Progress, None, _Plan]:
    """Everything cheap: inputs (probed once), face track, output timeline, segments."""
    from lipcore.engines.registry import ENGINE_NAMES
    from lipcore.face.track import iter_track_faces
    from lipcore.media.probe import is_still_image

    warm = warm if warm is not None else WarmState()
    video_info, audio = _load_inputs(request, warm)
    for spec in request.segments:
        if spec.engine not in ENGINE_NAMES:
            raise LipsyncError(
                f"unknown engine {spec.engine!r}", fix=f"use one of: {', '.join(ENGINE_NAMES)}"
            )
        _check_drive(spec)
    if tracks is None and request.face.boxes:  # a face pointed out by hand
        from lipcore.face.boxes import iter_box_track

        tracks = yield from iter_box_track(request.video, list(request.face.boxes))
    if tracks is None:
        tracks = yield from iter_track_faces(request.video)
    track = _choose(request, tracks)
    vinfo = video_info.video
    fps, policy = vinfo.fps, request.long_audio
    if is_still_image(video_info):  # one picture, shown for the whole new speech
        fps, policy = Fraction(request.still_fps or vinfo.fps), "hold"
    timeline = plan_timeline(
        vinfo.frame_count, fps, len(audio), request.audio_offset_samples, policy
    )
    warnings: list[str] = list(tracks.notes)  # e.g. the tracks could not be cached
    if vinfo.is_vfr:
        warnings.append(VFR_WARNING.format(fps=float(vinfo.fps)))
    audio_end_samples = len(audio) + request.audio_offset_samples
    video_samples = frame_to_sample(vinfo.frame_count, fps, AUDIO_RATE)
    one_frame = frame_to_sample(1, fps, AUDIO_RATE)
    if audio_end_samples > video_samples + one_frame and policy == "cut":
        extra = (audio_end_samples - video_samples) / AUDIO_RATE
        warnings.append(
            f"the new audio is {extra:.2f} s longer than the picture and was cut "
            "(--long-audio hold|loop|pingpong extends the picture instead)"
        )
    try:
        segments = clamp_segments(request.segments, timeline)
    except ValueError as exc:
        raise LipsyncError(str(exc), request.video, "check the --segment ranges") from exc
    # Only the one-shot engine follows mouth cues: "auto" means it for a cue-driven segment
    segments = [
        replace(s, engine="oneshot") if s.drive == "cues" and s.engine == "auto" else s
        for s in segments
    ]
    return _Plan(
        request,
        timeline,
        track,
        tracks,
        segments,
        audio,
        warnings,
        (vinfo.width, vinfo.height),
        video_info,
        warm,
    )


def _library_key(plan: _Plan, engine: Engine) -> str:
    from lipcore.cache import settings_key

    req = plan.request
    return settings_key(
        {
            "engine": engine.name,
            "prepare": list(engine.prepare_key()),
            "video": plan.warm.fingerprint(req.video),
            "track": plan.warm.track_digest(plan.track),
            "footage": [plan.warm.fingerprint(p) for p in req.footage],
            "checkpoint": plan.warm.fingerprint(req.checkpoint) if req.checkpoint else None,
            "actor": plan.warm.fingerprint(req.actor) if req.actor else None,
            "crop": engine.crop_size,
            "max_footage": MAX_FOOTAGE_FRAMES,
            "footage_cut": FOOTAGE_INTERPOLATION,  # libraries cut another way are rebuilt
        }
    )


def _prepare_engines(
    plan: _Plan, engine: Engine | None, specs: list[SegmentSpec] | None = None
) -> Generator[Progress, None, tuple[_Engines, TrackAlignment]]:
    """The prepared engine of every segment: from the warm state, the disk, or built now."""
    from lipcore.cache import cache_root
    from lipcore.engines.registry import create_engine

    request = plan.request
    specs = plan.segments if specs is None else specs
    alignment = plan.warm.alignment(plan.track, PASTE_SIZE)
    if engine is not None:
        _fit_crop_size(engine, alignment)
        yield from _prepare_from_footage(plan, engine, alignment)
        _note_choice(plan, engine)
        return {(s.engine, s.options): engine for s in plan.segments}, alignment
    # Engines come first (before reading footage), so a missing checkpoint fails fast.
    by_options: _Engines = {}
    by_library: dict[str, Engine] = {}
    for spec in specs:
        key = (spec.engine, spec.options)
        if key in by_options:
            continue
        candidate = create_engine(
            spec.engine, spec.options, checkpoint=request.checkpoint, actor=request.actor
        )
        _fit_crop_size(candidate, alignment)
        lib_key = _library_key(plan, candidate)
        if lib_key not in by_library:
            warm = plan.warm.engine(lib_key)
            if warm is None:
                folder = cache_root() / "engines" / f"{candidate.name}-{lib_key}"
                if not candidate.load_state(folder):
                    yield from _prepare_from_footage(plan, candidate, alignment)
                    _save_engine_state(plan, candidate, folder)
                plan.warm.keep_engine(lib_key, candidate)
                warm = candidate
            by_library[lib_key] = warm
            _note_choice(plan, warm)
        by_options[key] = by_library[lib_key]
    return by_options, alignment


def native_crop_size(alignment: TrackAlignment) -> int:
    """Crop side at which the face is cut at its native resolution, oversampled (multiple of 32).

    The alignment's transforms scale frame pixels into its crop; at a side where that scale is
    :data:`CROP_OVERSAMPLE` (the median over the track) no detail of the face is thrown away, and
    the warps an engine does inside the crop and the paste back soften it little. It is kept
    within :data:`PASTE_SIZE` .. :data:`MAX_CROP_SIZE`.

    Args:
        alignment: The track's alignment.

    Returns:
        The crop side in pixels.
    """
    m = np.asarray(alignment.transforms, np.float64)
    if len(m) == 0:
        return PASTE_SIZE
    scale = float(np.median(np.sqrt(np.abs(np.linalg.det(m[:, :, :2])))))
    native = CROP_OVERSAMPLE * alignment.size / max(scale, 1e-6)
    side = int(np.ceil(native / 32.0)) * 32
    return int(np.clip(side, PASTE_SIZE, MAX_CROP_SIZE))


def _fit_crop_size(engine: Engine, alignment: TrackAlignment) -> None:
    """Give an engine that works at any crop size the face's native resolution."""
    if getattr(engine, "any_crop_size", False):
        engine.crop_size = native_crop_size(alignment)


def _save_engine_state(plan: _Plan, engine: Engine, folder: Path) -> None:
    """Keep a prepared engine on disk for later sessions; a full disk only costs that.

    The engine in memory serves this render either way; a half-written folder is removed so a
    later session never loads it.
    """
    import shutil

    try:
        engine.save_state(folder)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        plan.warnings.append(
            f"the {engine.name} engine's library could not be kept in the cache ({exc}); "
            "it is used from memory for this render"
        )


def _note_choice(plan: _Plan, engine: Engine) -> None:
    from lipcore.engines.registry import engine_choice

    name, reason = engine_choice(engine)
    plan.engine_choices.setdefault(name, reason)


def _prepare_from_footage(
    plan: _Plan, eng: Engine, alignment: TrackAlignment
) -> Generator[Progress, None, None]:
    """Read the clip's (and extra) footage of the face and run the engine's ``prepare``."""
    from lipcore.face.track import iter_track_faces
    from lipcore.media.audio import clip_audio
    from lipcore.media.sample_file import clip_file

    request = plan.request
    try:
        # The clip's own sound on disk (115 MB for 30 minutes), analysed block by block.
        own_audio = clip_file(request.video, AUDIO_RATE, info=plan.video_info)
    except MediaError:
        own_audio = None  # a silent clip: engines that learn from footage say what they need
    size = eng.crop_size
    scaled = _scaled(alignment, size)
    own = yield from iter_source_footage(
        request.video, scaled, own_audio, max_frames=MAX_FOOTAGE_FRAMES
    )
    footage = [own]
    for extra_path in extra_footage(request):
        extra_tracks = yield from iter_track_faces(extra_path)
        if not extra_tracks.tracks:
            plan.warnings.append(f"{extra_path}: no face found, footage ignored")
            continue
        try:
            extra_audio = clip_audio(extra_path, AUDIO_RATE)
        except MediaError:
            extra_audio = None
        # The main clip's template puts the extra footage in the targets' crop space.
        extra_align = align_track(extra_tracks.tracks[0], size=size, template=scaled.template)
        footage.append(
            (
                yield from iter_source_footage(
                    extra_path, extra_align, extra_audio, max_frames=MAX_FOOTAGE_FRAMES
                )
            )
        )
    yield from eng.prepare(footage[0] if len(footage) == 1 else footage)


def extra_footage(request: RenderRequest) -> tuple[Path, ...]:
    """The request's extra footage and its actor file's (less the clip itself), in that order."""
    if request.actor is None:
        return tuple(request.footage)
    from lipcore.actor import read_actor

    seen = {Path(request.video).resolve(), *(Path(p).resolve() for p in request.footage)}
    more = [p for p in read_actor(request.actor).footage_paths() if p.resolve() not in seen]
    return (*request.footage, *more)


def _scaled(alignment: TrackAlignment, size: int) -> TrackAlignment:
    if size == alignment.size:
        return alignment
    k = size / alignment.size
    return TrackAlignment(alignment.track, size, alignment.template * k, alignment.transforms * k)


def _check_drive(spec: SegmentSpec) -> None:
    """Refuse a segment whose mouth cannot be driven the way it asks."""
    from lipcore.render.request import DRIVES

    if spec.drive not in DRIVES:
        raise LipsyncError(
            f"unknown mouth drive {spec.drive!r}", fix=f"use one of: {', '.join(DRIVES)}"
        )
    if spec.drive == "cues":
        if spec.engine not in ("auto", "oneshot"):
            raise LipsyncError(
                f"mouth cues drive only the one-shot engine, not {spec.engine!r}",
                fix="choose the oneshot (or auto) engine, or let the speech drive the mouth",
            )
        if not spec.cues:
            raise LipsyncError(
                "the segment is driven by mouth cues but has none",
                fix="make the track's mouth cues first (lipsync cues, or the cue lane)",
            )


def cue_shapes_of_frames(
    cues: tuple[tuple[str, int, int], ...], frames: np.ndarray, fps: Fraction, offset: int
) -> np.ndarray:
    """The cue shape showing at the centre of each output frame (X where no cue covers it).

    Args:
        cues: ``(shape, start_sample, end_sample)`` on the new audio's clock (16 kHz).
        frames: Output frame indices.
        fps: Output frame rate.
        offset: Where the new audio's first sample plays, in output samples (16 kHz).

    Returns:
        ``(N,)`` array of shape letters.
    """
    ordered = sorted(cues, key=lambda c: c[1])
    starts = np.array([c[1] for c in ordered], np.int64)
    out = np.full(len(frames), "X", dtype="<U1")
    for row, f in enumerate(np.asarray(frames, np.int64)):
        centre = (
            frame_to_sample(int(f), fps, AUDIO_RATE) + frame_to_sample(int(f) + 1, fps, AUDIO_RATE)
        ) // 2 - offset
        i = int(np.searchsorted(starts, centre, side="right")) - 1
        if i >= 0 and centre < ordered[i][2]:
            out[row] = ordered[i][0]
    return out


def _segment_drive(plan: _Plan, seg: SegmentSpec) -> SegmentDrive:
    """The new audio of one segment, analysed on a window around it (not the whole track)."""
    from lipcore.audio.mel import MEL_WINDOW_STEPS, SILENCE_VALUE, wav2lip_mel
    from lipcore.audio.vad import speech_ranges

    fps = plan.timeline.fps
    offset = plan.request.audio_offset_samples + seg.audio_offset_samples
    total = timeline_samples(plan.timeline)
    s0 = frame_to_sample(seg.start_frame, fps, AUDIO_RATE)
    s1 = frame_to_sample(seg.end_frame, fps, AUDIO_RATE)
    w0 = max(0, (s0 - DRIVE_MARGIN_SAMPLES) // _DRIVE_GRID_SAMPLES * _DRIVE_GRID_SAMPLES)
    w1 = min(total, s1 + DRIVE_MARGIN_SAMPLES)
    placed = place_audio(plan.audio_16k, offset - w0, w1 - w0)  # (w1 - w0,) from sample w0
    mel = wav2lip_mel(placed)  # step t is centred on sample w0 + 200 t
    mel_base = w0 // 200
    frames = np.arange(seg.start_frame, seg.end_frame)
    windows = np.full((len(frames), mel.shape[0], MEL_WINDOW_STEPS), SILENCE_VALUE, np.float32)
    for row, f in enumerate(frames):
        a = frame_to_mel_index(int(f), fps) - mel_base
        b = min(a + MEL_WINDOW_STEPS, mel.shape[1])
        if b > a >= 0:
            windows[row, :, : b - a] = mel[:, a:b]
    # Voiced frames as lipcore.audio.vad.voiced_frames decides them, on the window.
    ranges = speech_ranges(placed, AUDIO_RATE, pad_sec=0.02, min_gap_sec=0.15, aggressiveness=2)
    mask = np.zeros(len(placed), np.int8)
    for a, b in ranges:
        mask[a:b] = 1
    covered = np.concatenate([[0], np.cumsum(mask)])
    bounds = np.array(
        [
            frame_to_sample(int(f), fps, AUDIO_RATE) - w0
            for f in range(seg.start_frame, seg.end_frame + 1)
        ],
        np.int64,
    )
    lo, hi = np.clip(bounds[:-1], 0, len(placed)), np.clip(bounds[1:], 0, len(placed))
    speech = covered[hi] - covered[lo]
    voiced = (speech * 2 >= (bounds[1:] - bounds[:-1])) & (hi - lo > 0)
    return SegmentDrive(
        frames=frames,
        mel_windows=windows,
        voiced=voiced,
        fps=fps,
        audio_16k=placed[s0 - w0 : s1 - w0],
        source_frames=np.array([plan.timeline.source_of(int(f)) for f in frames], np.int64),
        options=seg.options,
        cue_shapes=(
            cue_shapes_of_frames(seg.cues, frames, fps, offset) if seg.drive == "cues" else None
        ),
    )


def _iter_frames(
    plan: _Plan,
    engines: _Engines,
    alignment: TrackAlignment,
    segments: list[int] | None = None,
    keep_planes: bool = False,
) -> Iterator[tuple[int, np.ndarray, Patch]]:
    """Yield ``(out_frame, original, patch)`` in order.

    Two stages run in worker threads behind bounded queues: the engine (decode, crops, the
    engine's batches) and the compositor (each frame's paste). On two cores the paste of one
    batch overlaps the engine's next batch instead of waiting for it; the caller's thread is
    left to the encoder feed. The frames come out in order and are the same as one thread makes.

    Args:
        plan: The render plan.
        engines: The engine of each segment.
        alignment: The face's alignment.
        segments: Only these segments' frames (decoded with a seek to each); None = every
            output frame, segments re-synced and the rest passed through.
        keep_planes: Originals keep their source planes where they can (see
            :class:`~lipcore.media.planar.SourceFrame`), for a planar encoder.
    """
    jobs = _iter_jobs(plan, engines, alignment, segments, keep_planes)
    # A whole batch may wait for the compositor, so the engine starts its next batch at once.
    engine_stage = prefetch(jobs, depth=BATCH_FRAMES, name="render-engine")
    with closing(mapped(engine_stage, _run_job, depth=4, name="render-paste")) as done:
        yield from done


def _run_job(item: tuple[int, np.ndarray, Callable[[], Patch] | None]) -> tuple:
    """``(out_frame, original, patch)`` of a job: its paste run (in the compositor's thread)."""
    j, frame, job = item
    return j, frame, None if job is None else job()


def _iter_jobs(
    plan: _Plan,
    engines: _Engines,
    alignment: TrackAlignment,
    segments: list[int] | None = None,
    keep_planes: bool = False,
) -> Iterator[tuple[int, np.ndarray, Callable[[], Patch] | None]]:
    """Yield ``(out_frame, original, paste)`` in order; ``paste()`` makes the frame's patch
    (None: the frame is passed through). See :func:`_iter_frames`."""
    from lipcore.media.decode import VideoReader

    timeline = plan.timeline
    with (
        VideoReader(plan.request.video, info=plan.video_info, keep_planes=keep_planes) as reader,
        closing(_FrameSource(reader)) as source,
    ):
        if segments is None:
            j = 0
            for seg in plan.segments:
                for k in range(j, seg.start_frame):
                    yield k, source.get(timeline.source_of(k)), None
                yield from _iter_segment(plan, engines, alignment, seg, source)
                j = seg.end_frame
            for k in range(j, timeline.output_frames):
                yield k, source.get(timeline.source_of(k)), None
        else:
            for index in segments:
                yield from _iter_segment(plan, engines, alignment, plan.segments[index], source)


def _iter_segment(
    plan: _Plan,
    engines: _Engines,
    alignment: TrackAlignment,
    seg: SegmentSpec,
    source: _FrameSource,
) -> Iterator[tuple[int, np.ndarray, Callable[[], Patch] | None]]:
    """One segment's frames, re-synced in batches of :data:`BATCH_FRAMES`, as compositor jobs.

    Where the source repeats the previous picture (:mod:`lipcore.render.cadence`), the frame
    shows the previous frame's new mouth again instead of asking the engine for another one.
    """
    engine = engines[(seg.engine, seg.options)]
    engine.use_options(seg.options)
    size = engine.crop_size
    scale = size / PASTE_SIZE
    # Pasted from the engine's own crop (native resolution for a large one), or from the least
    # paste size for a small one, whose mask would otherwise be drawn too coarsely.
    paste = max(size, PASTE_SIZE)
    # (output frame, picture, drive row, transform, landmarks, repeats the frame before)
    pending: list[tuple[int, np.ndarray, int, np.ndarray, np.ndarray, bool]] = []
    curve = segment_strength(seg.strength_keys, seg.start_frame, seg.end_frame)
    cadence = CadenceTracker()
    # The latest re-synced frame's paste (arguments, weight, and the cell its compositor job
    # leaves the patch in): what a repeat of its picture shows again
    last: dict = {}

    def flush() -> Iterator[tuple[int, np.ndarray, Callable[[], Patch] | None]]:
        if not pending:
            return
        fresh = [p for p in pending if not p[5]]
        same = size == paste  # the engine's input crop is the original crop: warp once
        crops = None
        if fresh:
            rows = np.array([p[2] for p in fresh])
            lms = np.stack([p[4] * scale for p in fresh]).astype(np.float32)
            if engine.reads_crop_pixels:
                crops = np.stack([warp_to_crop(p[1], p[3] * scale, size) for p in fresh])
                given = crops.copy() if same else crops  # an engine may write into its input
            else:  # blank crops; the paste cuts the part of each original it reads
                blank = np.zeros((1, 1, 1, 3), np.uint8)
                given = np.broadcast_to(blank, (len(fresh), size, size, 3))
            # The paste reads the engine's crop only near its region: say how near, in crop
            # pixels (a crop scaled up to the paste side needs the resize's taps as well).
            reach = paste_reach_px(seg.feather_px * paste / PASTE_SIZE)
            reach = reach if same else int(np.ceil(reach * size / paste)) + 3
            batch = CropBatch(rows=rows, crops=given, landmarks=lms, reach_px=reach)
            made = engine.generate(batch)
            out = made if isinstance(made, GeneratedCrops) else GeneratedCrops(np.asarray(made))
        k = paste / size
        b = -1
        for j, frame, _row, m, lm, held in pending:
            weight = _edge_weight(j, seg, plan.timeline.output_frames) * curve[j - seg.start_frame]
            if held:  # the same picture as the frame before: the same new mouth
                # The compositor runs the jobs in order, so the frame before's patch is made
                # by the time this frame's job reads it.
                if weight == last["weight"]:
                    cell = last["cell"]
                    yield j, frame, partial(_shown_patch, cell)
                else:
                    cell = {}
                    yield j, frame, partial(_kept_paste, cell, frame, weight, last["args"])
                last.update(weight=weight, cell=cell)
                continue
            b += 1
            region = None if out.regions is None else out.regions[b]
            args = dict(
                generated=out.crops[b],
                paste=paste,
                m_paste=m * (paste / PASTE_SIZE),
                lm=lm * (paste / PASTE_SIZE),
                feather_px=seg.feather_px * paste / PASTE_SIZE,
                original=crops[b] if same and crops is not None else None,
                region=region,
                mouth=None if out.mouth_landmarks is None else out.mouth_landmarks[b] * k,
            )
            cell: dict = {}
            last.update(args=args, weight=weight, cell=cell)
            # strength 0: the actor's own mouth, untouched pixels
            yield j, frame, partial(_kept_paste, cell, frame, weight, args)
        pending.clear()

    window = seg
    previous = None  # (output frame, source frame, picture) of the frame before
    for j in range(seg.start_frame, seg.end_frame):
        if j == window.start_frame or j >= window.end_frame:
            # Long segments (a whole lecture) are planned in windows: the engine's per-segment
            # work (costs of every library frame at every output frame) stays bounded.
            yield from flush()
            window = replace(seg, start_frame=j, end_frame=min(seg.end_frame, j + DRIVE_FRAMES))
            engine.begin_segment(_segment_drive(plan, window))
        src = plan.timeline.source_of(j)
        frame = source.get(src)
        at = alignment.at(src)
        before, previous = previous, (j, src, frame)
        if at is None:
            cadence.skip()
            yield from flush()
            yield j, frame, None
            previous = None
            continue
        # Held only after a re-synced frame, and only where the output steps forward through
        # the source (a long-audio hold shows one picture with a moving mouth on purpose)
        if before is not None and before[1] == src - 1:
            change = picture_change(
                before[2], frame, face_region(at[0], alignment.size, frame.shape)
            )
            held = cadence.feed(change)
        else:
            cadence.skip()
            held = False
        pending.append((j, frame, j - window.start_frame, at[0], at[1], held))
        if len(pending) >= BATCH_FRAMES:
            yield from flush()
    yield from flush()
    # A memory-mapped track's pages this segment read go back: a long clip's many segments
    # never gather its landmarks in memory.
    release_pages(alignment.track.landmarks)
    release_heap()


def _kept_paste(cell: dict, frame: np.ndarray, weight: float, args: dict) -> Patch:
    """One frame's paste (None at strength 0), left in ``cell`` for a repeat of its picture."""
    cell["patch"] = None if weight <= 0.0 else _paste_job(frame, weight=weight, **args)
    return cell["patch"]


def _shown_patch(cell: dict) -> Patch:
    """The patch an earlier job left in ``cell`` (a repeated picture shows it again)."""
    return cell["patch"]


def _paste_job(
    frame: np.ndarray,
    generated: np.ndarray,
    paste: int,
    m_paste: np.ndarray,
    lm: np.ndarray,
    feather_px: float,
    weight: float,
    original: np.ndarray | None,
    region: np.ndarray | None,
    mouth: np.ndarray | None,
) -> Patch:
    """One frame's paste at side ``paste`` from the engine's crop and region at their size."""
    return _paste(
        frame,
        _resized(generated, paste),
        m_paste,
        lm,
        feather_px,
        weight,
        original=original,
        region=None if region is None else _resized(region, paste, nearest=True),
        mouth=mouth,
    )


def _edge_weight(frame: int, seg: SegmentSpec, output_frames: int) -> float:
    """Blend weight ramping in and out over :data:`EDGE_BLEND_FRAMES` at a segment's edges.

    A segment that starts or ends mid-shot would otherwise switch from the original mouth to the
    new one in a single frame; the clip's own first and last frames need no ramp.
    """
    ramp = EDGE_BLEND_FRAMES + 1
    w_in = 1.0 if seg.start_frame == 0 else (frame - seg.start_frame + 1) / ramp
    w_out = 1.0 if seg.end_frame >= output_frames else (seg.end_frame - frame) / ramp
    return float(min(1.0, w_in, w_out))


def _resized(image: np.ndarray, side: int, nearest: bool = False) -> np.ndarray:
    """``image`` (a crop, or a hard region: ``nearest``) scaled to ``side`` x ``side``."""
    import cv2

    if image.shape[0] == side:
        return image
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_CUBIC
    return cv2.resize(image, (side, side), interpolation=flags)


def _paste(
    frame: np.ndarray,
    generated: np.ndarray,
    m: np.ndarray,
    lm: np.ndarray,
    feather_px: float,
    weight: float = 1.0,
    original: np.ndarray | None = None,
    region: np.ndarray | None = None,
    mouth: np.ndarray | None = None,
) -> Patch:
    """Paste an engine crop back: the one compositor (mask, colour match, paste) of a frame.

    Args:
        frame: The source frame (not modified).
        generated: ``(S, S, 3)`` engine crop at the paste side ``S``.
        m: Frame -> crop transform at side ``S``.
        lm: Target landmarks in crop pixels.
        feather_px: Soft edge in crop pixels.
        weight: Opacity of the new lower face (segment edges, strength curve).
        original: The target crop at side ``S`` when already cut.
        region: The engine's replaced region (None = the target's lower face).
        mouth: Landmarks of a mouth from another picture (its lip colour is matched).

    Returns:
        The changed rectangle and its pixels (the frame itself is not modified).
    """
    size = generated.shape[0]
    if original is None and region is not None:
        # Only the pixels of the original crop the colour match reads (cut exactly as a whole
        # crop would be there)
        window = paste_window(region, feather_px, lm)
        original = partial(warp_affine_at, frame, m, size, window or (0, 0, 0, 0))
    elif original is None:
        original = warp_to_crop(frame, m, size)
    crop, mask = prepare_paste(original, generated, lm, feather_px, region, mouth)
    return paste_crop_roi(frame, crop, mask * weight, m)


def _output_audio(plan: _Plan):
    """The audio track of the output at 48 kHz, written to a temporary WAV beside the output.

    The dub, or the dub over the ducked original; mixed block by block, so a long clip's
    sound is never held whole (a context manager yielding the file's path).
    """
    from lipcore.render.mix import duck_db, mixed_wav

    req = plan.request
    total = timeline_samples(plan.timeline, OUTPUT_AUDIO_RATE)
    # A separate output mix is already on the video clock; the dub is placed at its offset.
    tracks = [
        MixTrack(
            req.output_audio or req.audio, 0 if req.output_audio else req.audio_offset_samples
        )
    ]
    if req.audio_mix == "mix":
        if plan.video_info.audio is None:
            plan.warnings.append("the clip has no audio of its own: exported the dub alone")
        else:
            tracks.append(MixTrack(None, 0, duck_db(MIX_DUCK_GAIN)))
    return mixed_wav(
        tracks,
        total,
        OUTPUT_AUDIO_RATE,
        clip=req.video,
        channels=2,
        folder=Path(req.output).resolve().parent,
    )


def _iter_render_chunked(
    plan: _Plan, engine: Engine | None, folder: Path
) -> Generator[Progress, None, RenderResult]:
    """Render missing segment chunks into ``folder``, then splice them onto the source once."""
    from lipcore.render.splice import iter_ensure_chunks, iter_splice

    paths, rendered = yield from iter_ensure_chunks(plan, engine, folder)
    with _output_audio(plan) as audio_out:
        changed = yield from iter_splice(plan, [paths], audio_out)
    if changed == 0:
        plan.warnings.append("no frame was changed: the chosen face is not in the segments")
    return _result(
        plan, Path(plan.request.output), changed, chunks=paths, rendered_segments=rendered
    )
