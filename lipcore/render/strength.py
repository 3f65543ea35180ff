"""The blend-strength curve of a segment: keyframes ``(frame, strength)`` to a weight per frame.

A dubbing editor keeps the actor's own mouth where the dub already matches by pulling a
segment's strength down to 0 there and back up to 1 where it must re-sync. The keys are clip
frames (the dub is placed on the clip, so "where it matches" is a clip position, and a key stays
put when the segment is trimmed) and strengths 0..1 (shown as 0-100 %). Between two keys the
strength is linear; before the first and after the last it holds.

Ramps are at least :data:`MIN_RAMP_FRAMES` frames: two neighbouring keys of different strength
closer than that are *refused* (:func:`check_keys` raises), not spread apart. Spreading would
silently move keys the editor placed, so the saved and drawn curve would no longer be the one
that renders; a refusal keeps the two identical and the editor's drag simply stops at the limit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: Shortest change of strength, in frames from one key to the next (a 1-frame jump pops).
MIN_RAMP_FRAMES = 4

StrengthKeys = tuple[tuple[int, float], ...]


def check_keys(keys: Iterable[Iterable[float]]) -> StrengthKeys:
    """Validate keyframes and return them as a sorted tuple of ``(int frame, float strength)``.

    Args:
        keys: ``(frame, strength)`` pairs; frames are clip frames >= 0, strengths 0..1.

    Returns:
        The keys sorted by frame.

    Raises:
        ValueError: A malformed key, a strength outside 0..1, two keys on one frame, or a ramp
            shorter than :data:`MIN_RAMP_FRAMES` (the message names the keys and the fix).
    """
    out: list[tuple[int, float]] = []
    for key in keys:
        pair = tuple(key)
        if len(pair) != 2:
            raise ValueError(f"a strength key is (frame, strength), not {pair!r}")
        frame, strength = pair
        if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or frame < 0:
            raise ValueError(f"a strength key's frame must be an integer >= 0, not {frame!r}")
        if isinstance(strength, bool) or not isinstance(strength, (int, float, np.floating)):
            raise ValueError(f"a strength must be a number 0..1, not {strength!r}")
        if not 0.0 <= float(strength) <= 1.0:
            raise ValueError(f"a strength must be within 0..1 (0-100 %), not {strength!r}")
        out.append((int(frame), float(strength)))
    out.sort()
    for (f0, s0), (f1, s1) in zip(out, out[1:], strict=False):
        if f1 == f0:
            raise ValueError(f"two strength keys on frame {f0}")
        if s1 != s0 and f1 - f0 < MIN_RAMP_FRAMES:
            raise ValueError(
                f"the ramp from frame {f0} ({s0:.0%}) to {f1} ({s1:.0%}) is {f1 - f0} frames; "
                f"ramps need at least {MIN_RAMP_FRAMES} frames: move the keys apart"
            )
    return tuple(out)


def strength_at(keys: StrengthKeys, frames: np.ndarray | Iterable[int]) -> np.ndarray:
    """Strength 0..1 at each of ``frames`` (1 everywhere when there are no keys).

    Args:
        keys: Checked keys (see :func:`check_keys`).
        frames: Clip frames.

    Returns:
        float32 array, one strength per frame.
    """
    frames = np.asarray(list(frames) if not isinstance(frames, np.ndarray) else frames)
    if not keys:
        return np.ones(len(frames), np.float32)
    xs = np.array([k[0] for k in keys], np.float64)
    ys = np.array([k[1] for k in keys], np.float64)
    return np.interp(frames.astype(np.float64), xs, ys).astype(np.float32)


def segment_strength(keys: StrengthKeys, start_frame: int, end_frame: int) -> np.ndarray:
    """The strength of each frame of the segment ``[start_frame, end_frame)``."""
    return strength_at(keys, np.arange(start_frame, end_frame))
