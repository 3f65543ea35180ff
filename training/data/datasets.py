"""Torch datasets of 5-frame windows drawn from prepared clips (Wav2Lip's sampling).

Both datasets are indexable and deterministic: item ``i`` draws its random choices from a
generator seeded with ``(seed, i)``, so a run can be resumed or replayed exactly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from lipcore.audio.mel import mel_windows
from training.data.prepare_clips import ClipData

T = 5  # frames per window (0.2 s at 25 fps)


def load_clips(paths: Sequence[str | os.PathLike]) -> list[ClipData]:
    """Load prepared clips, dropping those too short for two disjoint windows."""
    clips = [ClipData.load(p) for p in paths]
    clips = [c for c in clips if len(c.crops) >= 2 * T]
    if not clips:
        raise ValueError("no prepared clip has the 10 consecutive face frames training needs")
    return clips


class _Windows(Dataset):
    def __init__(self, clips: Sequence[ClipData], length: int, seed: int):
        self.clips = list(clips)
        self.length = int(length)
        self.seed = int(seed)
        self._mel_cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.length

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, index])

    def _pick(self, rng: np.random.Generator) -> tuple[int, ClipData, int, int]:
        """A clip, a window start, and a second start whose window does not overlap it."""
        k = int(rng.integers(len(self.clips)))
        clip = self.clips[k]
        n_win = len(clip.crops) - T + 1
        start = int(rng.integers(n_win))
        choices = [j for j in range(n_win) if abs(j - start) >= T]
        # Short clips: fall back to the farthest window (Wav2Lip only asks for a different one).
        other = int(rng.choice(choices)) if choices else (0 if start > n_win // 2 else n_win - 1)
        return k, clip, start, other

    def _mels(self, k: int, clip: ClipData) -> np.ndarray:
        """``(N, 80, 16)`` mel window of every frame of clip ``k`` (cached)."""
        if k not in self._mel_cache:
            self._mel_cache[k] = mel_windows(clip.mel, clip.frames, clip.fps)
        return self._mel_cache[k]


class SyncWindows(_Windows):
    """Items for the sync expert: lower-half window, mel window, label (1 in sync, 0 not).

    Args:
        clips: Prepared clips.
        length: Items per epoch.
        seed: Sampling seed.
    """

    def __getitem__(self, index: int):
        rng = self._rng(index)
        k, clip, start, other = self._pick(rng)
        in_sync = bool(rng.integers(2))
        window = clip.crops[start : start + T]  # (5, 96, 96, 3)
        x = np.concatenate(list(window), axis=2)[48:]  # (48, 96, 15) lower half, frame-major
        mel = self._mels(k, clip)[start if in_sync else other]
        return (
            torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).float() / 255.0,
            torch.from_numpy(mel).unsqueeze(0),  # (1, 80, 16)
            torch.tensor([1.0 if in_sync else 0.0]),
        )


class GeneratorWindows(_Windows):
    """Items for the generator, as Wav2Lip's ``Dataset``: masked window + reference window.

    Returns ``(x, indiv_mels, mel, gt)``: ``x`` ``(6, 5, 96, 96)`` (target with the lower half
    zeroed, then a non-overlapping reference window of the same clip), ``indiv_mels``
    ``(5, 1, 80, 16)``, ``mel`` ``(1, 80, 16)`` (the window's first frame, for the expert) and
    ``gt`` ``(3, 5, 96, 96)``, all in [0, 1] / normalised mel.
    """

    def __getitem__(self, index: int):
        rng = self._rng(index)
        k, clip, start, other = self._pick(rng)
        mels = self._mels(k, clip)
        window = clip.crops[start : start + T].astype(np.float32) / 255.0  # (5, 96, 96, 3)
        wrong = clip.crops[other : other + T].astype(np.float32) / 255.0
        gt = window.transpose(3, 0, 1, 2)  # (3, 5, 96, 96)
        masked = gt.copy()
        masked[:, :, 48:] = 0.0
        x = np.concatenate([masked, wrong.transpose(3, 0, 1, 2)], axis=0)  # (6, 5, 96, 96)
        return (
            torch.from_numpy(np.ascontiguousarray(x)),
            torch.from_numpy(mels[start : start + T]).unsqueeze(1),  # (5, 1, 80, 16)
            torch.from_numpy(mels[start]).unsqueeze(0),  # (1, 80, 16)
            torch.from_numpy(np.ascontiguousarray(gt)),
        )
