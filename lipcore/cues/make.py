"""Mouth cues from speech: timed Rhubarb shapes at an animator's frame rate.

Phones come from the phone recogniser (:mod:`lipcore.audio.phones`), or, when the dialogue text
is given, from aligning that text to the speech (:mod:`lipcore.audio.align`). Each phone becomes
one or two shape parts (:data:`lipcore.cues.shapes.PHONE_SHAPES`); stretches that voice activity
calls silence are rest (X), and a "silence" the voice activity hears as voice (synthetic voices
confuse the acoustic model) is an average open mouth; pauses shorter than ``short_pause_sec``
keep the mouth where it was.

Then each target frame takes the shape covering most of it, except that a closure (A) covering
at least a third of a frame, or lying wholly inside it, wins the frame: a missed /p b m/ is the
first thing a viewer reads as out of sync. In-betweens are added where Rhubarb's shape guide asks
for them (C before D after a closed mouth, E before F after an open one), and runs shorter than the
minimum hold are merged into a neighbour (closures are lengthened instead, never dropped).

Times are integer samples at 16 kHz; every cue boundary is a frame boundary of the target rate.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from lipcore.audio import SAMPLE_RATE
from lipcore.audio.align import Word, align_text, iter_recognise_words
from lipcore.audio.phones import BILABIAL_LABELS, Phone, iter_recognise_phones
from lipcore.audio.vad import speech_ranges
from lipcore.cues.shapes import (
    ASPIRATE,
    PHONE_SHAPES,
    SHAPES,
    UNKNOWN_SPEECH_SHAPE,
    VOWELS,
    allowed_shapes,
    to_shape_set,
)
from lipcore.progress import Progress, drain
from lipcore.timebase import as_fps, frame_to_sample

#: How speech without a dialogue text is analysed (see :func:`iter_mouth_cues`).
RECOGNISERS = ("phones", "words")
#: Rates animators work at; any rate from 1 to 120 fps is accepted.
COMMON_FPS = (Fraction(12), Fraction(24), Fraction(25), Fraction(30))
#: A closure wins a frame when it covers at least this share of it.
CLOSURE_FRAME_SHARE = 0.3
#: A recognised phone counts as speech when at least this share of it is voiced.
VOICED_SHARE = 0.3
#: ... except /p b m/, whose closure is silent: voice within this distance of it is enough.
CLOSURE_REACH_SEC = 0.1
#: A recognised "silence" counts as unlabelled speech when this share of it is voiced.
SILENCE_OVERRULED_SHARE = 0.8


@dataclass(frozen=True)
class MouthCue:
    """One mouth shape held over a time range.

    Attributes:
        shape: Rhubarb letter "A"-"H" or "X".
        start_sample: First sample at 16 kHz (a frame boundary of the track's rate).
        end_sample: One past the last sample.
        phone: The phone the shape came from ("" for rest or a hand-made cue).
    """

    shape: str
    start_sample: int
    end_sample: int
    phone: str = ""

    @property
    def start_sec(self) -> float:
        """Start time in seconds."""
        return self.start_sample / SAMPLE_RATE

    @property
    def end_sec(self) -> float:
        """End time in seconds."""
        return self.end_sample / SAMPLE_RATE


@dataclass(frozen=True)
class CueConfig:
    """What the animator's rig needs.

    Attributes:
        fps: Target frame rate (24, 25, 30; 12 for animation "on twos").
        min_hold_frames: Shortest run of one shape, in target frames (closures excepted).
        extended_shapes: Optional shapes the animator has drawn, any of "GHX".
        short_pause_sec: Pauses shorter than this hold the previous shape instead of resting.
    """

    fps: Fraction = Fraction(24)
    min_hold_frames: int = 1
    extended_shapes: str = "GHX"
    short_pause_sec: float = 0.15

    def __post_init__(self) -> None:
        object.__setattr__(self, "fps", as_fps(self.fps))
        if not 1 <= self.fps <= 120:
            raise ValueError(f"cue frame rate must be between 1 and 120 fps, got {self.fps}")
        if self.min_hold_frames < 1:
            raise ValueError(f"min_hold_frames must be at least 1, got {self.min_hold_frames}")
        allowed_shapes(self.extended_shapes)


@dataclass(frozen=True)
class CueTrack:
    """Mouth cues for one piece of speech.

    Attributes:
        cues: Contiguous cues from sample 0 to ``duration_samples``.
        duration_samples: Length of the speech at 16 kHz.
        fps: The frame rate the cue boundaries sit on.
        source: "text" (dialogue aligned), "words" (recognised English words aligned) or
            "phones" (phones recognised).
        words: Aligned words (empty for "phones").
    """

    cues: tuple[MouthCue, ...]
    duration_samples: int
    fps: Fraction
    source: str = "phones"
    words: tuple[Word, ...] = field(default=())


def _voiced_mask(audio_16k: np.ndarray) -> np.ndarray:
    """Per-sample prefix sums of voice activity (pauses under 0.1 s bridged)."""
    mask = np.zeros(len(audio_16k), np.int8)
    for s, e in speech_ranges(audio_16k, pad_sec=0.02, min_gap_sec=0.1):
        mask[s:e] = 1
    out = np.zeros(len(audio_16k) + 1, np.int64)
    out[1:] = np.cumsum(mask)
    return out


def _shape_parts(phones: list[Phone], voiced: np.ndarray) -> list[tuple[str, int, int, str]]:
    """Phones to (shape, start, end, phone) parts; silence and unvoiced noise leave gaps."""
    parts: list[tuple[str, int, int, str]] = []
    n = len(voiced) - 1
    reach = int(CLOSURE_REACH_SEC * SAMPLE_RATE)

    def heard(p: Phone) -> bool:
        if p.label in BILABIAL_LABELS:
            # a stop's closure is silent: voice next to it is enough
            lo, hi = max(0, p.start_sample - reach), min(n, p.end_sample + reach)
            return voiced[hi] > voiced[lo]
        share = voiced[p.end_sample] - voiced[p.start_sample]
        return share >= VOICED_SHARE * (p.end_sample - p.start_sample)

    def voiced_silence(p: Phone) -> bool:
        share = voiced[p.end_sample] - voiced[p.start_sample]
        return share >= SILENCE_OVERRULED_SHARE * (p.end_sample - p.start_sample)

    # "silence" the voice activity hears as voice is speech the model could not label (common
    # on synthetic voices): it gets an average open mouth instead of rest
    speech = [
        p if p.is_speech or p.label == "+SPN+" else Phone("+SPN+", p.start_sample, p.end_sample)
        for p in phones
        if ((p.is_speech or p.label == "+SPN+") and heard(p)) or voiced_silence(p)
    ]
    for i, p in enumerate(speech):
        if p.label == ASPIRATE:
            nxt = speech[i + 1] if i + 1 < len(speech) else None
            follows = nxt is not None and nxt.start_sample - p.end_sample < SAMPLE_RATE // 20
            rule = PHONE_SHAPES[nxt.label][:1] if follows and nxt.label in VOWELS else (("C", 1),)
        else:
            rule = PHONE_SHAPES.get(p.label, ((UNKNOWN_SPEECH_SHAPE, 1.0),))
        start = p.start_sample
        for k, (shape, share) in enumerate(rule):
            end = (
                p.end_sample
                if k == len(rule) - 1
                else start + round(share * (p.end_sample - p.start_sample))
            )
            if end > start:
                parts.append((shape, start, end, p.label))
            start = end
    return parts


def _hold_short_pauses(
    parts: list[tuple[str, int, int, str]], short_samples: int
) -> list[tuple[str, int, int, str]]:
    """Stretch each part over a following pause shorter than ``short_samples``."""
    out = list(parts)
    for i in range(len(out) - 1):
        shape, s, e, ph = out[i]
        gap = out[i + 1][1] - e
        if 0 < gap < short_samples:
            out[i] = (shape, s, out[i + 1][1], ph)
    return out


def _label_frames(
    parts: list[tuple[str, int, int, str]], bounds: np.ndarray
) -> tuple[list[str], list[str]]:
    """The shape (and source phone) of every target frame."""
    n = len(bounds) - 1
    index = {s: i for i, s in enumerate(SHAPES)}
    cover = np.zeros((n, len(SHAPES)), np.int64)
    best_phone = [""] * n
    best_len = np.zeros(n, np.int64)
    closure_inside = np.zeros(n, bool)
    for shape, s, e, ph in parts:
        k0 = max(0, int(np.searchsorted(bounds, s, side="right")) - 1)
        k1 = min(n, int(np.searchsorted(bounds, e, side="left")))
        for k in range(k0, k1):
            ov = min(e, bounds[k + 1]) - max(s, bounds[k])
            if ov <= 0:
                continue
            cover[k, index[shape]] += ov
            if ov > best_len[k]:
                best_len[k], best_phone[k] = ov, ph
            if shape == "A" and k0 == k1 - 1:
                closure_inside[k] = True
    frame_len = np.diff(bounds)
    cover[:, index["X"]] += np.maximum(0, frame_len - cover.sum(axis=1))
    shapes = [SHAPES[int(i)] for i in cover.argmax(axis=1)]
    closure = (cover[:, index["A"]] >= CLOSURE_FRAME_SHARE * frame_len) | closure_inside
    for k in np.nonzero(closure)[0]:
        shapes[k] = "A"
    phones = [best_phone[k] if shapes[k] != "X" else "" for k in range(n)]
    return shapes, phones


def _runs(labels: list[str]) -> list[list]:
    """Run-length encode: [shape, first frame, frame count]."""
    runs: list[list] = []
    for k, lab in enumerate(labels):
        if runs and runs[-1][0] == lab:
            runs[-1][2] += 1
        else:
            runs.append([lab, k, 1])
    return runs


def _tween(labels: list[str], allowed: frozenset[str]) -> list[str]:
    """Insert one-frame in-betweens: C into D after a closed mouth, E into F after an open one."""
    out = list(labels)
    for shape, first, count in _runs(labels):
        if first == 0 or count < 3:
            continue
        before = labels[first - 1]
        if shape == "D" and before in "ABX":
            out[first] = "C"
        elif shape == "F" and before in "CD" and "E" in allowed:
            out[first] = "E"
    return out


def _enforce_min_hold(labels: list[str], min_frames: int) -> list[str]:
    """Merge runs shorter than ``min_frames`` into the longer neighbour; lengthen closures."""
    if min_frames <= 1:
        return labels
    out = list(labels)
    for _ in range(len(out)):
        runs = _runs(out)
        short = [i for i, r in enumerate(runs) if r[2] < min_frames]
        if not short:
            break
        changed = False
        for i in short:
            runs = _runs(out)
            if i >= len(runs) or runs[i][2] >= min_frames:
                continue
            shape, first, count = runs[i]
            left = runs[i - 1] if i > 0 else None
            right = runs[i + 1] if i + 1 < len(runs) else None
            if shape == "A":
                need = min_frames - count
                donor = max((r for r in (left, right) if r), key=lambda r: r[2], default=None)
                if donor is None or donor[2] - need < min_frames:
                    continue
                if donor is right:
                    out[first + count : first + count + need] = ["A"] * need
                else:
                    out[first - need : first] = ["A"] * need
                changed = True
                continue
            neighbour = max((r for r in (left, right) if r), key=lambda r: r[2], default=None)
            if neighbour is None:
                continue
            out[first : first + count] = [neighbour[0]] * count
            changed = True
        if not changed:
            break
    return out


def cues_from_phones(
    phones: list[Phone],
    audio_16k: np.ndarray,
    config: CueConfig = CueConfig(),
    source: str = "phones",
    words: tuple[Word, ...] = (),
) -> CueTrack:
    """Turn timed phones into mouth cues on the target frame grid.

    Args:
        phones: Timed phones of ``audio_16k`` (recognised or aligned).
        audio_16k: The speech, ``(S,)`` mono float at 16 kHz (for voice activity).
        config: Frame rate, minimum hold, drawn shapes.
        source: Where the phones came from, recorded on the track.
        words: Aligned words, kept on the track for exports that list words.

    Returns:
        The cue track.
    """
    n = len(audio_16k)
    fps = config.fps
    n_frames = int(np.ceil(Fraction(n) * fps / SAMPLE_RATE)) if n else 0
    if n_frames == 0:
        return CueTrack((), n, fps, source, words)
    bounds = np.array([frame_to_sample(k, fps, SAMPLE_RATE) for k in range(n_frames + 1)])
    bounds[-1] = n
    parts = _shape_parts(phones, _voiced_mask(audio_16k))
    parts = _hold_short_pauses(parts, int(config.short_pause_sec * SAMPLE_RATE))
    labels, frame_phones = _label_frames(parts, bounds)
    allowed = allowed_shapes(config.extended_shapes)
    labels = [to_shape_set(s, allowed) for s in labels]
    labels = _tween(labels, allowed)
    labels = _enforce_min_hold(labels, config.min_hold_frames)
    cues = tuple(
        MouthCue(shape, int(bounds[first]), int(bounds[first + count]), frame_phones[first])
        for shape, first, count in _runs(labels)
    )
    return CueTrack(cues, n, fps, source, words)


def iter_mouth_cues(
    audio_16k: np.ndarray,
    config: CueConfig = CueConfig(),
    text: str | None = None,
    recogniser: str = "phones",
) -> Generator[Progress, None, CueTrack]:
    """Mouth cues for speech, yielding progress; returns the :class:`CueTrack`.

    Args:
        audio_16k: ``(S,)`` mono float samples at 16 kHz.
        config: Frame rate, minimum hold, drawn shapes.
        text: Optional dialogue (English). When it aligns to the speech, the cues follow its
            words; otherwise the phones are recognised as without text.
        recogniser: Without text: "phones" (any language, fast) or "words" (English words
            recognised, then aligned like a given text; several times slower).

    Returns:
        The cue track (``source``: "text", "words" or "phones").
    """
    if recogniser not in RECOGNISERS:
        raise ValueError(f"recogniser must be one of {RECOGNISERS}, got {recogniser!r}")
    audio = np.asarray(audio_16k, dtype=np.float32)
    source = "text"
    if not text and recogniser == "words":
        text = yield from iter_recognise_words(audio)
        source = "words"
    if text:
        yield Progress(0, 1, "aligning words")
        words = align_text(audio, text)
        if words:
            phones = [p for w in words for p in w.phones]
            return cues_from_phones(phones, audio, config, source, tuple(words))
    phones = yield from iter_recognise_phones(audio)
    yield Progress(1, 1, "mouth shapes")
    return cues_from_phones(phones, audio, config, "phones")


def mouth_cues(
    audio_16k: np.ndarray,
    config: CueConfig = CueConfig(),
    text: str | None = None,
    recogniser: str = "phones",
) -> CueTrack:
    """Mouth cues for speech (drains :func:`iter_mouth_cues` without a bar).

    Args:
        audio_16k: ``(S,)`` mono float samples at 16 kHz.
        config: Frame rate, minimum hold, drawn shapes.
        text: Optional dialogue text to follow.
        recogniser: "phones" or "words" (English), used when there is no text.

    Returns:
        The cue track.
    """
    return drain(iter_mouth_cues(audio_16k, config, text, recogniser), show=False)


def shape_at(track_cues: tuple[MouthCue, ...] | list[MouthCue], sample: int) -> str:
    """The shape showing at ``sample`` (X before the first and after the last cue).

    Args:
        track_cues: Contiguous cues in time order.
        sample: A 16 kHz sample index.

    Returns:
        A shape letter.
    """
    starts = [c.start_sample for c in track_cues]
    i = int(np.searchsorted(starts, sample, side="right")) - 1
    if i < 0 or sample >= track_cues[i].end_sample:
        return "X"
    return track_cues[i].shape
