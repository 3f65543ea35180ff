"""Timing strategies: how each line's overflow is absorbed, within caps, planned in frames.

Per line, one of:

- ``speedup``: the take is played faster with its pitch kept (Rubber Band), at most
  ``max_speedup`` times;
- ``gap``: the take runs on into the silence after its slot, keeping ``min_gap_ms`` before the
  next line;
- ``slow_picture``: the slot's picture is slowed (frames held or blended) to the take's length,
  at most ``max_slowdown`` times; lecture footage tolerates it, film does not;
- ``pad``: a held frame is inserted after the slot, at most ``max_pad_ms`` long;
- ``none``: nothing is changed (an overflow stays and is reported).

The plan is exact: the output picture is a map from output frames to source frame positions,
and each take's placement is an output sample. What a cap leaves over is reported per line as
``residual_ms``; nothing is silently cut.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from lipcore.errors import LipsyncError
from lipcore.script.lines import TAKE_RATE_HZ, LineTake
from lipcore.script.subtitles import ScriptLine

STRATEGIES = ("none", "speedup", "gap", "slow_picture", "pad")
PICTURE_MODES = ("hold", "blend")


@dataclass(frozen=True)
class TimingCaps:
    """Limits of each strategy.

    Attributes:
        max_speedup: Largest tempo factor for ``speedup`` (1.35 keeps speech natural).
        min_gap_ms: Silence kept before the next line when ``gap`` lets a take run on.
        max_slowdown: Largest picture slow-down factor for ``slow_picture``.
        max_pad_ms: Longest held frame for ``pad``.
        picture_mode: How ``slow_picture`` makes new frames: "hold" (repeat) or "blend".
    """

    max_speedup: float = 1.35
    min_gap_ms: int = 100
    max_slowdown: float = 1.5
    max_pad_ms: int = 2000
    picture_mode: str = "blend"

    def validate(self) -> None:
        """Raise LipsyncError naming the bad cap."""
        if not 1.0 <= self.max_speedup <= 2.0:
            raise LipsyncError(f"max_speedup must be 1..2, not {self.max_speedup}")
        if not 1.0 <= self.max_slowdown <= 4.0:
            raise LipsyncError(f"max_slowdown must be 1..4, not {self.max_slowdown}")
        if self.min_gap_ms < 0 or self.max_pad_ms < 0:
            raise LipsyncError("min_gap_ms and max_pad_ms must not be negative")
        if self.picture_mode not in PICTURE_MODES:
            raise LipsyncError(f"picture_mode must be one of {PICTURE_MODES}")


@dataclass(frozen=True)
class LineTiming:
    """What happens to one line.

    Attributes:
        index: Line number.
        strategy: The strategy used (``none`` when the take fits).
        speed: Tempo factor of the take (1 = unchanged).
        take_ms: Take length after the speed change.
        slot_frames: ``(start, end)`` source frames of the slot.
        out_start_frame: Output frame where the slot starts.
        out_slot_frames: Output frames the slot's picture takes (longer when slowed or padded).
        out_take_start_sample: Output sample (at :data:`TAKE_RATE_HZ`) where the take starts.
        allowed_ms: Room the take has after the strategy (slot, plus gap or pad or slow-down).
        residual_ms: Overflow left after the cap (0 = fits).
    """

    index: int
    strategy: str
    speed: float
    take_ms: float
    slot_frames: tuple[int, int]
    out_start_frame: int
    out_slot_frames: int
    out_take_start_sample: int
    allowed_ms: float
    residual_ms: float

    @property
    def out_take_frames(self) -> tuple[int, int]:
        """Output frames the (final) take plays over: the range the lips are re-synced in."""
        return self.out_start_frame, self.out_start_frame + self.out_slot_frames


@dataclass(frozen=True)
class TimingPlan:
    """The output's timing.

    Attributes:
        fps: Frame rate (unchanged).
        picture_map: ``(output_frames,)`` float64 source frame position of every output frame
            (integers = a source frame; fractions = a blend of the two neighbours).
        lines: One :class:`LineTiming` per line with a take, in time order.
    """

    fps: Fraction
    picture_map: np.ndarray
    lines: tuple[LineTiming, ...]

    @property
    def output_frames(self) -> int:
        """Frames in the output."""
        return len(self.picture_map)

    @property
    def total_residual_ms(self) -> float:
        """Overflow left over all lines."""
        return round(sum(t.residual_ms for t in self.lines), 1)


def _choose(strategy: str | Mapping[int, str], index: int) -> str:
    name = strategy if isinstance(strategy, str) else strategy.get(index, "none")
    if name not in STRATEGIES:
        raise LipsyncError(f"unknown timing strategy {name!r}", fix=f"use one of {STRATEGIES}")
    return name


def plan_timing(
    lines: list[ScriptLine],
    takes: Mapping[int, LineTake],
    fps: Fraction,
    clip_frames: int,
    strategy: str | Mapping[int, str] = "speedup",
    caps: TimingCaps | None = None,
) -> TimingPlan:
    """Decide, line by line, how each take is fitted.

    Args:
        lines: The script.
        takes: ``{line index: take}`` (lines without a take keep their picture untouched).
        fps: The clip's exact frame rate.
        clip_frames: Frames in the clip.
        strategy: One strategy for every line, or ``{line index: strategy}`` (others "none").
        caps: Limits (defaults: :class:`TimingCaps`).

    Returns:
        The :class:`TimingPlan`.

    Raises:
        LipsyncError: Unknown strategy, bad caps, or slots that overlap or leave the clip.
    """
    caps = caps or TimingCaps()
    caps.validate()
    fps = Fraction(fps)
    ordered = sorted((ln for ln in lines if ln.index in takes), key=lambda ln: ln.start_ms)
    ms_per_frame = 1000 / float(fps)
    pieces: list[np.ndarray] = []
    out_len = 0
    pos = 0
    timings = []
    for k, line in enumerate(ordered):
        a, b = line.frames(fps)
        b = min(b, clip_frames)
        if a < pos or a >= b:
            raise LipsyncError(
                f"line {line.index}'s slot (frames {a}-{b}) overlaps the previous line or "
                f"lies outside the clip ({clip_frames} frames)",
                fix="fix the subtitle times",
            )
        take = takes[line.index]
        # the slot starts inside frame a: the take starts ``lead`` after that frame's start
        lead = Fraction(line.start_ms, 1000) - Fraction(a) / fps
        lead_ms = float(lead) * 1000
        slot_ms = float(line.duration_ms)  # the subtitle's own slot, as the fit table has it
        over = take.duration_ms - slot_ms
        name = _choose(strategy, line.index) if over > 1e-6 else "none"
        speed, out_slot, allowed = 1.0, b - a, slot_ms
        if name == "speedup":
            speed = min(take.duration_ms / slot_ms, caps.max_speedup)
        elif name == "gap":
            nxt_ms = (
                ordered[k + 1].start_ms if k + 1 < len(ordered) else clip_frames * ms_per_frame
            )
            room_ms = max(0.0, nxt_ms - line.end_ms - caps.min_gap_ms)
            allowed = slot_ms + min(over, room_ms)
        elif name == "slow_picture":
            factor = min(take.duration_ms / slot_ms, caps.max_slowdown)
            out_slot = math.ceil((slot_ms * factor + lead_ms) / ms_per_frame - 1e-9)
            allowed = out_slot * ms_per_frame - lead_ms
        elif name == "pad":
            pad = math.ceil(min(over, caps.max_pad_ms) / ms_per_frame - 1e-9)
            out_slot = (b - a) + pad
            allowed = out_slot * ms_per_frame - lead_ms
        pieces.append(np.arange(pos, a, dtype=np.float64))
        out_start = out_len + (a - pos)
        if name == "slow_picture":
            step = (b - a) / out_slot
            picture = a + np.arange(out_slot) * step
            if caps.picture_mode == "hold":
                picture = np.floor(picture)
            pieces.append(picture)
        else:
            pieces.append(np.arange(a, b, dtype=np.float64))
            if name == "pad":
                pieces.append(np.full(out_slot - (b - a), b - 1, dtype=np.float64))
        out_len = out_start + out_slot
        pos = b
        take_ms = take.duration_ms / speed
        start_sample = int((Fraction(out_start) / fps + lead) * TAKE_RATE_HZ)
        if name == "gap":  # the lips follow the take into the gap
            out_slot = min(math.ceil((allowed + lead_ms) / ms_per_frame - 1e-9), clip_frames - a)
        timings.append(
            LineTiming(
                index=line.index,
                strategy=name,
                speed=round(speed, 4),
                take_ms=round(take_ms, 1),
                slot_frames=(a, b),
                out_start_frame=out_start,
                out_slot_frames=out_slot,
                out_take_start_sample=start_sample,
                allowed_ms=round(allowed, 1),
                residual_ms=round(max(0.0, take_ms - allowed), 1),
            )
        )
    pieces.append(np.arange(pos, clip_frames, dtype=np.float64))
    picture_map = np.concatenate(pieces) if pieces else np.zeros(0)
    return TimingPlan(fps=fps, picture_map=picture_map, lines=tuple(timings))
