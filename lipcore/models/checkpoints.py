"""Loading and saving network weights: public checkpoints, this project's own format, training.

Three on-disk layouts are understood:

* **Public checkpoints** (``wav2lip.pth``, ``wav2lip_gan.pth``, ``lipsync_expert.pth``,
  joonson's ``syncnet_v2.model``): a dict holding ``state_dict`` (keys with or without the
  ``module.`` prefix DataParallel adds) or a bare state dict.
* **Pretrained folders** written by :func:`save_pretrained`: ``config.json`` (net name + config
  dataclass) beside ``model.safetensors`` when the ``safetensors`` package is installed, else
  ``model.pt`` (a torch state dict).
* **Training checkpoints** (nanoGPT style): ``{"net", "model_args", "model", "optimizer",
  "step", "extra"}``, always saved from the unwrapped model.

Every load is strict. Files are read with ``torch.load(weights_only=True)`` on the CPU, so a
checkpoint cannot run code; anything wrong (missing file, truncated file, a file for another
network, keys or shapes that differ) raises :class:`lipcore.errors.CheckpointError` naming the
file and the difference.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lipcore.errors import CheckpointError
from lipcore.models.device import pick_device
from lipcore.models.syncnet import SyncNet, SyncNetConfig
from lipcore.models.syncnet_v2 import SyncNetV2, SyncNetV2Config
from lipcore.models.wav2lip import (
    Wav2Lip,
    Wav2LipConfig,
    Wav2LipDiscriminator,
    Wav2LipDiscriminatorConfig,
)

CONFIG_NAME = "config.json"
SAFETENSORS_NAME = "model.safetensors"
TORCH_WEIGHTS_NAME = "model.pt"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class NetSpec:
    """How to build one kind of network and recognise its weights.

    Attributes:
        name: Short name ("wav2lip", "syncnet", "syncnet_v2", "wav2lip_disc").
        label: Human name used in error messages.
        model_cls: The ``nn.Module`` class.
        config_cls: Its config dataclass.
        width_key: State-dict key whose first dimension gives the config's width, or None.
        width_field: Config field set from ``width_key``.
    """

    name: str
    label: str
    model_cls: type[nn.Module]
    config_cls: type
    width_key: str | None
    width_field: str | None


NETS: dict[str, NetSpec] = {
    "wav2lip": NetSpec(
        "wav2lip",
        "Wav2Lip generator (wav2lip.pth / wav2lip_gan.pth)",
        Wav2Lip,
        Wav2LipConfig,
        "face_encoder_blocks.0.0.conv_block.0.weight",
        "base_channels",
    ),
    "syncnet": NetSpec(
        "syncnet",
        "Wav2Lip lip-sync expert (lipsync_expert.pth)",
        SyncNet,
        SyncNetConfig,
        "face_encoder.0.conv_block.0.weight",
        "base_channels",
    ),
    "syncnet_v2": NetSpec(
        "syncnet_v2",
        "SyncNet v2 (joonson syncnet_v2.model)",
        SyncNetV2,
        SyncNetV2Config,
        "netfcaud.3.weight",
        "embedding_dim",
    ),
    "wav2lip_disc": NetSpec(
        "wav2lip_disc",
        "Wav2Lip visual-quality discriminator (visual_quality_disc.pth)",
        Wav2LipDiscriminator,
        Wav2LipDiscriminatorConfig,
        "face_encoder_blocks.0.0.conv_block.0.weight",
        "base_channels",
    ),
}


def _spec(net: str) -> NetSpec:
    if net not in NETS:
        raise ValueError(f"unknown network {net!r}; known: {', '.join(NETS)}")
    return NETS[net]


def net_name_of(model: nn.Module) -> str:
    """Registry name of a model instance (unwrapping DataParallel / torch.compile)."""
    model = unwrap_model(model)
    name = getattr(model, "net_name", None)
    if name not in NETS:
        raise ValueError(f"{type(model).__name__} is not one of this project's networks")
    return name


def unwrap_model(model: nn.Module) -> nn.Module:
    """The bare network inside DataParallel / DistributedDataParallel / ``torch.compile``."""
    while True:
        if hasattr(model, "_orig_mod"):
            model = model._orig_mod
        elif isinstance(model, nn.DataParallel | nn.parallel.DistributedDataParallel):
            model = model.module
        else:
            return model


def identify_net(state_dict: dict[str, Any]) -> str | None:
    """Guess which network a state dict belongs to from its key families.

    Args:
        state_dict: Keys already stripped of any ``module.`` prefix.

    Returns:
        A name from :data:`NETS`, or None when the keys fit none of them.
    """
    roots = {k.split(".", 1)[0] for k in state_dict}
    if "netcnnlip" in roots or "netcnnaud" in roots:
        return "syncnet_v2"
    if "face_decoder_blocks" in roots or "output_block" in roots:
        return "wav2lip"
    if "binary_pred" in roots:
        return "wav2lip_disc"
    if "face_encoder" in roots:
        return "syncnet"
    if "face_encoder_blocks" in roots:
        return "wav2lip"
    return None


def strip_module_prefix(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Drop the ``module.`` prefix DataParallel puts on every key (and torch.compile's)."""
    out = {}
    for key, value in state_dict.items():
        for prefix in ("module.", "_orig_mod."):
            if key.startswith(prefix):
                key = key[len(prefix) :]
        out[key] = value
    return out


