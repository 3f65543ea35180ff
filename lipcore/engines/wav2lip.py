"""The Wav2Lip engine: the paper's generator on 96x96 aligned face crops, batched.

Per frame the generator sees the target crop with its lower half zeroed, concatenated with a
reference crop, plus the frame's 16-step mel window, and paints a new lower face. The reference
is either the frame itself (``options.reference == "self"``, as the paper does) or one neutral
frame chosen in :meth:`Wav2LipEngine.prepare`: a closed mouth during silence, so that the
original mouth shape cannot leak through the reference. Frames where the new audio is silent
(``SegmentDrive.voiced`` False) always use the neutral reference, so the mouth rests.

Weights come from the user (``wav2lip.pth`` / ``wav2lip_gan.pth`` or a generator trained with
``training/train_generator.py``); nothing is bundled or downloaded. Runs on cuda > mps > cpu
unless overridden; fp16 autocast on CUDA only, fp32 elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from lipcore.audio.features import frame_rms
from lipcore.engines.base import (
    CropBatch,
    Engine,
    EngineOptions,
    SegmentDrive,
    SourceFootage,
    resize_crops,
)
from lipcore.errors import CheckpointError, FootageError, LipsyncError
from lipcore.progress import Progress

#: Side of the square crop the Wav2Lip generator works on.
WAV2LIP_CROP_SIZE = 96
#: Frames per forward pass by default (about 0.4 GB of activations in fp32 at 36 M params).
DEFAULT_BATCH_FRAMES = 16
#: Fraction of the quietest frames of the footage that count as silence for the neutral pick.
SILENT_QUANTILE = 0.3


def choose_neutral_row(
    landmarks: np.ndarray, rms: np.ndarray, silent_quantile: float = SILENT_QUANTILE
) -> int:
    """Pick the row whose mouth is most at rest: the smallest lip gap among silent frames.

    Args:
        landmarks: ``(N, 478, 2)`` FaceMesh points.
        rms: ``(N,)`` audio level per frame (all zeros = no audio, every frame counts as silent).
        silent_quantile: Frames at or below this quantile of ``rms`` count as silent.

    Returns:
        The chosen row index.
    """
    from lipcore.face.landmarks import lip_gap

    gap = np.asarray(lip_gap(landmarks), np.float64)
    gap = np.where(np.isfinite(gap), gap, np.inf)
    silent = rms <= np.quantile(rms, silent_quantile) if len(rms) else np.ones(len(gap), bool)
    if silent.any() and np.isfinite(gap[silent]).any():
        rows = np.nonzero(silent)[0]
        return int(rows[np.argmin(gap[rows])])
    return int(np.argmin(gap))


class Wav2LipEngine(Engine):
    """Wav2Lip inference behind the :class:`~lipcore.engines.base.Engine` interface.

    Args:
        options: Engine options. ``reference``: "self" or "neutral" (without footage to pick a
            neutral frame from, voiced frames fall back to "self" and silent frames are returned
            untouched). ``mouth_strength`` in [0, 1] blends the generated crop over the input;
            values above 1 are treated as 1 (the generator cannot exaggerate).
        checkpoint: Generator weights (public ``wav2lip*.pth``, a training checkpoint, or a
            ``save_pretrained`` folder).
        device: "auto" / None (cuda > mps > cpu, or ``$LIPSYNC_DEVICE``), "cpu", "cuda", "mps".
        batch_frames: Frames per forward pass.
        fp16: Half precision on CUDA (default on there); ignored elsewhere.

    Raises:
        CheckpointError: No checkpoint given, missing file, or not a Wav2Lip generator.
    """

    name = "wav2lip"
    crop_size = WAV2LIP_CROP_SIZE

    def __init__(
        self,
        options: EngineOptions | None = None,
        checkpoint: str | os.PathLike | None = None,
        device: str | None = None,
        batch_frames: int = DEFAULT_BATCH_FRAMES,
        fp16: bool | None = None,
    ):
        super().__init__(options)
        if self.options.reference not in ("self", "neutral"):
            raise LipsyncError(
                f"unknown reference {self.options.reference!r}", fix="use 'self' or 'neutral'"
            )
        if checkpoint is None:
            raise CheckpointError(
                "the wav2lip engine needs generator weights",
                fix="pass --checkpoint path/to/wav2lip_gan.pth (or wav2lip.pth)",
            )
        from lipcore.models.checkpoints import load_wav2lip
        from lipcore.models.device import pick_device, use_fp16

        self.device = pick_device(device)
        self.fp16 = use_fp16(self.device, fp16)
        self.checkpoint = Path(checkpoint)
        self.model = load_wav2lip(self.checkpoint, device=self.device)
        self.batch_frames = max(1, int(batch_frames))
        self.neutral_crop: np.ndarray | None = None  # (96, 96, 3) uint8 BGR
        self.neutral_frame: int | None = None
        self._drive: SegmentDrive | None = None

    def prepare(self, source: SourceFootage | Sequence[SourceFootage]) -> Iterator[Progress]:
        """Choose the neutral reference frame from the footage (the clip itself first).

        Raises:
            FootageError: ``options.neutral_frame`` is not among the footage's face frames.
        """
        sources = [source] if isinstance(source, SourceFootage) else list(source)
        yield Progress(0, 1, "choosing a neutral frame")
        usable = [s for s in sources if len(s.crops)]
        wanted = self.options.neutral_frame
        if wanted is not None:
            first = sources[0] if sources else None
            rows = [] if first is None else np.nonzero(np.asarray(first.frames) == wanted)[0]
            if len(rows) == 0:
                raise FootageError(
                    f"neutral frame {wanted} has no tracked face",
                    fix="pick a frame where the face is visible, or leave it automatic",
                )
            self._set_neutral(first, int(rows[0]))
        elif usable:
            # Prefer the clip itself: its lighting matches the frames being re-mouthed.
            src = usable[0]
            rms = frame_rms(src.audio_16k, np.asarray(src.frames), src.fps)
            self._set_neutral(src, choose_neutral_row(src.landmarks, rms))
        yield Progress(1, 1, "choosing a neutral frame")

    def _set_neutral(self, source: SourceFootage, row: int) -> None:
        crop = resize_crops(source.crops[row : row + 1], self.crop_size)[0]
        self.neutral_crop = np.ascontiguousarray(crop)
        self.neutral_frame = int(source.frames[row])

    def begin_segment(self, drive: SegmentDrive) -> None:
        """Keep the segment's mel windows and voicing for :meth:`generate`."""
        if drive.mel_windows.ndim != 3 or drive.mel_windows.shape[1:] != (80, 16):
            raise ValueError(f"mel_windows must be (N, 80, 16), got {drive.mel_windows.shape}")
        self._drive = drive

    def generate(self, batch: CropBatch) -> np.ndarray:
        """Return ``(B, 96, 96, 3)`` uint8 BGR crops with a lower face following the audio."""
        if self._drive is None:
            raise RuntimeError("begin_segment() must be called before generate()")
        crops = resize_crops(np.asarray(batch.crops), self.crop_size)
        rows = np.asarray(batch.rows, np.int64)
        mels = self._drive.mel_windows[rows]  # (B, 80, 16)
        voiced = np.asarray(self._drive.voiced, bool)[rows]
        refs = crops.copy()
        if self.neutral_crop is not None:
            use_neutral = ~voiced if self.options.reference == "self" else np.ones_like(voiced)
            refs[use_neutral] = self.neutral_crop
        out = np.empty_like(crops)
        for a in range(0, len(crops), self.batch_frames):
            b = a + self.batch_frames
            out[a:b] = self._forward(crops[a:b], refs[a:b], mels[a:b])
        if self.neutral_crop is None:
            # No footage to pick a resting mouth from: silence keeps the input crop untouched.
            out[~voiced] = crops[~voiced]
        strength = float(np.clip(self.options.mouth_strength, 0.0, 1.0))
        if strength < 1.0:
            mixed = crops.astype(np.float32) + strength * (
                out.astype(np.float32) - crops.astype(np.float32)
            )
            out = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
        return out

    def _forward(self, crops: np.ndarray, refs: np.ndarray, mels: np.ndarray) -> np.ndarray:
        """One generator pass: ``(B, 96, 96, 3)`` crops/refs + ``(B, 80, 16)`` mels -> crops."""
        import torch

        from lipcore.models.device import autocast

        half = self.crop_size // 2
        masked = crops.copy()
        masked[:, half:] = 0  # the paper zeroes the whole lower half of the target
        faces = np.concatenate([masked, refs], axis=3)  # (B, 96, 96, 6)
        face_t = torch.from_numpy(faces).to(self.device).permute(0, 3, 1, 2).float() / 255.0
        mel_t = torch.from_numpy(np.ascontiguousarray(mels, np.float32)).to(self.device)
        mel_t = mel_t.unsqueeze(1)  # (B, 1, 80, 16)
        with torch.inference_mode(), autocast(self.device, self.fp16):
            pred = self.model(mel_t, face_t)  # (B, 3, 96, 96) in [0, 1]
        pred = (pred.float().clamp(0, 1) * 255.0).round().byte()
        return pred.permute(0, 2, 3, 1).cpu().numpy()
