"""Presets for training the Wav2Lip generator (the paper's ``wav2lip_train.py``, GAN variant)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lipcore.models.wav2lip import Wav2LipConfig, Wav2LipDiscriminatorConfig


@dataclass(frozen=True)
class GeneratorTrainConfig:
    """How to train a generator.

    The loss is ``sync_weight * expert_sync + gan_weight * adversarial + (1 - both) * L1``,
    the paper's weighting.

    Attributes:
        model: Generator shape.
        batch_size: 5-frame windows per step (the paper: 16).
        learning_rate: Adam learning rate (the paper: 1e-4).
        sync_weight: Weight of the frozen expert's sync loss (the paper: 0.03; it starts at 0
            and switches on once the expert's loss on held-out data is below 0.75).
        sync_after_steps: Steps of L1 only before the sync loss switches on.
        gan: Train with the visual-quality discriminator (``wav2lip_gan.pth``); off by default.
        gan_weight: Weight of the adversarial loss when ``gan`` is on (the paper: 0.07).
        disc: Discriminator shape.
        disc_learning_rate: Discriminator Adam learning rate.
        max_steps: Optimiser steps to run.
        checkpoint_interval: Save every this many steps (0 = only at the end).
        log_interval: Report losses every this many steps.
        seed: Seed of sampling and initialisation.
        num_workers: DataLoader worker processes.
        device: "auto", "cpu", "cuda", "mps".
        mixed_precision: "auto" (fp16 autocast + gradient scaling on CUDA, fp32 elsewhere),
            "fp16", "bf16" or "off"; the CPU always trains in fp32.

    ``batch_size`` is per process: under ``torchrun --nproc_per_node=N`` a step uses
    ``N * batch_size`` windows.
    """

    model: Wav2LipConfig = field(default_factory=Wav2LipConfig)
    batch_size: int = 16
    learning_rate: float = 1e-4
    sync_weight: float = 0.03
    sync_after_steps: int = 0
    gan: bool = False
    gan_weight: float = 0.07
    disc: Wav2LipDiscriminatorConfig = field(default_factory=Wav2LipDiscriminatorConfig)
    disc_learning_rate: float = 1e-4
    max_steps: int = 300_000
    checkpoint_interval: int = 10_000
    log_interval: int = 100
    seed: int = 0
    num_workers: int = 0
    device: str = "auto"
    mixed_precision: str = "auto"


PRESETS: dict[str, GeneratorTrainConfig] = {
    "paper": GeneratorTrainConfig(),
    "paper_gan": GeneratorTrainConfig(gan=True),
    # Fine-tune a public generator on a studio's own actor footage.
    "finetune": GeneratorTrainConfig(batch_size=8, learning_rate=2e-5, max_steps=20_000),
    "smoke": GeneratorTrainConfig(
        model=Wav2LipConfig(base_channels=4),
        batch_size=2,
        max_steps=2,
        checkpoint_interval=0,
        log_interval=1,
        device="cpu",
    ),
    "smoke_gan": GeneratorTrainConfig(
        model=Wav2LipConfig(base_channels=4),
        disc=Wav2LipDiscriminatorConfig(base_channels=4),
        gan=True,
        batch_size=2,
        max_steps=2,
        checkpoint_interval=0,
        log_interval=1,
        device="cpu",
    ),
}
