"""Actor files: ``lipsync adapt`` on real footage, the bundle round trip, renders with --actor."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from lipcore.actor import read_actor, write_actor
from lipcore.cli import main
from lipcore.engines.mouth_shape import load_mouth_shape_model
from lipcore.engines.registry import create_engine
from lipcore.errors import LipsyncError
from lipcore.media.decode import iter_frames
from lipcore.sync.meter import load_meter_model

A13 = "video/A13_closeup_woman_512p30_15s_liveportrait_d10.mp4"
A11 = "video/A11_facecrop_256p30_noaudio_iplap_129.mp4"
A07 = "video/A07_frontal_woman_glasses_524p25_retalking5.mp4"


@pytest.fixture(scope="module")
def actor_file(shared_media, tmp_path_factory):
    out = tmp_path_factory.mktemp("actor") / "woman.lsactor"
    rc = main(["adapt", str(shared_media / A13), "--out", str(out), "--minutes", "0.2", "-q"])
    assert rc == 0
    return out


def test_adapt_writes_a_bundle_whose_mouth_shapes_beat_the_shipped_ones_held_out(actor_file):
    bundle = read_actor(actor_file)
    (footage,) = bundle.manifest["footage"]
    assert footage["source"].endswith("A13_closeup_woman_512p30_15s_liveportrait_d10.mp4")
    assert footage["gate"]["keep"] and footage["frames"][1] < 12 * 30  # --minutes 0.2 = 12 s
    shape = bundle.manifest["mouth_shape"]
    assert shape["adapted"] and bundle.mouth_shape is not None
    assert shape["heldout_r_gap_adapted"] > shape["heldout_r_gap_shipped"]
    # The guard: the adapted strength beats the shipped model on every held-out block
    adapted, shipped = shape["heldout_r_gap_blocks_adapted"], shape["heldout_r_gap_blocks_shipped"]
    assert all(a >= s for a, s in zip(adapted, shipped, strict=True))
    generic = load_mouth_shape_model()
    assert not np.allclose(bundle.mouth_shape.weights, generic.weights)
    assert bundle.meter.feature_spec == load_meter_model().feature_spec
    assert [p.name for p in bundle.footage_paths()] == [A13.split("/")[1]]  # retime's extra
    json.dumps(bundle.manifest)


def test_adapted_mouth_moves_as_much_as_the_actor_does(shared_media, actor_file):
    """The range rescale: ridge shrinks the fit's output; the adapted motion is brought back to
    the actor's own lip-gap spread (the shipped model, fitted on other faces, moves less)."""
    import dataclasses

    from lipcore.actor import iter_measure_footage, shape_gap_r
    from lipcore.engines.mouth_shape import MOUTH_POINTS
    from lipcore.progress import drain

    bundle = read_actor(actor_file)
    clip = drain(iter_measure_footage(shared_media / A13), False)
    used = clip.frames <= bundle.manifest["footage"][0]["frames"][1]
    clip = dataclasses.replace(clip, frames=clip.frames[used], landmarks=clip.landmarks[used])
    voiced = clip.voiced()[clip.frames]
    measured = clip.landmarks[:, 14, 1] - clip.landmarks[:, 13, 1]
    eye = np.linalg.norm(clip.landmarks[:, 263] - clip.landmarks[:, 33], axis=1)
    rows = {p: i for i, p in enumerate(MOUTH_POINTS)}
    spread = {}
    for name, model in (("adapted", bundle.mouth_shape), ("shipped", load_mouth_shape_model())):
        disp = model.predict(clip.audio_16k, clip.fps, clip.n_frames)[clip.frames]
        gap = disp[:, rows[14], 1] - disp[:, rows[13], 1]
        spread[name] = np.std(gap[voiced]) / np.std((measured / eye)[voiced])
    assert 0.75 < spread["adapted"] < 1.35
    assert abs(spread["adapted"] - 1) < abs(spread["shipped"] - 1)
    assert shape_gap_r(bundle.mouth_shape, clip) > shape_gap_r(load_mouth_shape_model(), clip)


