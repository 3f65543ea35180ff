"""Cue files the rigs read: Rhubarb TSV/JSON/XML, Moho/OpenToonz switch data, Papagayo ``.pgo``.

Each format is one function from a :class:`~lipcore.cues.make.CueTrack` to the file's text, listed
once in :data:`FORMATS` (the CLI and the editor offer what is listed there). The layouts are the
ones the tools write themselves, so scripts written for them read these files unchanged:

- Rhubarb Lip Sync TSV/JSON/XML: times in seconds with two decimals (Rhubarb works in
  centiseconds), the TSV's last line the end of the recording with a closed mouth, XML indented by
  two spaces as Boost's writer does, JSON escaped as Rhubarb escapes (non-ASCII as ``\\uXXXX``).
- Moho switch data: ``MohoSwitch1``, then ``frame shape`` lines with frame = 1 + round(fps x t)
  (Rhubarb truncates instead of rounding; cues made here sit on frame boundaries, where the two
  agree).
- Papagayo (and Papagayo-NG) ``lipsync version 1``: 0-based frames, one voice, phrases, words
  with their phonemes in Preston Blair names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.audio import SAMPLE_RATE
from lipcore.cache import atomic_write_bytes
from lipcore.cues.make import CueTrack, MouthCue
from lipcore.cues.shapes import allowed_shapes, shape_name, to_shape_set

#: A gap between words longer than this starts a new Papagayo phrase.
PHRASE_GAP_SEC = 0.3
#: Papagayo word text for speech when no dialogue was given.
UNTEXTED_WORD = "(speech)"


@dataclass(frozen=True)
class ExportOptions:
    """Choices that change what a file says.

    Attributes:
        names: "rhubarb" letters or "blair" (Preston Blair) names.
        sound_path: The recording the cues belong to (Rhubarb's metadata, Papagayo's header).
        extended_shapes: Drawn optional shapes; decides whether the closing mouth is X or A.
    """

    names: str = "rhubarb"
    sound_path: str = ""
    extended_shapes: str = "GHX"


def _centis(sample: int) -> int:
    return round(sample * 100 / SAMPLE_RATE)


def _sec2(centis: int) -> str:
    return f"{centis // 100}.{centis % 100:02d}"


def _closed(options: ExportOptions) -> str:
    return to_shape_set("X", allowed_shapes(options.extended_shapes))


def _name(cue_shape: str, options: ExportOptions, phone: str = "") -> str:
    return shape_name(cue_shape, options.names, phone)


def rhubarb_cues(track: CueTrack) -> list[tuple[int, int, MouthCue]]:
    """Cues on Rhubarb's centisecond grid, zero-length ones dropped, equal neighbours joined.

    Args:
        track: The cue track.

    Returns:
        ``(start_centis, end_centis, cue)`` triples.
    """
    out: list[tuple[int, int, MouthCue]] = []
    for cue in track.cues:
        s, e = _centis(cue.start_sample), _centis(cue.end_sample)
        if e <= s:
            continue
        if out and out[-1][2].shape == cue.shape and out[-1][1] == s:
            out[-1] = (out[-1][0], e, out[-1][2])
        else:
            out.append((s, e, cue))
    return out


def _duration_centis(track: CueTrack) -> int:
    return track.duration_samples * 100 // SAMPLE_RATE


def to_tsv(track: CueTrack, options: ExportOptions = ExportOptions()) -> str:
    """Rhubarb's TSV: one ``start<TAB>shape`` line per cue, then the end with a closed mouth."""
    lines = [f"{_sec2(s)}\t{_name(c.shape, options, c.phone)}" for s, _, c in rhubarb_cues(track)]
    lines.append(f"{_sec2(_duration_centis(track))}\t{_name(_closed(options), options)}")
    return "\n".join(lines) + "\n"


def _cues_or_dummy(track: CueTrack, options: ExportOptions) -> list[tuple[int, int, str]]:
    cues = [(s, e, _name(c.shape, options, c.phone)) for s, e, c in rhubarb_cues(track)]
    return cues or [(0, 0, _name(_closed(options), options))]


def _abs_sound_path(options: ExportOptions) -> str:
    return str(Path(options.sound_path).absolute()) if options.sound_path else ""


def to_json(track: CueTrack, options: ExportOptions = ExportOptions()) -> str:
    """Rhubarb's JSON: metadata (sound file, duration) and ``mouthCues`` with start/end/value."""
    cues = _cues_or_dummy(track, options)
    lines = [
        "{",
        '  "metadata": {',
        f'    "soundFile": {json.dumps(_abs_sound_path(options))},',
        f'    "duration": {_sec2(_duration_centis(track))}',
        "  },",
        '  "mouthCues": [',
        ",\n".join(
            f'    {{ "start": {_sec2(s)}, "end": {_sec2(e)}, "value": {json.dumps(v)} }}'
            for s, e, v in cues
        ),
        "  ]",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def to_xml(track: CueTrack, options: ExportOptions = ExportOptions()) -> str:
    """Rhubarb's XML: ``rhubarbResult`` with metadata and ``mouthCue`` elements."""
    cues = _cues_or_dummy(track, options)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<rhubarbResult>",
        "  <metadata>",
        f"    <soundFile>{_xml_escape(_abs_sound_path(options))}</soundFile>",
        f"    <duration>{_sec2(_duration_centis(track))}</duration>",
        "  </metadata>",
        "  <mouthCues>",
        *(
            f'    <mouthCue start="{_sec2(s)}" end="{_sec2(e)}">{_xml_escape(v)}</mouthCue>'
            for s, e, v in cues
        ),
        "  </mouthCues>",
        "</rhubarbResult>",
    ]
    return "\n".join(lines) + "\n"


