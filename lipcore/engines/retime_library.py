"""The retime engine's library data: per-frame audio features, mouth shapes, audio->shape map.

A library frame is one aligned face crop of footage whose own audio matches its mouth. For each
frame we keep the mouth-shape descriptor measured from its landmarks and the spectral features of
its audio; a ridge regression fitted on the library predicts the (per-speaker z-scored) mouth shape
from the audio, so new speech of any voice or language can be turned into a mouth-shape track.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from lipcore.audio.features import frame_rms, spectral_features
from lipcore.face.landmarks import lip_gap, mouth_shape

SAMPLE_RATE = 16000

#: Mouth-shape columns the engine predicts and matches (indices into ``mouth_shape``), with their
#: weight in the shape distance. The gap dominates: it is what viewers read as "speaking".
SHAPE_COLUMNS = (0, 1, 3, 6, 7)  # gap, width, outer_height, gap_right, gap_left
SHAPE_WEIGHTS = np.array([1.0, 0.45, 0.35, 0.35, 0.35], np.float32)

#: Ridge strengths tried on the held-out split.
RIDGE_ALPHAS = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
#: Extra context (frames) added to the features before the regression. A mouth moves ahead of
#: and behind its sound by a few frames, and which lag matters differs per speaker.
CONTEXT_LAGS_FRAMES = (-2, 0, 2)
#: Neighbouring feature columns averaged together: a few seconds of footage cannot pin down 72
#: free weights, and on four shared clips 8 coarse bands validated better than 24 fine ones.
POOL_COLUMNS = 3
#: Shares of the generic prior in the blend with the footage's own regression (picked on the
#: held-out split together with the ridge strength).
PRIOR_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Held-out r within which a larger prior share wins the choice.
PRIOR_TIE_R = 0.02

#: A mouth is "closed" below this lip gap (per eye distance) and "open" above the second value.
CLOSED_GAP = 0.03
OPEN_GAP = 0.08


def shape_descriptor(landmarks: np.ndarray) -> np.ndarray:
    """Mouth-shape vector the engine matches on, ``(N, len(SHAPE_COLUMNS))`` float32."""
    return mouth_shape(landmarks)[..., list(SHAPE_COLUMNS)].astype(np.float32)


# --- audio features ------------------------------------------------------------------------------


def audio_features(audio_16k: np.ndarray, fps: Fraction, n_frames: int) -> np.ndarray:
    """Per-frame spectral features of 16 kHz audio, ``(n_frames, 72)`` float32.

    The same features as the sync meter (:func:`lipcore.audio.features.spectral_features`): a
    coarse log-mel spectrum referenced to the clip's own 95th percentile, which predicts mouth
    opening far better than loudness does.
    """
    return np.asarray(spectral_features(audio_16k, fps, n_frames), np.float32)


def frame_loudness_db(audio_16k: np.ndarray, fps: Fraction, n_frames: int) -> np.ndarray:
    """RMS level of each frame's audio in dB, ``(n_frames,)`` (-100 for digital silence)."""
    rms = frame_rms(audio_16k, np.arange(n_frames), fps)
    return (10.0 * np.log10(rms.astype(np.float64) ** 2 + 1e-10)).astype(np.float32)


def speech_frames(audio_16k: np.ndarray, fps: Fraction, n_frames: int) -> np.ndarray:
    """Frames whose audio carries speech energy: within 30 dB of the clip's loud frames, ``(N,)``.

    A short hangover (2 frames each side) keeps the closures inside words counted as speech.
    """
    db = frame_loudness_db(audio_16k, fps, n_frames)
    if n_frames == 0:
        return np.zeros(0, bool)
    loud = np.percentile(db, 95)
    voiced = (db > loud - 30.0) & (db > -60.0)
    kernel = np.ones(5, bool)
    return np.convolve(voiced, kernel, mode="same") > 0


# --- the regression ------------------------------------------------------------------------------


