"""What the sync lane may claim about a score (no Qt): evidence, search range, short segments.

The built-in meter searches the audio-to-video lag over ``-max_lag..+max_lag`` frames and
reports the best one. A best lag *at the limit* of that range means the true peak may lie
outside it, or that there is no peak at all: that is no evidence of any offset, and the
per-frame curve computed at that lag means nothing either. A segment too short for the
meter's windows gets no curve, and the lane says why instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Lag search of the whole-clip (source) score, in frames each way (lipcore's default).
SOURCE_MAX_LAG = 15
#: Fewest frames a segment needs for a per-frame curve: the meter's windowed correlation needs
#: this many frames with a face and speech (lipcore.sync.meter.MIN_WINDOW_PAIRS).
MIN_SYNC_FRAMES = 12


def segment_max_lag(duration_frames: int) -> int:
    """Lag search for a segment: at most a third of it each way, so that two thirds of the
    frames always overlap, and never more than the source's search."""
    return max(2, min(SOURCE_MAX_LAG, duration_frames // 3))


def too_short_reason(duration_frames: int) -> str | None:
    """Why a segment of ``duration_frames`` gets no sync curve, or None when it gets one."""
    if duration_frames >= MIN_SYNC_FRAMES:
        return None
    return (
        f"{duration_frames} f is too short for a sync curve "
        f"(the meter needs at least {MIN_SYNC_FRAMES} frames of face and speech)"
    )


@dataclass(frozen=True)
class Evidence:
    """What a score says.

    Attributes:
        has_evidence: False when the best lag sits at the edge of the search range.
        max_lag: The search range searched, in frames each way.
        text: One line for the lane and the badge.
    """

    has_evidence: bool
    max_lag: int
    text: str


def evidence_of(score, name: str) -> Evidence:
    """Judge a :class:`lipcore.sync.types.SyncScore` for display.

    Args:
        score: The score (its ``lag_curve`` has ``2 * max_lag + 1`` values).
        name: "source" or "result", for the text.

    Returns:
        The verdict; at the edge of the range the text says "no evidence".
    """
    lags = len(np.asarray(score.lag_curve))
    max_lag = (lags - 1) // 2 if lags else SOURCE_MAX_LAG
    if lags and abs(int(score.offset_frames)) >= max_lag:
        return Evidence(
            False,
            max_lag,
            f"{name}: no evidence (best lag at the ±{max_lag} f search limit)",
        )
    return Evidence(True, max_lag, f"{name}: offset {int(score.offset_frames):+d} f")
