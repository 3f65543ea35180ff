"""The interface every lip-sync engine implements.

The render pipeline owns decoding, face tracks, alignment and blending. An engine sees only
face crops aligned to a canonical square (``crop_size`` pixels) and the audio features of the
frames to produce, and returns new crops (with, where it needs one, the region it replaced:
:class:`GeneratedCrops`). The pipeline is the one compositor: it draws and feathers the mask,
matches the colour and pastes the crop back at the crop's own resolution. An engine that works
on crops of any side (``any_crop_size``) is given crops at the face's native resolution, so
nothing is scaled down and up on the way. Per segment the call order is::

    engine.prepare(source)            # once per clip+track: library / weights / reference frame
    engine.use_options(spec.options)  # per segment (also in ``drive.options``)
    engine.begin_segment(drive)       # whole-segment audio, lets an engine plan over time
    for batch in ...: engine.generate(batch) -> (B, S, S, 3) uint8 BGR crops | GeneratedCrops

One prepared engine serves every segment of a face: options are per segment, and
:meth:`Engine.prepare_key` says which options ``prepare`` itself depends on (none, for an engine
that reads them only in ``begin_segment``/``generate``). Engines that can keep what ``prepare``
learnt on disk implement :meth:`Engine.save_state` / :meth:`Engine.load_state`; the pipeline keys
that state by clip content, face track and :meth:`Engine.prepare_key`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.progress import Progress


@dataclass
class SourceFootage:
    """The chosen face in footage whose audio matches its mouth (the clip itself, extra footage).

    Attributes:
        crops: ``(N, S, S, 3)`` uint8 BGR aligned face crops, one per usable frame.
        landmarks: ``(N, 478, 2)`` float32 FaceMesh points in crop coordinates.
        frames: ``(N,)`` source frame indices of the crops.
        fps: Frame rate of the footage.
        audio_16k: The footage's own audio, mono float32 at 16 kHz, first sample = first frame
            (an array, or a :class:`~lipcore.media.sample_file.SampleFile` that a long clip's
            sound is read from in windows; ``np.asarray`` gives the whole track either way).
        mel: ``(80, T)`` Wav2Lip mel of ``audio_16k``, or None (no engine reads it; the clip's
            own footage leaves it out, because a whole-clip mel grows with the clip: about
            1 GB of transient STFT for a 30-minute clip).
        repeats: ``(N,)`` bool, the crop's frame shows the same picture as the frame before it
            (:mod:`lipcore.render.cadence`'s test, which the render's hold uses), or None when
            unknown (no frame repeats).
    """

    crops: np.ndarray
    landmarks: np.ndarray
    frames: np.ndarray
    fps: Fraction
    audio_16k: np.ndarray
    mel: np.ndarray | None = None
    repeats: np.ndarray | None = None


def resize_crops(crops: np.ndarray, size: int) -> np.ndarray:
    """Resize ``(N, H, W, 3)`` crops to ``(N, size, size, 3)`` (no-op when already that size)."""
    if crops.shape[1] == size and crops.shape[2] == size:
        return crops
    if len(crops) == 0:
        return np.zeros((0, size, size, *crops.shape[3:]), crops.dtype)
    import cv2

    interp = cv2.INTER_AREA if crops.shape[1] > size else cv2.INTER_CUBIC
    return np.stack([cv2.resize(c, (size, size), interpolation=interp) for c in crops])


@dataclass
class SegmentDrive:
    """The new audio for a whole segment, one row per output frame.

    Attributes:
        frames: ``(N,)`` output frame indices.
        mel_windows: ``(N, 80, 16)`` float32 Wav2Lip mel window of each frame.
        voiced: ``(N,)`` bool, False where the new audio is silent or absent (mouth rests).
        fps: Output frame rate.
        audio_16k: The segment's new audio, mono float32 at 16 kHz, aligned with ``frames[0]``.
        source_frames: ``(N,)`` source-clip frame each output frame shows (differs from
            ``frames`` where a long-audio policy holds, loops or reverses the clip); None = same.
        options: The segment's engine options (None = the engine's own ``options``).
        cue_shapes: ``(N,)`` Rhubarb shape letter ("A"-"H", "X") of each frame when the
            segment's mouth is driven by edited mouth cues instead of the audio; None = audio.
            Engines that cannot follow cues (all but the one-shot engine) ignore it.
    """

    frames: np.ndarray
    mel_windows: np.ndarray
    voiced: np.ndarray
    fps: Fraction
    audio_16k: np.ndarray
    source_frames: np.ndarray | None = None
    options: EngineOptions | None = None
    cue_shapes: np.ndarray | None = None


@dataclass
class CropBatch:
    """A batch of target frames to re-mouth.

    Attributes:
        rows: ``(B,)`` row numbers into the current :class:`SegmentDrive`.
        crops: ``(B, S, S, 3)`` uint8 BGR aligned crops of the target frames.
        landmarks: ``(B, 478, 2)`` float32 target landmarks in crop coordinates.
        reach_px: How far (crop pixels) beyond the region an engine returns (and beyond its
            mouths' landmarks) the pipeline reads the generated crop: an engine may make only
            that window and leave the other pixels unset. None = the whole crop is read.
    """

    rows: np.ndarray
    crops: np.ndarray
    landmarks: np.ndarray
    reach_px: int | None = None


@dataclass
class GeneratedCrops:
    """New crops plus what the pipeline needs to paste them, for engines that replace their own
    region (an engine returning a bare ``(B, S, S, 3)`` array gets the target's lower face).

    Attributes:
        crops: ``(B, S, S, 3)`` uint8 BGR generated crops.
        regions: ``(B, S, S)`` float32 opacity of the new pixels in [0, 1], hard-edged (the
            pipeline feathers the edge inward); None = the target's lower-face polygon.
        mouth_landmarks: ``(B, 478, 2)`` float32 landmarks of the generated face where its mouth
            comes from another picture (a library frame): the pipeline gives those lips the
            target's lip colour. None = the generated mouth is the target's own.
    """

    crops: np.ndarray
    regions: np.ndarray | None = None
    mouth_landmarks: np.ndarray | None = None


@dataclass(frozen=True)
class EngineOptions:
    """Per-segment options every engine understands.

    Attributes:
        mouth_strength: 1.0 = engine as is; below 1 blends toward the original mouth, above 1
            exaggerates opening where the engine supports it.
        reference: "self" (the target frame is the reference, as in Wav2Lip) or "neutral" (a
            chosen resting frame, stops the original mouth leaking through silence).
        neutral_frame: Source frame to use as the neutral reference (None = picked automatically).
    """

    mouth_strength: float = 1.0
    reference: str = "neutral"
    neutral_frame: int | None = None


class Engine(ABC):
    """Turns aligned face crops plus new audio into crops with a new lower face."""

    #: Short name used on the command line and in project files.
    name: str = ""
    #: Side of the square aligned crop the engine works on, in pixels.
    crop_size: int = 256
    #: The engine works on crops of any side: the pipeline sets :attr:`crop_size` to the face's
    #: native resolution before :meth:`prepare` (see ``lipcore.render.pipeline``).
    any_crop_size: bool = False
    #: The engine reads the pixels of the target crops it is given. One that does not (it
    #: brings its own pixels and says which region it replaced) gets blank crops of the right
    #: shape, and the pipeline cuts only the part of each target crop its paste needs.
    reads_crop_pixels: bool = True

    def __init__(self, options: EngineOptions | None = None):
        self.options = options or EngineOptions()

    def use_options(self, options: EngineOptions) -> None:
        """Switch to a segment's options (called before :meth:`begin_segment`)."""
        self.options = options

    def prepare_key(self) -> tuple:
        """What :meth:`prepare` depends on besides the footage (JSON-ready).

        Engines whose preparation ignores the options return ``()``, so one prepared engine (one
        footage library) serves segments with different options. The default is conservative:
        every option counts.
        """
        from dataclasses import astuple

        return astuple(self.options)

    def save_state(self, folder: Path) -> bool:
        """Store what :meth:`prepare` learnt in ``folder``; False when the engine cannot."""
        return False

    def load_state(self, folder: Path) -> bool:
        """Restore what :meth:`save_state` stored; False when there is nothing usable."""
        return False

    @abstractmethod
    def prepare(self, source: SourceFootage) -> Iterator[Progress]:
        """Learn/load what the engine needs from the footage (may yield progress)."""

    @abstractmethod
    def begin_segment(self, drive: SegmentDrive) -> None:
        """Receive the whole segment's audio before :meth:`generate` is called for its frames."""

    @abstractmethod
    def generate(self, batch: CropBatch) -> np.ndarray | GeneratedCrops:
        """Return ``(B, S, S, 3)`` uint8 BGR crops whose lower face follows the new audio.

        An engine that replaces a region of its own (or a mouth taken from another picture)
        returns :class:`GeneratedCrops` instead; the pipeline masks, colour-matches and pastes.
        """
