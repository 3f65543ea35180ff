"""Train the Wav2Lip generator against a frozen sync expert (the paper's ``wav2lip_train.py``).

Loss per step: ``sync_weight * expert_sync + gan_weight * adversarial + (1 - both) * L1`` where
``expert_sync`` is the frozen expert's BCE on the generated lower halves (target: in sync), and
the adversarial term (off by default, ``gan=True`` for the ``wav2lip_gan.pth`` recipe) comes
from the visual-quality discriminator, trained alongside. The generator checkpoint
(``ckpt.pt``, nanoGPT style, saved by rank 0 from the unwrapped model) and the ``generator/``
pretrained folder both load in :class:`lipcore.engines.wav2lip.Wav2LipEngine`; the run's
``metrics.jsonl`` and ``curves.png`` sit beside them.

Usage::

    python -m training.train_generator data/clips/*.npz --expert lipsync_expert.pth \
        --out runs/gen --preset finetune --init wav2lip_gan.pth
    torchrun --nproc_per_node=4 -m training.train_generator data/clips/*.npz \
        --expert runs/expert/ckpt.pt --out runs/gen
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
    unwrap_model,
)
from lipcore.models.device import move_optimizer_state
from lipcore.models.syncnet import sync_loss
from lipcore.models.wav2lip import Wav2Lip, Wav2LipDiscriminator
from lipcore.progress import Progress, drain
from training.configs.generator import PRESETS, GeneratorTrainConfig
from training.data.datasets import GeneratorWindows, load_clips
from training.distributed import (
    SINGLE,
    DistContext,
    barrier,
    device_for,
    distributed_context,
    mean_over_ranks,
    precision_for,
    rank_batches,
    sync_buffers,
    wrap_model,
)
from training.plot_curves import plot_run
from training.run_log import RunLog, TrainResult

CHECKPOINT_NAME = "ckpt.pt"
DISC_CHECKPOINT_NAME = "disc_ckpt.pt"
PRETRAINED_DIR = "generator"


def expert_sync_loss(expert, mel: torch.Tensor, generated: torch.Tensor, precision=None):
    """The frozen expert's loss on generated frames (target: in sync).

    Args:
        expert: A :class:`~lipcore.models.syncnet.SyncNet` in eval mode.
        mel: ``(B, 1, 80, 16)`` mel window of each sequence's first frame.
        generated: ``(B, 3, 5, 96, 96)`` generated faces.
        precision: The run's :class:`~training.distributed.Precision` (the expert's forward
            runs under its autocast; the BCE always in fp32).

    Returns:
        Scalar BCE loss.
    """
    lower = generated[:, :, :, generated.size(3) // 2 :]  # (B, 3, 5, 48, 96)
    stacked = torch.cat([lower[:, :, i] for i in range(lower.size(2))], dim=1)  # (B, 15, 48, 96)
    if precision is not None:
        with precision.autocast():
            audio_e, face_e = expert(mel, stacked)
    else:
        audio_e, face_e = expert(mel, stacked)
    ones = torch.ones(len(mel), device=mel.device)
    return sync_loss(audio_e.float(), face_e.float(), ones)


def _bce(pred: torch.Tensor, target: float) -> torch.Tensor:
    pred = pred.float()
    return F.binary_cross_entropy(pred, torch.full_like(pred, target))


def iter_train_generator(
    config: GeneratorTrainConfig,
    clips: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    expert_checkpoint: str | os.PathLike | None,
    init_checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    dist: DistContext = SINGLE,
) -> Iterator[Progress]:
    """Train a generator (a progress generator; stop iterating to stop training).

    Args:
        config: Training settings (``batch_size`` per process).
        clips: Prepared ``.npz`` clips.
        out_dir: Where ``ckpt.pt`` (+ ``disc_ckpt.pt`` with GAN), ``generator/``,
            ``metrics.jsonl`` and ``curves.png`` go (rank 0 only).
        expert_checkpoint: A sync expert (``lipsync_expert.pth`` or one trained with
            :mod:`training.train_syncnet`); required when ``sync_weight`` > 0.
        init_checkpoint: Generator weights to fine-tune from (e.g. ``wav2lip_gan.pth``).
        resume: Continue from ``out_dir/ckpt.pt`` if it exists.
        dist: This process's place in a multi-process run (:func:`distributed_context`).

    Returns:
        A :class:`~training.run_log.TrainResult`. ``Progress.chunk_sync`` carries the expert's
        sync loss of the last step (NaN while it is off).

    Raises:
        CheckpointError: No expert although the sync loss is on, or unusable weights.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = device_for(dist, config.device)
    precision = precision_for(device, config.mixed_precision)
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

    def adam(params, lr):
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))

    bare = Wav2Lip(config.model) if init_checkpoint is None else load_wav2lip(init_checkpoint)
    bare_disc = Wav2LipDiscriminator(config.disc) if config.gan else None
    step = 0
    ckpt, disc_ckpt = out_dir / CHECKPOINT_NAME, out_dir / DISC_CHECKPOINT_NAME
    opt_state = disc_opt_state = scaler_state = None
    if resume and ckpt.exists():
        state = load_training_checkpoint(ckpt)
        bare, opt_state, step = state.model, state.optimizer_state, state.step
        scaler_state = state.extra.get("grad_scaler")
        if bare_disc is not None and disc_ckpt.exists():
            dstate = load_training_checkpoint(disc_ckpt)
            bare_disc, disc_opt_state = dstate.model, dstate.optimizer_state
    bare.to(device).train()
    opt = adam(bare.parameters(), config.learning_rate)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    move_optimizer_state(opt, device)
    model = wrap_model(bare, dist, device)
    disc = disc_opt = None
    if bare_disc is not None:
        bare_disc.to(device).train()
        disc_opt = adam(bare_disc.parameters(), config.disc_learning_rate)
        if disc_opt_state is not None:
            disc_opt.load_state_dict(disc_opt_state)
        move_optimizer_state(disc_opt, device)
        disc = wrap_model(bare_disc, dist, device)
    scaler, disc_scaler = precision.scaler(), precision.scaler()
    if scaler_state:
        scaler.load_state_dict(scaler_state.get("generator", {}))
        if scaler_state.get("disc"):
            disc_scaler.load_state_dict(scaler_state["disc"])

    log = RunLog(out_dir, step, enabled=dist.is_main)
    length = config.max_steps * config.batch_size * dist.world_size
    data = GeneratorWindows(load_clips(clips), length=length, seed=config.seed)
    extra = {
        "train_config": dataclasses.asdict(config),
        "clips": [str(c) for c in clips],
        "world_size": dist.world_size,
    }
    batches = rank_batches(data, config.batch_size, config.num_workers, step, dist)

    def save() -> None:
        if not dist.is_main:
            return
        extra["grad_scaler"] = {"generator": scaler.state_dict(), "disc": disc_scaler.state_dict()}
        save_training_checkpoint(ckpt, bare, opt, step, extra)
        if bare_disc is not None:
            save_training_checkpoint(disc_ckpt, bare_disc, disc_opt, step, extra)

    sums = {"loss": 0.0, "l1": 0.0, "sync": 0.0}
    count, finished = 0, False
    try:
        while step < config.max_steps:
            batch = next(batches, None)
            if batch is None:
                break
            x, indiv_mels, mel, gt = (t.to(device, non_blocking=True) for t in batch)
            with precision.autocast():
                generated = model(indiv_mels, x)  # (B, 3, 5, 96, 96)
            generated = generated.float()
            l1 = F.l1_loss(generated, gt)
            sync_w = config.sync_weight if step >= config.sync_after_steps else 0.0
            sync = (
                expert_sync_loss(expert, mel, generated, precision)
                if expert is not None and sync_w > 0
                else torch.zeros((), device=device)
            )
            gan_w = config.gan_weight if bare_disc is not None else 0.0
            adv = torch.zeros((), device=device)
            if bare_disc is not None:
                # Frozen for the generator's step: gradients reach the generated frames only,
                # and DDP's hooks on the discriminator's weights stay out of this backward.
                bare_disc.requires_grad_(False)
                with precision.autocast():
                    pred = bare_disc(generated)
                bare_disc.requires_grad_(True)
                adv = _bce(pred, 1.0)
            loss = sync_w * sync + gan_w * adv + (1.0 - sync_w - gan_w) * l1
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            if disc is not None:
                # One forward of real and fake together: DDP wants one forward per backward.
                with precision.autocast():
                    both = disc(torch.cat([gt, generated.detach()]))
                real, fake = both.float().chunk(2)
                d_loss = _bce(real, 1.0) + _bce(fake, 0.0)
                disc_opt.zero_grad(set_to_none=True)
                disc_scaler.scale(d_loss).backward()
                disc_scaler.step(disc_opt)
                disc_scaler.update()
            step += 1
            count += 1
            sums["loss"] += float(loss.detach())
            sums["l1"] += float(l1.detach())
            sums["sync"] += float(sync.detach()) if sync_w > 0 else float("nan")
            if config.checkpoint_interval and step % config.checkpoint_interval == 0:
                save()
                barrier(dist)
            if step % config.log_interval == 0 or step == config.max_steps:
                means = {
                    k: mean_over_ranks(torch.tensor(v / count), dist) for k, v in sums.items()
                }
                sums, count = dict.fromkeys(sums, 0.0), 0
                log.add(step, **means)
                yield Progress(
                    step, config.max_steps, "training generator", chunk_sync=means["sync"]
                )
        sync_buffers(bare, dist)
        if bare_disc is not None:
            sync_buffers(bare_disc, dist)
        finished = True
    finally:
        log.close()
        if step:
            save()
            if dist.is_main:
                save_pretrained(bare, out_dir / PRETRAINED_DIR)
                plot_run(out_dir, f"generator, {dist.world_size} process(es)")
        if finished:
            barrier(dist)
    return TrainResult(ckpt if dist.is_main else None, unwrap_model(model), step, log.rows)


