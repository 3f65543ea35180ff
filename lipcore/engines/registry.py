"""Build engines by name (the names used on the command line and in project files)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from lipcore.engines.base import Engine, EngineOptions
from lipcore.errors import LipsyncError

#: Engine names the registry knows.
ENGINE_NAMES = ("retime", "wav2lip")


def create_engine(
    name: str,
    options: EngineOptions | None = None,
    checkpoint: str | os.PathLike | None = None,
    device: str | None = None,
    footage_paths: Sequence[str | os.PathLike] = (),
) -> Engine:
    """Build the engine called ``name``.

    Args:
        name: "wav2lip" (neural, needs ``checkpoint``) or "retime" (footage-based).
        options: Engine options.
        checkpoint: Weights for neural engines (ignored by "retime").
        device: Device override for neural engines ("auto", "cpu", "cuda", "mps").
        footage_paths: Extra footage for engines that learn from footage.

    Returns:
        A new engine; call ``prepare`` before generating.

    Raises:
        LipsyncError: Unknown name, or the engine's module is missing from this installation.
        CheckpointError: A neural engine without usable weights.
    """
    options = options or EngineOptions()
    if name == "wav2lip":
        from lipcore.engines.wav2lip import Wav2LipEngine

        return Wav2LipEngine(options, checkpoint=checkpoint, device=device)
    if name == "retime":
        try:
            from lipcore.engines.retime import RetimeEngine
        except ImportError as exc:
            raise LipsyncError(
                f"the retime engine is not available in this installation ({exc})",
                fix="use --engine wav2lip with a checkpoint, or reinstall lipsync",
            ) from exc
        return RetimeEngine(options, footage_paths=tuple(footage_paths))
    raise LipsyncError(f"unknown engine {name!r}", fix=f"use one of: {', '.join(ENGINE_NAMES)}")
