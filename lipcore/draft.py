"""Draft renders: a fast, low-resolution render of one range of a request, for review.

The final render is the request itself. A draft cuts the range out of the clip at a smaller
scale (fewer pixels to track, re-sync and encode, and only the range's frames), shifts the
audio and the segments into it, and renders that through the public render API. The engine
still learns the actor's mouth from the whole clip (given as footage), so a short range works.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Generator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from lipcore.errors import LipsyncError, MediaError
from lipcore.media.encode import DRAFT_CRF
from lipcore.progress import Progress
from lipcore.render.request import AUDIO_RATE, RenderRequest


def iter_draft(
    request: RenderRequest, first_frame: int, end_frame: int, scale: float = 0.5
) -> Generator[Progress, None, object]:
    """Render frames ``[first_frame, end_frame)`` of ``request`` small, to ``request.output``.

    Args:
        request: The final render's request (its output is where the draft goes).
        first_frame: First clip frame of the range.
        end_frame: Frame after the last.
        scale: Size of the draft relative to the clip (0.1..1).

    Yields:
        Progress of the excerpt and the render.

    Returns:
        The :class:`lipcore.render.pipeline.RenderResult` of the draft (frames count from the
        range's start).

    Raises:
        LipsyncError: An empty range, a scale out of range, or no segment inside the range.
    """
    from lipcore.media.encode import X264_THREAD_ARGS
    from lipcore.media.probe import ffmpeg_exe, probe, require_video
    from lipcore.render.pipeline import iter_render

    if not 0.1 <= scale <= 1.0:
        raise LipsyncError(f"draft scale must be within 0.1..1, not {scale}")
    video = require_video(probe(request.video))
    fps = video.fps
    first_frame = max(0, int(first_frame))
    end_frame = min(int(end_frame), video.frame_count)
    if end_frame <= first_frame:
        raise LipsyncError(f"the draft range {first_frame}-{end_frame} is empty")
    segments = tuple(
        replace(
            s,
            start_frame=max(s.start_frame, first_frame) - first_frame,
            end_frame=min(s.end_frame, end_frame) - first_frame,
            strength_keys=_shifted_keys(s.strength_keys, first_frame),
        )
        for s in request.segments
        if s.start_frame < end_frame and s.end_frame > first_frame
    )
    if not segments:
        raise LipsyncError(
            f"no segment lies in frames {first_frame}-{end_frame}", fix="draft a range with one"
        )
    width = max(2, int(video.width * scale) // 2 * 2)
    start_sec = Fraction(first_frame) / fps
    yield Progress(0, 1, "cutting the draft range")
    with tempfile.TemporaryDirectory(prefix="lipsync-draft-") as tmp:
        excerpt = Path(tmp) / "range.mp4"
        args = [
            ffmpeg_exe(),
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-i",
            str(request.video),
            "-vf",
            f"trim=start_frame={first_frame}:end_frame={end_frame},setpts=PTS-STARTPTS,"
            f"scale={width}:-2",
            "-af",
            f"atrim=start={float(start_sec)},asetpts=PTS-STARTPTS",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            *X264_THREAD_ARGS,
            "-c:a",
            "aac",
            str(excerpt),
        ]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            raise MediaError(
                f"cannot cut the draft range ({done.stderr.strip()[-200:]})", request.video
            )
        shift = int(start_sec * AUDIO_RATE)
        draft = replace(
            request,
            video=excerpt,
            segments=segments,
            audio_offset_samples=request.audio_offset_samples - shift,
            footage=(*request.footage, Path(request.video)),
            output_audio=None,  # a mix on the full clip clock would not line up with the range
            crf=DRAFT_CRF,
        )
        return (yield from iter_render(draft))


def _shifted_keys(keys: tuple, first_frame: int) -> tuple:
    """A strength curve moved onto the range's clock (frame ``first_frame`` becomes 0).

    Keys before the range are dropped, but the strength at the range's first frame is kept as a
    key there, so the draft's curve is the final one's, cut.
    """
    from lipcore.render.strength import strength_at

    if not keys:
        return ()
    head = float(strength_at(keys, [first_frame])[0])
    inside = tuple((f - first_frame, v) for f, v in keys if f > first_frame)
    return ((0, head), *inside)
