"""The networks have the published shapes and state-dict key names."""

from __future__ import annotations

import torch

from lipcore.models.syncnet import SyncNet, sync_probability
from lipcore.models.syncnet_v2 import SyncNetV2
from lipcore.models.wav2lip import Wav2Lip, Wav2LipDiscriminator


def test_wav2lip_public_shape_and_keys():
    model = Wav2Lip()
    sd = model.state_dict()
    # Parameter count of the paper's generator.
    assert sum(p.numel() for p in model.parameters()) == 36_298_035
    for key in (
        "face_encoder_blocks.0.0.conv_block.0.weight",
        "audio_encoder.0.conv_block.1.running_mean",
        "face_decoder_blocks.6.0.conv_block.0.weight",
        "output_block.0.conv_block.0.weight",
        "output_block.1.weight",
    ):
        assert key in sd
    assert tuple(sd["face_encoder_blocks.0.0.conv_block.0.weight"].shape) == (16, 6, 7, 7)
    assert tuple(sd["face_decoder_blocks.3.0.conv_block.0.weight"].shape) == (768, 384, 3, 3)
    assert tuple(sd["output_block.0.conv_block.0.weight"].shape) == (32, 80, 3, 3)


def test_wav2lip_forward_2d_and_temporal(tiny_wav2lip):
    with torch.no_grad():
        out = tiny_wav2lip(torch.rand(2, 1, 80, 16), torch.rand(2, 6, 96, 96))
    assert out.shape == (2, 3, 96, 96)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    seq = tiny_wav2lip(torch.rand(2, 5, 1, 80, 16), torch.rand(2, 6, 5, 96, 96))
    assert seq.shape == (2, 3, 5, 96, 96)


def test_syncnet_expert_shapes():
    model = SyncNet().eval()
    sd = model.state_dict()
    assert tuple(sd["face_encoder.0.conv_block.0.weight"].shape) == (32, 15, 7, 7)
    assert tuple(sd["audio_encoder.13.conv_block.0.weight"].shape) == (512, 512, 1, 1)
    a, v = model(torch.rand(3, 1, 80, 16), torch.rand(3, 15, 48, 96))
    assert a.shape == v.shape == (3, 512)
    assert torch.allclose(a.norm(dim=1), torch.ones(3), atol=1e-5)
    p = sync_probability(a, v)
    assert p.shape == (3,) and bool(((p > 0) & (p < 1)).all())


def test_syncnet_v2_shapes():
    model = SyncNetV2().eval()
    sd = model.state_dict()
    assert tuple(sd["netcnnlip.0.weight"].shape) == (96, 3, 5, 7, 7)
    assert tuple(sd["netcnnaud.18.weight"].shape) == (512, 256, 5, 4)
    assert tuple(sd["netfclip.3.weight"].shape) == (1024, 512)
    a = model.forward_aud(torch.rand(2, 1, 13, 20))
    v = model.forward_lip(torch.rand(2, 3, 5, 224, 224) * 255)
    assert a.shape == v.shape == (2, 1024)


def test_discriminator_on_lower_half():
    d = Wav2LipDiscriminator().eval()
    assert "binary_pred.0.weight" in d.state_dict()
    p = d(torch.rand(2, 3, 5, 96, 96))
    assert p.shape == (10, 1)