def _numpy_safe_globals() -> list:
    """numpy scalar/dtype globals that community checkpoints carry in their metadata.

    Some re-saved Wav2Lip checkpoints store ``global_step`` as a numpy scalar; these classes
    only rebuild plain numbers, so allowing them keeps ``weights_only`` loading safe.
    """
    import numpy as np

    scalar = np._core.multiarray.scalar
    out: list = [np.dtype, (scalar, "numpy.core.multiarray.scalar"), scalar]
    for name in ("Int64DType", "Int32DType", "Float64DType", "Float32DType", "BoolDType"):
        cls = getattr(np.dtypes, name, None)
        if cls is not None:
            out.append(cls)
    return out


def _read(path: Path) -> Any:
    """``torch.load`` a file safely, turning every failure into a CheckpointError."""
    if not path.exists():
        raise CheckpointError(
            "checkpoint file not found", path, fix="check the path in --checkpoint / settings"
        )
    if path.is_dir():
        raise CheckpointError(
            f"is a folder without {CONFIG_NAME}", path, fix="point to the .pth file itself"
        )
    if path.stat().st_size == 0:
        raise CheckpointError("checkpoint file is empty", path, fix="download or copy it again")
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        # torch < 2.6 says "Unsupported global: GLOBAL x", later ones "unsupported GLOBAL x".
        unsupported = re.search(r"[Uu]nsupported (?:global: )?GLOBAL (\S+)", text)
        if unsupported:
            raise CheckpointError(
                f"contains a Python object ({unsupported.group(1)}) besides tensors, which is "
                "not loaded for safety",
                path,
                fix="re-save it as a plain state dict with torch.save(model.state_dict(), ...)",
            ) from exc
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", text)
        reason = detail.group(1).strip() if detail else text.splitlines()[0]
        with open(path, "rb") as fh:
            is_pickle = fh.read(1) == b"\x80"  # the PROTO opcode of every modern pickle
        if not is_pickle:
            raise CheckpointError(
                f"is truncated or not a PyTorch checkpoint ({reason[:160]})",
                path,
                fix="download or copy the file again",
            ) from exc
        # A whole pickle the safe loader refuses is about what it holds, not its length (a
        # cut-off checkpoint fails in the zip reader, below). It may run code: never loaded.
        raise CheckpointError(
            f"holds data the safe checkpoint loader refuses ({reason[:160]}), so it is not loaded",
            path,
            fix="use a checkpoint saved with torch.save(model.state_dict(), ...), or download "
            "the file again if it came from a release page",
        ) from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        detail = str(exc).splitlines()[0].split(". ")[0][:160] if str(exc) else ""
        raise CheckpointError(
            f"is truncated or not a PyTorch checkpoint ({type(exc).__name__}: {detail})",
            path,
            fix="download or copy the file again",
        ) from exc


@dataclass
class CheckpointContents:
    """What a checkpoint file holds once parsed.

    Attributes:
        state_dict: Weights, keys without any ``module.`` prefix.
        layout: "public", "bare", "training" or "pretrained".
        net: Network name recorded in the file (training / pretrained layouts) or guessed.
        model_args: Config fields recorded in the file, or None (public layouts).
        optimizer: Optimizer state (training layout only).
        step: Training step (training layout: ``step``; public: ``global_step``), or None.
        extra: Anything else the training run stored (JSON-like).
    """

    state_dict: dict[str, torch.Tensor]
    layout: str
    net: str | None
    model_args: dict | None = None
    optimizer: dict | None = None
    step: int | None = None
    extra: dict | None = None


