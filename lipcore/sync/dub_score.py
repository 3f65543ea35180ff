"""Score a clip (or a rendered segment) against a dub placed on the timeline.

This is what the editor's sync lane draws: the source clip's mouth against the dub as placed,
and each rendered segment's new mouth against the dub it was made for. The built-in meter
(:mod:`lipcore.sync.meter`) is used unless a SyncNet expert checkpoint is given, in which case
:mod:`lipcore.sync.expert` scores the same frames with it. Scripts get the editor's curves
from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from pathlib import Path

import numpy as np

from lipcore.progress import Progress
from lipcore.sync.types import SyncScore

#: The meter's sample rate (and the expert's).
RATE = 16000


def _placed_dub(audio: str | Path, offset_samples: int, first: int, last: int, fps) -> np.ndarray:
    """The dub as heard over frames ``first..last`` (exclusive): sample 0 plays with ``first``."""
    from lipcore.media.audio import load_audio
    from lipcore.render.timeline import place_audio
    from lipcore.timebase import frame_to_sample

    placed = place_audio(load_audio(audio, RATE), offset_samples, frame_to_sample(last, fps, RATE))
    return placed[frame_to_sample(first, fps, RATE) :]


def iter_score_dub(
    video: str | Path,
    audio: str | Path,
    offset_samples: int,
    track: str = "auto",
    frames: tuple[int, int] | None = None,
    single_face: bool = False,
    max_lag: int = 15,
    expert: str | Path | None = None,
) -> Generator[Progress, None, SyncScore]:
    """Per-frame sync confidence of a clip, or a frame range of it, against a placed dub.

    Args:
        video: The clip, or a rendered segment chunk (``.lschunk``) whose frames start at
            ``frames[0]`` of the clip.
        audio: The dub's file; its first sample plays at clip frame ``offset_samples`` samples
            (at 16 kHz) after frame 0 (negative = starts earlier).
        offset_samples: The dub's placement, in samples at 16 kHz.
        track: Face track id, or "auto" for the main face.
        frames: ``(first, end)`` clip frames to score (end exclusive); None = the whole clip.
        single_face: Use the tracker-free single-face path (fast; for rendered segments).
        max_lag: Lags searched either side, in frames.
        expert: A SyncNet checkpoint (``lipsync_expert.pth``, ``syncnet_v2.model`` or one
            this project trained) to score with instead of the built-in meter.

    Yields:
        :class:`Progress` of the tracking and scoring.

    Returns:
        The :class:`SyncScore`, its ``frames`` in clip frame numbers.

    Raises:
        NoFaceError: No face, or the named track does not exist.
        CheckpointError: ``expert`` is not a usable sync expert.
    """
    from lipcore.render.chunks import is_chunk, iter_chunk_video
    from lipcore.sync.meter import iter_lip_gap, iter_lip_gap_single_face, score_av

    video = Path(video)
    shift = 0
    if is_chunk(video):
        # A rendered segment is a chunk: its frames are read as a short video.
        video = yield from iter_chunk_video(video)
        shift, frames = (frames[0], None) if frames is not None else (0, None)
    if expert is not None:
        return (
            yield from _iter_expert(
                video, audio, offset_samples, track, frames, shift, max_lag, expert
            )
        )
    if single_face:
        series = yield from iter_lip_gap_single_face(video, frames)
    else:
        series = yield from iter_lip_gap(video, track, frames)
    if shift:
        series = dataclasses.replace(series, frames=series.frames + shift)
    first = int(series.frames[0]) if len(series.frames) else 0
    last = int(series.frames[-1]) + 1 if len(series.frames) else 0
    dub = _placed_dub(audio, offset_samples, first, last, series.fps)
    return score_av(series.gap, dub, series.fps, max_lag=max_lag, frames=series.frames)


def _iter_expert(video, audio, offset_samples, track, frames, shift, max_lag, expert):
    """The expert's score of ``video`` (a chunk's frames shifted by ``shift`` in the clip)."""
    from lipcore.media.probe import probe, require_video
    from lipcore.sync.expert import iter_score_with_expert

    fps = require_video(probe(video)).fps
    from lipcore.sync.meter import iter_scored_track

    # The expert scores the main face where the meter's single-face path would
    _trackset, face = yield from iter_scored_track(
        video, "auto" if track == "single-face" else track, frames
    )
    # The expert wants audio whose sample 0 plays with the video's frame 0.
    n = int(face.frames[-1]) + 1 if len(face.frames) else 0
    dub = _placed_dub(audio, offset_samples, shift, shift + n, fps)
    score = yield from iter_score_with_expert(
        video, dub, expert, track=face, frames=frames, max_offset=max_lag
    )
    if shift:
        score = dataclasses.replace(score, frames=score.frames + shift)
    return score