def _frame_of(sample: int, fps: Fraction) -> int:
    """Nearest 0-based frame of a sample (round half up, exact in rationals)."""
    return int(Fraction(sample) * fps / SAMPLE_RATE + Fraction(1, 2))


def to_dat(track: CueTrack, options: ExportOptions = ExportOptions()) -> str:
    """Moho / OpenToonz switch data: ``MohoSwitch1``, then ``frame shape`` (frame = 1 + round)."""
    lines = ["MohoSwitch1"]
    last = 0
    for cue in track.cues:
        frame = 1 + _frame_of(cue.start_sample, track.fps)
        if frame == last:
            continue
        lines.append(f"{frame} {_name(cue.shape, options, cue.phone)}")
        last = frame
    end = 1 + _frame_of(track.duration_samples, track.fps)
    if end == last:
        end += 1
    lines.append(f"{end} {_name(_closed(options), options)}")
    return "\n".join(lines) + "\n"


def _pgo_words(track: CueTrack) -> list[tuple[str, int, int]]:
    """(text, start sample, end sample) per word; speech runs between rests without text."""
    if track.words:
        return [(w.text, w.start_sample, w.end_sample) for w in track.words]
    out: list[tuple[str, int, int]] = []
    for cue in track.cues:
        if cue.shape == "X":
            continue
        if out and out[-1][2] == cue.start_sample:
            out[-1] = (UNTEXTED_WORD, out[-1][1], cue.end_sample)
        else:
            out.append((UNTEXTED_WORD, cue.start_sample, cue.end_sample))
    return out


def to_pgo(track: CueTrack, options: ExportOptions = ExportOptions()) -> str:
    """Papagayo ``.pgo``: one voice, phrases split at pauses, words with Blair phonemes.

    The phonemes of a word are the cues that lie mostly inside it, each at its 0-based start
    frame; Papagayo names are always Preston Blair's.
    """
    fps = track.fps
    fps_int = max(1, round(fps))
    words = _pgo_words(track)
    phrases: list[list[tuple[str, int, int]]] = []
    gap = int(PHRASE_GAP_SEC * SAMPLE_RATE)
    for word in words:
        if phrases and word[1] - phrases[-1][-1][2] <= gap:
            phrases[-1].append(word)
        else:
            phrases.append([word])
    duration_frames = -(-track.duration_samples * fps_int // SAMPLE_RATE)
    blair = ExportOptions("blair", options.sound_path, options.extended_shapes)

    def frame(sample: int) -> int:
        return _frame_of(sample, Fraction(fps_int))

    lines = [
        "lipsync version 1",
        options.sound_path,
        str(fps_int),
        str(duration_frames),
        "1",
        "\tVoice 1",
        "\t" + " ".join(" ".join(w[0] for w in p) for p in phrases),
        f"\t{len(phrases)}",
    ]
    # each cue belongs to the word holding most of it, so hand edits in the lane are kept
    owner: dict[int, list[MouthCue]] = {}
    for cue in track.cues:
        if cue.shape == "X":
            continue
        overlaps = [min(cue.end_sample, w[2]) - max(cue.start_sample, w[1]) for w in words]
        if overlaps and max(overlaps) > 0:
            owner.setdefault(int(np.argmax(overlaps)), []).append(cue)
    index = 0
    for phrase in phrases:
        lines += [
            "\t\t" + " ".join(w[0] for w in phrase),
            f"\t\t{frame(phrase[0][1])}",
            f"\t\t{max(frame(phrase[0][1]), frame(phrase[-1][2]) - 1)}",
            f"\t\t{len(phrase)}",
        ]
        for text, start, end in phrase:
            first, last = frame(start), max(frame(start), frame(end) - 1)
            phonemes: list[tuple[int, str]] = []
            for cue in owner.get(index, []):
                at = frame(cue.start_sample)
                name = _name(cue.shape, blair, cue.phone)
                if phonemes and phonemes[-1][0] == at:
                    phonemes[-1] = (at, name)
                elif not phonemes or phonemes[-1][1] != name:
                    phonemes.append((at, name))
            index += 1
            if phonemes:
                first = min(first, phonemes[0][0])
                last = max(last, phonemes[-1][0])
            phonemes = phonemes or [(first, "etc")]
            lines.append(f"\t\t\t{text} {first} {last} {len(phonemes)}")
            lines += [f"\t\t\t\t{at} {name}" for at, name in phonemes]
    return "\n".join(lines) + "\n"


#: Every text export, by the name the CLI and the editor use; the file suffix is the name.
FORMATS: dict[str, Callable[[CueTrack, ExportOptions], str]] = {
    "tsv": to_tsv,
    "json": to_json,
    "xml": to_xml,
    "dat": to_dat,
    "pgo": to_pgo,
}


def write_cues(
    track: CueTrack, path: str | Path, fmt: str, options: ExportOptions = ExportOptions()
) -> Path:
    """Write a cue file atomically (temp file + rename).

    Args:
        track: The cue track.
        path: Output file.
        fmt: A :data:`FORMATS` name.
        options: Naming, sound path, drawn shapes.

    Returns:
        The written path.

    Raises:
        ValueError: ``fmt`` is not a known format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown cue format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    atomic_write_bytes(path, FORMATS[fmt](track, options).encode("utf-8"))
    return path
