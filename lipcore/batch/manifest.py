"""The batch manifest: a JSON or TOML list of jobs, each a clip plus a dub or a script and lines.

Example (TOML)::

    [defaults]
    strategy = "speedup"          # timing strategy for script jobs
    max_speedup = 1.3

    [[jobs]]
    id = "week1"
    clip = "lectures/week1.mp4"
    script = "lectures/week1.de.srt"
    lines = "tts/week1/"          # a folder of 0001.wav ..., a list of files, or a long dub
    output = "out/week1.de.mp4"

    [[jobs]]
    clip = "lectures/week2.mp4"
    dub = "dubs/week2.de.wav"
    output = "out/week2.de.mp4"
    segments = ["0:05-0:40"]

Relative paths are relative to the manifest's folder. A job's options are its own keys over
``[defaults]``; unknown keys are refused (a typo must not silently render with defaults).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lipcore.errors import LipsyncError

#: Option keys a job may set, with their default values.
OPTIONS: dict[str, Any] = {
    "segments": [],
    "audio_offset_sec": 0.0,
    "long_audio": "cut",
    "strategy": "speedup",
    "max_speedup": 1.35,
    "max_slowdown": 1.5,
    "max_pad_ms": 2000,
    "min_gap_ms": 100,
    "picture_mode": "blend",
    "long_dub": False,
}
_JOB_KEYS = {"id", "clip", "dub", "script", "lines", "output"}


@dataclass(frozen=True)
class BatchJob:
    """One job of a batch.

    Attributes:
        id: Unique name (default: the output's stem); names its state and report files.
        clip: The video (never overwritten).
        output: The file to write.
        dub: New speech for the whole clip (dub jobs), or None.
        script: Subtitles with one slot per line (script jobs), or None.
        lines: The lines' takes: a folder, files, or one long dub (script jobs).
        options: Option values (see :data:`OPTIONS`).
    """

    id: str
    clip: Path
    output: Path
    dub: Path | None = None
    script: Path | None = None
    lines: tuple[Path, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """ "dub" or "script"."""
        return "script" if self.script is not None else "dub"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what workers receive and reports echo)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "clip": str(self.clip),
            "output": str(self.output),
            "dub": str(self.dub) if self.dub else None,
            "script": str(self.script) if self.script else None,
            "lines": [str(p) for p in self.lines],
            "options": self.options,
        }

    def params_hash(self) -> str:
        """Hash of the job's inputs (paths, sizes, mtimes) and options: a change re-runs it."""
        stamp = []
        for p in (self.clip, self.dub, self.script, *self.lines):
            if p is not None and p.exists():
                st = p.stat()
                stamp.append([str(p), st.st_size, st.st_mtime_ns])
        payload = json.dumps([self.to_dict(), stamp], sort_keys=True)
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


def _path(value: Any, base: Path, where: str, manifest: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise LipsyncError(f"{where} should be a file path", manifest, "write it as a string")
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def load_manifest(path: str | Path) -> list[BatchJob]:
    """Read and check a manifest.

    Args:
        path: ``.json`` or ``.toml`` file with a ``jobs`` list (and optional ``defaults``).

    Returns:
        The jobs, in manifest order.

    Raises:
        LipsyncError: Unreadable file, no jobs, unknown keys, a job with neither or both of
            ``dub`` and ``script``, a missing input, duplicate ids or outputs, or an output
            that is one of the job's inputs; each message names the manifest and the job.
    """
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise LipsyncError("batch manifest not found", path, "check the path") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LipsyncError(
            f"cannot read the manifest ({exc})", path, "write it as JSON or TOML (see README)"
        ) from None
    jobs_data = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs_data, list) or not jobs_data:
        raise LipsyncError("the manifest has no jobs", path, "add a 'jobs' list")
    defaults = data.get("defaults", {})
    unknown = set(defaults) - set(OPTIONS)
    if unknown:
        raise LipsyncError(
            f"unknown default option(s) {sorted(unknown)}", path, f"known: {sorted(OPTIONS)}"
        )
    base = path.parent
    jobs: list[BatchJob] = []
    for i, jd in enumerate(jobs_data, start=1):
        where = f"job {i}"
        if not isinstance(jd, dict):
            raise LipsyncError(f"{where} is not a table/object", path, "see the README example")
        unknown = set(jd) - _JOB_KEYS - set(OPTIONS)
        if unknown:
            raise LipsyncError(
                f"{where} has unknown key(s) {sorted(unknown)}",
                path,
                f"known: {sorted(_JOB_KEYS | set(OPTIONS))}",
            )
        for key in ("clip", "output"):
            if key not in jd:
                raise LipsyncError(f"{where} has no {key!r}", path, f'add {key} = "..."')
        if ("dub" in jd) == ("script" in jd):
            raise LipsyncError(
                f"{where} needs either 'dub' or 'script' (with 'lines')",
                path,
                "give one of the two",
            )
        clip = _path(jd["clip"], base, f"{where}.clip", path)
        output = _path(jd["output"], base, f"{where}.output", path)
        dub = _path(jd["dub"], base, f"{where}.dub", path) if "dub" in jd else None
        script = _path(jd["script"], base, f"{where}.script", path) if "script" in jd else None
        raw_lines = jd.get("lines", [])
        raw_lines = [raw_lines] if isinstance(raw_lines, str) else raw_lines
        lines = tuple(_path(v, base, f"{where}.lines", path) for v in raw_lines)
        if script is not None and not lines:
            raise LipsyncError(
                f"{where} has a script but no 'lines'",
                path,
                "name the folder of line takes or the long dub",
            )
        for p in (clip, dub, script, *lines):
            if p is not None and not p.exists():
                raise LipsyncError(f"{where}: input not found: {p}", path, "check the path")
        if output in {clip, dub, script, *lines}:
            raise LipsyncError(
                f"{where}: the output would overwrite an input", path, "choose another output file"
            )
        options = {k: jd.get(k, defaults.get(k, v)) for k, v in OPTIONS.items()}
        jobs.append(
            BatchJob(str(jd.get("id") or output.stem), clip, output, dub, script, lines, options)
        )
    for key in ("id", "output"):
        values = [getattr(j, key) for j in jobs]
        dupes = sorted({str(v) for v in values if values.count(v) > 1})
        if dupes:
            raise LipsyncError(
                f"two jobs share the {key} {dupes[0]}", path, f"give each job its own {key}"
            )
    return jobs
