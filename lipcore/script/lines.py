"""Each script line's dub audio ("take"): from a folder of line files or from one long dub.

A folder holds one file per line, named by the line's number (``0001.wav``, ``12.flac``,
``line_003.mp3``: the first number in the name). A long dub is one recording on the clip's clock
with the lines in order; it is cut at its pauses (voice activity) and each stretch of speech goes
to the line whose slot it overlaps most, so a take may start a little before or after its slot.
Either way a take is placed on its slot: its first sample plays at the slot's start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError
from lipcore.script.subtitles import ScriptLine

#: Rate takes are kept at: the delivery rate, so speed changes and placement lose nothing.
TAKE_RATE_HZ = 48000
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac")
_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True)
class LineTake:
    """The audio of one script line.

    Attributes:
        index: The line's number (1-based, as :attr:`ScriptLine.index`).
        samples: ``(n,)`` float32 mono at :data:`TAKE_RATE_HZ`.
        source: The file it came from.
        source_start_ms: Where it starts in that file (0 for a line file).
    """

    index: int
    samples: np.ndarray
    source: Path
    source_start_ms: int = 0

    @property
    def duration_ms(self) -> float:
        """Length of the take in milliseconds."""
        return 1000.0 * len(self.samples) / TAKE_RATE_HZ


def _load(path: Path) -> np.ndarray:
    from lipcore.media.audio import load_audio

    return load_audio(path, TAKE_RATE_HZ, mono=True)


def _trim_silence(samples: np.ndarray) -> np.ndarray:
    """Drop leading/trailing near-silence (TTS engines pad their output)."""
    if samples.size == 0:
        return samples
    level = np.abs(samples)
    loud = np.flatnonzero(level > max(1e-3, 0.02 * float(level.max())))
    if loud.size == 0:
        return samples[:0]
    pad = TAKE_RATE_HZ // 100  # keep 10 ms so consonant onsets are not clipped
    return samples[max(0, loud[0] - pad) : loud[-1] + 1 + pad]


def takes_from_files(paths: list[Path], lines: list[ScriptLine], trim: bool = True) -> dict:
    """Takes from explicit files, matched to lines by the number in each file's name.

    Files without a number are matched by position instead (the n-th file is line n).

    Args:
        paths: Audio files.
        lines: The script.
        trim: Drop leading/trailing silence of each file.

    Returns:
        ``{line index: LineTake}``; lines without a file are absent.

    Raises:
        LipsyncError: A file is missing, unreadable, names no line of the script, or two files
            name the same line.
    """
    known = {line.index for line in lines}
    out: dict[int, LineTake] = {}
    for pos, path in enumerate(paths, start=1):
        path = Path(path)
        if not path.is_file():
            raise LipsyncError("line audio not found", path, "check the path")
        m = _NUMBER.search(path.stem)
        index = int(m.group(1)) if m else pos
        if index not in known:
            raise LipsyncError(
                f"line audio names line {index}, but the script has lines 1-{len(lines)}",
                path,
                "name line files by their line number: 0001.wav, 0002.wav ...",
            )
        if index in out:
            raise LipsyncError(
                f"two files for line {index} ({out[index].source.name} and {path.name})",
                path,
                "keep one take per line",
            )
        samples = _load(path)
        out[index] = LineTake(index, _trim_silence(samples) if trim else samples, path)
    return out


def takes_from_folder(folder: str | Path, lines: list[ScriptLine]) -> dict:
    """Takes from a folder of line files (``0001.wav`` ...), see :func:`takes_from_files`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LipsyncError("line audio folder not found", folder, "check the path")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise LipsyncError(
            "no audio files in the folder", folder, "put one file per line in it: 0001.wav ..."
        )
    return takes_from_files(files, lines)


def takes_from_long_dub(path: str | Path, lines: list[ScriptLine]) -> dict:
    """Cut one long dub (on the clip's clock) into the script's lines at its pauses.

    Args:
        path: The dub (any format ffmpeg reads).
        lines: The script.

    Returns:
        ``{line index: LineTake}``; a line no speech overlaps is absent.

    Raises:
        LipsyncError: The file is unreadable or has no speech.
    """
    from lipcore.audio.vad import speech_ranges

    path = Path(path)
    samples = _load(path)
    step = TAKE_RATE_HZ // 16000
    ranges = [
        (a * step, b * step)
        for a, b in speech_ranges(samples[::step], 16000, pad_sec=0.03, min_gap_sec=0.15)
    ]
    if not ranges:
        raise LipsyncError("no speech found in the dub", path, "check that it is the right file")
    owner: dict[int, list[tuple[int, int]]] = {}
    for a, b in ranges:
        best, best_overlap, best_dist = None, 0.0, float("inf")
        for line in lines:
            s0 = line.start_ms * TAKE_RATE_HZ // 1000
            s1 = line.end_ms * TAKE_RATE_HZ // 1000
            overlap = min(b, s1) - max(a, s0)
            dist = abs((a + b) / 2 - (s0 + s1) / 2)
            if overlap > best_overlap or (best_overlap <= 0 and overlap <= 0 and dist < best_dist):
                best, best_overlap, best_dist = line.index, max(overlap, 0), dist
        owner.setdefault(best, []).append((a, b))
    out = {}
    for index, parts in owner.items():
        a, b = parts[0][0], parts[-1][1]
        out[index] = LineTake(index, samples[a:b], path, source_start_ms=a * 1000 // TAKE_RATE_HZ)
    return out


def read_takes(sources: list[Path], lines: list[ScriptLine], long_dub: bool = False) -> dict:
    """Takes from what a user names: one folder, one long dub, or one file per line.

    Args:
        sources: A folder; or one long dub (with ``long_dub``); or line files.
        lines: The script.
        long_dub: ``sources`` is one recording of every line on the clip's clock.

    Returns:
        ``{line index: LineTake}``.
    """
    sources = [Path(s) for s in sources]
    if len(sources) == 1 and sources[0].is_dir():
        return takes_from_folder(sources[0], lines)
    if long_dub:
        if len(sources) != 1:
            raise LipsyncError("a long dub is one file", None, "name one file, or drop --long-dub")
        return takes_from_long_dub(sources[0], lines)
    return takes_from_files(sources, lines)
