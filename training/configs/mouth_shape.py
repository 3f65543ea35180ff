"""Presets for fitting the one-shot engine's speech -> mouth-shape model (ridge regression)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MouthShapeTrainConfig:
    """How the mouth-shape model is fitted and validated.

    The model is linear (the layout ``lipcore/engines/mouth_shape.py`` loads): ridge regression
    from the sync meter's spectral features, stacked at ``lags``, to the ``n_components``
    principal components of the lip and chin displacement from the speaker's resting mouth. It
    is solved in closed form, so there are no steps: the "curve" of a run is the validation
    figures over the ridge strengths in ``alphas``.

    Attributes:
        alphas: Ridge strengths tried (on standardised features); the one with the best
            held-out lip-gap correlation above chance (own minus foreign speech) is kept.
        n_components: Principal components of the displacement the ridge predicts.
        lags: Feature frames stacked around each frame (a mouth moves ahead of its sound).
        rest_share: Share of a clip's frames (most closed first) whose median is its resting
            mouth, the per-speaker normalisation the engine repeats on any face.
        crop_px: Side of the aligned crop the landmarks are expressed in (the engine's crop).
        nested: Choose the ridge strength inside each held-out fold, from the training
            speakers alone (leave-one-speaker-out within them), so the held-out figure is not
            flattered by picking the strength on the held-out speakers.
        target_smooth_frames: The training targets are averaged over +- this many frames
            (landmark jitter out); the validation always scores against the raw measurements.
        closed_fraction: A mouth counts as closed where its lip gap is below this fraction of
            the way from the clip's measured 10th to its 90th percentile gap.
    """

    alphas: tuple[float, ...] = (30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
    n_components: int = 8
    lags: tuple[int, ...] = (-4, -2, 0, 2, 4)
    rest_share: float = 0.15
    crop_px: int = 256
    nested: bool = True
    target_smooth_frames: int = 0
    closed_fraction: float = 0.25


PRESETS: dict[str, MouthShapeTrainConfig] = {
    # The recipe of the shipped lipcore/data/mouth_shape.json (alpha picked on the held-out
    # figures themselves, as it was).
    "shipped": MouthShapeTrainConfig(nested=False),
    # The default: a context reaching further back (audio up to 6 frames before a frame helps
    # more than audio 4 frames after it), the targets averaged over 7 frames, a finer grid of
    # strengths, and the strength and gain chosen without seeing the held-out speaker.
    "default": MouthShapeTrainConfig(
        alphas=(300.0, 1000.0, 2000.0, 3000.0, 5000.0, 10000.0),
        lags=(-6, -4, -2, 0, 2),
        target_smooth_frames=3,
    ),
    # A tiny folder in the tests: two strengths, few components.
    "smoke": MouthShapeTrainConfig(alphas=(100.0, 1000.0), n_components=4, nested=False),
}
