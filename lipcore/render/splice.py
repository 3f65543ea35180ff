"""Segment chunks: render a segment alone, and splice chunks onto the source in one pass.

:func:`iter_render_segment` is what the editor runs when a segment changes: only that segment's
frames are decoded (with a seek) and re-synced, into a chunk keyed by the segment's parameters.
:func:`iter_splice` is the export: one pass over the clip that takes re-synced pixels from the
chunks and every other pixel from the source, and encodes once; a segment whose chunk exists is
never rendered again.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from lipcore.cache import mark_used
from lipcore.engines.base import Engine
from lipcore.errors import MediaError
from lipcore.face.types import TrackSet
from lipcore.progress import Progress
from lipcore.render.blend import apply_patch
from lipcore.render.chunks import CHUNK_SUFFIX, ChunkReader, ChunkWriter, chunk_key, chunk_root
from lipcore.render.request import RenderRequest
from lipcore.render.warm import WarmState


def segment_chunk_key(plan, index: int) -> str:
    """The chunk key of segment ``index`` of a render plan (see :func:`chunk_key`)."""
    req = plan.request
    seg = plan.segments[index]
    warm = plan.warm
    return chunk_key(
        video_fp=warm.fingerprint(req.video),
        audio_fp=warm.fingerprint(req.audio),
        audio_offset_samples=req.audio_offset_samples + seg.audio_offset_samples,
        output_frames=plan.timeline.output_frames,
        policy=plan.timeline.policy,
        track=warm.track_digest(plan.track),
        spec=seg,
        footage_fps=tuple(
            warm.fingerprint(p) for p in (*req.footage, *([req.actor] if req.actor else []))
        ),
        checkpoint_fp=warm.fingerprint(req.checkpoint) if req.checkpoint else None,
    )


def _chunk_header(plan, index: int) -> dict:
    seg = plan.segments[index]
    t = plan.timeline
    return {
        "video": str(Path(plan.request.video).resolve()),
        "fps": [t.fps.numerator, t.fps.denominator],
        "output_frames": t.output_frames,
        "timeline": [t.source_frames, t.output_frames, t.policy],
        "segment": [seg.start_frame, seg.end_frame],
        "track_id": plan.track.track_id,
    }


def iter_ensure_chunks(
    plan, engine: Engine | None, folder: Path, stage: str = ""
) -> Generator[Progress, None, tuple[list[Path], int]]:
    """Make sure every segment of ``plan`` has its chunk in ``folder``.

    Args:
        plan: A render plan (:func:`lipcore.render.pipeline._plan`).
        engine: An engine instance to use, else engines from the warm state / registry.
        folder: The chunk store.
        stage: Prefix of the progress stage names (e.g. "speaker 2/3: ").

    Yields:
        Progress while preparing engines and rendering missing segments.

    Returns:
        The chunk of every segment in order, and how many were rendered now.
    """
    from lipcore.engines.registry import engine_choice
    from lipcore.render.pipeline import _iter_frames, _prepare_engines

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        folder / f"{segment_chunk_key(plan, k)}{CHUNK_SUFFIX}" for k in range(len(plan.segments))
    ]
    missing = [k for k, p in enumerate(paths) if not p.is_file()]
    for k in sorted(set(range(len(paths))) - set(missing)):
        _note_chunk_engines(plan, paths[k])  # reading a reused chunk marks it recently used
    if not missing:
        return paths, 0
    specs = [plan.segments[k] for k in missing]
    engines, alignment = yield from _prefixed(_prepare_engines(plan, engine, specs=specs), stage)
    total = sum(plan.segments[k].end_frame - plan.segments[k].start_frame for k in missing)
    done = 0
    for k in missing:
        header = _chunk_header(plan, k)
        seg = plan.segments[k]
        # What "auto" chose and why, kept with the chunk: a reuse reports it as the render did
        header["engines"] = [list(engine_choice(engines[(seg.engine, seg.options)]))]
        with ChunkWriter(paths[k], header) as writer:
            frames = _iter_frames(plan, engines, alignment, segments=[k])
            with closing(frames):
                for j, _original, patch in frames:
                    writer.add(j, *(patch if patch is not None else (None, None)))
                    done += 1
                    if done % 8 == 0 or done == total:
                        yield Progress(done, total, f"{stage}rendering")
    return paths, len(missing)


def _note_chunk_engines(plan, path: Path) -> None:
    """Add the engines a reused chunk was rendered with to the plan's choices (and reasons).

    Opening it marks it used (for the store's pruning), as every read of a chunk does. Chunks
    written before the header kept them carry none, which leaves the choices as they were.
    """
    try:
        ran = ChunkReader(path).header.get("engines", ())
    except MediaError:
        mark_used(path)  # unreadable: whoever reads the chunk reports it
        return
    for name, reason in ran:
        plan.engine_choices.setdefault(str(name), str(reason))


def _prefixed(gen, stage: str):
    """Run a sub-generator, prefixing its progress stage names with ``stage``."""
    try:
        step = next(gen)
        while True:
            if stage:
                step = Progress(
                    step.done,
                    step.total,
                    f"{stage}{step.stage}",
                    preview_frame=step.preview_frame,
                    chunk_sync=step.chunk_sync,
                )
            yield step
            step = next(gen)
    except StopIteration as stop:
        return stop.value
    finally:
        gen.close()


def iter_render_segment(
    request: RenderRequest,
    index: int = 0,
    tracks: TrackSet | None = None,
    warm: WarmState | None = None,
    folder: str | Path | None = None,
    engine: Engine | None = None,
):
    """Render one segment of ``request`` into its chunk (reused when it already exists).

    Only the segment's own frames are decoded and re-synced; nothing is encoded.

    Args:
        request: The render (its ``output`` is not written).
        index: Which of its segments, in start order.
        tracks: Known face tracks of the clip.
        warm: Prepared engines kept between renders (the editor's session).
        folder: Chunk store (default the lipsync cache's ``chunks``).
        engine: An engine instance to use.

    Yields:
        Progress.

    Returns:
        A :class:`~lipcore.render.pipeline.RenderResult` whose ``output`` is the chunk.
    """
    from dataclasses import replace

    from lipcore.render.pipeline import _plan, _result

    plan = yield from _plan(request, tracks, warm)
    if not 0 <= index < len(plan.segments):
        raise IndexError(f"segment {index} of {len(plan.segments)}")
    one = replace(plan, segments=[plan.segments[index]])
    paths, rendered = yield from iter_ensure_chunks(one, engine, Path(folder or chunk_root()))
    reader = ChunkReader(paths[0])
    changed = int(np.count_nonzero(reader.rects[:, 2] > reader.rects[:, 0]))
    return _result(one, paths[0], changed, chunks=paths, rendered_segments=rendered)


def iter_splice(
    plan, layers: Sequence[Sequence[Path]], audio_out: np.ndarray | Path, stage: str = ""
) -> Generator[Progress, None, int]:
    """Write ``plan.request.output``: the source with every chunk of ``layers`` spliced in.

    Args:
        plan: The render plan of the output (its clip, timeline and output settings).
        layers: Chunk files (e.g. one list per speaker); chunks of different faces may cover
            the same frames, each only writes the pixels it changed.
        audio_out: The output's sound at 48 kHz: samples, or a file on the video's clock
            (e.g. the mix written by :func:`lipcore.render.mix.write_mix_wav`).
        stage: Prefix of the progress stage name.

    Yields:
        Progress per written frame (now and then a preview frame).

    Returns:
        How many output frames carry re-synced pixels.
    """
    from lipcore.media.decode import VideoReader
    from lipcore.render.mix import OUTPUT_AUDIO_RATE
    from lipcore.render.pipeline import _FrameSource, _writer_for

    readers = [ChunkReader(p) for layer in layers for p in layer]
    cover: dict[int, list[ChunkReader]] = {}
    for r in readers:
        for f, rect in zip(r.frames, r.rects, strict=True):
            if rect[2] > rect[0]:
                cover.setdefault(int(f), []).append(r)
    timeline = plan.timeline
    n = timeline.output_frames
    changed = 0
    with (
        # Source frames keep their planes: untouched frames go to the encoder as decoded, and a
        # spliced one has only its changed pixels converted (lipcore.media.planar).
        VideoReader(plan.request.video, info=plan.video_info, keep_planes=True) as reader,
        closing(_FrameSource(reader)) as source,
        _writer_for(
            plan.request,
            plan,
            audio=audio_out if isinstance(audio_out, Path) else (audio_out, OUTPUT_AUDIO_RATE),
            planar=True,
        ) as writer,
    ):
        for j in range(n):
            frame = source.get(timeline.source_of(j))
            on = cover.get(j)
            patch = _combined_patch(frame, j, on) if on else None
            changed += bool(on)
            writer.write_patched(frame, patch)
            if j % 10 == 0 or j == n - 1:
                preview = apply_patch(np.asarray(frame), patch) if (on and j % 50 == 0) else None
                yield Progress(j + 1, n, f"{stage}writing", preview_frame=preview)
    return changed


def _combined_patch(frame: np.ndarray, j: int, readers: list[ChunkReader]):
    """One patch of output frame ``j`` from every chunk covering it, applied in order (each
    writes only the pixels it changed, as :meth:`ChunkReader.apply` does); the frame is not
    modified."""
    patches = [p for p in (r.patch(j) for r in readers) if p is not None]
    if len(patches) <= 1:
        return patches[0] if patches else None
    x0, y0 = min(p[0][0] for p in patches), min(p[0][1] for p in patches)
    x1, y1 = max(p[0][2] for p in patches), max(p[0][3] for p in patches)
    region = np.array(frame[y0:y1, x0:x1])
    for (a0, b0, a1, b1), pixels in patches:
        roi = region[b0 - y0 : b1 - y0, a0 - x0 : a1 - x0]
        moved = np.any(roi != pixels, axis=2)
        roi[moved] = pixels[moved]
    return (x0, y0, x1, y1), region
