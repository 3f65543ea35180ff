"""Speech -> mouth shape: the one-shot engine's speaker-independent lip, jaw and chin model.

Trained by this project (``training/fit_mouth_shape.py``) on the in-sync shared clips and shipped
as ``lipcore/data/mouth_shape.json``. The model predicts, per video frame, where the points of
:data:`MOUTH_POINTS` (outer and inner lips, the chin arc) lie relative to the speaker's own
resting mouth, in units of the eye distance in the aligned crop:

- **input**: the spectral features of the sync meter (:func:`lipcore.audio.features.
  spectral_features`, a log-mel spectrum referenced to the clip's own 95th percentile, so the
  voice's level and colour drop out) stacked over :data:`CONTEXT_LAGS` frames: the spectrum, not
  loudness, says which vowel is spoken (SYNC-FACTS.md);
- **output**: a few principal components of the displacement of those points from the speaker's
  resting shape (per-speaker normalisation: the rest is subtracted, the eye distance divided
  out), turned back into ``(P, 2)`` displacements;
- **ridge regression** from the first to the second, its strength chosen leave-one-clip-out; its
  predictions are shrunk toward the mean, so each component is rescaled by the held-out ratio of
  measured to predicted spread (``gain``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError
from lipcore.face.landmarks import LIPS_INNER, LIPS_OUTER

MODEL_FILE = "mouth_shape.json"
#: Chin arc from one jaw angle round the chin to the other (FaceMesh indices).
CHIN_ARC = (172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397)
#: The points the model moves: outer lips, inner lips, chin arc.
MOUTH_POINTS = tuple(LIPS_OUTER) + tuple(LIPS_INNER) + CHIN_ARC
#: Feature frames stacked around each frame (a mouth moves ahead of its sound).
CONTEXT_LAGS = (-4, -2, 0, 2, 4)


def stack_context(features: np.ndarray, lags: tuple[int, ...] = CONTEXT_LAGS) -> np.ndarray:
    """Stack per-frame features at ``lags`` (edges repeat): ``(T, D) -> (T, D * len(lags))``."""
    f = np.asarray(features, np.float64)
    n = len(f)
    idx = np.arange(n)
    return np.concatenate([f[np.clip(idx + lag, 0, max(n - 1, 0))] for lag in lags], axis=1)


@dataclass(frozen=True)
class MouthShapeModel:
    """Ridge map from stacked spectral features to principal mouth-shape components.

    Attributes:
        x_mean: ``(D,)`` mean of the stacked features.
        x_std: ``(D,)`` their standard deviation.
        weights: ``(D + 1, K)`` ridge weights to the component scores (last row = bias).
        gain: ``(K,)`` rescaling of each predicted score (measured / predicted spread).
        components: ``(K, 2P)`` principal directions of the displacement, eye-distance units.
        mean: ``(2P,)`` mean displacement from the resting shape.
        feature_spec: The feature recipe the weights belong to.
        lags: Context lags the features were stacked with.
        meta: Training clips and leave-one-clip-out figures.
    """

    x_mean: np.ndarray
    x_std: np.ndarray
    weights: np.ndarray
    gain: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    feature_spec: dict
    lags: tuple[int, ...] = CONTEXT_LAGS
    meta: dict = field(default_factory=dict)

    def predict_scores(self, features: np.ndarray) -> np.ndarray:
        """Component scores ``(T, K)`` for per-frame spectral features ``(T, 72)``."""
        x = (stack_context(features, self.lags) - self.x_mean) / self.x_std
        x = np.concatenate([x, np.ones((len(x), 1))], axis=1)
        return (x @ self.weights) * self.gain

    def displacements(self, scores: np.ndarray) -> np.ndarray:
        """Point displacements ``(T, P, 2)`` (eye-distance units) from component scores."""
        flat = self.mean + np.asarray(scores, np.float64) @ self.components
        return flat.reshape(len(flat), -1, 2)

    def predict(self, audio_16k: np.ndarray, fps: Fraction, n_frames: int) -> np.ndarray:
        """Displacements ``(n_frames, P, 2)`` of :data:`MOUTH_POINTS` for 16 kHz speech."""
        from lipcore.audio.features import spectral_features

        feats = spectral_features(np.asarray(audio_16k, np.float32), fps, n_frames)
        return self.displacements(self.predict_scores(feats))

    def to_dict(self) -> dict:
        """JSON-serialisable form (the layout of ``mouth_shape.json``)."""
        return {
            "format": "lipsync-mouth-shape",
            "version": 1,
            "feature_spec": self.feature_spec,
            "lags": list(self.lags),
            "points": list(MOUTH_POINTS),
            "x_mean": np.round(self.x_mean, 6).tolist(),
            "x_std": np.round(self.x_std, 6).tolist(),
            "weights": np.round(self.weights, 7).tolist(),
            "gain": np.round(self.gain, 5).tolist(),
            "components": np.round(self.components, 6).tolist(),
            "mean": np.round(self.mean, 6).tolist(),
            **self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict) -> MouthShapeModel:
        """Inverse of :meth:`to_dict`."""
        core = {"format", "version", "feature_spec", "lags", "points", "x_mean", "x_std",
                "weights", "gain", "components", "mean"}  # fmt: skip
        if tuple(data.get("points", ())) != MOUTH_POINTS:
            raise LipsyncError(
                "the mouth-shape model was trained on other landmark points",
                fix="re-run python -m training.fit_mouth_shape",
            )
        return cls(
            x_mean=np.asarray(data["x_mean"], np.float64),
            x_std=np.asarray(data["x_std"], np.float64),
            weights=np.asarray(data["weights"], np.float64),
            gain=np.asarray(data["gain"], np.float64),
            components=np.asarray(data["components"], np.float64),
            mean=np.asarray(data["mean"], np.float64),
            feature_spec=dict(data["feature_spec"]),
            lags=tuple(int(v) for v in data["lags"]),
            meta={k: v for k, v in data.items() if k not in core},
        )


def default_model_path():
    """Where the shipped weights live (``lipcore/data/mouth_shape.json``)."""
    return resources.files("lipcore") / "data" / MODEL_FILE


@lru_cache(maxsize=2)
def load_mouth_shape_model(path: str | None = None) -> MouthShapeModel:
    """Load the mouth-shape model (the shipped one by default).

    Raises:
        LipsyncError: The file is missing or is not a mouth-shape model.
    """
    from lipcore.audio.features import FEATURE_SPEC

    where = default_model_path() if path is None else path
    try:
        data = json.loads((where if path is None else Path(path)).read_text())
    except (OSError, ValueError) as exc:
        raise LipsyncError(
            f"cannot read the mouth-shape model {where} ({exc})",
            fix="reinstall lipsync, or re-run python -m training.fit_mouth_shape",
        ) from exc
    if data.get("format") != "lipsync-mouth-shape":
        raise LipsyncError(f"{where} is not a mouth-shape model", fix="re-run the training")
    model = MouthShapeModel.from_dict(data)
    if model.feature_spec != dict(FEATURE_SPEC):
        raise LipsyncError(
            f"{where} was fitted on other audio features",
            fix="re-run python -m training.fit_mouth_shape",
        )
    return model


__all__ = [
    "CHIN_ARC",
    "CONTEXT_LAGS",
    "MOUTH_POINTS",
    "MouthShapeModel",
    "load_mouth_shape_model",
    "stack_context",
]
