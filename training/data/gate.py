"""The data gate: keep, re-align or drop a training clip by what the sync meter says of it.

A lip-sync model learns whatever relation its data shows, so a clip whose own audio is off (a
bad mux, a dub, music over the speech) teaches it to be off. The gate scores each clip's own
audio against its measured mouth with the project's meter (:func:`lipcore.sync.meter.score_av`)
and decides:

- **keep** when the best lag is within the meter's precision (+-``keep_offset_frames``) and the
  confidence is at least ``min_confidence``;
- **realign** when the lag is larger but clear (confidence at least ``realign_confidence``, lag
  at most ``max_realign_frames``): the audio is moved by the lag before the clip is cut;
- **drop** otherwise, with the reason (no audio, too little speech with a face, no evidence of
  sync, a lag at the edge of the search).

The thresholds come from ``SYNC-FACTS.md`` and the meter's own validation: in-sync clips land at
lag 0 +-1 (within +-2 on nine of ten), own audio scores 0.27 on average against 0.09 for foreign
audio, and below about 0.1 there is no evidence of sync at all. The keep band is +-3, one frame
wider than that precision: on the shared clips, full face tracking puts the in-sync A02 at +3,
and moving an in-sync clip by the meter's error would corrupt it, while the expert's negatives
are 5 or more frames off. A re-alignment is only as exact as the meter (+-2 frames): a mux 8
frames late came back within 2 frames of the original.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lipcore.errors import NoFaceError


@dataclass(frozen=True)
class GateRules:
    """Thresholds of the data gate.

    Attributes:
        keep_offset_frames: Largest lag accepted as in sync (the meter's precision).
        min_confidence: Least meter confidence to keep a clip.
        realign_confidence: Least confidence to trust a larger lag enough to correct it.
        max_realign_frames: Largest lag corrected; larger ones are dropped.
        max_lag_frames: Lag search range of the meter (each way).
        min_speech_frames: Fewest frames with both a face and speech to judge a clip at all.
    """

    keep_offset_frames: int = 3
    min_confidence: float = 0.1
    realign_confidence: float = 0.2
    max_realign_frames: int = 10
    max_lag_frames: int = 15
    min_speech_frames: int = 25


@dataclass(frozen=True)
class GateVerdict:
    """What the gate decided for one clip.

    Attributes:
        action: "keep", "realign" or "drop".
        reason: Why, in words a person reads in the report.
        offset_frames: Meter lag of the clip's own audio (positive = audio late), or None.
        confidence: Meter confidence, or None.
        shift_frames: Audio correction applied when cutting the clip (the lag on "realign").
        speech_frames: Frames with both a face and speech.
    """

    action: str
    reason: str
    offset_frames: int | None = None
    confidence: float | None = None
    shift_frames: int = 0
    speech_frames: int = 0

    def to_dict(self) -> dict:
        """JSON form for the manifest."""
        return asdict(self)


def gate_clip(
    lip_gap: np.ndarray, audio_16k: np.ndarray | None, fps, rules: GateRules = GateRules()
) -> GateVerdict:
    """Judge one clip's own audio against its mouth.

    Args:
        lip_gap: ``(N,)`` lip gap of the clip's main face per frame (NaN where not found).
        audio_16k: The clip's own audio (sample 0 with frame 0), or None when it has none.
        fps: Frame rate.
        rules: Thresholds.

    Returns:
        The :class:`GateVerdict`.
    """
    from lipcore.audio.vad import voiced_frames
    from lipcore.sync.meter import score_av

    if audio_16k is None or len(audio_16k) == 0:
        return GateVerdict("drop", "the clip has no audio")
    gap = np.asarray(lip_gap, np.float64)
    voiced = voiced_frames(audio_16k, fps, len(gap))
    speech = int((np.isfinite(gap) & voiced).sum())
    if speech < rules.min_speech_frames:
        return GateVerdict(
            "drop",
            f"only {speech} frames have both a face and speech (needs {rules.min_speech_frames})",
            speech_frames=speech,
        )
    try:
        score = score_av(gap, audio_16k, fps, max_lag=rules.max_lag_frames, voiced=voiced)
    except NoFaceError as exc:
        return GateVerdict("drop", str(exc), speech_frames=speech)
    off, conf = int(score.offset_frames), float(score.confidence)
    common = {"offset_frames": off, "confidence": round(conf, 4), "speech_frames": speech}
    if abs(off) <= rules.keep_offset_frames and conf >= rules.min_confidence:
        return GateVerdict("keep", f"in sync (lag {off:+d}, confidence {conf:.2f})", **common)
    if abs(off) >= rules.max_lag_frames:
        return GateVerdict(
            "drop", f"lag {off:+d} is at the edge of the search: no clear relation", **common
        )
    if abs(off) <= rules.keep_offset_frames:
        return GateVerdict(
            "drop",
            f"no evidence of sync: confidence {conf:.2f} < {rules.min_confidence}",
            **common,
        )
    if conf >= rules.realign_confidence and abs(off) <= rules.max_realign_frames:
        return GateVerdict(
            "realign",
            f"audio {'late' if off > 0 else 'early'} by {abs(off)} frames "
            f"(confidence {conf:.2f}): moved into sync",
            shift_frames=off,
            **common,
        )
    return GateVerdict(
        "drop",
        f"lag {off:+d} with confidence {conf:.2f}: too unsure or too far to re-align",
        **common,
    )
