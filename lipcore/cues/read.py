"""Read Rhubarb cue files back: the TSV and JSON that :mod:`lipcore.cues.export` writes.

Files from Rhubarb Lip Sync itself read the same (times in seconds, shapes as letters or
Preston Blair names). A TSV cue lasts until the next line's start; its last line is the end of
the recording. The track's ``fps`` is 100: Rhubarb's centisecond grid.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from lipcore.audio import SAMPLE_RATE
from lipcore.cues.make import CueTrack, MouthCue
from lipcore.cues.shapes import shape_from_name
from lipcore.errors import LipsyncError

#: The cue file kinds :func:`read_cues` knows, by suffix.
READ_SUFFIXES = (".tsv", ".json")
_FIX = "give a Rhubarb TSV or JSON cue file (lipsync cues AUDIO --format tsv|json -o CUES)"


def _sample(seconds: float) -> int:
    return round(float(seconds) * SAMPLE_RATE)


def _from_tsv(text: str, path: Path) -> CueTrack:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        bits = line.split("\t")
        try:
            rows.append((_sample(float(bits[0])), shape_from_name(bits[1].strip())))
        except (ValueError, IndexError) as exc:
            raise LipsyncError(
                f"line {number} is not START<TAB>SHAPE ({exc})", path, _FIX
            ) from exc
    if len(rows) < 2:
        raise LipsyncError("the cue file has no cue (it needs a cue line and an end line)", path)
    cues = tuple(
        MouthCue(shape, start, end)
        for (start, shape), (end, _) in zip(rows[:-1], rows[1:], strict=True)
        if end > start
    )
    return CueTrack(cues, rows[-1][0], Fraction(100), "file")


def _from_json(text: str, path: Path) -> CueTrack:
    try:
        data = json.loads(text)
        cues = tuple(
            MouthCue(shape_from_name(str(c["value"])), _sample(c["start"]), _sample(c["end"]))
            for c in data["mouthCues"]
        )
        duration = _sample(data.get("metadata", {}).get("duration", 0.0))
    except (ValueError, KeyError, TypeError) as exc:
        raise LipsyncError(f"not a Rhubarb JSON cue file ({exc})", path, _FIX) from exc
    cues = tuple(c for c in cues if c.end_sample > c.start_sample)
    if not cues:
        raise LipsyncError("the cue file has no cue", path, _FIX)
    return CueTrack(cues, max(duration, cues[-1].end_sample), Fraction(100), "file")


def read_cues(path: str | Path) -> CueTrack:
    """The mouth cues of a Rhubarb TSV or JSON file.

    Args:
        path: A ``.tsv`` or ``.json`` file.

    Returns:
        The cue track (``source`` "file").

    Raises:
        LipsyncError: The file is missing, of another kind, or not readable as cues.
    """
    path = Path(path)
    if path.suffix.lower() not in READ_SUFFIXES:
        raise LipsyncError(
            f"cannot read cues from a {path.suffix or 'suffix-less'} file", path, _FIX
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LipsyncError(f"cannot read the cue file ({exc})", path, _FIX) from exc
    if path.suffix.lower() == ".tsv":
        return _from_tsv(text, path)
    return _from_json(text, path)


def cue_triples(track: CueTrack) -> tuple[tuple[str, int, int], ...]:
    """The track as the render request carries cues: ``(shape, start_sample, end_sample)``."""
    return tuple((c.shape, c.start_sample, c.end_sample) for c in track.cues)


__all__ = ["READ_SUFFIXES", "cue_triples", "read_cues"]