def _is_state_dict(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and bool(obj)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    )


def read_checkpoint(path: str | os.PathLike) -> CheckpointContents:
    """Parse a checkpoint file in any supported layout, without building a network.

    Args:
        path: A ``.pth`` / ``.pt`` / ``.model`` file.

    Returns:
        The parsed contents.

    Raises:
        CheckpointError: Missing, unreadable or of no known layout.
    """
    path = Path(path)
    obj = _read(path)
    if isinstance(obj, dict) and "model_args" in obj and "model" in obj:
        if not _is_state_dict(obj["model"]):
            raise CheckpointError("training checkpoint holds no weights under 'model'", path)
        sd = strip_module_prefix(obj["model"])
        step = obj.get("step")
        return CheckpointContents(
            sd,
            "training",
            obj.get("net") or identify_net(sd),
            dict(obj["model_args"]),
            obj.get("optimizer"),
            None if step is None else int(step),
            obj.get("extra"),
        )
    if isinstance(obj, dict) and "state_dict" in obj:
        if not _is_state_dict(obj["state_dict"]):
            raise CheckpointError("the 'state_dict' entry holds no weights", path)
        sd = strip_module_prefix(obj["state_dict"])
        step = obj.get("global_step")
        return CheckpointContents(
            sd, "public", identify_net(sd), step=None if step is None else int(step)
        )
    if _is_state_dict(obj):
        sd = strip_module_prefix(obj)
        return CheckpointContents(sd, "bare", identify_net(sd))
    kind = type(obj).__name__
    keys = ", ".join(list(map(str, obj))[:6]) if isinstance(obj, dict) else ""
    raise CheckpointError(
        f"holds a {kind}{' with keys ' + keys if keys else ''}, not network weights",
        path,
        fix="pass a wav2lip.pth / wav2lip_gan.pth / lipsync_expert.pth / syncnet_v2.model file",
    )


def _config_for(spec: NetSpec, contents: CheckpointContents, path: Path):
    """Config from the file's ``model_args``, else inferred from the weights' widths."""
    if contents.model_args is not None:
        known = {f.name for f in dataclasses.fields(spec.config_cls)}
        args = {k: v for k, v in contents.model_args.items() if k in known}
        try:
            return spec.config_cls(**args)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"has an unusable model config: {exc}", path) from exc
    weight = contents.state_dict.get(spec.width_key) if spec.width_key else None
    if weight is not None and weight.dim() >= 1:
        try:
            return spec.config_cls(**{spec.width_field: int(weight.shape[0])})
        except ValueError:
            pass
    return spec.config_cls()


def _examples(items: list[str], n: int = 3) -> str:
    shown = ", ".join(items[:n])
    return shown + (f", ... ({len(items) - n} more)" if len(items) > n else "")


def load_state_dict_strict(
    model: nn.Module, state_dict: dict[str, torch.Tensor], path: Path, label: str
) -> None:
    """Load weights strictly, with an error that lists what differs.

    BatchNorm ``num_batches_tracked`` counters are the one thing tolerated when missing: files
    saved by PyTorch < 0.4.1 (joonson's ``syncnet_v2.model``) predate them, and they play no
    part in inference.

    Raises:
        CheckpointError: Missing / unexpected keys or shape mismatches, all listed.
    """
    expected = model.state_dict()
    state_dict = dict(state_dict)
    missing = [k for k in expected if k not in state_dict]
    for key in [k for k in missing if k.endswith("num_batches_tracked")]:
        state_dict[key] = torch.zeros((), dtype=torch.long)
        missing.remove(key)
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f"{k} (file {tuple(state_dict[k].shape)} vs network {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys: {_examples(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys: {_examples(unexpected)}")
        if mismatched:
            parts.append(f"{len(mismatched)} shape mismatches: {_examples(mismatched)}")
        found = identify_net(state_dict)
        hint = ""
        if found is not None and NETS[found].label != label:
            hint = f"; it looks like a {NETS[found].label} instead"
        raise CheckpointError(
            f"does not fit the {label}: " + "; ".join(parts) + hint,
            path,
            fix="check that the file is the right checkpoint and is complete",
        )
    model.load_state_dict(state_dict, strict=True)


