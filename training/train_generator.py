"""Train the Wav2Lip generator against a frozen sync expert (the paper's ``wav2lip_train.py``).

Loss per step: ``sync_weight * expert_sync + gan_weight * adversarial + (1 - both) * L1`` where
``expert_sync`` is the frozen expert's BCE on the generated lower halves (target: in sync), and
the adversarial term (off by default, ``gan=True`` for the ``wav2lip_gan.pth`` recipe) comes
from the visual-quality discriminator, trained alongside. The generator checkpoint
(``ckpt.pt``, nanoGPT style) and the ``generator/`` pretrained folder both load in
:class:`lipcore.engines.wav2lip.Wav2LipEngine`.

Usage::

    python -m training.train_generator data/clips/*.npz --expert lipsync_expert.pth \
        --out runs/gen --preset finetune --init wav2lip_gan.pth
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch.nn import functional as F

from lipcore.errors import CheckpointError
from lipcore.models.checkpoints import (
    load_syncnet,
    load_training_checkpoint,
    load_wav2lip,
    save_pretrained,
    save_training_checkpoint,
)
from lipcore.models.device import move_optimizer_state, pick_device
from lipcore.models.syncnet import sync_loss
from lipcore.models.wav2lip import Wav2Lip, Wav2LipDiscriminator
from lipcore.progress import Progress, drain
from training.configs.generator import PRESETS, GeneratorTrainConfig
from training.data.datasets import GeneratorWindows, load_clips, resumed_batches

CHECKPOINT_NAME = "ckpt.pt"
DISC_CHECKPOINT_NAME = "disc_ckpt.pt"
PRETRAINED_DIR = "generator"


def expert_sync_loss(expert, mel: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
    """The frozen expert's loss on generated frames (target: in sync).

    Args:
        expert: A :class:`~lipcore.models.syncnet.SyncNet` in eval mode.
        mel: ``(B, 1, 80, 16)`` mel window of each sequence's first frame.
        generated: ``(B, 3, 5, 96, 96)`` generated faces.

    Returns:
        Scalar BCE loss.
    """
    lower = generated[:, :, :, generated.size(3) // 2 :]  # (B, 3, 5, 48, 96)
    stacked = torch.cat([lower[:, :, i] for i in range(lower.size(2))], dim=1)  # (B, 15, 48, 96)
    audio_e, face_e = expert(mel, stacked)
    return sync_loss(audio_e, face_e, torch.ones(len(mel), device=mel.device))


def iter_train_generator(
    config: GeneratorTrainConfig,
    clips: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    expert_checkpoint: str | os.PathLike | None,
    init_checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
) -> Iterator[Progress]:
    """Train a generator (a progress generator; stop iterating to stop training).

    Args:
        config: Training settings.
        clips: Prepared ``.npz`` clips.
        out_dir: Where ``ckpt.pt`` (+ ``disc_ckpt.pt`` with GAN) and ``generator/`` go.
        expert_checkpoint: A sync expert (``lipsync_expert.pth`` or one trained with
            :mod:`training.train_syncnet`); required when ``sync_weight`` > 0.
        init_checkpoint: Generator weights to fine-tune from (e.g. ``wav2lip_gan.pth``).
        resume: Continue from ``out_dir/ckpt.pt`` if it exists.

    Returns:
        The path of the final generator checkpoint. ``Progress.chunk_sync`` carries the expert's
        sync loss of the last step (NaN while it is off).

    Raises:
        CheckpointError: No expert although the sync loss is on, or unusable weights.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    if config.sync_weight > 0 and expert_checkpoint is None:
        raise CheckpointError(
            "training the generator needs a sync expert",
            fix="pass --expert lipsync_expert.pth, or train one with training.train_syncnet",
        )
    expert = None
    if expert_checkpoint is not None:
        expert = load_syncnet(expert_checkpoint, device=device)
        for p in expert.parameters():
            p.requires_grad_(False)

    model = Wav2Lip(config.model)
    if init_checkpoint is not None:
        model = load_wav2lip(init_checkpoint)
    opt = torch.optim.Adam(model.parameters(), lr=config.learning_rate, betas=(0.5, 0.999))
    disc = disc_opt = None
    if config.gan:
        disc = Wav2LipDiscriminator(config.disc)
        disc_opt = torch.optim.Adam(
            disc.parameters(), lr=config.disc_learning_rate, betas=(0.5, 0.999)
        )
    step = 0
    ckpt, disc_ckpt = out_dir / CHECKPOINT_NAME, out_dir / DISC_CHECKPOINT_NAME
    if resume and ckpt.exists():
        state = load_training_checkpoint(ckpt)
        model = state.model
        opt = torch.optim.Adam(model.parameters(), lr=config.learning_rate, betas=(0.5, 0.999))
        if state.optimizer_state is not None:
            opt.load_state_dict(state.optimizer_state)
        step = state.step
        if disc is not None and disc_ckpt.exists():
            dstate = load_training_checkpoint(disc_ckpt)
            disc = dstate.model
            disc_opt = torch.optim.Adam(
                disc.parameters(), lr=config.disc_learning_rate, betas=(0.5, 0.999)
            )
            if dstate.optimizer_state is not None:
                disc_opt.load_state_dict(dstate.optimizer_state)
    model.to(device).train()
    move_optimizer_state(opt, device)
    if disc is not None:
        disc.to(device).train()
        move_optimizer_state(disc_opt, device)

    data = GeneratorWindows(
        load_clips(clips), length=config.max_steps * config.batch_size, seed=config.seed
    )
    extra = {"train_config": dataclasses.asdict(config), "clips": [str(c) for c in clips]}
    batches = resumed_batches(data, config.batch_size, config.num_workers, step)
    try:
        while step < config.max_steps:
            batch = next(batches, None)
            if batch is None:
                break
            x, indiv_mels, mel, gt = (t.to(device) for t in batch)
            generated = model(indiv_mels, x)  # (B, 3, 5, 96, 96)
            l1 = F.l1_loss(generated, gt)
            sync_w = config.sync_weight if step >= config.sync_after_steps else 0.0
            sync = (
                expert_sync_loss(expert, mel, generated)
                if expert is not None and sync_w > 0
                else torch.zeros((), device=device)
            )
            gan_w = config.gan_weight if disc is not None else 0.0
            adv = torch.zeros((), device=device)
            if disc is not None:
                pred = disc(generated)
                adv = F.binary_cross_entropy(pred, torch.ones_like(pred))
            loss = sync_w * sync + gan_w * adv + (1.0 - sync_w - gan_w) * l1
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if disc is not None:
                real = disc(gt)
                fake = disc(generated.detach())
                d_loss = F.binary_cross_entropy(
                    real, torch.ones_like(real)
                ) + F.binary_cross_entropy(fake, torch.zeros_like(fake))
                disc_opt.zero_grad(set_to_none=True)
                d_loss.backward()
                disc_opt.step()
            step += 1
            if config.checkpoint_interval and step % config.checkpoint_interval == 0:
                _save(model, opt, disc, disc_opt, step, extra, ckpt, disc_ckpt)
            if step % config.log_interval == 0 or step == config.max_steps:
                value = sync.item() if sync_w > 0 else float("nan")
                yield Progress(step, config.max_steps, "training generator", chunk_sync=value)
    finally:
        if step:
            _save(model, opt, disc, disc_opt, step, extra, ckpt, disc_ckpt)
            save_pretrained(model, out_dir / PRETRAINED_DIR)
    return ckpt


def _save(model, opt, disc, disc_opt, step, extra, ckpt, disc_ckpt) -> None:
    save_training_checkpoint(ckpt, model, opt, step, extra)
    if disc is not None:
        save_training_checkpoint(disc_ckpt, disc, disc_opt, step, extra)


def train_generator(
    config, clips, out_dir, expert_checkpoint, init_checkpoint=None, resume=False, show=False
) -> Path:
    """Drain :func:`iter_train_generator` and return the checkpoint path."""
    gen = iter_train_generator(config, clips, out_dir, expert_checkpoint, init_checkpoint, resume)
    return drain(gen, show, "generator")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Train a Wav2Lip generator.")
    parser.add_argument("clips", nargs="+", type=Path, help="prepared .npz clips")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--expert", type=Path, default=None, help="sync expert checkpoint")
    parser.add_argument("--init", type=Path, default=None, help="generator to fine-tune")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    config = PRESETS[args.preset]
    if args.steps is not None:
        config = dataclasses.replace(config, max_steps=args.steps)
    if args.device is not None:
        config = dataclasses.replace(config, device=args.device)
    path = train_generator(
        config, args.clips, args.out, args.expert, args.init, args.resume, show=True
    )
    print(path)


if __name__ == "__main__":
    main()
