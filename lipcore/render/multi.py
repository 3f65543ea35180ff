"""Several speakers in one clip: one pass of segment chunks per (face, dub track), one output.

The pipeline re-syncs one face with one audio per request. Two speakers in one scene are one
request each: every request's segments are rendered into chunks (or taken from the chunk store
when their parameters did not change), then ONE pass over the source clip splices every chunk in
and writes the output with the mixed dub tracks (:func:`lipcore.render.splice.iter_splice`).
Chunks of different faces on the same frames each carry only the pixels they changed, so nothing
is re-encoded in between and no intermediate video is written.

Every pass uses the face tracks of the source clip, tracked once.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError, MediaError
from lipcore.face.types import TrackSet
from lipcore.progress import Progress, drain
from lipcore.render.mix import MIX_DUCK_GAIN, OUTPUT_AUDIO_RATE, MixTrack, duck_db, mix_tracks
from lipcore.render.pipeline import RenderResult
from lipcore.render.request import FaceChoice, RenderRequest

__all__ = [
    "MixTrack",
    "SpeakersResult",
    "iter_render_speakers",
    "mix_audio_tracks",
    "render_speakers",
    "write_wav",
]


@dataclass
class SpeakersResult(RenderResult):
    """The result of :func:`iter_render_speakers`: the output, plus each pass's own result.

    Attributes:
        passes: The result of every pass, in render order (their ``output`` is their first
            segment chunk; ``chunks`` lists them all).
    """

    passes: list[RenderResult] = field(default_factory=list)


def mix_audio_tracks(
    tracks: Sequence[MixTrack | tuple[str | Path, int, float]],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    original: str | Path | None = None,
    original_gain: float = MIX_DUCK_GAIN,
    channels: int = 1,
) -> np.ndarray:
    """Mix dub tracks (and optionally a clip's own ducked audio) into one track.

    A thin front of :func:`lipcore.render.mix.mix_tracks` (the one mixer).

    Args:
        tracks: ``MixTrack`` or ``(path, offset_samples_16k, gain_db)`` items.
        total_samples: Length of the mix at ``rate`` (the picture's duration).
        rate: Sample rate of the mix in Hz.
        original: A video whose own audio (on its video clock) goes under the dubs.
        original_gain: Linear gain of ``original`` (the pipeline's -12 dB duck by default).
        channels: 1 for a mono mix, 2 to keep stereo tracks stereo (as the editor's export).

    Returns:
        ``(total_samples,)`` or ``(total_samples, 2)`` float32, scaled down only when the sum
        would clip.

    Raises:
        MediaError: A track cannot be read (the message names the file).
    """
    items = [t if isinstance(t, MixTrack) else MixTrack(Path(t[0]), *t[1:]) for t in tracks]
    if original is not None:
        items.append(MixTrack(None, 0, duck_db(original_gain)))
    return mix_tracks(items, total_samples, rate, clip=original, channels=channels)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = OUTPUT_AUDIO_RATE) -> Path:
    """Write float samples as a 32-bit float WAV (no clipping, no dither).

    Args:
        path: The .wav file to write.
        samples: ``(n,)`` or ``(n, channels)`` float samples.
        rate: Sample rate in Hz.

    Returns:
        The written path.
    """
    import soundfile

    path = Path(path)
    soundfile.write(str(path), np.asarray(samples, np.float32), int(rate), subtype="FLOAT")
    return path


def _check_passes(passes: Sequence[RenderRequest]) -> Path:
    if not passes:
        raise LipsyncError("nothing to render: no speaker pass was given", None, "add a segment")
    source = Path(passes[0].video)
    for k, req in enumerate(passes):
        if Path(req.video).resolve() != source.resolve():
            raise LipsyncError(
                f"pass {k + 1} renders another clip ({req.video}) than pass 1",
                source,
                "render each clip separately",
            )
        if req.long_audio != "cut":
            # Holding or looping the picture would change the frame count between passes, and
            # the source's face tracks would no longer fit the intermediate.
            raise LipsyncError(
                f"pass {k + 1} asks for long-audio policy {req.long_audio!r}; several speakers "
                "can only be rendered on the clip's own length",
                req.audio,
                "use the 'cut' policy or shorten the dub",
            )
    return source


def _check_overlaps(passes: Sequence[RenderRequest], track_ids: list[str], frames: int) -> None:
    """Refuse two passes that re-sync the same face on the same frames."""
    spans = []
    for k, req in enumerate(passes):
        ranges = [(s.start_frame, s.end_frame) for s in req.segments] or [(0, frames)]
        spans += [(track_ids[k], max(0, a), min(frames, b), k) for a, b in ranges]
    for i, (tid_a, a0, a1, ka) in enumerate(spans):
        for tid_b, b0, b1, kb in spans[i + 1 :]:
            if tid_a == tid_b and ka != kb and max(a0, b0) < min(a1, b1):
                first, second = sorted((ka, kb))
                raise LipsyncError(
                    f"passes {first + 1} and {second + 1} both re-sync face {tid_a} on frames "
                    f"{max(a0, b0)}-{min(a1, b1)}",
                    passes[ka].video,
                    "give that face one dub track per segment, or move one segment to another "
                    "face",
                )


def iter_render_speakers(
    passes: Sequence[RenderRequest],
    output: str | Path,
    output_audio: str | Path | np.ndarray,
    tracks: TrackSet | None = None,
    warm=None,
    chunks: str | Path | None = None,
) -> Generator[Progress, None, SpeakersResult]:
    """Re-sync several faces of one clip, each with its own audio, into one output video.

    Args:
        passes: One request per (face, dub track): same source ``video``; each pass's ``audio``,
            ``audio_offset_samples``, ``face`` and ``segments`` drive that face. Their
            ``output``, ``output_audio`` and ``audio_mix`` are ignored; ``crf`` of the last pass
            is the output's quality.
        output: The file to write (.mp4 = H.264/AAC, .mov = ProRes/PCM).
        output_audio: The finished sound of the output, on the video clock (its first sample
            plays with frame 0): an audio file, or ``(n,)`` float samples at 48 kHz (see
            :func:`mix_audio_tracks`). Add the ducked original to it for a "mix" export.
        tracks: Face tracks of the source clip when already known (else found once, cached).
        warm: A :class:`~lipcore.render.warm.WarmState` (prepared engines of the session).
        chunks: The chunk store (default the lipsync cache's); segments whose chunk is there
            are not rendered again.

    Yields:
        Progress: "speaker k/n: ..." while pass k's missing chunks render, then "writing".

    Returns:
        A :class:`SpeakersResult`; the output exists only once the generator has finished.
        Stopping early (``close()``) leaves no output (finished chunks stay in the store).

    Raises:
        LipsyncError: Passes on different clips, a long-audio policy other than "cut", or two
            passes re-syncing the same face on overlapping frames.
        MediaError: Unreadable inputs, or an output that would overwrite a source.
    """
    from lipcore.face.select import choose_track
    from lipcore.face.track import iter_track_faces
    from lipcore.media.probe import probe, require_video
    from lipcore.render.chunks import chunk_root
    from lipcore.render.pipeline import _plan, _result, _writer_for
    from lipcore.render.splice import iter_ensure_chunks, iter_splice
    from lipcore.render.warm import WarmState

    source = _check_passes(passes)
    output = Path(output)
    if output.resolve() == source.resolve():
        raise MediaError(
            "the output would overwrite the source clip", output, "choose another output name"
        )
    if not output.parent.is_dir():
        raise MediaError(
            "cannot be written: its folder does not exist", output, "create the folder first"
        )
    info = require_video(probe(source))
    frames = info.frame_count
    if tracks is None:
        tracks = yield from iter_track_faces(source)
    track_ids = [choose_track(tracks, req.face).track_id for req in passes]
    _check_overlaps(passes, track_ids, frames)
    warm = warm if warm is not None else WarmState()
    store = Path(chunks) if chunks is not None else chunk_root()

    n = len(passes)
    results: list[RenderResult] = []
    plans = []
    layers: list[list[Path]] = []
    for k, req in enumerate(passes):
        step = replace(req, output=output, face=FaceChoice(track_id=track_ids[k]))
        if k == n - 1:
            _writer_for(step)  # refuse a bad output before any rendering
        plan = yield from _plan(step, tracks, warm)
        paths, rendered = yield from iter_ensure_chunks(
            plan, None, store, f"speaker {k + 1}/{n}: "
        )
        changed = sum(len(_changed_frames(p)) for p in paths)
        results.append(_result(plan, paths[0], changed, chunks=paths, rendered_segments=rendered))
        plans.append(plan)
        layers.append(paths)
    last = replace(plans[-1], warnings=[])
    if isinstance(output_audio, np.ndarray):
        yield from iter_splice(last, layers, np.asarray(output_audio, np.float32))
    elif _is_output_mix(Path(output_audio)):
        yield from iter_splice(last, layers, Path(output_audio))  # muxed as it is
    else:
        from lipcore.render.mix import mixed_wav
        from lipcore.render.timeline import timeline_samples

        # Streamed into a temporary WAV on the picture's clock, never held whole.
        total = timeline_samples(last.timeline, OUTPUT_AUDIO_RATE)
        track = [MixTrack(Path(output_audio))]
        folder = Path(output).resolve().parent
        with mixed_wav(track, total, OUTPUT_AUDIO_RATE, channels=2, folder=folder) as wav:
            yield from iter_splice(last, layers, wav)

    warnings = [f"speaker {k + 1}: {w}" for k, r in enumerate(results) for w in r.warnings]
    return SpeakersResult(
        output=output,
        frame_count=last.timeline.output_frames,
        fps=last.timeline.fps,
        track_id="+".join(dict.fromkeys(track_ids)),
        segments=[s for r in results for s in r.segments],
        frames_changed=sum(r.frames_changed for r in results),
        warnings=warnings,
        chunks=[p for layer in layers for p in layer],
        rendered_segments=sum(r.rendered_segments for r in results),
        passes=results,
    )


def _is_output_mix(path: Path) -> bool:
    """Whether ``path`` is a mix as :func:`lipcore.render.mix.write_mix_wav` writes one (float
    PCM at the output rate, mono or stereo, no picture): the encoder then reads exactly the
    samples a decode would give, so it is muxed as it is instead of copied first."""
    from lipcore.media.probe import probe

    info = probe(path)
    audio = info.audio
    return (
        info.video is None
        and audio is not None
        and audio.codec == "pcm_f32le"
        and audio.sample_rate == OUTPUT_AUDIO_RATE
        and audio.channels in (1, 2)
    )


def _changed_frames(chunk: Path) -> list[int]:
    from lipcore.render.chunks import ChunkReader

    r = ChunkReader(chunk)
    return [int(f) for f, rect in zip(r.frames, r.rects, strict=True) if rect[2] > rect[0]]


def render_speakers(
    passes: Sequence[RenderRequest],
    output: str | Path,
    output_audio: str | Path | np.ndarray,
    show_progress: bool = True,
    **kwargs,
) -> SpeakersResult:
    """Run :func:`iter_render_speakers` to the end with a progress bar and return its result."""
    return drain(
        iter_render_speakers(passes, output, output_audio, **kwargs),
        show=show_progress,
        desc="speakers",
    )