def load_model(
    path: str | os.PathLike,
    net: str | None = None,
    device: str | torch.device | None = "cpu",
) -> nn.Module:
    """Build a network and load its weights from any supported checkpoint (the user path).

    Args:
        path: A checkpoint file (public, bare or training layout) or a pretrained folder.
        net: Expected network ("wav2lip", "syncnet", "syncnet_v2", "wav2lip_disc"); None
            accepts whatever the file holds.
        device: Device for the returned model ("auto" = cuda > mps > cpu).

    Returns:
        The model in eval mode, with ``model.config`` set.

    Raises:
        CheckpointError: Missing, corrupt, or for another network / another shape.
    """
    path = Path(path)
    if path.is_dir() and (path / CONFIG_NAME).exists():
        model = from_pretrained(path, device=device)
        if net is not None and model.net_name != net:
            raise CheckpointError(
                f"holds a {NETS[model.net_name].label}, not a {NETS[net].label}", path
            )
        return model
    contents = read_checkpoint(path)
    found = contents.net
    if net is None:
        if found is None:
            raise CheckpointError(
                f"holds weights of no known network (first keys: "
                f"{_examples(list(contents.state_dict), 4)})",
                path,
                fix="pass a wav2lip.pth / lipsync_expert.pth / syncnet_v2.model file",
            )
        net = found
    spec = _spec(net)
    if found is not None and found != net:
        raise CheckpointError(
            f"looks like a {NETS[found].label}, not a {spec.label}",
            path,
            fix=f"point this setting to the {spec.label} file",
        )
    model = spec.model_cls(_config_for(spec, contents, path))
    load_state_dict_strict(model, contents.state_dict, path, spec.label)
    return model.to(pick_device(device)).eval()


def load_wav2lip(path: str | os.PathLike, device: str | torch.device | None = "cpu") -> Wav2Lip:
    """Load a Wav2Lip generator (``wav2lip.pth``, ``wav2lip_gan.pth``, or this project's)."""
    return load_model(path, "wav2lip", device)  # type: ignore[return-value]


def load_syncnet(path: str | os.PathLike, device: str | torch.device | None = "cpu") -> SyncNet:
    """Load a Wav2Lip lip-sync expert (``lipsync_expert.pth`` or this project's)."""
    return load_model(path, "syncnet", device)  # type: ignore[return-value]


def load_syncnet_v2(
    path: str | os.PathLike, device: str | torch.device | None = "cpu"
) -> SyncNetV2:
    """Load joonson's SyncNet (``syncnet_v2.model``)."""
    return load_model(path, "syncnet_v2", device)  # type: ignore[return-value]


def _atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in unwrap_model(model).state_dict().items()}


def save_public_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    module_prefix: bool = True,
    bare: bool = False,
    step: int = 0,
) -> Path:
    """Write weights in the layout of the paper's checkpoints (for export and tests).

    Args:
        model: The network.
        path: Output file.
        module_prefix: Prefix keys with ``module.`` as the DataParallel-trained originals do.
        bare: Write the bare state dict instead of ``{"state_dict": ..., "global_step": ...}``.
        step: ``global_step`` to record.

    Returns:
        The path written.
    """
    path = Path(path)
    sd = _cpu_state_dict(model)
    if module_prefix:
        sd = {f"module.{k}": v for k, v in sd.items()}
    obj: Any = sd if bare else {"state_dict": sd, "global_step": step, "global_epoch": 0}
    _atomic_torch_save(obj, path)
    return path


def safetensors_available() -> bool:
    """Whether the optional ``safetensors`` package is installed (used by save_pretrained)."""
    try:
        import safetensors.torch  # noqa: F401
    except ImportError:
        return False
    return True


