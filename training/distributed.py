"""One place for the multi-process and mixed-precision plumbing both trainers share.

A run started by ``torchrun --nproc_per_node=N -m training.train_syncnet ...`` finds
``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` (and ``MASTER_ADDR``/``MASTER_PORT``) in its environment;
:func:`distributed_context` then opens the process group (NCCL on CUDA, gloo on the CPU), pins
each process to its GPU, and closes the group at the end. A plain ``python -m ...`` run gets a
single-process context and none of this happens.

Conventions every trainer follows:

- ``batch_size`` is per process; a step consumes ``batch_size * world_size`` windows, dealt to
  the ranks as :class:`~torch.utils.data.distributed.DistributedSampler` deals them
  (:func:`rank_batches`), so the ranks never see the same one.
- Only rank 0 logs, writes checkpoints, metrics and plots; the others wait at a barrier so a
  resumed run never reads a half-written file.
- Mixed precision (fp16 autocast + a gradient scaler) is on for CUDA by default and never on the
  CPU, where it is slower and numerically different from the fp32 defaults of lipcore.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from lipcore.errors import LipsyncError
from lipcore.models.device import pick_device


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in a (possibly single-process) run.

    Attributes:
        rank: Global rank (0 = the process that logs and saves).
        world_size: Number of processes.
        local_rank: Rank on this machine (its GPU index under torchrun).
        backend: "nccl", "gloo", or None when no process group is open.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Whether this process logs and writes files."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Whether a process group is open (more than one process)."""
        return self.backend is not None and self.world_size > 1


SINGLE = DistContext()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return default if value in (None, "") else int(value)
    except ValueError as exc:
        raise LipsyncError(
            f"${name}={value!r} is not an integer", fix="start the run with torchrun"
        ) from exc


@contextlib.contextmanager
def distributed_context(device: str = "auto", backend: str | None = None) -> Iterator[DistContext]:
    """Open the process group torchrun (or a test's spawn) describes in the environment.

    Args:
        device: The run's device preference; "cpu" forces the gloo backend.
        backend: Force a backend ("gloo", "nccl"); default NCCL when CUDA is used, else gloo.

    Yields:
        The :class:`DistContext`; :data:`SINGLE` when ``WORLD_SIZE`` is absent or 1.
    """
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        yield SINGLE
        return
    import torch.distributed as dist

    rank, local = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    use_cuda = torch.cuda.is_available() and device not in ("cpu", "mps")
    backend = backend or ("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local)
    dist.init_process_group(backend=backend, rank=rank, world_size=world)
    try:
        yield DistContext(rank, world, local, backend)
    finally:
        dist.destroy_process_group()


def device_for(ctx: DistContext, preference: str) -> torch.device:
    """This process's device: its own GPU under torchrun, else :func:`pick_device`."""
    device = pick_device(preference)
    if device.type == "cuda" and ctx.enabled:
        return torch.device("cuda", ctx.local_rank)
    return device


def wrap_model(model: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    """Wrap ``model`` in DistributedDataParallel when several processes train it.

    DDP broadcasts rank 0's weights at construction, so every rank starts identical, and
    averages gradients in ``backward``. Save with
    :func:`lipcore.models.checkpoints.unwrap_model` (the checkpoint helpers do).
    """
    if not ctx.enabled:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op in a single process)."""
    if ctx.enabled:
        import torch.distributed as dist

        dist.barrier()


def sync_buffers(model: nn.Module, ctx: DistContext) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank.

    DDP broadcasts them at the start of each forward, so after the last step every rank still
    holds the statistics of its own last batch; this makes the replicas equal at the end.
    """
    if not ctx.enabled:
        return
    import torch.distributed as dist

    for buffer in model.buffers():
        dist.broadcast(buffer.data, src=0)


def mean_over_ranks(value: torch.Tensor, ctx: DistContext) -> float:
    """The mean of a scalar over all ranks (what the logged loss of a step is)."""
    value = value.detach().float().reshape(1).clone()
    if ctx.enabled:
        import torch.distributed as dist

        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= ctx.world_size
    return float(value.item())


def rank_batches(
    data: Dataset,
    batch_size: int,
    num_workers: int,
    start_batch: int,
    ctx: DistContext = SINGLE,
) -> Iterator:
    """This rank's full batches of ``data``, in order, starting after ``start_batch`` batches.

    The items are dealt round-robin to the ranks exactly as
    ``DistributedSampler(shuffle=False, drop_last=True)`` deals them (no shuffling: every item
    is already a seeded random draw), so a step of ``N`` ranks consumes ``N * batch_size``
    distinct items. The partition is a lazy ``range`` rather than the sampler itself, which
    builds the whole index list in memory: hundreds of MB for a paper-length run (200k steps
    of 64 windows). Every item is a pure function of its index, so a run resumed at step ``s``
    sees exactly the batches an uninterrupted run would have, without loading the skipped ones.
    """
    usable = len(data) - len(data) % ctx.world_size
    mine = range(ctx.rank, usable, ctx.world_size)
    skip = min(len(mine), start_batch * batch_size)
    loader = DataLoader(
        Subset(data, mine[skip:]),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        drop_last=True,
    )
    return iter(loader)


@dataclass(frozen=True)
class Precision:
    """The run's mixed-precision choice.

    Attributes:
        dtype: Autocast dtype, or None for plain fp32.
        device_type: "cuda" / "cpu" / "mps", for :func:`torch.autocast`.
    """

    dtype: torch.dtype | None
    device_type: str

    @property
    def enabled(self) -> bool:
        """Whether autocast is on."""
        return self.dtype is not None

    def autocast(self):
        """Context manager for forward passes (losses are computed outside it, in fp32)."""
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.enabled)

    def scaler(self) -> torch.amp.GradScaler:
        """A gradient scaler, active only for fp16 (bf16 needs none)."""
        return torch.amp.GradScaler(
            self.device_type if self.device_type == "cuda" else "cpu",
            enabled=self.dtype == torch.float16,
        )


def precision_for(device: torch.device, mode: str) -> Precision:
    """Resolve a config's ``mixed_precision`` ("auto", "fp16", "bf16", "off") for a device.

    "auto" is fp16 on CUDA and off everywhere else; the CPU always trains in fp32.
    """
    if mode not in ("auto", "fp16", "bf16", "off"):
        raise LipsyncError(f"unknown mixed_precision {mode!r}", fix="use auto, fp16, bf16 or off")
    if device.type != "cuda" or mode == "off":
        return Precision(None, device.type)
    return Precision(torch.bfloat16 if mode == "bf16" else torch.float16, "cuda")
