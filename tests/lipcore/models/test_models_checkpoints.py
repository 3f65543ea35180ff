"""Checkpoints: public layouts load through the user path, bad files give CheckpointError."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lipcore.errors import CheckpointError
from lipcore.models import checkpoints as ck
from lipcore.models.syncnet_v2 import SyncNetV2


def _w2l_inputs():
    g = torch.Generator().manual_seed(5)
    return torch.rand(2, 1, 80, 16, generator=g), torch.rand(2, 6, 96, 96, generator=g)


@pytest.mark.parametrize(
    "prefix,bare", [(True, False), (False, False), (True, True), (False, True)]
)
def test_wav2lip_public_layouts_roundtrip(tmp_path, tiny_wav2lip, prefix, bare):
    path = ck.save_public_checkpoint(tiny_wav2lip, tmp_path / "wav2lip.pth", prefix, bare)
    raw = torch.load(path, weights_only=True)
    keys = list(raw if bare else raw["state_dict"])
    assert keys[0].startswith("module.") == prefix
    loaded = ck.load_wav2lip(path)
    assert loaded.config == tiny_wav2lip.config
    mel, face = _w2l_inputs()
    with torch.no_grad():
        assert torch.equal(loaded(mel, face), tiny_wav2lip(mel, face))


def test_syncnet_roundtrip_and_autodetect(tmp_path, tiny_syncnet):
    path = ck.save_public_checkpoint(tiny_syncnet, tmp_path / "lipsync_expert.pth")
    loaded = ck.load_model(path)  # no net given: detected from the keys
    assert type(loaded).__name__ == "SyncNet"
    mel, faces = torch.rand(2, 1, 80, 16), torch.rand(2, 15, 48, 96)
    with torch.no_grad():
        a1, v1 = loaded(mel, faces)
        a2, v2 = tiny_syncnet(mel, faces)
    assert torch.equal(a1, a2) and torch.equal(v1, v2)


def test_syncnet_v2_bare_file_roundtrip(tmp_path, tiny_syncnet_v2):
    path = tmp_path / "syncnet_v2.model"
    torch.save(tiny_syncnet_v2.state_dict(), path)  # joonson's layout: a bare state dict
    loaded = ck.load_syncnet_v2(path)
    assert loaded.config.embedding_dim == 64
    mfcc = torch.rand(2, 1, 13, 20)
    with torch.no_grad():
        assert torch.equal(loaded.forward_aud(mfcc), tiny_syncnet_v2.forward_aud(mfcc))


def test_v2_file_without_batch_counters_loads(tmp_path, tiny_syncnet_v2):
    # Files saved by PyTorch < 0.4.1 have no num_batches_tracked buffers.
    sd = {k: v for k, v in tiny_syncnet_v2.state_dict().items() if "num_batches" not in k}
    torch.save(sd, tmp_path / "old.model")
    assert isinstance(ck.load_model(tmp_path / "old.model"), SyncNetV2)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found") as info:
        ck.load_wav2lip(tmp_path / "nowhere.pth")
    assert "nowhere.pth" in str(info.value)


def test_truncated_file(tmp_path, tiny_wav2lip):
    path = ck.save_public_checkpoint(tiny_wav2lip, tmp_path / "wav2lip_gan.pth")
    data = path.read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated") as info:
        ck.load_wav2lip(cut)
    assert "cut.pth" in str(info.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="junk.pth.*truncated or not a PyTorch"):
        ck.load_wav2lip(junk)


class Opaque:
    """A class a pickle would have to import: refused by weights_only loading."""


def test_pickled_objects_refused_numpy_scalars_allowed(tmp_path, tiny_wav2lip):
    sd = tiny_wav2lip.state_dict()
    torch.save({"state_dict": sd, "hparams": Opaque()}, tmp_path / "obj.pth")
    with pytest.raises(CheckpointError, match="Python object .*Opaque"):
        ck.load_wav2lip(tmp_path / "obj.pth")
    # Re-saved community checkpoints keep numpy scalars in their metadata: still loadable.
    torch.save({"state_dict": sd, "global_step": np.int64(9)}, tmp_path / "np.pth")
    assert ck.read_checkpoint(tmp_path / "np.pth").step == 9


def test_wrong_net_names_what_it_looks_like(tmp_path, tiny_syncnet, tiny_wav2lip):
    expert = ck.save_public_checkpoint(tiny_syncnet, tmp_path / "lipsync_expert.pth")
    with pytest.raises(CheckpointError) as info:
        ck.load_wav2lip(expert)
    text = str(info.value)
    assert "lipsync_expert.pth" in text and "looks like a Wav2Lip lip-sync expert" in text
    gen = ck.save_public_checkpoint(tiny_wav2lip, tmp_path / "wav2lip.pth")
    with pytest.raises(CheckpointError, match="looks like a Wav2Lip generator"):
        ck.load_syncnet(gen)


def test_mismatched_keys_and_shapes_are_listed(tmp_path, tiny_wav2lip):
    sd = {f"module.{k}": v for k, v in tiny_wav2lip.state_dict().items()}
    del sd["module.output_block.1.weight"]
    sd["module.extra.weight"] = torch.zeros(1)
    sd["module.output_block.1.bias"] = torch.zeros(4)
    path = tmp_path / "edited.pth"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(CheckpointError) as info:
        ck.load_wav2lip(path)
    text = str(info.value)
    assert "edited.pth" in text
    assert "1 missing keys: output_block.1.weight" in text
    assert "1 unexpected keys: extra.weight" in text
    assert "output_block.1.bias (file (4,) vs network (3,))" in text


def test_not_weights(tmp_path):
    path = tmp_path / "list.pth"
    torch.save({"epoch": 3, "note": "hello"}, path)
    with pytest.raises(CheckpointError, match="not network weights"):
        ck.load_model(path)


def test_save_pretrained_roundtrip(tmp_path, tiny_wav2lip):
    weights = ck.save_pretrained(tiny_wav2lip, tmp_path / "gen")
    meta = json.loads((tmp_path / "gen" / "config.json").read_text())
    assert meta["net"] == "wav2lip" and meta["config"]["base_channels"] == 4
    expected = "model.safetensors" if ck.safetensors_available() else "model.pt"
    assert weights.name == expected == meta["weights"]
    for loaded in (ck.from_pretrained(tmp_path / "gen"), ck.load_wav2lip(tmp_path / "gen")):
        mel, face = _w2l_inputs()
        with torch.no_grad():
            assert torch.equal(loaded(mel, face), tiny_wav2lip(mel, face))
    with pytest.raises(CheckpointError, match="not a Wav2Lip lip-sync expert"):
        ck.load_syncnet(tmp_path / "gen")


def test_training_checkpoint_roundtrip(tmp_path, tiny_syncnet):
    model = torch.nn.DataParallel(tiny_syncnet)  # saved from the unwrapped model
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss = sum(x.sum() for x in model(torch.rand(2, 1, 80, 16), torch.rand(2, 15, 48, 96)))
    loss.backward()
    opt.step()
    path = ck.save_training_checkpoint(tmp_path / "ckpt.pt", model, opt, step=7, extra={"a": 1})
    raw = torch.load(path, weights_only=True)
    assert set(raw) >= {"model_args", "model", "optimizer", "step"}
    assert not any(k.startswith("module.") for k in raw["model"])
    state = ck.load_training_checkpoint(path)
    assert state.step == 7 and state.extra == {"a": 1}
    opt2 = torch.optim.Adam(state.model.parameters(), lr=1e-4)
    opt2.load_state_dict(state.optimizer_state)
    # The same file works on the user path too.
    assert type(ck.load_syncnet(path)).__name__ == "SyncNet"
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        ck.load_training_checkpoint(ck.save_public_checkpoint(tiny_syncnet, tmp_path / "p.pth"))
