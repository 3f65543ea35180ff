"""The render pipeline: one output video from a clip, new audio, a face and segments.

``iter_render`` is a generator (progress with preview frames; cancel = stop iterating, and the
half-written output is removed); ``render`` drains it with a progress bar for the CLI;
``iter_preview`` runs the same path without encoding and returns chosen frames side by side.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.engines.base import CropBatch, Engine, EngineOptions, SegmentDrive
from lipcore.errors import LipsyncError, MediaError
from lipcore.face.types import FaceTrack, TrackSet
from lipcore.progress import Progress, drain
from lipcore.render.align import warp_to_crop
from lipcore.render.blend import lower_face_mask, match_colour, paste_crop, skin_ring
from lipcore.render.footage import TrackAlignment, align_track, iter_source_footage
from lipcore.render.request import AUDIO_RATE, RenderRequest, SegmentSpec
from lipcore.render.timeline import (
    OutputTimeline,
    clamp_segments,
    place_audio,
    plan_timeline,
    timeline_samples,
)
from lipcore.timebase import frame_to_sample

#: Side of the canonical crop in which masks are drawn and crops pasted (feather is in these px).
PASTE_SIZE = 256
#: Frames handed to the engine at once.
BATCH_FRAMES = 16
#: Output sample rate of the muxed audio.
OUTPUT_AUDIO_RATE = 48000
#: Frames over which a segment fades in from and out to the original mouth (inside the segment).
EDGE_BLEND_FRAMES = 3
#: How much the original audio is lowered under the dub in "mix" mode (-12 dB).
MIX_DUCK_GAIN = 0.25


#: The engines of one render, by (engine name, options) of the segments they serve.
_Engines = dict[tuple[str, EngineOptions], Engine]


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
    """

    output: Path | None
    frame_count: int
    fps: Fraction
    track_id: str
    segments: list[SegmentSpec]
    frames_changed: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    request: RenderRequest
    timeline: OutputTimeline
    track: FaceTrack
    segments: list[SegmentSpec]
    audio_16k: np.ndarray  # the new audio as loaded, before placing
    warnings: list[str]
    frame_size: tuple[int, int]  # displayed width, height of the clip
    # (placed audio, mel, voiced frames) of the whole output per audio offset: segments that
    # share an offset (the usual case) analyse the new audio once, not once each.
    placed_by_offset: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict
    )


class _FrameSource:
    """Random-ish access to source frames for forward, held, looped and reversed output."""

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
            # Going backwards (pingpong) decodes a chunk ending at ``index`` forward once.
            back = bool(self._cache) and index < max(self._cache)
            start = max(0, index - self._chunk + 1) if back else index
            self.close()
            self._it = self._reader.iter_frames(start)
            self._next = start
        for i, frame in self._it:
            self._next = i + 1
            self._cache[i] = frame
            while len(self._cache) > 2 * self._chunk:
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


def _load_new_audio(path: Path, sample_rate: int, info=None, mono: bool = True) -> np.ndarray:
    """The new speech as it plays: a video file's audio on that video's clock.

    An audio file's first sample is its start. A video file given as the audio (a dub exported
    with picture, or the clip's own track in the editor) is placed by its streams' start times,
    as :class:`~lipcore.media.encode.VideoWriter` does for such a file (H01's audio starts
    0.844 s before its picture; decoding it from its own start would shift the speech by that).
    ``mono=False`` keeps stereo and folds surround to stereo (the exported track).
    """
    from lipcore.media.audio import load_audio
    from lipcore.media.probe import probe

    info = info if info is not None else probe(path)
    samples = load_audio(path, sample_rate, mono=mono, info=info, max_channels=2)
    if info.video is None or info.audio is None:
        return samples
    # Only the start is moved (its tail is kept: a long-audio policy may still want it).
    lead = Fraction(info.audio.start_sec).limit_denominator(10**6) - Fraction(
        info.video.start_sec
    ).limit_denominator(10**6)
    shift = int(round(lead * sample_rate))  # < 0: the audio starts first, its head is dropped
    return place_audio(samples, shift, max(0, len(samples) + shift))


def _refuse_overwriting_a_source(request: RenderRequest) -> None:
    out = Path(request.output).resolve()
    for src in (request.video, request.audio, request.output_audio, *request.footage):
        if src is not None and out == Path(src).resolve():
            raise MediaError(
                "the output would overwrite a source file", out, "choose another output name"
            )


