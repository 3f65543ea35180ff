"""Hand edits of a cue track: move a boundary, change a shape, split, merge.

Each function returns a new :class:`~lipcore.cues.make.CueTrack` (tracks are immutable, so an undo
log can keep the old one). Boundaries stay on the track's frame grid and no cue becomes shorter
than one frame; a request that cannot be honoured raises ``ValueError`` saying why.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from lipcore.audio import SAMPLE_RATE
from lipcore.cues.make import CueTrack, MouthCue
from lipcore.cues.shapes import SHAPES
from lipcore.timebase import frame_to_sample


def snap_sample(track: CueTrack, sample: int) -> int:
    """The frame boundary of the track's rate nearest to ``sample``.

    Args:
        track: The cue track (its fps sets the grid).
        sample: A 16 kHz sample index.

    Returns:
        The snapped sample index.
    """
    frame = int(Fraction(sample) * track.fps / SAMPLE_RATE + Fraction(1, 2))
    return frame_to_sample(frame, track.fps, SAMPLE_RATE)


def _one_frame(track: CueTrack) -> int:
    return frame_to_sample(1, track.fps, SAMPLE_RATE)


def cue_index_at(track: CueTrack, sample: int) -> int:
    """Index of the cue showing at ``sample`` (clamped to the first/last cue).

    Args:
        track: A non-empty cue track.
        sample: A 16 kHz sample index.

    Returns:
        The index into ``track.cues``.
    """
    starts = [c.start_sample for c in track.cues]
    return int(np.clip(np.searchsorted(starts, sample, side="right") - 1, 0, len(starts) - 1))


def _check_index(track: CueTrack, index: int) -> None:
    if not 0 <= index < len(track.cues):
        raise ValueError(f"there is no cue {index} (the track has {len(track.cues)})")


def _with(track: CueTrack, cues: list[MouthCue]) -> CueTrack:
    return dataclasses.replace(track, cues=tuple(cues))


def move_boundary(track: CueTrack, index: int, sample: int) -> CueTrack:
    """Move the start of cue ``index`` (and the end of the cue before it).

    Args:
        track: The cue track.
        index: A cue after the first.
        sample: Where the boundary should go; snapped to the frame grid and kept at least one
            frame from the neighbouring boundaries.

    Returns:
        The edited track.
    """
    _check_index(track, index)
    if index == 0:
        raise ValueError("the first cue always starts at the beginning")
    before, cue = track.cues[index - 1], track.cues[index]
    frame = _one_frame(track)
    lo, hi = before.start_sample + frame, cue.end_sample - frame
    if hi < lo:
        return track
    new = int(np.clip(snap_sample(track, sample), lo, hi))
    if new == cue.start_sample:
        return track
    cues = list(track.cues)
    cues[index - 1] = dataclasses.replace(before, end_sample=new)
    cues[index] = dataclasses.replace(cue, start_sample=new)
    return _with(track, cues)


def set_shape(track: CueTrack, index: int, shape: str) -> CueTrack:
    """Give cue ``index`` another shape (it becomes a hand-made cue: no source phone).

    Args:
        track: The cue track.
        index: The cue.
        shape: A Rhubarb letter "A"-"H" or "X".

    Returns:
        The edited track.
    """
    _check_index(track, index)
    if shape not in SHAPES:
        raise ValueError(f"unknown mouth shape {shape!r}: choose one of {', '.join(SHAPES)}")
    cues = list(track.cues)
    cues[index] = dataclasses.replace(cues[index], shape=shape, phone="")
    return _with(track, cues)


def split_cue(track: CueTrack, index: int, sample: int) -> CueTrack:
    """Split cue ``index`` in two at ``sample`` (snapped; both halves at least one frame).

    Args:
        track: The cue track.
        index: The cue.
        sample: Where to cut.

    Returns:
        The edited track (the two halves have the original shape).
    """
    _check_index(track, index)
    cue = track.cues[index]
    cut = snap_sample(track, sample)
    if not cue.start_sample < cut < cue.end_sample:
        raise ValueError("a cue of one frame cannot be split; zoom in and cut inside a longer cue")
    cues = list(track.cues)
    cues[index : index + 1] = [
        dataclasses.replace(cue, end_sample=cut),
        dataclasses.replace(cue, start_sample=cut),
    ]
    return _with(track, cues)


def merge_cues(track: CueTrack, index: int) -> CueTrack:
    """Merge cue ``index`` with the next one; the merged cue keeps cue ``index``'s shape.

    Args:
        track: The cue track.
        index: A cue that has a successor.

    Returns:
        The edited track.
    """
    _check_index(track, index)
    if index + 1 >= len(track.cues):
        raise ValueError("the last cue has nothing after it to merge with")
    a, b = track.cues[index], track.cues[index + 1]
    cues = list(track.cues)
    cues[index : index + 2] = [dataclasses.replace(a, end_sample=b.end_sample)]
    return _with(track, cues)
