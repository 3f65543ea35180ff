"""Train Wav2Lip's lip-sync expert on prepared clips (the paper's ``color_syncnet_train.py``).

Loss: binary cross-entropy between the cosine similarity of the audio and face embeddings and
the label (1 = window in sync, 0 = audio from another moment of the same clip). Checkpoints
are nanoGPT style (model_args, optimizer, step), saved by rank 0 from the unwrapped model, and
load anywhere ``lipsync_expert.pth`` does. Beside them: ``metrics.jsonl`` and ``curves.png``
(training loss, held-out loss and in-sync/shifted accuracy when ``--val`` clips are given).

Usage::

    python -m training.train_syncnet data/clips/*.npz --val data/val/*.npz --out runs/expert
    torchrun --nproc_per_node=4 -m training.train_syncnet data/clips/*.npz --out runs/expert
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
    unwrap_model,
)
from lipcore.models.device import move_optimizer_state
from lipcore.models.syncnet import SyncNet, sync_loss
from lipcore.progress import Progress, drain
from training.configs.syncnet import PRESETS, SyncNetTrainConfig
from training.data.datasets import SyncWindows, load_clips
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
from training.eval_syncnet import evaluate_syncnet
from training.plot_curves import plot_run
from training.run_log import RunLog, TrainResult

CHECKPOINT_NAME = "ckpt.pt"
PRETRAINED_DIR = "syncnet"


def iter_train_syncnet(
    config: SyncNetTrainConfig,
    clips: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    resume: bool = False,
    val_clips: Sequence[str | os.PathLike] = (),
    dist: DistContext = SINGLE,
) -> Iterator[Progress]:
    """Train an expert (a progress generator; stop iterating to stop training).

    Args:
        config: Training settings (``batch_size`` per process).
        clips: Prepared ``.npz`` clips (:mod:`training.data.prepare_clips`).
        out_dir: Where ``ckpt.pt``, the ``syncnet/`` pretrained folder, ``metrics.jsonl`` and
            ``curves.png`` go (written by rank 0 only).
        resume: Continue from ``out_dir/ckpt.pt`` if it exists.
        val_clips: Held-out prepared clips scored every ``val_interval`` steps.
        dist: This process's place in a multi-process run (:func:`distributed_context`).

    Returns:
        A :class:`~training.run_log.TrainResult`. ``Progress.chunk_sync`` carries the loss.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = device_for(dist, config.device)
    precision = precision_for(device, config.mixed_precision)
    torch.manual_seed(config.seed)
    bare = SyncNet(config.model)
    opt = torch.optim.Adam(bare.parameters(), lr=config.learning_rate)
    scaler = precision.scaler()
    step = 0
    ckpt = out_dir / CHECKPOINT_NAME
    if resume and ckpt.exists():
        state = load_training_checkpoint(ckpt)
        bare.load_state_dict(state.model.state_dict())
        if state.optimizer_state is not None:
            opt.load_state_dict(state.optimizer_state)
        if state.extra.get("grad_scaler"):
            scaler.load_state_dict(state.extra["grad_scaler"])
        step = state.step
    bare.to(device).train()
    move_optimizer_state(opt, device)  # loaded on the CPU; it follows the model
    model = wrap_model(bare, dist, device)
    log = RunLog(out_dir, step, enabled=dist.is_main)
    held_out = load_clips(val_clips) if val_clips else []
    length = config.max_steps * config.batch_size * dist.world_size
    data = SyncWindows(load_clips(clips), length=length, seed=config.seed)
    extra = {
        "train_config": dataclasses.asdict(config),
        "clips": [str(c) for c in clips],
        "world_size": dist.world_size,
    }
    batches = rank_batches(data, config.batch_size, config.num_workers, step, dist)

    def save() -> None:
        if dist.is_main:
            extra["grad_scaler"] = scaler.state_dict()
            save_training_checkpoint(ckpt, bare, opt, step, extra)

    def validate() -> dict:
        if not held_out or not dist.is_main:
            return {}
        # fp32: BCE is not autocast-safe, and a few hundred windows cost little
        result = evaluate_syncnet(bare, held_out, config.val_windows, device=device)
        return {"val_loss": result.loss, "val_accuracy": result.accuracy}

    running, count, finished = torch.zeros((), device=device), 0, False
    try:
        while step < config.max_steps:
            batch = next(batches, None)
            if batch is None:
                break
            x, mel, y = (t.to(device, non_blocking=True) for t in batch)
            with precision.autocast():
                audio_e, face_e = model(mel, x)
            loss = sync_loss(audio_e.float(), face_e.float(), y)  # BCE stays in fp32
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            step += 1
            running, count = running + loss.detach(), count + 1
            if config.checkpoint_interval and step % config.checkpoint_interval == 0:
                save()
                barrier(dist)
            last = step == config.max_steps
            if step % config.log_interval == 0 or last:
                mean_loss = mean_over_ranks(running / count, dist)
                running, count = torch.zeros((), device=device), 0
                want_val = last or (config.val_interval and step % config.val_interval == 0)
                values = validate() if want_val else {}
                log.add(step, loss=mean_loss, **values)
                yield Progress(step, config.max_steps, "training expert", chunk_sync=mean_loss)
        sync_buffers(bare, dist)
        finished = True
    finally:
        log.close()
        # Whatever stopped the loop, the last state is saved and usable.
        if step:
            save()
            if dist.is_main:
                save_pretrained(bare, out_dir / PRETRAINED_DIR)
                plot_run(out_dir, f"sync expert, {dist.world_size} process(es)")
        if finished:
            barrier(dist)  # a resume on another rank must not read a half-written file
    return TrainResult(ckpt if dist.is_main else None, unwrap_model(model), step, log.rows)


def train_syncnet(
    config, clips, out_dir, resume: bool = False, show: bool = False, val_clips=()
) -> Path:
    """Drain :func:`iter_train_syncnet` in one process and return the checkpoint path."""
    result = drain(iter_train_syncnet(config, clips, out_dir, resume, val_clips), show, "expert")
    return result.checkpoint


def main(argv: list[str] | None = None) -> None:
    """Command line entry point (plain ``python -m`` or under ``torchrun``)."""
    parser = argparse.ArgumentParser(description="Train a Wav2Lip lip-sync expert.")
    parser.add_argument("clips", nargs="+", type=Path, help="prepared .npz clips")
    parser.add_argument("--val", nargs="*", type=Path, default=[], help="held-out .npz clips")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    parser.add_argument("--steps", type=int, default=None, help="override max_steps")
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
        gen = iter_train_syncnet(config, args.clips, args.out, args.resume, args.val, dist)
        result = drain(gen, show=dist.is_main, desc="expert")
    if result.checkpoint is not None:
        print(result.checkpoint)


if __name__ == "__main__":
    main()