def _load_inputs(request: RenderRequest) -> tuple:
    from lipcore.media.probe import probe, require_audio, require_video

    video_info = probe(request.video)
    require_video(video_info)
    audio_info = probe(request.audio)
    require_audio(audio_info)
    _refuse_overwriting_a_source(request)
    audio = _load_new_audio(request.audio, AUDIO_RATE, info=audio_info)
    if len(audio) == 0:
        raise MediaError("the audio track is empty", request.audio, "choose a file with speech")
    return video_info, audio


def _choose(request: RenderRequest, tracks: TrackSet) -> FaceTrack:
    from lipcore.face.select import choose_track

    return choose_track(tracks, request.face)


def iter_render(
    request: RenderRequest,
    tracks: TrackSet | None = None,
    engine: Engine | None = None,
) -> Generator[Progress, None, RenderResult]:
    """Render ``request`` to its output file.

    Args:
        request: What to render.
        tracks: Face tracks of the clip when already known (else found, with the disk cache).
        engine: A prepared-or-not engine instance (else built from the segments' engine name).

    Yields:
        Progress through the stages, with a preview frame now and then.

    Returns:
        The render result; the output file exists only once the generator has finished.
    """
    from lipcore.media.encode import VideoWriter

    sources = (request.video, request.audio, request.output_audio, *request.footage)
    codec = "prores" if Path(request.output).suffix.lower() == ".mov" else "h264"
    # The writer's own checks (a source as output, a missing folder, an extension the codec
    # cannot go in) run now, not after minutes of face tracking: constructing it opens nothing.
    _refuse_overwriting_a_source(request)
    VideoWriter(request.output, 2, 2, 25, codec=codec, sources=sources, color_from=request.video)
    plan, engines, alignment = yield from _prepare(request, tracks, engine)
    changed = 0
    audio_out = _output_audio(plan)
    with (
        closing(_iter_frames(plan, engines, alignment)) as rendered,
        VideoWriter(
            request.output,
            plan.frame_size[0],
            plan.frame_size[1],
            plan.timeline.fps,
            audio=(audio_out, OUTPUT_AUDIO_RATE),
            codec=codec,
            crf=request.crf,
            sources=sources,
            expected_frames=plan.timeline.output_frames,
            color_from=request.video,
        ) as writer,
    ):
        if writer.precision_note:
            plan.warnings.append(writer.precision_note)
        for j, _original, result, touched in rendered:
            writer.write(result)
            changed += touched
            if j % 10 == 0 or j == plan.timeline.output_frames - 1:
                yield Progress(
                    j + 1,
                    plan.timeline.output_frames,
                    "rendering",
                    preview_frame=result if j % 50 == 0 else None,
                )
    if changed == 0:
        plan.warnings.append("no frame was changed: the chosen face is not in the segments")
    return RenderResult(
        output=Path(request.output),
        frame_count=plan.timeline.output_frames,
        fps=plan.timeline.fps,
        track_id=plan.track.track_id,
        segments=plan.segments,
        frames_changed=changed,
        warnings=plan.warnings,
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
) -> Generator[Progress, None, list[tuple[int, np.ndarray, np.ndarray]]]:
    """Render without encoding and return ``(frame, original, result)`` for chosen frames.

    Args:
        request: What to render (its output is not written).
        frames: Output frames to return; default ``count`` frames spread over the segments'
            frames where the face is tracked.
        count: How many frames to pick when ``frames`` is None.
        tracks: Known face tracks.
        engine: An engine instance.

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
    plan, engines, alignment = yield from _prepare(request, tracks, engine)
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
        for j, original, result, _touched in rendered:
            if j in wanted:
                out.append((j, original, result))
            if j % 10 == 0:
                yield Progress(j + 1, last + 1, "previewing")
            if j >= last:
                break
    return out


def _prepare(
    request: RenderRequest, tracks: TrackSet | None, engine: Engine | None
) -> Generator[Progress, None, tuple[_Plan, _Engines, TrackAlignment]]:
    from lipcore.engines.registry import create_engine
    from lipcore.face.track import iter_track_faces
    from lipcore.media.audio import clip_audio
    from lipcore.media.probe import is_still_image

    video_info, audio = _load_inputs(request)
    # Engines come first, so a missing checkpoint is reported before minutes of face tracking.
    # One engine per (name, options): each segment keeps its own mouth strength and reference.
    built: dict[tuple[str, EngineOptions], Engine] = {}
    if engine is None:
        for spec in request.segments or (SegmentSpec(0, 0),):
            key = (spec.engine, spec.options)
            if key not in built:
                built[key] = create_engine(
                    spec.engine, spec.options, checkpoint=request.checkpoint
                )
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
    plan = _Plan(request, timeline, track, segments, audio, warnings, (vinfo.width, vinfo.height))
    alignment = align_track(track, size=PASTE_SIZE)

    try:
        own_audio = clip_audio(request.video, AUDIO_RATE, info=video_info)
    except MediaError:
        own_audio = None  # a silent clip: engines that learn from footage say what they need
    extras = []
    for extra_path in request.footage:
        extra_tracks = yield from iter_track_faces(extra_path)
        if not extra_tracks.tracks:
            warnings.append(f"{extra_path}: no face found, footage ignored")
            continue
        try:
            extra_audio = clip_audio(extra_path, AUDIO_RATE)
        except MediaError:
            extra_audio = None
        extras.append((extra_path, extra_tracks.tracks[0], extra_audio))

    for eng in built.values() if engine is None else (engine,):
        size = eng.crop_size
        own = yield from iter_source_footage(request.video, _scaled(alignment, size), own_audio)
        footage = [own]
        for path, extra_track, extra_audio in extras:
            # The main clip's template puts the extra footage in the targets' crop space.
            template = _scaled(alignment, size).template
            extra_align = align_track(extra_track, size=size, template=template)
            footage.append((yield from iter_source_footage(path, extra_align, extra_audio)))
        yield from eng.prepare(footage[0] if len(footage) == 1 else footage)
    if engine is not None:
        built = {(s.engine, s.options): engine for s in segments}
    return plan, built, alignment


def _scaled(alignment: TrackAlignment, size: int) -> TrackAlignment:
    if size == alignment.size:
        return alignment
    k = size / alignment.size
    return TrackAlignment(alignment.track, size, alignment.template * k, alignment.transforms * k)


def _segment_drive(plan: _Plan, seg: SegmentSpec) -> SegmentDrive:
    from lipcore.audio.mel import mel_windows, wav2lip_mel
    from lipcore.audio.vad import voiced_frames

    fps = plan.timeline.fps
    offset = plan.request.audio_offset_samples + seg.audio_offset_samples
    if offset not in plan.placed_by_offset:
        placed = place_audio(plan.audio_16k, offset, timeline_samples(plan.timeline))
        voiced_all = voiced_frames(placed, fps, plan.timeline.output_frames)
        plan.placed_by_offset[offset] = (placed, wav2lip_mel(placed), voiced_all)
    placed, mel, voiced_all = plan.placed_by_offset[offset]
    frames = np.arange(seg.start_frame, seg.end_frame)
    voiced = voiced_all[frames]
    s0 = frame_to_sample(seg.start_frame, fps, AUDIO_RATE)
    s1 = frame_to_sample(seg.end_frame, fps, AUDIO_RATE)
    return SegmentDrive(
        frames=frames,
        mel_windows=mel_windows(mel, frames, fps),
        voiced=voiced,
        fps=fps,
        audio_16k=placed[s0:s1],
        source_frames=np.array([plan.timeline.source_of(int(f)) for f in frames], np.int64),
    )


def _iter_frames(
    plan: _Plan, engines: _Engines, alignment: TrackAlignment
) -> Iterator[tuple[int, np.ndarray, np.ndarray, bool]]:
    """Yield ``(out_frame, original, result, changed)`` for every output frame, in order."""
    from lipcore.media.decode import VideoReader

    seg_of = np.full(plan.timeline.output_frames, -1, np.int64)
    for k, seg in enumerate(plan.segments):
        seg_of[seg.start_frame : seg.end_frame] = k
    current = -1
    pending: list[tuple[int, np.ndarray, int, np.ndarray, np.ndarray]] = []

    def flush() -> Iterator[tuple[int, np.ndarray, np.ndarray, bool]]:
        if not pending:
            return
        seg = plan.segments[current]
        engine = engines[(seg.engine, seg.options)]
        engine_size = engine.crop_size
        rows = np.array([p[2] for p in pending])
        crops = np.stack(
            [warp_to_crop(p[1], p[3] * (engine_size / PASTE_SIZE), engine_size) for p in pending]
        )  # (B, S, S, 3)
        lms = np.stack([p[4] * (engine_size / PASTE_SIZE) for p in pending]).astype(np.float32)
        generated = engine.generate(CropBatch(rows=rows, crops=crops, landmarks=lms))
        for (j, frame, _row, m, lm), gen in zip(pending, generated, strict=True):
            weight = _edge_weight(j, seg, plan.timeline.output_frames)
            yield j, frame, _paste(frame, gen, m, lm, seg.feather_px, weight), True
        pending.clear()

    with VideoReader(plan.request.video) as reader, closing(_FrameSource(reader)) as source:
        for j in range(plan.timeline.output_frames):
            k = int(seg_of[j])
            if k != current:
                yield from flush()
                if k >= 0:
                    seg = plan.segments[k]
                    engines[(seg.engine, seg.options)].begin_segment(_segment_drive(plan, seg))
                current = k
            frame = source.get(plan.timeline.source_of(j))
            at = alignment.at(plan.timeline.source_of(j)) if k >= 0 else None
            if at is None:
                yield from flush()
                yield j, frame, frame, False
                continue
            row = j - plan.segments[k].start_frame
            pending.append((j, frame, row, at[0], at[1]))
            if len(pending) >= BATCH_FRAMES:
                yield from flush()
        yield from flush()


def _edge_weight(frame: int, seg: SegmentSpec, output_frames: int) -> float:
    """Blend weight ramping in and out over :data:`EDGE_BLEND_FRAMES` at a segment's edges.

    A segment that starts or ends mid-shot would otherwise switch from the original mouth to the
    new one in a single frame; the clip's own first and last frames need no ramp.
    """
    ramp = EDGE_BLEND_FRAMES + 1
    w_in = 1.0 if seg.start_frame == 0 else (frame - seg.start_frame + 1) / ramp
    w_out = 1.0 if seg.end_frame >= output_frames else (seg.end_frame - frame) / ramp
    return float(min(1.0, w_in, w_out))


def _paste(
    frame: np.ndarray,
    generated: np.ndarray,
    m: np.ndarray,
    lm: np.ndarray,
    feather_px: int,
    weight: float = 1.0,
) -> np.ndarray:
    """Paste an engine crop back with the feathered lower-face mask scaled by ``weight``."""
    import cv2

    if generated.shape[0] != PASTE_SIZE:
        generated = cv2.resize(generated, (PASTE_SIZE, PASTE_SIZE), interpolation=cv2.INTER_CUBIC)
    mask = lower_face_mask(lm, PASTE_SIZE, feather_px)
    original = warp_to_crop(frame, m, PASTE_SIZE)
    generated = match_colour(generated, original, skin_ring(mask))
    return paste_crop(frame, generated, mask * weight, m)


def _output_audio(plan: _Plan) -> np.ndarray:
    """The audio track of the output at 48 kHz: the dub, or the dub over the ducked original."""
    from lipcore.media.audio import clip_audio

    total = timeline_samples(plan.timeline, OUTPUT_AUDIO_RATE)
    dub = _load_new_audio(
        plan.request.output_audio or plan.request.audio, OUTPUT_AUDIO_RATE, mono=False
    )
    # A separate output mix is already on the video clock; the dub is placed at its offset.
    offset = plan.request.audio_offset_samples * OUTPUT_AUDIO_RATE // AUDIO_RATE
    if plan.request.output_audio:
        offset = 0
    out = place_audio(dub, offset, total)
    if plan.request.audio_mix == "mix":
        try:
            original = clip_audio(
                plan.request.video, OUTPUT_AUDIO_RATE, mono=False, max_channels=2
            )
        except MediaError:
            plan.warnings.append("the clip has no audio of its own: exported the dub alone")
        else:
            if original.shape[1] > out.shape[1]:  # a mono dub over a stereo original
                out = np.repeat(out, original.shape[1], axis=1)
            n = min(len(original), total)
            out[:n] += MIX_DUCK_GAIN * original[:n, : out.shape[1]]
    peak = float(np.abs(out).max()) if len(out) else 0.0
    return out / peak if peak > 1.0 else out
