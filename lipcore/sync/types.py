"""The result type every sync meter returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SyncScore:
    """How well the mouth in a frame range follows an audio track.

    Attributes:
        method: Which meter produced the numbers ("builtin-av-correlation", "syncnet-wav2lip",
            "syncnet-v2"); always shown next to them.
        offset_frames: Best audio-to-video lag in frames (positive = audio late).
        confidence: Overall confidence of that lag (meter-specific scale, higher = surer sync).
        per_frame: ``(N,)`` float32 per-frame confidence (NaN where no face).
        frames: ``(N,)`` frame indices of ``per_frame``.
        lse_d: Mean distance at the best offset (SyncNet meters only).
        lse_c: Median-minus-min distance confidence (SyncNet meters only).
        lag_curve: ``(2K+1,)`` score at each lag from -K..K, for plots.
    """

    method: str
    offset_frames: int
    confidence: float
    per_frame: np.ndarray
    frames: np.ndarray
    lse_d: float | None = None
    lse_c: float | None = None
    lag_curve: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def to_dict(self) -> dict:
        """JSON-friendly summary (the per-frame curve as a list, NaN as None)."""
        return {
            "method": self.method,
            "offset_frames": int(self.offset_frames),
            "confidence": float(self.confidence),
            "lse_d": None if self.lse_d is None else float(self.lse_d),
            "lse_c": None if self.lse_c is None else float(self.lse_c),
            "frames": [int(f) for f in self.frames],
            "per_frame": [None if np.isnan(v) else round(float(v), 4) for v in self.per_frame],
        }
