"""Aligned face crops of one track plus the clip's own audio: what engines learn from.

Also computes the per-track alignment (canonical template and smoothed per-frame transforms) that
the renderer uses to cut target crops, so footage and targets share one crop space.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lipcore.engines.base import SourceFootage
from lipcore.errors import MediaError
from lipcore.face.types import FaceTrack
from lipcore.media.sample_file import SampleFile
from lipcore.progress import Progress
from lipcore.render.align import (
    apply_affine,
    canonical_template,
    frame_to_crop,
    smooth_transforms,
    warp_to_crop,
)
from lipcore.render.cadence import CadenceTracker, face_region, picture_change
from lipcore.scratch import RELEASE_EVERY_ROWS, release_pages, scratch_array

#: Resampling of the footage crops engines learn from and paste into other frames (the retime
#: library, the one-shot's texture). Such a crop is resampled twice more before it reaches an
#: output frame (the residual alignment or the mouth warp, then the paste), and this first cut,
#: an upsampling to the oversampled crop side, costs the most: on A01 (608 px crops, 38 pairs
#: of real frames, one frame's mouth pasted into another through the whole compositor) the
#: mouth kept 0.87 of its Laplacian variance with a cubic cut and 0.93 with Lanczos4 (cubic
#: after it); the cut runs once per footage frame while the library is built (about 3x a cubic
#: cut's CPU), never while rendering.
FOOTAGE_INTERPOLATION = cv2.INTER_LANCZOS4


@dataclass
class TrackAlignment:
    """Per-frame transforms of one track into its canonical crop.

    Attributes:
        track: The face track.
        size: Crop side in pixels.
        template: Canonical positions of the stable points (crop pixels).
        transforms: ``(N, 2, 3)`` frame->crop transforms, one per row of ``track.frames``.
    """

    track: FaceTrack
    size: int
    template: np.ndarray
    transforms: np.ndarray

    def at(self, frame: int, size: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """Transform and crop-space landmarks of ``frame`` (scaled to ``size``), or None."""
        row = self.track.index_of(frame)
        if row is None:
            return None
        m = self.transforms[row].copy()
        if size is not None and size != self.size:
            m *= size / self.size
        return m, apply_affine(m, self.track.landmarks[row])


def align_track(
    track: FaceTrack, size: int = 256, template: np.ndarray | None = None
) -> TrackAlignment:
    """Fit the canonical template of ``track`` and its smoothed per-frame transforms.

    Args:
        track: A face track with landmarks on every row.
        size: Crop side in pixels.
        template: Reuse another track's template (e.g. extra footage of the same actor).

    Returns:
        The track's alignment.
    """
    if template is None:
        template = canonical_template(track.landmarks, size)
    raw = frame_to_crop(track.landmarks, template)
    smoothed = np.empty_like(raw)
    # Smooth within contiguous runs only: a gap or a shot cut must not drag transforms across.
    rows = np.arange(len(track.frames))
    breaks = np.nonzero(np.diff(track.frames) > 1)[0] + 1
    for run in np.split(rows, breaks):
        smoothed[run] = smooth_transforms(raw[run], radius=2)
    release_pages(track.landmarks)  # a pass over every frame: memory-mapped pages go back
    return TrackAlignment(track=track, size=size, template=template, transforms=smoothed)


def iter_source_footage(
    video: str | Path,
    alignment: TrackAlignment,
    audio_16k: np.ndarray | SampleFile | None,
    max_frames: int = 3000,
) -> Generator[Progress, None, SourceFootage]:
    """Cut aligned crops of the track's detected (not interpolated) frames from ``video``.

    Args:
        video: The clip the track belongs to.
        alignment: The track's alignment (crop size and transforms).
        audio_16k: The clip's own audio on the video clock (None or empty when it has none).
        max_frames: At most about this many crops (blocks of consecutive frames spread over the
            track), so memory stays bounded on long clips.

    Yields:
        Progress while decoding.

    Returns:
        The footage, with landmarks in crop coordinates and the clip's own audio.
    """
    from lipcore.media.decode import VideoReader

    track = alignment.track
    rows = np.nonzero(~track.interpolated)[0]
    if len(rows) > max_frames:
        # Keep contiguous blocks rather than every k-th frame: engines that re-time the actor's
        # footage need natural runs of consecutive frames to play.
        block = 50
        starts = np.linspace(0, len(rows) - block, max(1, max_frames // block)).astype(int)
        rows = rows[np.unique((starts[:, None] + np.arange(block)[None, :]).ravel())]
    wanted = {int(track.frames[r]): int(r) for r in rows}
    size = alignment.size
    # On disk, not in memory: up to MAX_FOOTAGE_FRAMES crops at the face's native size are
    # hundreds of MB (1500 at 416 px: 780 MB); engines read the few they use.
    crops = scratch_array((len(rows), size, size, 3), np.uint8)
    landmarks = np.empty((len(rows), track.landmarks.shape[1], 2), np.float32)
    frames = np.empty(len(rows), np.int64)
    # Which crops repeat the picture before (the render holds the new mouth there; an engine
    # that plays the footage's own motion plays it on the same picture clock)
    repeats = np.zeros(len(rows), bool)
    cadence = CadenceTracker()
    k = 0
    with VideoReader(video) as reader:
        fps = reader.fps
        # Decode only the stretches that hold wanted frames (a seek to each), so a long clip's
        # footage costs the frames kept, not the whole clip; gaps under a few seconds are
        # decoded through, which is cheaper than a seek.
        for first, last in _stretches(sorted(wanted), gap=int(4 * fps)):
            before = None
            for index, frame in reader.iter_frames(first, last + 1):
                r = wanted.get(index)
                if r is None:
                    cadence.skip()
                    before = None
                    continue
                m = alignment.transforms[r]
                if before is not None and before[0] == index - 1:
                    change = picture_change(before[1], frame, face_region(m, size, frame.shape))
                    repeats[k] = cadence.feed(change)
                else:
                    cadence.skip()
                before = (index, frame)
                crops[k] = warp_to_crop(frame, m, size, FOOTAGE_INTERPOLATION)
                landmarks[k] = apply_affine(m, track.landmarks[r])
                frames[k] = index
                k += 1
                if k % RELEASE_EVERY_ROWS == 0:
                    release_pages(crops)
                if k % 25 == 0:
                    yield Progress(k, len(rows), "reading the actor's footage")
    if k < len(rows):
        raise MediaError(
            f"could only decode {k} of {len(rows)} face frames", video, "the file may be truncated"
        )
    release_pages(crops)
    release_pages(track.landmarks)
    if audio_16k is None:
        audio = np.zeros(0, np.float32)
    elif isinstance(audio_16k, SampleFile):
        audio = audio_16k  # kept on disk
    else:
        audio = np.asarray(audio_16k, np.float32)
    return SourceFootage(
        crops=crops, landmarks=landmarks, frames=frames, fps=fps, audio_16k=audio, repeats=repeats
    )


def _stretches(frames: list[int], gap: int) -> list[tuple[int, int]]:
    """Sorted frame numbers as ``(first, last)`` stretches, joining gaps up to ``gap`` frames."""
    out: list[tuple[int, int]] = []
    for f in frames:
        if out and f - out[-1][1] <= gap:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out
