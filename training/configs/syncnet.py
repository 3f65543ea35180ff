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
}
