"""Where networks run: CUDA, then Apple MPS, then CPU, unless the user says otherwise.

The override comes from the caller (CLI ``--device``, editor settings) or the ``LIPSYNC_DEVICE``
environment variable. Half precision is used on CUDA only: MPS autocast is still patchy across
PyTorch releases and CPU fp16 is slower than fp32, so both stay in fp32 (diffusers' "usability
over performance" default).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from lipcore.errors import LipsyncError

DEVICE_ENV = "LIPSYNC_DEVICE"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(override: str | torch.device | None = None) -> torch.device:
    """Choose the device networks run on.

    Args:
        override: "auto" / None (cuda > mps > cpu), or an explicit "cpu", "cuda", "cuda:1",
            "mps". None also consults ``$LIPSYNC_DEVICE``.

    Returns:
        The torch device.

    Raises:
        LipsyncError: An explicit device was asked for that this machine does not have.
    """
    if isinstance(override, torch.device):
        override = str(override)
    choice = (override or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, ValueError) as exc:
        raise LipsyncError(
            f"unknown device {choice!r}", fix="use auto, cpu, cuda, cuda:N or mps"
        ) from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise LipsyncError(
                "CUDA was requested but this PyTorch build sees no CUDA GPU",
                fix="use --device cpu, or install a CUDA build of PyTorch",
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise LipsyncError(
                f"{choice} was requested but only {torch.cuda.device_count()} GPU(s) exist",
                fix="pick an existing GPU index",
            )
    elif device.type == "mps" and not _mps_available():
        raise LipsyncError("Apple MPS was requested but is not available", fix="use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise LipsyncError(f"unsupported device {choice!r}", fix="use auto, cpu, cuda or mps")
    return device


def use_fp16(device: torch.device, fp16: bool | None = None) -> bool:
    """Whether to run in half precision: default on for CUDA, never elsewhere."""
    if device.type != "cuda":
        return False
    return True if fp16 is None else bool(fp16)


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    """fp16 autocast on CUDA when ``enabled``; a no-op anywhere else."""
    if enabled and device.type == "cuda":
        with torch.autocast("cuda", dtype=torch.float16):
            yield
    else:
        yield


def describe_device(device: torch.device) -> str:
    """Human label such as ``"cuda:0 (NVIDIA H100 80GB HBM3)"`` or ``"cpu (2 threads)"``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return str(device)


def move_optimizer_state(opt, device) -> None:
    """Move an optimiser's tensors (loaded on the CPU) to ``device``, keeping ``step`` counters.

    Args:
        opt: A ``torch.optim.Optimizer`` whose state was restored from a checkpoint.
        device: Where the model now lives.
    """
    import torch

    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)
