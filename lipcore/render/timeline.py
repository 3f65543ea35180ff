"""The output timeline: which source frame each output frame shows, and where the new audio sits.

When the new audio outlasts the picture the user chooses: cut the audio ("cut", the default, keeps
the picture as it is), hold the last frame, loop the clip, or play it back and forth ("pingpong").
When the audio is shorter, the picture keeps its length and the mouth rests after the speech ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from lipcore.render.request import AUDIO_RATE, LONG_AUDIO_POLICIES, SegmentSpec
from lipcore.timebase import frame_to_sample, frames_in


@dataclass(frozen=True)
class OutputTimeline:
    """Mapping from output frames to source frames.

    Attributes:
        source_frames: Frames in the source clip.
        output_frames: Frames in the output.
        fps: Frame rate of both.
        policy: The long-audio policy applied.
    """

    source_frames: int
    output_frames: int
    fps: Fraction
    policy: str

    def source_of(self, out_frame: int) -> int:
        """Source frame shown at output frame ``out_frame``."""
        n = self.source_frames
        if out_frame < n:
            return out_frame
        if self.policy == "hold" or n == 1:
            return n - 1
        if self.policy == "loop":
            return out_frame % n
        period = 2 * (n - 1)  # pingpong: 0..n-1..1, 0..
        k = out_frame % period
        return k if k < n else period - k


def plan_timeline(
    source_frames: int, fps: Fraction, audio_samples: int, offset_samples: int, policy: str
) -> OutputTimeline:
    """Decide the output length from the picture, the new audio and the long-audio policy.

    Args:
        source_frames: Frames in the source clip.
        fps: Clip frame rate.
        audio_samples: Length of the new audio at 16 kHz.
        offset_samples: Where the new audio starts (16 kHz samples after frame 0).
        policy: One of ``LONG_AUDIO_POLICIES``.

    Returns:
        The output timeline.
    """
    if policy not in LONG_AUDIO_POLICIES:
        raise ValueError(f"long-audio policy must be one of {', '.join(LONG_AUDIO_POLICIES)}")
    audio_end_frames = frames_in(Fraction(max(0, audio_samples + offset_samples), AUDIO_RATE), fps)
    out = source_frames
    if policy != "cut" and audio_end_frames > source_frames:
        out = audio_end_frames
    return OutputTimeline(source_frames, out, fps, policy)


def place_audio(audio: np.ndarray, offset_samples: int, total_samples: int) -> np.ndarray:
    """Put ``audio`` on a silent track of ``total_samples`` starting at ``offset_samples``.

    Negative offsets drop the head of the audio; anything past the end is cut.
    """
    out = np.zeros((total_samples,) + audio.shape[1:], np.float32)
    src0 = max(0, -offset_samples)
    dst0 = max(0, offset_samples)
    n = min(len(audio) - src0, total_samples - dst0)
    if n > 0:
        out[dst0 : dst0 + n] = audio[src0 : src0 + n]
    return out


def timeline_samples(timeline: OutputTimeline, rate: int = AUDIO_RATE) -> int:
    """Audio samples covering the whole output at ``rate``."""
    return frame_to_sample(timeline.output_frames, timeline.fps, rate)


def clamp_segments(
    segments: tuple[SegmentSpec, ...], timeline: OutputTimeline
) -> list[SegmentSpec]:
    """Segments sorted and clipped to the output; the whole output when none are given.

    Raises:
        ValueError: When two segments overlap or one is empty after clipping.
    """
    from dataclasses import replace

    if not segments:
        return [SegmentSpec(0, timeline.output_frames)]
    out = []
    for seg in sorted(segments, key=lambda s: s.start_frame):
        if seg.end_frame <= seg.start_frame:
            raise ValueError(f"segment {seg.start_frame}-{seg.end_frame} is empty (END <= START)")
        start, end = max(0, seg.start_frame), min(timeline.output_frames, seg.end_frame)
        if end <= start:
            raise ValueError(
                f"segment {seg.start_frame}-{seg.end_frame} lies outside the clip "
                f"(0-{timeline.output_frames} frames)"
            )
        if out and start < out[-1].end_frame:
            raise ValueError(
                f"segments {out[-1].start_frame}-{out[-1].end_frame} and {start}-{end} overlap"
            )
        out.append(replace(seg, start_frame=start, end_frame=end))
    return out
