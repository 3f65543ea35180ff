"""Subtitle files as script lines: SRT (``srt`` package) and WebVTT (``webvtt-py``).

Each cue becomes a :class:`ScriptLine` with its slot in exact milliseconds and frames, its text
(markup removed, line breaks kept as spaces) and its speaker: a WebVTT voice tag
(``<v Anna>``), or an upper-case ``NAME:`` prefix, the usual convention in translated SRT files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

from lipcore.errors import LipsyncError

SUBTITLE_SUFFIXES = (".srt", ".vtt")

_SPEAKER_PREFIX = re.compile(r"^\s*(?:-\s*)?([A-Z][A-Z0-9 .'\-]{0,30}):\s+(.*)$", re.S)
_TAGS = re.compile(r"<[^>]+>")
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class ScriptLine:
    """One line of a script: the slot it must fit and what is said.

    Attributes:
        index: 1-based position in the file (matches ``0001.wav``-style take names).
        start_ms: Slot start in milliseconds from the clip's first frame.
        end_ms: Slot end in milliseconds (exclusive).
        text: What is said, one line, markup removed.
        speaker: Who says it ("" when the file does not say).
    """

    index: int
    start_ms: int
    end_ms: int
    text: str
    speaker: str = ""

    @property
    def duration_ms(self) -> int:
        """Length of the slot."""
        return self.end_ms - self.start_ms

    def frames(self, fps: Fraction) -> tuple[int, int]:
        """The slot as clip frames ``(start, end)``: start floored, end rounded up."""
        a = Fraction(self.start_ms, 1000) * fps
        b = Fraction(self.end_ms, 1000) * fps
        return int(a // 1), int(-(-b // 1))


def _split_speaker(text: str) -> tuple[str, str]:
    m = _SPEAKER_PREFIX.match(text)
    if m:
        return m.group(1).strip().title(), m.group(2)
    return "", text


def _clean(text: str) -> str:
    return " ".join(_TAGS.sub("", text).split())


def _read_srt(path: Path) -> list[ScriptLine]:
    import srt

    try:
        text = path.read_text(encoding="utf-8-sig")
        subs = list(srt.parse(text))
    except (OSError, UnicodeDecodeError) as exc:
        raise LipsyncError(f"cannot read subtitles ({exc})", path, "save them as UTF-8") from None
    except srt.SRTParseError as exc:
        raise LipsyncError(
            f"not a valid SRT file ({exc})", path, "check the numbering and '-->' time lines"
        ) from None
    out = []
    for i, sub in enumerate(subs, start=1):
        speaker, body = _split_speaker(sub.content)
        out.append(
            ScriptLine(
                index=i,
                start_ms=sub.start // _MS,
                end_ms=sub.end // _MS,
                text=_clean(body),
                speaker=speaker,
            )
        )
    return out


def _read_vtt(path: Path) -> list[ScriptLine]:
    import webvtt

    try:
        captions = webvtt.read(str(path)).captions
    except (OSError, UnicodeDecodeError) as exc:
        raise LipsyncError(f"cannot read subtitles ({exc})", path, "save them as UTF-8") from None
    except Exception as exc:  # webvtt-py raises its own MalformedFileError / MalformedCaptionError
        raise LipsyncError(
            f"not a valid WebVTT file ({exc})", path, "it must start with WEBVTT and timed cues"
        ) from None
    out = []
    for i, cap in enumerate(captions, start=1):
        speaker = (getattr(cap, "voice", None) or "").strip()
        body = cap.text
        if not speaker:
            speaker, body = _split_speaker(body)
        out.append(
            ScriptLine(
                index=i,
                start_ms=cap.start_time.in_milliseconds(),
                end_ms=cap.end_time.in_milliseconds(),
                text=_clean(body),
                speaker=speaker,
            )
        )
    return out


def read_script(path: str | Path) -> list[ScriptLine]:
    """Read an ``.srt`` or ``.vtt`` file into script lines, in time order.

    Args:
        path: The subtitle file (UTF-8, with or without BOM).

    Returns:
        The lines, numbered from 1 in file order; empty cues are kept (their take may exist).

    Raises:
        LipsyncError: Unknown suffix, unreadable or malformed file, or a cue that ends before it
            starts; the message names the file and the fix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUBTITLE_SUFFIXES:
        raise LipsyncError(
            f"cannot read {suffix or 'this'} files as a script", path, "use .srt or .vtt subtitles"
        )
    if not path.is_file():
        raise LipsyncError("subtitle file not found", path, "check the path")
    lines = _read_srt(path) if suffix == ".srt" else _read_vtt(path)
    for line in lines:
        if line.end_ms <= line.start_ms:
            raise LipsyncError(
                f"cue {line.index} ends before it starts ({line.start_ms} -> {line.end_ms} ms)",
                path,
                "fix the cue's times",
            )
    return lines
