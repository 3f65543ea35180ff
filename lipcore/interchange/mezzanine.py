"""Mezzanine media for editing suites: one ProRes 422 HQ file per rendered segment.

Each file holds the segment's frames plus ``handles`` untouched source frames either side (fewer
at the clip's ends), at the clip's native frame rate, with a QuickTime timecode track that starts
at the source timecode of its first frame, and the dub as 16-bit PCM. An editor can then slip
or extend the cut in the suite and the media relinks by name and timecode.

The lip-synced pictures come from the public render API (:func:`lipcore.render.pipeline.
iter_render`, one full-clip ``.mov`` render per group of segments sharing an audio track and a
face) or from a full-length render the user already exported; the files are then cut frame-
exactly (ProRes is intra-only) with ffmpeg's ``trim`` filter.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Generator
from fractions import Fraction
from pathlib import Path

from lipcore.errors import LipsyncError, MediaError, ProjectError
from lipcore.interchange.cut import Cut, CutEvent, default_drop_frame, reel_name
from lipcore.progress import Progress
from lipcore.project import Project, Segment
from lipcore.timecode import format_smpte, read_start_timecode

#: ffmpeg video arguments of the mezzanine codec: ProRes 422 HQ, 10-bit 4:2:2.
PRORES_HQ_ARGS = (
    "-c:v",
    "prores_ks",
    "-profile:v",
    "3",
    "-pix_fmt",
    "yuv422p10le",
    "-vendor",
    "apl0",
)


def mezzanine_name(project: Project, index: int) -> str:
    """File name of segment number ``index`` (1-based, timeline order): ``<clip>_L001.mov``."""
    stem = project.video.path.stem if project.video is not None else "lipsync"
    return f"{stem}_L{index:03d}.mov"


def _groups(segments: list[Segment]) -> list[list[Segment]]:
    """Segments that one render request can drive together (same track, face and region)."""
    out: dict[tuple, list[Segment]] = {}
    for seg in segments:
        out.setdefault((seg.audio_track_id, seg.face_track_id, seg.options.region), []).append(seg)
    return list(out.values())


def cut_media(
    rendered: Path,
    output: Path,
    first_frame: int,
    end_frame: int,
    fps: Fraction,
    timecode: str,
) -> Path:
    """Cut frames ``[first_frame, end_frame)`` of ``rendered`` into a ProRes 422 HQ ``.mov``.

    Args:
        rendered: A full-length render (any codec ffmpeg decodes; the clip's frame grid).
        output: Target ``.mov`` (written through a temp file and a rename).
        first_frame: First frame to keep.
        end_frame: Frame after the last to keep.
        fps: The clip's exact frame rate (kept as is).
        timecode: Start timecode written into the file's timecode track.

    Returns:
        ``output``.

    Raises:
        MediaError: ffmpeg fails, or the file does not hold the expected frame count.
    """
    from lipcore.media.probe import ffmpeg_exe, probe

    info = probe(rendered)
    rate = f"{fps.numerator}/{fps.denominator}"
    args = [
        ffmpeg_exe(),
        "-v",
        "error",
        "-nostdin",
        "-y",
        "-i",
        str(rendered),
        "-map",
        "0:v:0",
        "-vf",
        f"trim=start_frame={first_frame}:end_frame={end_frame},setpts=PTS-STARTPTS",
        *PRORES_HQ_ARGS,
        "-r",
        rate,
        "-timecode",
        timecode,
    ]
    if info.audio is not None:
        sr = info.audio.sample_rate
        s0 = int(Fraction(first_frame) * sr / fps)
        s1 = int(Fraction(end_frame) * sr / fps)
        args += [
            "-map",
            "0:a:0",
            "-af",
            f"atrim=start_sample={s0}:end_sample={s1},asetpts=PTS-STARTPTS",
            "-c:a",
            "pcm_s16le",
        ]
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".mov", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        done = subprocess.run(args + [str(tmp)], capture_output=True, text=True)
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-2:])
            raise MediaError(f"ffmpeg could not write the mezzanine ({tail})", output)
        got = probe(tmp).video
        if got is None or got.frame_count != end_frame - first_frame:
            n = got.frame_count if got else 0
            raise MediaError(
                f"mezzanine has {n} frames, expected {end_frame - first_frame}",
                output,
                "check that the render covers the whole clip",
            )
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return output


def iter_mezzanine(
    project: Project,
    media_dir: str | Path,
    handles_frames: int = 0,
    rendered: str | Path | None = None,
    segment_ids: list[str] | None = None,
) -> Generator[Progress, None, Cut]:
    """Write one mezzanine file per segment and return the cut that places them.

    The record timeline is the clip itself: it starts at the clip's start timecode (00:00:00:00
    when it has none), and each event sits where its segment is.

    Args:
        project: A project with a clip and segments that have an audio track.
        media_dir: Folder for the ``.mov`` files (created).
        handles_frames: Extra source frames either side of each segment.
        rendered: A full-length render of every segment (e.g. the project's export); None =
            render now through the pipeline.
        segment_ids: Only these segments (default: all).

    Yields:
        Progress of the renders and of the cutting.

    Returns:
        The :class:`~lipcore.interchange.cut.Cut`.

    Raises:
        ProjectError: No clip or no segments.
        LipsyncError: ``handles_frames`` is negative; render errors pass through.
    """
    from lipcore.render.pipeline import iter_render

    if project.video is None:
        raise ProjectError("the project has no clip", None, "open a video first")
    if handles_frames < 0:
        raise LipsyncError(f"handles must be 0 or more frames, not {handles_frames}")
    segs = project.sorted_segments()
    if segment_ids is not None:
        segs = [s for s in segs if s.id in set(segment_ids)]
    if not segs:
        raise ProjectError("the project has no segments to export", None, "add segments first")
    fps = project.fps
    start_tc = read_start_timecode(project.video.path, fps)
    drop = start_tc.drop_frame if start_tc.source != "none" else default_drop_frame(fps)
    media_dir = Path(media_dir)
    media_dir.mkdir(parents=True, exist_ok=True)
    source_of: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="lipsync-mezz-") as tmp:
        if rendered is not None:
            source_of = {s.id: Path(rendered) for s in segs}
        else:
            for g, group in enumerate(_groups(segs)):
                out = Path(tmp) / f"group{g}.mov"
                request = project.render_request([s.id for s in group], out)
                yield from iter_render(request)
                source_of.update({s.id: out for s in group})
        n_frames = project.frame_count or (1 << 40)
        events = []
        for i, seg in enumerate(segs, start=1):
            end = min(seg.end_frame, n_frames)  # a segment may run past the clip's end
            if end <= seg.start_frame:
                continue
            lo = max(0, seg.start_frame - handles_frames)
            hi = min(n_frames, end + handles_frames)
            path = media_dir / mezzanine_name(project, i)
            yield Progress(i - 1, len(segs), f"writing {path.name}")
            cut_media(
                source_of[seg.id], path, lo, hi, fps, format_smpte(lo, fps, start_tc.frames, drop)
            )
            events.append(
                CutEvent(
                    name=path.stem,
                    reel=reel_name(i),
                    media=path.resolve(),
                    media_start_frame=start_tc.frames + lo,
                    media_frames=hi - lo,
                    source_in_frame=start_tc.frames + seg.start_frame,
                    source_out_frame=start_tc.frames + end,
                    record_in_frame=start_tc.frames + seg.start_frame,
                    segment_id=seg.id,
                    text=getattr(seg, "text", "") or seg.label,
                )
            )
        yield Progress(len(segs), len(segs), "mezzanine written")
    return Cut(
        name=project.video.path.stem,
        fps=fps,
        drop_frame=drop,
        start_frame=start_tc.frames,
        events=tuple(events),
        width=project.width,
        height=project.height,
    )
