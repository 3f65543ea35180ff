"""Presets for training the lip-sync expert (Wav2Lip's ``color_syncnet_train.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lipcore.models.syncnet import SyncNetConfig


@dataclass(frozen=True)
class SyncNetTrainConfig:
    """How to train a sync expert.

    Attributes:
        model: Network shape.
        batch_size: Windows per step (the paper: 64).
        learning_rate: Adam learning rate (the paper: 1e-4).
        max_steps: Optimiser steps to run.
        checkpoint_interval: Save every this many steps (0 = only at the end).
        log_interval: Report the loss every this many steps.
        seed: Seed of sampling and initialisation.
        num_workers: DataLoader worker processes.
        device: "auto", "cpu", "cuda", "mps".
        mixed_precision: "auto" (fp16 autocast + gradient scaling on CUDA, fp32 elsewhere),
            "fp16", "bf16" or "off"; the CPU always trains in fp32.
        val_interval: Score the held-out clips every this many steps (0 = only at the end;
            nothing without held-out clips).
        val_windows: In-sync / shifted windows drawn from the held-out clips per validation.

    ``batch_size`` is per process: under ``torchrun --nproc_per_node=N`` a step uses
    ``N * batch_size`` windows.
    """

    model: SyncNetConfig = field(default_factory=SyncNetConfig)
    batch_size: int = 64
    learning_rate: float = 1e-4
    max_steps: int = 200_000
    checkpoint_interval: int = 10_000
    log_interval: int = 100
    seed: int = 0
    num_workers: int = 0
    device: str = "auto"
    mixed_precision: str = "auto"
    val_interval: int = 1_000
    val_windows: int = 512


PRESETS: dict[str, SyncNetTrainConfig] = {
    # The paper's settings (LRS2, one GPU); trains the full-width expert.
    "paper": SyncNetTrainConfig(),
    # A studio fine-tune of a public expert on its own footage.
    "finetune": SyncNetTrainConfig(batch_size=32, learning_rate=2e-5, max_steps=20_000),
    # Two CPU steps on a tiny net, for the smoke test.
    "smoke": SyncNetTrainConfig(
        model=SyncNetConfig(base_channels=4),
        batch_size=2,
        max_steps=2,
        checkpoint_interval=0,
        log_interval=1,
        device="cpu",
    ),
    # About ten minutes on two busy CPU cores: a narrow expert on a few prepared clips. It
    # shows the whole path (prepare, gate, train, held-out score); it is not a usable expert.
    "cpu_small": SyncNetTrainConfig(
        model=SyncNetConfig(base_channels=4),
        batch_size=16,
        learning_rate=5e-4,
        max_steps=400,
        checkpoint_interval=100,
        log_interval=10,
        val_interval=50,
        val_windows=256,
        device="cpu",
    ),
    # One modern GPU for a few minutes (bench/gpu_training.py): the paper-width expert with a
    # larger learning rate than the paper's 1e-4, so it moves within the device budget.
    "gpu_short": SyncNetTrainConfig(
        batch_size=64,
        learning_rate=3e-4,
        max_steps=3_000,
        checkpoint_interval=1_000,
        log_interval=20,
        val_interval=250,
        val_windows=1_024,
        num_workers=4,
    ),
}
