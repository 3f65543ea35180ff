"""Mouth-shape training targets of a prepared clip: aligned lip and chin displacements + audio.

A prepared clip (:class:`training.data.prepare_clips.ClipData`, written by
:mod:`training.data.prepare_folder`) holds the main face's FaceMesh landmarks in source-frame
pixels and the clip's in-sync 16 kHz audio (moved by the data gate when it was off). This module
turns it into what the mouth-shape model learns from, exactly as the one-shot engine sees a face:

- every frame's landmarks are aligned to the clip's canonical 256 px crop
  (:mod:`lipcore.render.align`: the engine's crop), then the points of
  :data:`lipcore.engines.mouth_shape.MOUTH_POINTS` are divided by the eye distance and expressed
  as displacements from the clip's own resting mouth (median of its most closed frames): the
  per-speaker normalisation the engine repeats on any face;
- the sync meter's spectral features and voice activity of every frame of the clip, and the
  frames of its bilabials (/p b m/, :func:`lipcore.audio.phones.recognise_phones`), where a
  mouth must close.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipcore.engines.mouth_shape import MOUTH_POINTS
from lipcore.progress import Progress

#: Rows of MOUTH_POINTS of the inner-lip midpoints (13, 14) and the mouth corners (61, 291).
POINT_ROW = {p: i for i, p in enumerate(MOUTH_POINTS)}


@dataclass
class MouthClip:
    """One clip's mouth-shape targets and audio, on the clip's full frame range.

    Attributes:
        name: Clip id.
        speaker: Speaker label (held out together in validation).
        disp: ``(N, 2P)`` displacement from the resting mouth, eye-distance units; NaN rows
            where the clip has no face.
        feats: ``(N, 72)`` spectral features of the clip's own audio.
        voiced: ``(N,)`` frames with speech.
        rest: ``(P, 2)`` the resting mouth, eye-distance units in the aligned crop.
        face: ``(478, 2)`` the resting face scaled into its landmarks' bounding box ``[0, 1]``.
        bilabial_frames: Frames at the middle of each /p b m/ the phone recogniser hears.
    """

    name: str
    speaker: str
    disp: np.ndarray
    feats: np.ndarray
    voiced: np.ndarray
    rest: np.ndarray
    face: np.ndarray
    bilabial_frames: np.ndarray

    @property
    def has_face(self) -> np.ndarray:
        """``(N,)`` frames whose mouth was measured."""
        return np.all(np.isfinite(self.disp), axis=1)


def aligned_points(landmarks: np.ndarray, crop_px: int = 256) -> np.ndarray:
    """Landmarks ``(N, 478, 2)`` of consecutive frames moved into the track's canonical crop.

    The same alignment as :func:`lipcore.render.footage.align_track` (one template fitted over
    the clip, per-frame similarity transforms smoothed over +-2 frames).
    """
    from lipcore.render.align import (
        apply_affine,
        canonical_template,
        frame_to_crop,
        smooth_transforms,
    )

    lm = np.asarray(landmarks, np.float64)
    transforms = smooth_transforms(frame_to_crop(lm, canonical_template(lm, crop_px)), radius=2)
    return np.stack([apply_affine(m, p) for m, p in zip(transforms, lm, strict=True)])


def _eye_distance(lm: np.ndarray) -> np.ndarray:
    return np.linalg.norm(lm[:, 263] - lm[:, 33], axis=1)


def mouth_displacement(lm: np.ndarray, rest_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Displacements ``(N, 2P)`` from the resting mouth (eye-distance units), and the rest."""
    eye = _eye_distance(lm)
    pts = lm[:, list(MOUTH_POINTS)] / eye[:, None, None]
    gap = (lm[:, 14, 1] - lm[:, 13, 1]) / eye
    closed = gap <= np.quantile(gap, rest_share)
    rest = np.median(pts[closed], axis=0)
    return (pts - rest).reshape(len(pts), -1), rest


def resting_face(lm: np.ndarray, rest_share: float) -> np.ndarray:
    """Median face over the most closed frames, scaled into its bounding box (``[0, 1]``)."""
    gap = (lm[:, 14, 1] - lm[:, 13, 1]) / _eye_distance(lm)
    face = np.median(lm[gap <= np.quantile(gap, rest_share)], axis=0)
    lo, hi = face.min(axis=0), face.max(axis=0)
    return (face - lo) / np.maximum(hi - lo, 1e-6)


