"""User preferences: one typed, versioned settings model stored as JSON in the user config dir.

- File: ``<config dir>/settings.json`` where the config dir is ``$LIPSYNC_CONFIG_DIR`` or
  platformdirs' user config dir for "lipsync".
- Environment overrides: ``LIPSYNC_<FIELD>`` (e.g. ``LIPSYNC_DEVICE=cpu``,
  ``LIPSYNC_WAV2LIP_CHECKPOINT=/models/wav2lip.pth``) win over the file for this run and are never
  written back (napari ``NapariSettings``).
- Every field carries ``metadata`` (``label``, ``help``, optional ``choices``, ``kind``), from
  which the Qt preferences dialog is generated (OpenShot's ``_default.settings``).

Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lipcore.cache import atomic_write_bytes
from lipcore.engines.registry import ENGINE_NAMES
from lipcore.errors import ProjectError
from lipcore.render.chunks import CHUNK_CACHE_BYTES

SETTINGS_SCHEMA_VERSION = 1
SETTINGS_FILE = "settings.json"
ENV_PREFIX = "LIPSYNC_"
#: Engine names offered in the preferences (the registry's; "auto" picks per clip).
ENGINES = ENGINE_NAMES
DEVICES = ("auto", "cpu", "cuda", "mps")


def _f(default: Any, label: str, help: str, kind: str = "", **extra: Any) -> Any:
    meta = {"label": label, "help": help, "kind": kind, **extra}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    """The editor's preferences (see the module docstring for storage and overrides)."""

    schema_version: int = field(
        default=SETTINGS_SCHEMA_VERSION, metadata={"label": "", "help": "", "hidden": True}
    )
    default_engine: str = _f(
        "auto", "Default engine", "Engine given to new segments.", "choice", choices=ENGINES
    )
    wav2lip_checkpoint: str = _f(
        "",
        "Wav2Lip checkpoint",
        "Generator weights (.pth or .safetensors) for the wav2lip engine.",
        "file",
    )
    expert_checkpoint: str = _f(
        "", "Sync expert checkpoint", "SyncNet weights used to score lip sync.", "file"
    )
    device: str = _f(
        "auto",
        "Device",
        "Where neural engines run; auto picks CUDA when present.",
        "choice",
        choices=DEVICES,
    )
    cache_dir: str = _f(
        "",
        "Cache folder",
        "Face tracks, waveforms and rendered segments (empty = default).",
        "folder",
    )
    chunk_cache_gb: int = _f(
        CHUNK_CACHE_BYTES >> 30,
        "Rendered segments kept (GB)",
        "Size the cache of rendered segments is kept to; the least recently used go first, "
        "never those of the open project.",
        minimum=1,
        maximum=10000,
    )
    autosave: bool = _f(True, "Autosave", "Keep a backup of unsaved changes for crash recovery.")
    recent_projects: list[str] = _f(
        [], "Recent projects", "Most recent first.", "list", hidden=True
    )
    recent_limit: int = _f(
        10, "Recent projects kept", "Length of File > Open Recent.", minimum=1, maximum=50
    )

    @property
    def env_overridden(self) -> list[str]:
        """Names of the fields whose value comes from a ``LIPSYNC_*`` variable this run."""
        return sorted(getattr(self, "_env_overridden", {}))

    def add_recent(self, path: str | Path) -> None:
        """Put a project first in :attr:`recent_projects`."""
        from editor.model.autosave import push_recent

        self.recent_projects = push_recent(self.recent_projects, path, self.recent_limit)


@dataclass(frozen=True)
class FieldInfo:
    """What the preferences dialog needs to show one setting.

    Attributes:
        name: Attribute name.
        label: Short label.
        help: Tooltip text.
        kind: "bool", "int", "str", "choice", "file", "folder" or "list".
        default: Default value.
        choices: Allowed values for "choice".
        env_var: The environment variable that overrides it.
    """

    name: str
    label: str
    help: str
    kind: str
    default: Any
    choices: tuple[str, ...] = ()
    env_var: str = ""


def settings_fields(include_hidden: bool = False) -> list[FieldInfo]:
    """Describe the settings for a generated preferences dialog, in declaration order."""
    out = []
    for f in dataclasses.fields(Settings):
        meta = f.metadata
        if meta.get("hidden") and not include_hidden:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        kind = meta.get("kind") or {bool: "bool", int: "int", str: "str"}.get(type(default), "str")
        out.append(
            FieldInfo(
                name=f.name,
                label=meta.get("label", f.name),
                help=meta.get("help", ""),
                kind=kind,
                default=default,
                choices=tuple(meta.get("choices", ())),
                env_var=ENV_PREFIX + f.name.upper(),
            )
        )
    return out


