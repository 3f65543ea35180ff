"""An image sequence of the animator's own mouth drawings, one PNG with alpha per target frame.

The drawings are a folder of PNGs named by shape: ``A.png`` ... ``H.png``, ``X.png`` (Preston
Blair names such as ``MBP.png`` are accepted too). Shapes without a drawing use their basic
stand-in (G -> B, H -> C, X -> A); the six basic shapes must all be there. Frames are written to a
temporary folder beside the output and renamed into place at the end, so a cancelled export leaves
nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Generator
from pathlib import Path

import numpy as np

from lipcore.audio import SAMPLE_RATE
from lipcore.cues.make import CueTrack, shape_at
from lipcore.cues.shapes import BASIC_SHAPES, BASIC_STAND_IN, BLAIR_NAMES, SHAPES
from lipcore.errors import LipsyncError
from lipcore.progress import Progress, drain
from lipcore.timebase import frame_to_sample


def load_mouth_drawings(
    folder: str | Path, size: tuple[int, int] | None = None
) -> dict[str, np.ndarray]:
    """Read a shape folder into BGRA images, one per shape (stand-ins filled in).

    Args:
        folder: Folder with ``A.png``...``X.png`` (or Blair names).
        size: ``(width, height)`` to resize every drawing to; default the size of ``A``.

    Returns:
        ``{shape: (H, W, 4) uint8 BGRA}`` for all nine shapes.

    Raises:
        LipsyncError: The folder is missing, a basic shape has no drawing, or a file is unreadable.
    """
    import cv2

    folder = Path(folder)
    if not folder.is_dir():
        raise LipsyncError(
            "mouth drawings folder not found", folder, "give a folder of A.png..X.png"
        )
    found: dict[str, np.ndarray] = {}
    for shape in SHAPES:
        for stem in (shape, BLAIR_NAMES[shape]):
            path = next((p for p in folder.iterdir() if p.stem.lower() == stem.lower()
                         and p.suffix.lower() == ".png"), None)  # fmt: skip
            if path is None:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise LipsyncError("cannot read this mouth drawing", path, "save it as PNG")
            if image.ndim == 2:
                image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA)
            elif image.shape[2] == 3:
                image = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
            found[shape] = image
            break
    missing = sorted(BASIC_SHAPES - set(found))
    if missing:
        raise LipsyncError(
            f"no drawing for mouth shape(s) {', '.join(missing)}",
            folder,
            "add " + ", ".join(f"{m}.png" for m in missing),
        )
    for shape, stand_in in BASIC_STAND_IN.items():
        found.setdefault(shape, found[stand_in])
    width, height = size if size else (found["A"].shape[1], found["A"].shape[0])
    if width <= 0 or height <= 0:
        raise LipsyncError(f"image size must be positive, got {width}x{height}")
    return {
        shape: img
        if img.shape[:2] == (height, width)
        else cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
        for shape, img in found.items()
    }


def frame_shapes(track: CueTrack) -> list[str]:
    """The shape on each target frame (sampled at the frame's start).

    Args:
        track: The cue track.

    Returns:
        One shape letter per frame, ``ceil(duration x fps)`` frames.
    """
    n_frames = -(
        -track.duration_samples * track.fps.numerator // (SAMPLE_RATE * track.fps.denominator)
    )
    return [
        shape_at(track.cues, frame_to_sample(k, track.fps, SAMPLE_RATE)) for k in range(n_frames)
    ]


def iter_export_png_sequence(
    track: CueTrack,
    drawings_dir: str | Path,
    out_dir: str | Path,
    size: tuple[int, int] | None = None,
    prefix: str = "mouth_",
) -> Generator[Progress, None, Path]:
    """Write ``prefix00001.png``... (one per frame, alpha kept) into ``out_dir``.

    Args:
        track: The cue track (its fps is the sequence's rate).
        drawings_dir: Folder of mouth drawings named by shape.
        out_dir: New or empty folder for the frames.
        size: ``(width, height)`` of the frames; default the drawings' size.
        prefix: File name prefix before the 1-based, 5-digit frame number.

    Returns:
        The output folder.

    Raises:
        LipsyncError: Bad drawings folder, or ``out_dir`` exists and is not empty.
    """
    import cv2

    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise LipsyncError("output folder is not empty", out_dir, "choose a new or empty folder")
    drawings = load_mouth_drawings(drawings_dir, size)
    shapes = frame_shapes(track)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir()
    try:
        encoded = {s: cv2.imencode(".png", img)[1].tobytes() for s, img in drawings.items()}
        for k, shape in enumerate(shapes):
            (tmp / f"{prefix}{k + 1:05d}.png").write_bytes(encoded[shape])
            if k % 50 == 0 or k == len(shapes) - 1:
                yield Progress(k + 1, len(shapes), "writing mouth frames")
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def export_png_sequence(
    track: CueTrack,
    drawings_dir: str | Path,
    out_dir: str | Path,
    size: tuple[int, int] | None = None,
) -> Path:
    """Write the mouth image sequence (drains :func:`iter_export_png_sequence`).

    Args:
        track: The cue track.
        drawings_dir: Folder of mouth drawings named by shape.
        out_dir: New or empty folder for the frames.
        size: ``(width, height)`` of the frames.

    Returns:
        The output folder.
    """
    return drain(iter_export_png_sequence(track, drawings_dir, out_dir, size), show=False)
