"""Exact time arithmetic: rational frame rates, frames <-> samples <-> mel steps."""

from __future__ import annotations

from fractions import Fraction

MEL_STEPS_PER_SEC = 80  # 16 kHz audio with a 200-sample hop (Wav2Lip front-end)
MEL_WINDOW_STEPS = 16  # 0.2 s of mel per video frame (Wav2Lip syncnet_mel_step_size)


def as_fps(value: Fraction | float | str | tuple[int, int]) -> Fraction:
    """Return a frame rate as an exact fraction.

    Args:
        value: ``Fraction``, ``(num, den)``, ``"30000/1001"``, or a float or decimal string
            such as 29.97 (snapped to the NTSC rational when it is one).

    Returns:
        The frame rate as a ``Fraction``.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, tuple):
        return Fraction(int(value[0]), int(value[1]))
    if isinstance(value, str):
        if "/" in value:
            return Fraction(value)
        value = float(value)  # "29.97" is the NTSC rate, like the float 29.97
    for base in (24, 30, 48, 60, 120):
        ntsc = Fraction(base * 1000, 1001)
        if abs(float(ntsc) - value) < 5e-3:
            return ntsc
    return Fraction(value).limit_denominator(1001)


def frame_to_sec(frame: int, fps: Fraction) -> Fraction:
    """Exact start time of ``frame`` at ``fps``."""
    return Fraction(frame) / fps


def _exact_sec(sec: Fraction | float | int) -> Fraction:
    """``sec`` as a fraction; a float is read as the decimal it prints as.

    ``Fraction(0.36)`` is 0.35999999999999998668..., so at 25 fps a floor would land on frame 8
    instead of 9; ``Fraction(repr(0.36))`` is exactly 9/25.
    """
    if isinstance(sec, float):
        return Fraction(repr(sec))
    return Fraction(sec)


def sec_to_frame(sec: Fraction | float, fps: Fraction) -> int:
    """Index of the frame that is showing at time ``sec`` (floor)."""
    return int((_exact_sec(sec) * fps) // 1)


def frame_to_sample(frame: int, fps: Fraction, sample_rate: int) -> int:
    """First audio sample (at ``sample_rate``) belonging to ``frame``."""
    return int((Fraction(frame) * sample_rate / fps) // 1)


def frame_to_mel_index(frame: int, fps: Fraction) -> int:
    """First 80 Hz mel step of ``frame``: Wav2Lip's ``int(80 * frame / fps)`` done exactly."""
    return int((Fraction(frame) * MEL_STEPS_PER_SEC / fps) // 1)


def frames_in(duration_sec: Fraction | float, fps: Fraction) -> int:
    """Frames needed to cover ``duration_sec`` (ceil: a partial last frame counts)."""
    exact = _exact_sec(duration_sec) * fps
    return int(-(-exact // 1))


def format_timecode(frame: int, fps: Fraction, start_frame: int = 0) -> str:
    """Editor timecode of ``frame``: SMPTE, drop-frame at 29.97/59.94 (``00:01:00;02``).

    Args:
        frame: 0-based frame index.
        fps: Exact frame rate.
        start_frame: The clip's own start timecode as a frame count (0 = none).

    Returns:
        ``HH:MM:SS:FF`` (``;FF`` in drop-frame); see :func:`lipcore.timecode.format_smpte`.
    """
    from lipcore.timecode import format_smpte

    return format_smpte(frame, fps, start_frame)
