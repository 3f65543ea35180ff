"""Guide-track alignment: time-warp a voice actor's take to the original dialogue's timing.

What VocALign does, with well-known parts: MFCC features (librosa) of both recordings at 10 ms
steps, dynamic time warping (``librosa.sequence.dtw``) between them, split at user sync points
(moments known to match) so each piece is aligned on its own, then a smooth monotone time map
whose local stretch is capped, applied with Rubber Band's time-map mode (pitch kept). The map,
its largest stretch and squeeze, and whether the cap was reached are returned, so the editor can
show how much warping was done before the user accepts the result as the dub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lipcore.errors import LipsyncError

#: Feature rate: one MFCC vector per 10 ms.
HOP_SEC = 0.01
#: Time-map anchors are placed this far apart (shorter = follows the DTW path more closely).
ANCHOR_SEC = 0.05
#: Pauses (silence in the take) may be stretched or shrunk up to this factor, whatever the cap.
PAUSE_WARP = 6.0


@dataclass(frozen=True)
class GuideAlignment:
    """A take warped onto a guide's timing.

    Attributes:
        time_map: ``(take_sample, output_sample)`` anchors, increasing, first ``(0, 0)``, last
            ``(len(take), len(guide))`` (the form Rubber Band's time map takes).
        max_stretch: Largest local slow-down of speech (output / take duration) used.
        max_squeeze: Largest local speed-up of speech (take / output duration) used.
        capped: Whether the cap limited the warp somewhere (the result then follows the guide
            less closely there).
        mean_shift_ms: Mean absolute time shift the map applies to the take.
    """

    time_map: tuple[tuple[int, int], ...]
    max_stretch: float
    max_squeeze: float
    capped: bool
    mean_shift_ms: float


def _quiet_intervals(samples: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Which intervals between anchors are pauses (35 dB under the take's loud parts)."""
    rms = np.array(
        [
            np.sqrt(np.mean(samples[int(a) : max(int(b), int(a) + 1)] ** 2))
            for a, b in zip(anchors[:-1], anchors[1:], strict=True)
        ]
    )
    loud = np.percentile(rms, 95) if rms.size else 0.0
    return rms < loud * 10 ** (-35 / 20)


def _features(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    import librosa

    hop = int(round(HOP_SEC * sample_rate))
    mfcc = librosa.feature.mfcc(
        y=samples.astype(np.float32), sr=sample_rate, n_mfcc=20, hop_length=hop, n_fft=4 * hop
    )[1:]  # c0 is loudness: the actor's level must not steer the alignment
    mfcc -= mfcc.mean(axis=1, keepdims=True)
    mfcc /= mfcc.std(axis=1, keepdims=True) + 1e-6
    return mfcc  # (19, T)


def _path(guide_f: np.ndarray, take_f: np.ndarray) -> np.ndarray:
    import librosa

    _, wp = librosa.sequence.dtw(X=guide_f, Y=take_f, metric="euclidean")
    return wp[::-1]  # (K, 2) rows of (guide step, take step), increasing


def align_to_guide(
    take: np.ndarray,
    guide: np.ndarray,
    sample_rate: int,
    sync_points_sec: Sequence[tuple[float, float]] = (),
    max_warp: float = 1.5,
) -> GuideAlignment:
    """Plan the warp of ``take`` onto ``guide``'s timing.

    Args:
        take: ``(n,)`` mono float samples of the actor's take.
        guide: ``(m,)`` mono float samples of the original dialogue (same rate).
        sample_rate: Rate of both.
        sync_points_sec: ``(guide_sec, take_sec)`` pairs that must line up (e.g. a hard
            consonant the user marked in both); each piece between them is aligned on its own.
        max_warp: Largest local stretch or squeeze factor (1.5 = at most 1.5x slower or faster).

    Returns:
        The :class:`GuideAlignment` (apply it with :func:`warp_take`).

    Raises:
        LipsyncError: Empty audio, a sync point outside the recordings or out of order, a cap
            below 1, or recordings whose lengths differ by more than the cap.
    """
    if take.size == 0 or guide.size == 0:
        raise LipsyncError("the take and the guide must both have audio")
    if max_warp < 1.0:
        raise LipsyncError(f"max_warp must be at least 1, not {max_warp}")
    overall = len(guide) / len(take)
    if not 1.0 / max_warp <= overall <= max_warp:
        raise LipsyncError(
            f"the guide is {overall:.2f} times the take's length, beyond the {max_warp:g}x cap",
            fix="trim the take or the guide to the same line, or raise the cap",
        )
    hop = int(round(HOP_SEC * sample_rate))
    gf, tf = _features(guide, sample_rate), _features(take, sample_rate)
    cuts = [(0, 0)]
    for g_sec, t_sec in sorted(sync_points_sec):
        g, t = int(g_sec / HOP_SEC), int(t_sec / HOP_SEC)
        if not (cuts[-1][0] < g < gf.shape[1] and cuts[-1][1] < t < tf.shape[1]):
            raise LipsyncError(
                f"sync point (guide {g_sec:.2f} s, take {t_sec:.2f} s) is outside the recordings "
                "or not after the previous one",
                fix="mark sync points in time order inside both recordings",
            )
        cuts.append((g, t))
    cuts.append((gf.shape[1], tf.shape[1]))
    pieces = []
    for (g0, t0), (g1, t1) in zip(cuts, cuts[1:], strict=False):
        pieces.append(_path(gf[:, g0:g1], tf[:, t0:t1]) + [g0, t0])
    path = np.concatenate(pieces)  # (K, 2) guide step, take step
    # take time -> guide time at evenly spaced take anchors (mean guide step per take step)
    n_take, n_guide = len(take), len(guide)
    step = max(1, int(round(ANCHOR_SEC / HOP_SEC)))
    take_steps = np.arange(0, tf.shape[1], step)
    guide_of = np.array([path[path[:, 1] == t, 0].mean() for t in take_steps])
    anchors_in = np.append(take_steps * hop, n_take).astype(np.float64)
    anchors_out = np.append(guide_of * hop, n_guide).astype(np.float64)
    anchors_out[0] = 0.0
    # cap the local slope (output/input), then rescale the excess so the end still meets;
    # pauses may stretch or shrink freely (stretched silence is inaudible), speech may not
    din = np.diff(anchors_in)
    dout = np.maximum(np.diff(anchors_out), 0.0)
    quiet = _quiet_intervals(take, anchors_in)
    lo = np.where(quiet, 1.0 / PAUSE_WARP, 1.0 / max_warp)
    hi = np.where(quiet, PAUSE_WARP, max_warp)
    capped = False
    for _ in range(20):
        slope = dout / np.maximum(din, 1.0)
        clipped = np.clip(slope, lo, hi)
        capped = capped or bool(np.any(np.abs(clipped - slope) > 1e-9))
        dout = clipped * din
        total = dout.sum()
        free = (clipped > lo + 1e-9) & (clipped < hi - 1e-9)
        if abs(total - n_guide) < 1 or not free.any():
            break
        dout[free] *= 1 + (n_guide - total) / dout[free].sum()
    out = np.concatenate([[0.0], np.cumsum(dout)])
    out *= n_guide / out[-1]  # exact end (the cap may leave a few samples over)
    time_map = tuple((int(a), int(b)) for a, b in zip(anchors_in, out, strict=True))
    slopes = (np.diff(out) / np.maximum(din, 1.0))[~quiet] if (~quiet).any() else np.ones(1)
    return GuideAlignment(
        time_map=time_map,
        max_stretch=round(float(slopes.max()), 3),
        max_squeeze=round(float(1.0 / max(slopes.min(), 1e-6)), 3),
        capped=capped,
        mean_shift_ms=round(float(np.mean(np.abs(out - anchors_in))) * 1000 / sample_rate, 1),
    )


def warp_take(take: np.ndarray, sample_rate: int, alignment: GuideAlignment) -> np.ndarray:
    """Apply ``alignment`` to ``take`` (Rubber Band time map, pitch kept).

    Args:
        take: The take the alignment was planned for.
        sample_rate: Its rate.
        alignment: From :func:`align_to_guide`.

    Returns:
        The warped take, as long as the guide.

    Raises:
        LipsyncError: The ``rubberband`` program is missing.
    """
    import shutil

    if shutil.which("rubberband") is None:
        raise LipsyncError(
            "guide alignment needs the Rubber Band time-stretcher",
            fix="install it: apt-get install rubberband-cli",
        )
    import pyrubberband

    # Rubber Band wants strictly increasing anchors
    tm: list[tuple[int, int]] = []
    for a, b in alignment.time_map:
        if not tm or (a > tm[-1][0] and b > tm[-1][1]):
            tm.append((a, b))
    tm[-1] = alignment.time_map[-1]
    out = pyrubberband.timemap_stretch(take.astype(np.float32), sample_rate, tm)
    want = alignment.time_map[-1][1]
    out = np.asarray(out, dtype=np.float32).reshape(-1)[:want]
    return np.pad(out, (0, want - len(out)))
