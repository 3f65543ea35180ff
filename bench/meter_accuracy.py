"""How well the built-in sync meter finds known A/V offsets and rejects foreign speech.

Usage::

    python bench/meter_accuracy.py [--media ../shared/media] [--shipped] [--max-shift 8]

For every in-sync clip of ``training.fit_meter.TRAIN_CLIPS``: the clip's own audio shifted in
memory by ``-max_shift..max_shift`` frames (positive = audio late) must be reported as that shift;
every other clip's audio (foreign speech, same-source clips excluded) should score a low
confidence. By default each clip is scored with a model fitted without it (leave-one-clip-out,
honest figures); ``--shipped`` uses the packaged weights, which saw every clip (optimistic).
Lip gaps come from the single-face tracker and are cached, so reruns take seconds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lipcore.media.audio import clip_audio  # noqa: E402
from lipcore.progress import drain  # noqa: E402
from lipcore.sync.meter import (  # noqa: E402
    iter_lip_gap_single_face,
    load_meter_model,
    score_av,
)
from training.fit_meter import (  # noqa: E402
    ALPHAS,
    SAME_SOURCE,
    TRAIN_CLIPS,
    find_clip,
    fit_ridge,
    load_clip,
)

SR = 16000


def shifted(audio: np.ndarray, frames: int, fps) -> np.ndarray:
    """``audio`` played ``frames`` video frames later (positive) or earlier, same length."""
    n = int(round(frames * SR / float(fps)))
    if n >= 0:
        return np.concatenate([np.zeros(n, np.float32), audio])[: len(audio)]
    return np.concatenate([audio[-n:], np.zeros(-n, np.float32)])


def main() -> int:
    """Run the sweep and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--media", type=Path, default=REPO.parent / "shared" / "media")
    parser.add_argument("--shipped", action="store_true", help="use the packaged weights")
    parser.add_argument("--max-shift", type=int, default=8)
    args = parser.parse_args()

    alpha = load_meter_model().meta.get("alpha", ALPHAS[3])
    names = list(TRAIN_CLIPS)
    data = {n: load_clip(find_clip(args.media, n), n) for n in names}
    gaps, audios, fpss = {}, {}, {}
    for n in names:
        path = find_clip(args.media, n)
        series = drain(iter_lip_gap_single_face(path), show=False)
        gaps[n], fpss[n] = series.gap, series.fps
        audios[n] = clip_audio(path)

    def group(n: str) -> str:
        return SAME_SOURCE.get(n, n)

    shifts = list(range(-args.max_shift, args.max_shift + 1))
    print(f"model: {'shipped weights (saw every clip)' if args.shipped else 'leave-one-clip-out'}")
    header = "clip  fps    own(off,conf) | reported offset for audio shift k = " + " ".join(
        f"{k:+d}" for k in shifts
    )
    print(header)
    within1_k, within1_rel, total = 0, 0, 0
    own_conf, foreign_conf, foreign_lag = [], [], []
    per_clip_foreign = {}
    for n in names:
        model = (
            load_meter_model()
            if args.shipped
            else fit_ridge([data[m] for m in names if group(m) != group(n)], alpha)
        )
        gap, audio, fps = gaps[n], audios[n], fpss[n]
        own = score_av(gap, audio, fps, model=model)
        own_conf.append(own.confidence)
        reported = []
        for k in shifts:
            s = score_av(gap, shifted(audio, k, fps), fps, model=model)
            reported.append(s.offset_frames)
            total += 1
            within1_k += abs(s.offset_frames - k) <= 1
            within1_rel += abs(s.offset_frames - (own.offset_frames + k)) <= 1
        confs = []
        for m in names:
            if group(m) == group(n):
                continue
            f = score_av(gap, audios[m], fps, model=model)
            confs.append(f.confidence)
            foreign_lag.append(f.offset_frames)
        foreign_conf.extend(confs)
        per_clip_foreign[n] = confs
        print(
            f"{n}  {float(fps):5.2f}  {own.offset_frames:+3d} {own.confidence:.3f}   | "
            + " ".join(f"{r:+d}" for r in reported)
        )
    own_arr, foreign_arr = np.asarray(own_conf), np.asarray(foreign_conf)
    print()
    print("clip  own conf  foreign conf mean / max  (own > every foreign?)")
    for n, oc in zip(names, own_conf, strict=True):
        fc = np.asarray(per_clip_foreign[n])
        print(
            f"{n}  {oc:8.3f}  {fc.mean():8.3f} / {fc.max():.3f}   "
            f"{'yes' if oc > fc.max() else 'no'}"
        )
    print()
    print(f"shifted own audio: reported within +-1 of the true shift k: {within1_k}/{total} "
          f"({within1_k / total:.0%}); within +-1 of (own offset + k): {within1_rel}/{total} "
          f"({within1_rel / total:.0%})")  # fmt: skip
    print(f"confidence own: mean {own_arr.mean():.3f}, min {own_arr.min():.3f}; foreign: mean "
          f"{foreign_arr.mean():.3f}, 95th pct {np.percentile(foreign_arr, 95):.3f}, max "
          f"{foreign_arr.max():.3f}; own > foreign in "
          f"{np.mean(own_arr[:, None] > foreign_arr[None, :]):.0%} of pairs")  # fmt: skip
    print(f"foreign audio landing within +-1 frame of 0 by chance: "
          f"{np.mean(np.abs(foreign_lag) <= 1):.0%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
