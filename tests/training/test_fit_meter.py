"""Fitting the built-in meter: ridge recovers a known relation; the script writes weights."""

from __future__ import annotations

import json

import numpy as np

from lipcore.audio.features import FEATURE_DIM, FEATURE_SPEC
from lipcore.sync.meter import load_meter_model
from training.fit_meter import ClipData, fit_ridge, main, validate


def _synthetic_clips(n_clips: int = 4, n: int = 300, seed: int = 0) -> list[ClipData]:
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(FEATURE_DIM)
    clips = []
    for i in range(n_clips):
        feats = (rng.standard_normal((n, FEATURE_DIM)) * 5 - 20).astype(np.float32)
        gap = (feats + 20) / 5 @ w_true + rng.standard_normal(n) * 2.0
        gap = (gap - gap.mean()) / gap.std()
        gap[:5] = np.nan  # face lost for a moment
        clips.append(ClipData(f"S{i}", gap, feats, np.ones(n, bool)))
    return clips


def test_ridge_recovers_a_linear_relation_on_unseen_clips():
    clips = _synthetic_clips()
    model = fit_ridge(clips[:3], alpha=10.0)
    held = clips[3]
    pred = model.predict(held.feats)
    keep = np.isfinite(held.gap_z)
    assert np.corrcoef(pred[keep], held.gap_z[keep])[0, 1] > 0.9
    assert model.feature_spec == FEATURE_SPEC


def test_validation_separates_own_from_foreign_and_finds_lag_zero():
    res = validate(_synthetic_clips(), alpha=10.0)
    assert res["mean_r_own"] > 0.9
    assert abs(res["mean_r_foreign"]) < 0.15
    assert res["own_beats_foreign"] == 1.0
    assert all(v["best_lag_own"] == 0 for v in res["per_clip"].values())


def test_script_fits_real_clips_and_writes_loadable_weights(shared_media, tmp_path, capsys):
    out = tmp_path / "meter.json"
    assert main(["--media", str(shared_media), "--out", str(out), "--clips", "A04", "A07"]) == 0
    data = json.loads(out.read_text())
    assert [c[:3] for c in data["training_clips"]] == ["A04", "A07"]
    assert data["validation"] == "leave-one-clip-out"
    assert set(data["validation_figures"]["per_clip"]) == {"A04", "A07"}
    model = load_meter_model(out)
    assert model.weights.shape == (FEATURE_DIM,)
    assert "chosen alpha" in capsys.readouterr().out
