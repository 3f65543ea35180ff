"""Train Wav2Lip's lip-sync expert on prepared clips (the paper's ``color_syncnet_train.py``).

Loss: binary cross-entropy between the cosine similarity of the audio and face embeddings and
the label (1 = window in sync, 0 = audio from another moment of the same clip). Checkpoints
are nanoGPT style (model_args, optimizer, step) and load anywhere ``lipsync_expert.pth`` does.

Usage::

    python -m training.train_syncnet data/clips/*.npz --out runs/expert --preset paper
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from lipcore.models.checkpoints import (
    load_training_checkpoint,
    save_pretrained,
    save_training_checkpoint,
)
from lipcore.models.device import move_optimizer_state, pick_device
from lipcore.models.syncnet import SyncNet, sync_loss
from lipcore.progress import Progress, drain
from training.configs.syncnet import PRESETS, SyncNetTrainConfig
from training.data.datasets import SyncWindows, load_clips, resumed_batches

CHECKPOINT_NAME = "ckpt.pt"
PRETRAINED_DIR = "syncnet"


def iter_train_syncnet(
    config: SyncNetTrainConfig,
    clips: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    resume: bool = False,
) -> Iterator[Progress]:
    """Train an expert (a progress generator; stop iterating to stop training).

    Args:
        config: Training settings.
        clips: Prepared ``.npz`` clips (:mod:`training.data.prepare_clips`).
        out_dir: Where ``ckpt.pt`` and the ``syncnet/`` pretrained folder go.
        resume: Continue from ``out_dir/ckpt.pt`` if it exists.

    Returns:
        The path of the final training checkpoint. ``Progress.chunk_sync`` carries the loss.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    model = SyncNet(config.model)
    opt = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    step = 0
    ckpt = out_dir / CHECKPOINT_NAME
    if resume and ckpt.exists():
        state = load_training_checkpoint(ckpt)
        model.load_state_dict(state.model.state_dict())
        if state.optimizer_state is not None:
            opt.load_state_dict(state.optimizer_state)
        step = state.step
    model.to(device).train()
    move_optimizer_state(opt, device)  # loaded on the CPU; it follows the model
    data = SyncWindows(
        load_clips(clips), length=config.max_steps * config.batch_size, seed=config.seed
    )
    extra = {"train_config": dataclasses.asdict(config), "clips": [str(c) for c in clips]}
    batches = resumed_batches(data, config.batch_size, config.num_workers, step)
    try:
        while step < config.max_steps:
            batch = next(batches, None)
            if batch is None:
                break
            x, mel, y = (t.to(device) for t in batch)
            audio_e, face_e = model(mel, x)
            loss = sync_loss(audio_e, face_e, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if config.checkpoint_interval and step % config.checkpoint_interval == 0:
                save_training_checkpoint(ckpt, model, opt, step, extra)
            if step % config.log_interval == 0 or step == config.max_steps:
                yield Progress(step, config.max_steps, "training expert", chunk_sync=loss.item())
    finally:
        # Whatever stopped the loop, the last state is saved and usable.
        if step:
            save_training_checkpoint(ckpt, model, opt, step, extra)
            save_pretrained(model, out_dir / PRETRAINED_DIR)
    return ckpt


def train_syncnet(config, clips, out_dir, resume: bool = False, show: bool = False) -> Path:
    """Drain :func:`iter_train_syncnet` and return the checkpoint path."""
    return drain(iter_train_syncnet(config, clips, out_dir, resume), show, "expert")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Train a Wav2Lip lip-sync expert.")
    parser.add_argument("clips", nargs="+", type=Path, help="prepared .npz clips")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    parser.add_argument("--steps", type=int, default=None, help="override max_steps")
    parser.add_argument("--device", default=None)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    config = PRESETS[args.preset]
    if args.steps is not None:
        config = dataclasses.replace(config, max_steps=args.steps)
    if args.device is not None:
        config = dataclasses.replace(config, device=args.device)
    print(train_syncnet(config, args.clips, args.out, args.resume, show=True))


if __name__ == "__main__":
    main()
