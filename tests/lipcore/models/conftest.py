"""Tiny seeded networks shared by the model tests (diffusers' ``get_dummy_components``)."""

from __future__ import annotations

import pytest
import torch

from lipcore.models.syncnet import SyncNet, SyncNetConfig
from lipcore.models.syncnet_v2 import SyncNetV2, SyncNetV2Config
from lipcore.models.wav2lip import Wav2Lip, Wav2LipConfig


def _seeded(cls, config, seed):
    torch.manual_seed(seed)
    model = cls(config)
    # Non-trivial BatchNorm statistics, so a load that skipped buffers would be caught.
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.uniform_(-0.1, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
    return model.eval()


@pytest.fixture
def tiny_wav2lip() -> Wav2Lip:
    """A Wav2Lip generator with base width 4 (same keys as the public one)."""
    return _seeded(Wav2Lip, Wav2LipConfig(base_channels=4), 0)


@pytest.fixture
def tiny_syncnet() -> SyncNet:
    """A Wav2Lip expert with base width 4."""
    return _seeded(SyncNet, SyncNetConfig(base_channels=4), 1)


@pytest.fixture
def tiny_syncnet_v2() -> SyncNetV2:
    """joonson's SyncNet with a 64-d embedding (the conv trunk is fixed-width)."""
    return _seeded(SyncNetV2, SyncNetV2Config(embedding_dim=64), 2)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: on a shared, oversubscribed CPU OpenMP spinning makes 2 threads ~8x
    slower than 1 for these tiny nets."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
