"""Several speakers in one clip: one render pass per (face, dub track), chained, one output.

The pipeline re-syncs one face with one audio per request. Two speakers in one scene are rendered
as a chain of passes: pass 1 reads the source clip, each later pass reads the previous pass's
intermediate, and the last pass writes the output with the mixed dub tracks. Intermediates are
near-lossless (ProRes 422 HQ with PCM audio by default) and live in a hidden temp folder next to
the output, removed at the end, on an error and on cancel (closing the generator).

Every pass reuses the face tracks of the SOURCE clip: an intermediate has the same size, frame
count and face geometry, so re-tracking it would only cost time and could renumber the faces.
Each intermediate carries the source clip's own audio, so engines that learn a speaker from the
footage (the built-in retime engine) hear the same speech in every pass.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError, MediaError
from lipcore.face.types import TrackSet
from lipcore.progress import Progress, drain
from lipcore.render.pipeline import MIX_DUCK_GAIN, OUTPUT_AUDIO_RATE, RenderResult, iter_render
from lipcore.render.request import AUDIO_RATE, FaceChoice, RenderRequest

#: Intermediate codec -> file suffix; the pipeline picks ProRes for .mov and H.264 otherwise.
INTERMEDIATE_CODECS = {"prores": ".mov", "h264": ".mp4"}
#: x264 quality of "h264" intermediates (CRF 0 needs a lossless profile the writer does not set).
INTERMEDIATE_CRF = 1


@dataclass(frozen=True)
class MixTrack:
    """One dub track in the output mix.

    Attributes:
        path: Audio file (any format ffmpeg reads).
        offset_samples: Where its first sample plays, at 16 kHz after frame 0 (negative drops
            its head).
        gain_db: Level change in dB (0 = as recorded).
    """

    path: Path
    offset_samples: int = 0
    gain_db: float = 0.0


@dataclass
class SpeakersResult(RenderResult):
    """The result of :func:`iter_render_speakers`: the output, plus each pass's own result.

    Attributes:
        passes: The result of every pass, in render order (their ``output`` were temp files).
    """

    passes: list[RenderResult] = field(default_factory=list)


def mix_audio_tracks(
    tracks: Sequence[MixTrack | tuple[str | Path, int, float]],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    original: str | Path | None = None,
    original_gain: float = MIX_DUCK_GAIN,
) -> np.ndarray:
    """Mix dub tracks (and optionally a clip's own ducked audio) into one mono track.

    Args:
        tracks: ``MixTrack`` or ``(path, offset_samples_16k, gain_db)`` items.
        total_samples: Length of the mix at ``rate`` (the picture's duration).
        rate: Sample rate of the mix in Hz.
        original: A video whose own audio (on its video clock) goes under the dubs.
        original_gain: Linear gain of ``original`` (the pipeline's -12 dB duck by default).

    Returns:
        ``(total_samples,)`` float32, scaled down only when the sum would clip.

    Raises:
        MediaError: A track cannot be read (the message names the file).
    """
    from lipcore.media.audio import clip_audio, load_audio
    from lipcore.render.timeline import place_audio

    out = np.zeros(int(total_samples), np.float32)
    for item in tracks:
        track = item if isinstance(item, MixTrack) else MixTrack(Path(item[0]), *item[1:])
        samples = load_audio(track.path, rate)
        offset = int(round(track.offset_samples * rate / AUDIO_RATE))
        out += np.float32(10.0 ** (track.gain_db / 20.0)) * place_audio(samples, offset, len(out))
    if original is not None:
        own = clip_audio(original, rate)
        n = min(len(own), len(out))
        out[:n] += np.float32(original_gain) * own[:n]
    peak = float(np.abs(out).max()) if len(out) else 0.0
    return out / np.float32(peak) if peak > 1.0 else out


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
    intermediate_codec: str = "prores",
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
        intermediate_codec: "prores" (.mov with PCM audio, the default: fewer losses, ~1.1 levels
            per pass) or "h264" (.mp4 with AAC at CRF 1: ~8x smaller files, ~2 levels per pass).

    Yields:
        Progress over all passes: ``done/total`` counts rendered frames of every pass; the
        stage names the pass ("speaker 2/3: rendering").

    Returns:
        A :class:`SpeakersResult`; the output exists only once the generator has finished.
        Stopping early (``close()``) leaves neither the output nor any temp file.

    Raises:
        LipsyncError: Passes on different clips, a long-audio policy other than "cut", or two
            passes re-syncing the same face on overlapping frames.
        MediaError: Unreadable inputs, or an output that would overwrite a source.
    """
    from lipcore.face.select import choose_track
    from lipcore.face.track import iter_track_faces
    from lipcore.media.audio import clip_audio
    from lipcore.media.probe import probe, require_video

    if intermediate_codec not in INTERMEDIATE_CODECS:
        raise ValueError(f"intermediate_codec must be one of {', '.join(INTERMEDIATE_CODECS)}")
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

    total = frames * len(passes)
    results: list[RenderResult] = []
    # Hidden, next to the output: same disk as the output, and the user sees where space goes.
    work = Path(tempfile.mkdtemp(prefix=f".{output.stem}.speakers-", dir=output.parent))
    try:
        if isinstance(output_audio, np.ndarray):
            final_audio = write_wav(work / "mix.wav", output_audio, OUTPUT_AUDIO_RATE)
        else:
            final_audio = Path(output_audio)
        own_wav = None
        if len(passes) > 1:
            try:
                own = clip_audio(source, OUTPUT_AUDIO_RATE, info=probe(source))
            except MediaError:  # a silent clip: its intermediates stay silent too
                own = np.zeros(max(1, round(frames * OUTPUT_AUDIO_RATE / info.fps)), np.float32)
            own_wav = write_wav(work / "source-audio.wav", own, OUTPUT_AUDIO_RATE)

        video = source
        suffix = INTERMEDIATE_CODECS[intermediate_codec]
        for k, req in enumerate(passes):
            last = k == len(passes) - 1
            if last:
                target, audio_out, crf = output, final_audio, req.crf
            else:
                target = work / f"pass-{k + 1}{suffix}"
                # The intermediate keeps the clip's own sound for the next pass's engine.
                audio_out, crf = own_wav, INTERMEDIATE_CRF
            step = replace(
                req,
                video=video,
                output=target,
                face=FaceChoice(track_id=track_ids[k]),
                output_audio=audio_out,
                audio_mix="dub",
                crf=crf,
            )
            result = yield from _run_pass(step, tracks, k, len(passes), frames, total)
            results.append(result)
            if video != source:
                video.unlink(missing_ok=True)  # the previous intermediate is no longer needed
            video = target
    finally:
        shutil.rmtree(work, ignore_errors=True)

    warnings = [f"speaker {k + 1}: {w}" for k, r in enumerate(results) for w in r.warnings]
    return SpeakersResult(
        output=output,
        frame_count=results[-1].frame_count,
        fps=results[-1].fps,
        track_id="+".join(dict.fromkeys(track_ids)),
        segments=[s for r in results for s in r.segments],
        frames_changed=sum(r.frames_changed for r in results),
        warnings=warnings,
        passes=results,
    )


def _run_pass(
    request: RenderRequest, tracks: TrackSet, k: int, n: int, frames: int, total: int
) -> Generator[Progress, None, RenderResult]:
    """Run one pass, mapping its progress onto the whole job; closing closes the pass."""
    gen = iter_render(request, tracks=tracks)
    base = k * frames
    try:
        step = next(gen)
        while True:
            rendering = step.stage == "rendering"
            done = base + min(step.done, frames) if rendering else base
            yield Progress(
                done,
                total,
                f"speaker {k + 1}/{n}: {step.stage}",
                preview_frame=step.preview_frame,
                chunk_sync=step.chunk_sync,
            )
            step = next(gen)
    except StopIteration as stop:
        return stop.value
    finally:
        gen.close()


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
