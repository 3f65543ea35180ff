"""Device choice: cuda > mps > cpu, explicit overrides, clear errors."""

from __future__ import annotations

import pytest
import torch

from lipcore.errors import LipsyncError
from lipcore.models.device import autocast, describe_device, pick_device, use_fp16


def test_auto_and_cpu(monkeypatch):
    monkeypatch.delenv("LIPSYNC_DEVICE", raising=False)
    dev = pick_device()
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert dev.type == expected
    assert pick_device("cpu").type == "cpu"
    assert "cpu" in describe_device(pick_device("cpu"))


def test_env_override(monkeypatch):
    monkeypatch.setenv("LIPSYNC_DEVICE", "cpu")
    assert pick_device(None).type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_requested_without_cuda():
    with pytest.raises(LipsyncError, match="CUDA"):
        pick_device("cuda")


def test_unknown_device():
    with pytest.raises(LipsyncError, match="unknown device"):
        pick_device("tpu-ish")


def test_fp16_only_on_cuda():
    cpu = torch.device("cpu")
    assert use_fp16(cpu) is False and use_fp16(cpu, True) is False
    assert use_fp16(torch.device("cuda")) is True
    assert use_fp16(torch.device("cuda"), False) is False
    with autocast(cpu, True):
        assert torch.ones(2).dtype == torch.float32


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fp16_autocast():
    dev = pick_device("cuda")
    with autocast(dev, True):
        y = torch.nn.Linear(4, 4).to(dev)(torch.rand(2, 4, device=dev))
    assert y.dtype == torch.float16