@dataclass
class ShapeModel:
    """Ridge map from audio features to per-speaker z-scored mouth shape.

    Attributes:
        x_mean: ``(D',)`` mean of the regression inputs over the footage.
        weights: ``(D' + 1, K)`` ridge weights (last row = bias) to z-scored shapes.
        shape_mean: ``(K,)`` the speaker's mean mouth shape.
        shape_std: ``(K,)`` its standard deviation (the z-scoring).
        alpha: Chosen ridge strength.
        prior_share: Chosen share of the generic prior in the prediction (0 = footage only).
        validation_r: Held-out correlation of the predicted and measured lip gap.
        pred_std: ``(K,)`` std of the in-sample predictions over speech frames; predictions
            on new audio are rescaled by it so the regression's shrinkage does not mute the mouth.
        prior: The project's speaker-independent audio->opening regression (the sync meter's
            weights, fitted on many clips), blended with the footage's own regression; None
            when it is not installed.
        prior_r: Held-out r of the lip gap with that prior alone on this footage (nan without).
    """

    x_mean: np.ndarray
    weights: np.ndarray
    shape_mean: np.ndarray
    shape_std: np.ndarray
    alpha: float
    prior_share: float
    validation_r: float
    pred_std: np.ndarray
    prior: Any = None
    prior_r: float = float("nan")

    def predict_z(self, features: np.ndarray) -> np.ndarray:
        """Predicted z-scored shapes ``(T, K)`` for features ``(T, D)``."""
        x = _design(model_inputs(features, self.prior), self.x_mean)
        return x @ self.weights


