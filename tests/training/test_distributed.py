"""The precision and process-group choices trainers make, without a GPU or a second process."""

from __future__ import annotations

import pytest
import torch

from lipcore.errors import LipsyncError
from training.distributed import SINGLE, distributed_context, precision_for


def test_mixed_precision_is_fp16_on_cuda_and_never_on_the_cpu():
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert precision_for(cuda, "auto").dtype == torch.float16
    assert precision_for(cuda, "bf16").dtype == torch.bfloat16
    assert not precision_for(cuda, "off").enabled
    for mode in ("auto", "fp16", "bf16"):
        assert not precision_for(cpu, mode).enabled
    # On the CPU the scaler is a pass-through: scaled loss == loss.
    scaler = precision_for(cpu, "auto").scaler()
    assert not scaler.is_enabled()
    assert precision_for(cuda, "bf16").scaler().is_enabled() is False
    with pytest.raises(LipsyncError, match="mixed_precision"):
        precision_for(cpu, "fp8")


def test_a_plain_run_is_a_single_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with distributed_context("cpu") as ctx:
        assert ctx is SINGLE and ctx.is_main and not ctx.enabled
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(LipsyncError, match="WORLD_SIZE"):
        with distributed_context("cpu"):
            pass