def smoothed_disp(disp: np.ndarray, radius: int) -> np.ndarray:
    """Centred moving average of ``disp`` (``(N, 2P)``) over ``2 radius + 1`` frames.

    Frames without a face (NaN rows) stay NaN and are left out of their neighbours' averages.
    Landmark jitter is frame-to-frame noise the audio cannot predict; averaging it out of the
    training targets lets the ridge spend its weights on the motion speech drives.
    """
    if radius <= 0:
        return disp
    kernel = np.ones(2 * radius + 1)
    ok = np.all(np.isfinite(disp), axis=1)
    filled = np.where(ok[:, None], disp, 0.0)
    count = np.convolve(ok.astype(np.float64), kernel, mode="same")
    total = np.stack([np.convolve(col, kernel, mode="same") for col in filled.T], axis=1)
    out = total / np.maximum(count, 1.0)[:, None]
    out[~ok] = np.nan
    return out


def bilabial_frames(audio_16k: np.ndarray, fps, n_frames: int) -> np.ndarray:
    """Frames at the middle of each bilabial the phone recogniser hears (cached on disk)."""
    from lipcore.audio.phones import bilabial_times_sec, recognise_phones

    times = bilabial_times_sec(recognise_phones(np.asarray(audio_16k, np.float32)))
    idx = np.floor(times * float(fps)).astype(np.int64)
    return idx[(idx >= 1) & (idx < n_frames - 1)]


def mouth_clip(
    name: str,
    speaker: str,
    crop_landmarks: np.ndarray,
    frames: np.ndarray,
    n_frames: int,
    audio_16k: np.ndarray,
    fps,
    rest_share: float = 0.15,
) -> MouthClip:
    """Build a :class:`MouthClip` from crop-space landmarks of some frames of a clip.

    Args:
        name: Clip id.
        speaker: Speaker label.
        crop_landmarks: ``(M, 478, 2)`` landmarks in the aligned crop.
        frames: ``(M,)`` their frame indices.
        n_frames: Frames of the clip (the audio's length in frames).
        audio_16k: The clip's in-sync audio, sample 0 on frame 0.
        fps: Frame rate.
        rest_share: See :class:`training.configs.mouth_shape.MouthShapeTrainConfig`.
    """
    from lipcore.audio.features import spectral_features
    from lipcore.audio.vad import voiced_frames

    d, rest = mouth_displacement(crop_landmarks, rest_share)
    disp = np.full((n_frames, d.shape[1]), np.nan)
    disp[np.asarray(frames, np.int64)] = d
    return MouthClip(
        name=name,
        speaker=speaker,
        disp=disp,
        feats=spectral_features(audio_16k, fps, n_frames),
        voiced=voiced_frames(audio_16k, fps, n_frames),
        rest=rest,
        face=resting_face(crop_landmarks, rest_share),
        bilabial_frames=bilabial_frames(audio_16k, fps, n_frames),
    )


def load_prepared_clip(
    path: str | os.PathLike, crop_px: int = 256, rest_share: float = 0.15
) -> MouthClip:
    """The mouth-shape targets of one prepared ``.npz``.

    Raises:
        LipsyncError: The clip was prepared without a face track (it has no landmarks).
    """
    from lipcore.errors import LipsyncError
    from training.data.prepare_clips import ClipData

    clip = ClipData.load(path)
    if clip.landmarks is None:
        raise LipsyncError(
            "the prepared clip has no FaceMesh landmarks",
            path,
            fix="prepare it with python -m training.data.prepare_folder (it tracks the face)",
        )
    n_frames = max(int(clip.frames[-1]) + 1, int(len(clip.audio_16k) * float(clip.fps) / 16000))
    lm = aligned_points(clip.landmarks, crop_px)
    return mouth_clip(
        Path(path).stem,
        clip.speaker or Path(path).stem,
        lm,
        clip.frames,
        n_frames,
        clip.audio_16k,
        clip.fps,
        rest_share,
    )


def iter_load_prepared(
    paths: Sequence[str | os.PathLike], crop_px: int = 256, rest_share: float = 0.15
) -> Iterator[Progress]:
    """Load several prepared clips (a progress generator; returns the list of MouthClip)."""
    clips = []
    for k, path in enumerate(paths):
        yield Progress(k, len(paths), f"measuring mouths: {Path(path).stem}")
        clips.append(load_prepared_clip(path, crop_px, rest_share))
    yield Progress(len(paths), len(paths), "mouths measured")
    return clips
