"""Run by ``torchrun --nproc_per_node=2`` from test_ddp.py: train tiny nets on both ranks.

Each rank writes its own final weights (``rank<r>.pt``) beside the run so the test can check
that DDP kept the replicas identical; rank 0 alone writes checkpoints and metrics, as always.
Usage: ``_ddp_worker.py CLIP.npz OUT_DIR``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

from lipcore.progress import drain
from training.configs.generator import PRESETS as GEN_PRESETS
from training.configs.syncnet import PRESETS as SYNC_PRESETS
from training.distributed import distributed_context
from training.train_generator import iter_train_generator
from training.train_syncnet import iter_train_syncnet

STEPS, FIRST = 6, 3


def _keep(result, out: Path, rank: int) -> None:
    torch.save(result.model.state_dict(), out / f"rank{rank}.pt")


def main() -> None:
    clip, out = Path(sys.argv[1]), Path(sys.argv[2])
    torch.set_num_threads(1)
    sync = dataclasses.replace(
        SYNC_PRESETS["smoke"], max_steps=STEPS, val_interval=3, val_windows=8, log_interval=1
    )
    with distributed_context("cpu") as dist:
        assert dist.world_size == 2, dist
        # A straight run, and the same run stopped after FIRST steps then resumed.
        straight = drain(iter_train_syncnet(sync, [clip], out / "straight", val_clips=[clip],
                                            dist=dist), show=False)  # fmt: skip
        _keep(straight, out / "straight", dist.rank)
        first = dataclasses.replace(sync, max_steps=FIRST)
        drain(iter_train_syncnet(first, [clip], out / "split", val_clips=[clip], dist=dist), False)
        resumed = drain(
            iter_train_syncnet(sync, [clip], out / "split", True, [clip], dist=dist), False
        )
        _keep(resumed, out / "split", dist.rank)
        # The generator with its discriminator, against the expert just trained.
        gen = dataclasses.replace(GEN_PRESETS["smoke_gan"], max_steps=3)
        expert = out / "straight" / "ckpt.pt"
        result = drain(
            iter_train_generator(gen, [clip], out / "gen", expert, dist=dist), show=False
        )
        _keep(result, out / "gen", dist.rank)


if __name__ == "__main__":
    main()