def save_pretrained(model: nn.Module, folder: str | os.PathLike) -> Path:
    """Save a network as ``config.json`` + weights, loadable with :func:`from_pretrained`.

    Weights go to ``model.safetensors`` when ``safetensors`` is installed, else to ``model.pt``
    (a plain state dict); ``config.json`` records which (``"weights"``).

    Args:
        model: The network (wrappers are removed).
        folder: Output folder (created).

    Returns:
        The weights file written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bare = unwrap_model(model)
    name = net_name_of(bare)
    sd = _cpu_state_dict(bare)
    if safetensors_available():
        from safetensors.torch import save_file

        weights = folder / SAFETENSORS_NAME
        save_file(sd, str(weights))
    else:
        weights = folder / TORCH_WEIGHTS_NAME
        _atomic_torch_save(sd, weights)
    config = {
        "format_version": FORMAT_VERSION,
        "net": name,
        "config": dataclasses.asdict(bare.config),
        "weights": weights.name,
    }
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return weights


def from_pretrained(
    folder: str | os.PathLike, device: str | torch.device | None = "cpu"
) -> nn.Module:
    """Load a network saved by :func:`save_pretrained`.

    Args:
        folder: Folder with ``config.json`` and the weights file it names.
        device: Device for the model.

    Returns:
        The model in eval mode.

    Raises:
        CheckpointError: Missing/invalid config or weights.
    """
    folder = Path(folder)
    config_path = folder / CONFIG_NAME
    if not config_path.exists():
        raise CheckpointError(f"no {CONFIG_NAME} in this folder", folder)
    try:
        meta = json.loads(config_path.read_text(encoding="utf-8"))
        spec = _spec(meta["net"])
        config = spec.config_cls(**meta.get("config", {}))
        weights = folder / meta.get("weights", TORCH_WEIGHTS_NAME)
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"invalid {CONFIG_NAME}: {exc}", config_path) from exc
    if weights.suffix == ".safetensors":
        if not weights.exists():
            raise CheckpointError("weights file not found", weights)
        if not safetensors_available():
            raise CheckpointError(
                "needs the safetensors package", weights, fix="pip install safetensors"
            )
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            sd = load_file(str(weights))
        except (SafetensorError, OSError) as exc:
            raise CheckpointError(f"is truncated or corrupt ({exc})", weights) from exc
    else:
        contents = read_checkpoint(weights)
        sd = contents.state_dict
    model = spec.model_cls(config)
    load_state_dict_strict(model, sd, weights, spec.label)
    return model.to(pick_device(device)).eval()


def save_training_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    extra: dict | None = None,
) -> Path:
    """Save a resumable training checkpoint (nanoGPT style) from the unwrapped model.

    The file also loads anywhere a public checkpoint does (:func:`load_model`), so a generator a
    studio trains works in the Wav2Lip engine as is.

    Args:
        path: Output file (written atomically).
        model: The network being trained (DataParallel / compile wrappers are removed).
        optimizer: Its optimizer, whose state is stored for resuming.
        step: Optimiser steps done.
        extra: JSON-like extras (training config, metrics).

    Returns:
        The path written.
    """
    bare = unwrap_model(model)
    payload = {
        "format_version": FORMAT_VERSION,
        "net": net_name_of(bare),
        "model_args": dataclasses.asdict(bare.config),
        "model": _cpu_state_dict(bare),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": int(step),
        "extra": extra or {},
    }
    path = Path(path)
    _atomic_torch_save(payload, path)
    return path


@dataclass
class TrainingState:
    """A training checkpoint loaded back.

    Attributes:
        model: The network (eval mode; call ``.train()`` to resume).
        optimizer_state: State dict for ``optimizer.load_state_dict``, or None.
        step: Optimiser steps done.
        extra: Extras saved with it.
    """

    model: nn.Module
    optimizer_state: dict | None
    step: int
    extra: dict


def load_training_checkpoint(
    path: str | os.PathLike, device: str | torch.device | None = "cpu"
) -> TrainingState:
    """Load a checkpoint written by :func:`save_training_checkpoint` to resume training.

    Raises:
        CheckpointError: Not a training checkpoint, or unusable.
    """
    path = Path(path)
    contents = read_checkpoint(path)
    if contents.layout != "training" or contents.net is None:
        raise CheckpointError(
            "is not a training checkpoint of this project (no model_args / optimizer)",
            path,
            fix="start training from scratch or pass a checkpoint written by training/",
        )
    spec = _spec(contents.net)
    model = spec.model_cls(_config_for(spec, contents, path))
    load_state_dict_strict(model, contents.state_dict, path, spec.label)
    return TrainingState(
        model.to(pick_device(device)).eval(),
        contents.optimizer,
        contents.step or 0,
        contents.extra or {},
    )