def test_adapt_keeps_to_its_budget_and_can_be_cancelled(shared_media, actor_file, tmp_path):
    from lipcore.actor import iter_adapt_actor

    out = tmp_path / "budget.lsactor"
    argv = ["adapt", str(shared_media / A13), str(shared_media / A07), "--out", str(out)]
    assert main([*argv, "--budget", "0.001", "--minutes", "0.2", "-q"]) == 0
    manifest = read_actor(out).manifest
    assert [f["source"] for f in manifest["footage"]] == [str(shared_media / A13)]
    assert manifest["unused_over_budget"] == [str(shared_media / A07)]
    assert main([*argv, "--budget", "-3"]) == 2
    # Cancel = stop iterating: nothing is written
    gen = iter_adapt_actor([shared_media / A13], tmp_path / "cancelled.lsactor")
    next(gen), next(gen)
    gen.close()
    assert not (tmp_path / "cancelled.lsactor").exists()


def test_bundle_round_trip(actor_file, tmp_path):
    bundle = read_actor(actor_file)
    again = write_actor(
        tmp_path / "copy.lsactor", bundle.manifest, bundle.meter, bundle.mouth_shape
    )
    copy = read_actor(again)
    assert copy.manifest == bundle.manifest
    np.testing.assert_allclose(copy.mouth_shape.weights, bundle.mouth_shape.weights, atol=1e-6)
    np.testing.assert_allclose(copy.meter.weights, bundle.meter.weights, atol=1e-6)
    # Without an adapted model the bundle says so, and the engines get the shipped one
    plain = read_actor(
        write_actor(tmp_path / "plain.lsactor", bundle.manifest, bundle.meter, None)
    )
    assert plain.mouth_shape is None and plain.shape_model() is load_mouth_shape_model()


def test_render_with_actor_uses_the_adapted_model(shared_media, actor_file, tmp_path):
    engine = create_engine("oneshot", actor=actor_file)
    assert np.array_equal(engine.model.weights, read_actor(actor_file).mouth_shape.weights)
    outs = {}
    for name, extra in (("generic", []), ("actor", ["--actor", str(actor_file)])):
        outs[name] = tmp_path / f"{name}.mp4"
        argv = ["sync", str(shared_media / A13), str(shared_media / A07), "-o", str(outs[name])]
        argv += ["--engine", "oneshot", "--segment", "1-2.5", "-q", *extra]
        assert main(argv) == 0
    a = np.stack([f for _, f in iter_frames(outs["generic"], 30, 75)])
    b = np.stack([f for _, f in iter_frames(outs["actor"], 30, 75)])
    assert a.shape == b.shape
    assert np.abs(a.astype(np.int16) - b.astype(np.int16)).max() > 20  # the mouth moved otherwise


def test_bad_actor_inputs_are_named(shared_media, tmp_path, capsys):
    bad = tmp_path / "bad.lsactor"
    bad.write_bytes(b"not a zip")
    with pytest.raises(LipsyncError, match="not an actor bundle"):
        read_actor(bad)
    with zipfile.ZipFile(tmp_path / "other.lsactor", "w") as z:
        z.writestr("actor.json", json.dumps({"format": "something else"}))
        z.writestr("meter_ridge.json", json.dumps(load_meter_model().to_dict()))
    with pytest.raises(LipsyncError, match="not an actor bundle"):
        read_actor(tmp_path / "other.lsactor")
    out = tmp_path / "o.mp4"
    argv = ["sync", str(shared_media / A13), str(shared_media / A07), "-o", str(out), "-q"]
    assert main([*argv, "--engine", "oneshot", "--actor", str(tmp_path / "missing.lsactor")]) == 2
    assert "actor file not found" in capsys.readouterr().err and not out.exists()
    assert main(["adapt", str(shared_media / A11), "--out", str(tmp_path / "x.lsactor")]) == 2
    assert "no audio" in capsys.readouterr().err
    assert main(["adapt", str(shared_media / A13), "--out", str(tmp_path / "x.zip")]) == 2
    assert ".lsactor" in capsys.readouterr().err
    assert not (tmp_path / "x.lsactor").exists()


def test_retime_gets_the_bundle_footage_as_extra_footage(shared_media, actor_file, tmp_path):
    from lipcore.render.pipeline import extra_footage
    from lipcore.render.request import RenderRequest

    other = RenderRequest(shared_media / A07, shared_media / A07, tmp_path / "o.mp4")
    assert extra_footage(other) == ()
    with_actor = RenderRequest(shared_media / A07, shared_media / A07, tmp_path / "o.mp4",
                               actor=actor_file)  # fmt: skip
    assert [p.name for p in extra_footage(with_actor)] == [A13.split("/")[1]]
    # The clip itself is never its own extra footage
    own = RenderRequest(
        shared_media / A13, shared_media / A07, tmp_path / "o.mp4", actor=actor_file
    )
    assert extra_footage(own) == ()