def config_dir() -> Path:
    """The folder holding ``settings.json`` (``$LIPSYNC_CONFIG_DIR`` or the user config dir)."""
    env = os.environ.get("LIPSYNC_CONFIG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("lipsync", appauthor=False))


def settings_path() -> Path:
    """The settings file."""
    return config_dir() / SETTINGS_FILE


def _coerce(f: dataclasses.Field, value: Any, source: str) -> Any:
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    where = f"setting {f.name!r} from {source}"
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in (
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        ):
            return value.strip().lower() in ("1", "true", "yes", "on")
        raise ValueError(f"{where} should be true or false, not {value!r}")
    if isinstance(default, int):
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where} should be a whole number, not {value!r}") from None
        lo, hi = f.metadata.get("minimum"), f.metadata.get("maximum")
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise ValueError(f"{where} should be within {lo}..{hi}, not {n}")
        return n
    if isinstance(default, list):
        if isinstance(value, str):
            value = [v for v in value.split(os.pathsep) if v]
        if not isinstance(value, list):
            raise ValueError(f"{where} should be a list")
        return [str(v) for v in value]
    value = str(value)
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ValueError(f"{where} should be one of {', '.join(choices)}, not {value!r}")
    return value


def migrate_settings(data: dict[str, Any]) -> dict[str, Any]:
    """Upgrade an older settings dict (chained like project migrations; none needed yet)."""
    return data


def load_settings(
    path: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read the settings file (defaults where missing) and apply ``LIPSYNC_*`` overrides.

    A damaged or invalid file never stops the editor: invalid entries fall back to defaults.
    Use :func:`check_settings_file` to tell the user what was wrong.

    Args:
        path: Settings file (default :func:`settings_path`).
        environ: Environment to read overrides from (default ``os.environ``).

    Returns:
        The settings; :attr:`Settings` instances remember which fields came from the
        environment so :func:`save_settings` keeps the file's values for them.
    """
    path = Path(path) if path is not None else settings_path()
    env = os.environ if environ is None else environ
    file_values = _read_file(path)
    s = Settings()
    from_file: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if f.name == "schema_version" or f.name not in file_values:
            continue
        try:
            value = _coerce(f, file_values[f.name], str(path))
        except ValueError:
            continue
        setattr(s, f.name, value)
        from_file[f.name] = value
    overridden: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        var = ENV_PREFIX + f.name.upper()
        if f.name == "schema_version" or var not in env:
            continue
        try:
            value = _coerce(f, env[var], f"${var}")
        except ValueError:
            continue
        overridden[f.name] = getattr(s, f.name)
        setattr(s, f.name, value)
    s._env_overridden = overridden
    return s


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    version = data.get("schema_version", 1)
    if isinstance(version, int) and version > SETTINGS_SCHEMA_VERSION:
        return data  # newer file: read the fields this version knows (see save_settings)
    return migrate_settings(data)


def check_settings_file(path: str | Path | None = None) -> list[str]:
    """Problems with the settings file, as user-readable lines (empty when all is fine)."""
    path = Path(path) if path is not None else settings_path()
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{path}: not readable JSON ({exc}); defaults are used"]
    if not isinstance(data, dict):
        return [f"{path}: not a JSON object; defaults are used"]
    problems = []
    known = {f.name: f for f in dataclasses.fields(Settings)}
    for key, value in data.items():
        if key == "schema_version":
            continue
        if key not in known:
            problems.append(f"{path}: unknown setting {key!r} is ignored")
            continue
        try:
            _coerce(known[key], value, str(path))
        except ValueError as exc:
            problems.append(f"{path}: {exc}; the default is used")
    return problems


def save_settings(settings: Settings, path: str | Path | None = None) -> Path:
    """Write the settings atomically; values overridden by the environment keep the file's value.

    Args:
        settings: The settings.
        path: Settings file (default :func:`settings_path`).

    Returns:
        The file written.

    Raises:
        ProjectError: The file cannot be written.
    """
    path = Path(path) if path is not None else settings_path()
    overridden: dict[str, Any] = getattr(settings, "_env_overridden", {})
    # Keys this version does not know (written by a newer editor) are kept, and so is a newer
    # schema_version, so running an older editor once does not wipe newer preferences.
    existing = _read_file(path)
    known = {f.name for f in dataclasses.fields(Settings)}
    data: dict[str, Any] = {k: v for k, v in existing.items() if k not in known}
    for f in dataclasses.fields(Settings):
        data[f.name] = overridden.get(f.name, getattr(settings, f.name))
    old_version = existing.get("schema_version")
    data["schema_version"] = max(
        SETTINGS_SCHEMA_VERSION, old_version if isinstance(old_version, int) else 0
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
    except OSError as exc:
        raise ProjectError(
            f"cannot save preferences ({exc.strerror or exc})",
            path,
            "check write permission of the folder, or set LIPSYNC_CONFIG_DIR",
        ) from exc
    return path
