"""The mouth-shape trainer: from a prepared folder to a model the one-shot engine loads.

A tiny prepared folder of real shared clips, three speakers, one with two recordings (A01 and
its crop A05, one speaker "aoc"), the first three seconds of each: the trainer must hold each
speaker out whole, write the model in the engines' format, and leave readable run files.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lipcore.engines.mouth_shape import load_mouth_shape_model
from lipcore.errors import LipsyncError
from lipcore.progress import drain
from training.configs.mouth_shape import PRESETS
from training.data.prepare_folder import FolderSettings, iter_prepare_folder
from training.fit_mouth_shape import (
    ClipStats,
    fit_stats,
    iter_fit_mouth_shape,
    loso_folds,
    main,
)

CLIPS = {
    "aoc": ("A01", "A05"),
    "glasses": ("A07",),
    "mapman": ("A04",),
}


@pytest.fixture(scope="module")
def prepared(shared_media, tmp_path_factory):
    root = tmp_path_factory.mktemp("speakers")
    for speaker, names in CLIPS.items():
        (root / speaker).mkdir()
        for name in names:
            clip = next((shared_media / "video").glob(f"{name}_*.mp4"))
            (root / speaker / f"{name}.mp4").symlink_to(clip)
    out = tmp_path_factory.mktemp("prepared")
    drain(iter_prepare_folder(root, out, FolderSettings(max_frames=75)), show=False)
    return out


@pytest.fixture(scope="module")
def trained(prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "mouth_shape.json"
    run = out.parent / "run"
    validation = drain(iter_fit_mouth_shape(prepared, out, PRESETS["smoke"], run), False)
    return out, run, validation


def test_each_speaker_is_held_out_whole():
    speakers = ["aoc", "aoc", "glasses", "mapman", "glasses"]
    folds = loso_folds(speakers)
    assert [f[0] for f in folds] == ["aoc", "glasses", "mapman"]
    for held_speaker, train, held in folds:
        assert {speakers[i] for i in held} == {held_speaker}
        assert held_speaker not in {speakers[i] for i in train}
        assert sorted(train + held) == list(range(len(speakers)))
    with pytest.raises(LipsyncError, match="two speakers"):
        loso_folds(["aoc", "aoc"])


def test_smoothed_targets_skip_frames_without_a_face():
    from training.data.mouth_clips import smoothed_disp

    disp = np.array([[0.0], [3.0], [np.nan], [6.0], [9.0]])
    out = smoothed_disp(disp, 1)
    assert np.isnan(out[2, 0])  # no face stays no face
    np.testing.assert_allclose(out[[0, 1, 3, 4], 0], [1.5, 1.5, 7.5, 7.5])
    assert smoothed_disp(disp, 0) is disp


def test_the_fit_from_sums_is_the_pooled_ridge():
    # The shipped recipe fitted on pooled rows: PCA of y, ridge on standardised x with an
    # unpenalised bias. Fitting from per-clip sums must give the same predictions.
    rng = np.random.default_rng(0)
    cfg = replace(PRESETS["smoke"], lags=(0,), n_components=3)
    x = [rng.normal(size=(n, 5)) * [1, 2, 3, 4, 5] + 7 for n in (40, 60)]
    y = [xi @ rng.normal(size=(5, 6)) + rng.normal(size=(len(xi), 6)) for xi in x]
    stats = [
        ClipStats(len(a), a.sum(0), a.T @ a, b.sum(0), b.T @ b, a.T @ b)
        for a, b in zip(x, y, strict=True)
    ]
    model = fit_stats(stats[0] + stats[1], 10.0, cfg)
    xs, ys = np.concatenate(x), np.concatenate(y)
    mean_y = ys.mean(0)
    comps = np.linalg.svd(ys - mean_y, full_matrices=False)[2][:3]
    xz = np.concatenate([(xs - xs.mean(0)) / xs.std(0), np.ones((len(xs), 1))], axis=1)
    pen = np.diag([10.0] * 5 + [0.0])
    w = np.linalg.solve(xz.T @ xz + pen, xz.T @ ((ys - mean_y) @ comps.T))
    expected = mean_y + (xz @ w) @ comps
    ours = model.displacements(model.predict_scores(xs)).reshape(len(xs), -1)
    np.testing.assert_allclose(ours, expected, atol=1e-8)


@pytest.fixture(scope="module")
def still_footage(shared_media, tmp_path_factory):
    """A04's face at 2.2 s as the one-shot engine's footage (a portrait still)."""
    import subprocess

    from lipcore.face.track import iter_track_faces
    from lipcore.render.footage import align_track, iter_source_footage

    png = tmp_path_factory.mktemp("still") / "a04.png"
    clip = next((shared_media / "video").glob("A04_*.mp4"))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "2.2", "-i", str(clip), "-frames:v", "1", str(png)],
        check=True,
    )
    tracks = drain(iter_track_faces(png), show=False)
    alignment = align_track(tracks.tracks[0], size=256)
    return drain(iter_source_footage(png, alignment, None), show=False)


def test_trainer_writes_a_model_the_one_shot_engine_uses(trained, shared_media, still_footage):
    from fractions import Fraction

    from lipcore.audio.vad import voiced_frames
    from lipcore.engines.base import CropBatch, SegmentDrive
    from lipcore.engines.oneshot import OneShotEngine
    from lipcore.media.audio import load_audio

    out, _, validation = trained
    model = load_mouth_shape_model(str(out))
    assert model.components.shape[0] == PRESETS["smoke"].n_components
    assert set(model.meta["training_speakers"]) == set(CLIPS)
    assert len(model.meta["face_template"]) == 478
    # Held-out figures for every speaker, and the shipped model on the same clips beside them
    held = validation["held_out"]["per_speaker"]
    assert set(held) == set(CLIPS)
    assert len(held["aoc"]["clips"]) == 2
    assert all(np.isfinite(r["r_gap_own"]) for r in held.values())
    assert set(validation["shipped_on_same_clips"]["per_speaker"]) == set(CLIPS)
    # The engine drives the face's mouth with it: open and closed frames differ at the mouth
    speech = load_audio(next((shared_media / "audio").glob("B01_*.wav")), 16000)[: 16000 * 4]
    fps, n = Fraction(25), 100
    voiced = voiced_frames(speech, fps, n)
    engine = OneShotEngine(model=model, use_phones=False)
    assert engine.model is model
    drain(engine.prepare(still_footage), show=False)
    engine.begin_segment(SegmentDrive(np.arange(n), np.zeros((n, 80, 16)), voiced, fps, speech))
    gap = engine.plan.gap
    assert gap[voiced].std() > 0.01, "the trained model hardly moves the mouth"
    rows = np.array([int(np.argmax(gap)), int(np.argmin(gap))])
    crops = np.repeat(still_footage.crops[:1], 2, axis=0)
    lms = np.repeat(still_footage.landmarks[:1], 2, axis=0)
    frames = engine.generate(CropBatch(rows, crops, lms))
    lm = still_footage.landmarks[0]
    box = (slice(int(lm[14, 1]) - 12, int(lm[14, 1]) + 18), slice(int(lm[61, 0]), int(lm[291, 0])))
    assert np.abs(frames[0][box].astype(int) - frames[1][box].astype(int)).mean() > 4


def test_run_files_curves_metrics_report(trained):
    _, run, validation = trained
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["alpha"] for r in rows] == list(PRESETS["smoke"].alphas)
    assert all(r["val_loss"] > 0 and r["loss"] > 0 for r in rows)
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (run / "report.txt").read_text()
    assert "held out (LOSO)" in report and "mapman" in report and "MEAN" in report
    saved = json.loads((run / "validation.json").read_text())
    assert saved["chosen_alpha"] == validation["chosen_alpha"]


def test_cli_says_what_is_wrong_with_a_folder_that_is_not_prepared(tmp_path, capsys):
    code = main(["--prepared", str(tmp_path), "--out", str(tmp_path / "m.json"),
                 "--run-dir", str(tmp_path / "run")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "not a prepared folder" in err and "prepare_folder" in err
    assert not (tmp_path / "m.json").exists()
