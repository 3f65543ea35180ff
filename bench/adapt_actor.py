"""Does adapting the meter to an actor help on footage of them it has not seen?

For each in-sync clip of a prepared folder (``training.data.prepare_folder``): the generic meter
is refitted leave-one-source-out on the *other* clips (the shipped weights saw every shared clip,
so they would flatter themselves), the actor's meter is adapted from it on the clip's first half
(:func:`training.adapt_actor.adapt_meter`), and both are judged on the second half:

- ``r``: correlation of the predicted with the measured (z-scored) lip gap, voiced frames;
- ``conf own`` / ``conf foreign``: the meter's confidence for the clip's own audio and, averaged,
  for the other clips' audio on the same frames (higher own, lower foreign is better).

Usage::

    python bench/adapt_actor.py data/prepared [--alpha 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lipcore.sync.meter import load_meter_model, score_av  # noqa: E402
from training.adapt_actor import adapt_meter, meter_frames, prediction_r  # noqa: E402
from training.data.prepare_clips import ClipData  # noqa: E402
from training.fit_meter import SAME_SOURCE, fit_ridge  # noqa: E402
from training.fit_meter import ClipData as FitClip  # noqa: E402


def half(clip: ClipData, second: bool) -> ClipData:
    """The first or second half of a prepared clip's frames (audio kept whole: sample 0 is
    source frame 0)."""
    n = len(clip.frames) // 2
    rows = slice(n, None) if second else slice(0, n)
    lm = None if clip.landmarks is None else clip.landmarks[rows]
    return dataclasses.replace(
        clip, crops=clip.crops[rows], frames=clip.frames[rows], landmarks=lm
    )


def confidence(model, clip: ClipData, audio_clip: ClipData) -> float:
    from lipcore.face.landmarks import lip_gap
    from lipcore.timebase import frame_to_sample

    first = frame_to_sample(int(clip.frames[0]), clip.fps, 16000)
    audio = audio_clip.audio_16k[first:]
    need = frame_to_sample(len(clip.frames), clip.fps, 16000)
    if len(audio) < need:
        return float("nan")
    gap = lip_gap(clip.landmarks).astype(np.float64)
    return float(score_av(gap, audio[:need], clip.fps, model=model).confidence)


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prepared", type=Path)
    parser.add_argument("--alpha", type=float, default=None, help="generic ridge strength")
    args = parser.parse_args(argv)
    manifest = json.loads((args.prepared / "manifest.json").read_text())
    entries = [c for c in manifest["clips"] if c["verdict"]["action"] == "keep"]
    clips = {c["clip_id"]: ClipData.load(args.prepared / c["npz"]) for c in entries}
    shipped = load_meter_model()
    alpha = args.alpha or float(shipped.meta.get("alpha", 1000.0))

    def source(cid: str) -> str:
        name = cid.split("__")[-1][:3]
        return SAME_SOURCE.get(name, name)

    def fit_clip(cid: str, c: ClipData) -> FitClip:
        f = meter_frames(c)
        return FitClip(cid, f.gap_z, f.feats, f.voiced)

    rows = []
    print(f"{'clip':<22}{'r generic':>10}{'r actor':>9}{'conf own g/a':>15}{'foreign g/a':>15}")
    for cid, clip in clips.items():
        others = [fit_clip(o, c) for o, c in clips.items() if source(o) != source(cid)]
        generic = fit_ridge(others, alpha)
        actor, _ = adapt_meter([half(clip, False)], prior=generic)
        test = half(clip, True)
        part = meter_frames(test)
        r_g, r_a = prediction_r(generic, part), prediction_r(actor, part)
        own_g, own_a = confidence(generic, test, clip), confidence(actor, test, clip)
        foreign = [o for o in clips if source(o) != source(cid)]
        f_g = np.nanmean([confidence(generic, test, clips[o]) for o in foreign])
        f_a = np.nanmean([confidence(actor, test, clips[o]) for o in foreign])
        rows.append((r_g, r_a, own_g, own_a, f_g, f_a))
        print(f"{cid:<22}{r_g:>10.3f}{r_a:>9.3f}{own_g:>8.3f}/{own_a:.3f}{f_g:>9.3f}/{f_a:.3f}")
    m = np.nanmean(np.array(rows), axis=0)
    print(f"{'mean':<22}{m[0]:>10.3f}{m[1]:>9.3f}{m[2]:>8.3f}/{m[3]:.3f}{m[4]:>9.3f}/{m[5]:.3f}")
    better = sum(r[1] > r[0] for r in rows)
    print(f"actor meter r higher on {better}/{len(rows)} clips (generic alpha {alpha:g})")


if __name__ == "__main__":
    main()