def regression_inputs(features: np.ndarray) -> np.ndarray:
    """Coarsen the per-frame features and add temporal context: ``(T, D) -> (T, D')``."""
    f = np.asarray(features, np.float64)
    n, d = f.shape
    usable = d - d % POOL_COLUMNS
    pooled = f[:, :usable].reshape(n, usable // POOL_COLUMNS, POOL_COLUMNS).mean(axis=2)
    cols = [pooled[np.clip(np.arange(n) + lag, 0, max(n - 1, 0))] for lag in CONTEXT_LAGS_FRAMES]
    return np.concatenate(cols, axis=1)


def generic_prior() -> Any:
    """The shipped speaker-independent opening regression (sync meter weights), or None.

    A few seconds of footage pin down a speaker's own audio->mouth map only roughly; the meter's
    weights, fitted leave-one-clip-out on many speakers and languages, carry what holds across
    voices. The engine still works without them (footage-only regression).
    """
    try:
        from lipcore.errors import LipsyncError
        from lipcore.sync.meter import load_meter_model
    except ImportError:
        return None
    try:
        return load_meter_model()
    except LipsyncError:
        return None


def model_inputs(features: np.ndarray, prior: Any) -> np.ndarray:
    """Regression inputs, plus the generic prior's predicted opening as the last column."""
    inputs = regression_inputs(features)
    if prior is None:
        return inputs
    return np.concatenate([inputs, prior.predict(features)[:, None]], axis=1)


def _design(inputs: np.ndarray, x_mean: np.ndarray) -> np.ndarray:
    x = np.asarray(inputs, np.float64) - x_mean
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge solution ``(D + 1, K)`` of design ``x`` (last column = bias, never shrunk)."""
    pen = np.full(x.shape[1], alpha)
    pen[-1] = 0.0
    return np.linalg.solve(x.T @ x + np.diag(pen), x.T @ y)


def _fit_parts(x: np.ndarray, y: np.ndarray, alpha: float, prior: bool):
    """The two parts blended into the weights: the own ridge and the scaled prior.

    With a prior, the column before the bias is the prior's predicted opening: the own ridge
    ignores it, and the prior part is a per-shape least-squares scale of it (one number per
    shape column, so the footage sets only its sign and size, not its spectral pattern).

    Returns:
        ``(w_own, w_prior)``, both ``(D + 1, K)`` on design ``x`` (``w_prior`` None without prior).
    """
    if not prior:
        return _ridge(x, y, alpha), None
    w_own = np.insert(_ridge(np.delete(x, -2, axis=1), y, alpha), -1, 0.0, axis=0)
    w_prior = np.zeros_like(w_own)
    w_prior[-2:] = np.linalg.lstsq(x[:, -2:], y, rcond=None)[0]  # scale and bias
    return w_own, w_prior


def _blend(w_own: np.ndarray, w_prior: np.ndarray | None, share: float) -> np.ndarray:
    return w_own if w_prior is None else (1.0 - share) * w_own + share * w_prior


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


def _fold_ids(n: int, n_folds: int = 4, block: int = 25) -> np.ndarray:
    """Fold of each frame in contiguous blocks (about a second), so neighbours don't leak."""
    return (np.arange(n) // block) % n_folds


def fit_shape_model(
    features: np.ndarray, shapes: np.ndarray, speech: np.ndarray, prior: Any = "default"
) -> ShapeModel:
    """Fit the audio->shape regression, choosing its strength and prior share on held-out blocks.

    Args:
        features: ``(N, D)`` audio features of the library frames.
        shapes: ``(N, K)`` measured mouth shapes.
        speech: ``(N,)`` bool, frames with speech (the validation r is judged on those plus
            their neighbours; silent frames still train the "closed in silence" mapping).
        prior: Generic prior model (see :func:`generic_prior`); "default" loads the shipped one,
            None fits on the footage alone.

    Returns:
        The fitted :class:`ShapeModel`.
    """
    shapes = np.asarray(shapes, np.float64)
    shape_mean = shapes.mean(axis=0)
    shape_std = np.maximum(shapes.std(axis=0), 1e-4)
    y = (shapes - shape_mean) / shape_std
    if isinstance(prior, str):
        prior = generic_prior()
    inputs = model_inputs(features, prior)
    has_prior = prior is not None
    x_mean = inputs.mean(axis=0)
    x = _design(inputs, x_mean)
    folds = _fold_ids(len(x))
    scores = []  # (alpha, share, held-out r of the lip gap)
    shares = PRIOR_SHARES if has_prior else (0.0,)
    for alpha in RIDGE_ALPHAS:
        preds = {share: np.zeros_like(y) for share in shares}
        for f in np.unique(folds):
            tr, te = folds != f, folds == f
            w_own, w_prior = _fit_parts(x[tr], y[tr], alpha, has_prior)
            for share in shares:
                preds[share][te] = x[te] @ _blend(w_own, w_prior, share)
        scores += [(alpha, share, _pearson(preds[share][:, 0], y[:, 0])) for share in shares]
    top_r = max(r for _, _, r in scores)
    # Among near-ties prefer the larger prior share: this split can only test the footage's own
    # voice, while the prior is what carries over to another voice or language
    best_alpha, best_share, best_r = max(
        (s for s in scores if s[2] >= top_r - PRIOR_TIE_R), key=lambda s: (s[1], s[2])
    )
    weights = _blend(*_fit_parts(x, y, best_alpha, has_prior), best_share)
    prior_r = _pearson(inputs[:, -1], y[:, 0]) if prior is not None else float("nan")
    fitted = x @ weights
    sel = speech if speech.sum() >= 10 else np.ones(len(x), bool)
    pred_std = np.maximum(fitted[sel].std(axis=0), 0.05)
    return ShapeModel(
        x_mean=x_mean,
        weights=weights,
        shape_mean=shape_mean,
        shape_std=shape_std,
        alpha=float(best_alpha),
        prior_share=float(best_share),
        validation_r=float(best_r),
        pred_std=pred_std,
        prior=prior,
        prior_r=prior_r,
    )


__all__ = [
    "CLOSED_GAP",
    "OPEN_GAP",
    "SHAPE_COLUMNS",
    "SHAPE_WEIGHTS",
    "ShapeModel",
    "audio_features",
    "fit_shape_model",
    "generic_prior",
    "model_inputs",
    "frame_loudness_db",
    "lip_gap",
    "shape_descriptor",
    "speech_frames",
]