def train_generator(
    config, clips, out_dir, expert_checkpoint, init_checkpoint=None, resume=False, show=False
) -> Path:
    """Drain :func:`iter_train_generator` in one process and return the checkpoint path."""
    gen = iter_train_generator(config, clips, out_dir, expert_checkpoint, init_checkpoint, resume)
    return drain(gen, show, "generator").checkpoint


def main(argv: list[str] | None = None) -> None:
    """Command line entry point (plain ``python -m`` or under ``torchrun``)."""
    parser = argparse.ArgumentParser(description="Train a Wav2Lip generator.")
    parser.add_argument("clips", nargs="+", type=Path, help="prepared .npz clips")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--expert", type=Path, default=None, help="sync expert checkpoint")
    parser.add_argument("--init", type=Path, default=None, help="generator to fine-tune")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None, help="per process")
    parser.add_argument("--device", default=None)
    parser.add_argument("--mixed-precision", choices=("auto", "fp16", "bf16", "off"))
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    config = PRESETS[args.preset]
    overrides = {
        "max_steps": args.steps,
        "batch_size": args.batch_size,
        "device": args.device,
        "mixed_precision": args.mixed_precision,
    }
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    with distributed_context(config.device) as dist:
        gen = iter_train_generator(
            config, args.clips, args.out, args.expert, args.init, args.resume, dist
        )
        result = drain(gen, show=dist.is_main, desc="generator")
    if result.checkpoint is not None:
        print(result.checkpoint)


if __name__ == "__main__":
    main()
