"""Per-actor bundles from real footage: prepare + gate, the actor's meter, a bounded fine-tune."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from lipcore.errors import LipsyncError
from lipcore.models.checkpoints import load_model, save_training_checkpoint
from lipcore.models.syncnet import SyncNet, SyncNetConfig
from lipcore.models.wav2lip import Wav2Lip, Wav2LipConfig
from lipcore.progress import drain
from lipcore.sync.meter import load_meter_model
from training.adapt_actor import AdaptBudget, iter_adapt_actor, read_actor

A07 = "video/A07_frontal_woman_glasses_524p25_retalking5.mp4"
A11 = "video/A11_facecrop_256p30_noaudio_iplap_129.mp4"


@pytest.fixture(scope="module")
def tiny_nets(tmp_path_factory):
    base = tmp_path_factory.mktemp("nets")
    torch.manual_seed(0)
    gen = save_training_checkpoint(base / "gen.pt", Wav2Lip(Wav2LipConfig(base_channels=4)))
    expert = save_training_checkpoint(base / "exp.pt", SyncNet(SyncNetConfig(base_channels=4)))
    return gen, expert


def test_bundle_holds_footage_meter_and_fine_tuned_generator(shared_media, tiny_nets, tmp_path):
    torch.set_num_threads(1)
    gen, expert = tiny_nets
    out = tmp_path / "glasses.lsactor"
    budget = AdaptBudget(steps=2, minutes=2.0)
    bundle = drain(iter_adapt_actor([shared_media / A07], out, gen, expert, budget), False)
    assert bundle.path == out and zipfile.is_zipfile(out)
    manifest, meter = read_actor(out).manifest, bundle.meter
    (footage,) = manifest["footage"]
    assert footage["source"].endswith("A07_frontal_woman_glasses_524p25_retalking5.mp4")
    assert footage["gate"]["action"] == "keep" and footage["frames"] == [0, 121]
    # The actor's meter predicts from the same features as the shipped one, and records its
    # choice; the actor's lip-gap range is a real opening range (closed < open).
    assert meter.feature_spec == load_meter_model().feature_spec
    assert meter.predict(np.zeros((3, len(meter.weights)))).shape == (3,)
    figures = manifest["meter"]
    assert 0 <= figures["lip_gap_closed"] < figures["lip_gap_open"] < 1.0
    # The mouth-shape fit ran (lipcore.actor's, as lipsync adapt): 5 s is too little held-out
    # speech to trust, so the shipped model is kept and the bundle says so
    assert manifest["mouth_shape"]["adapted"] is (bundle.mouth_shape is not None)
    assert manifest["generator"]["steps"] == 2 and manifest["generator"]["stopped_by"] == "steps"
    with zipfile.ZipFile(out) as z:
        z.extractall(tmp_path / "x", [n for n in z.namelist() if n.startswith("generator/")])
    tuned = load_model(tmp_path / "x" / "generator")
    assert type(tuned).__name__ == "Wav2Lip" and tuned.config.base_channels == 4
    before = load_model(gen).state_dict()
    assert any(not torch.equal(before[k], v) for k, v in tuned.state_dict().items())
    json.dumps(manifest)  # plain JSON all the way down


def test_footage_without_audio_is_refused_with_the_reason(shared_media, tmp_path):
    with pytest.raises(LipsyncError, match="no usable footage.*no audio"):
        drain(iter_adapt_actor([shared_media / A11], tmp_path / "x.lsactor"), False)
    assert not (tmp_path / "x.lsactor").exists()


def test_a_file_that_is_not_a_bundle_is_named(tmp_path):
    bad = tmp_path / "bad.lsactor"
    bad.write_bytes(b"not a zip")
    with pytest.raises(LipsyncError, match="not an actor bundle"):
        read_actor(bad)
