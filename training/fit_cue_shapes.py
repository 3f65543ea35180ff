"""Fit the one-shot engine's mouth-cue table: the measured mouth of each Rhubarb shape.

Usage::

    python -m training.fit_cue_shapes [--media ../shared/media] \
        [--out lipcore/data/cue_shapes.json]

For the same in-sync clips the speech -> mouth-shape model is trained on
(:data:`training.fit_mouth_shape.TRAIN_CLIPS`), the clip's own speech is turned into mouth cues
(:func:`lipcore.cues.make.mouth_cues`, at the clip's frame rate, so every video frame has one
shape), and the measured mouth of that frame (FaceMesh points aligned to the engine's crop,
displaced from the speaker's own resting mouth, divided by the eye distance: exactly what the
model predicts) is filed under the frame's shape. Each shape's table entry is the median over
the clips of each clip's median displacement (a speaker counts once however long the clip), so
the table is in the model's own units and says what a real mouth does on that shape. Rest (X)
is zero: the resting mouth itself. The counts and each shape's inner-lip gap go into the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from lipcore.cache import atomic_write_bytes
from lipcore.cues.images import frame_shapes
from lipcore.cues.make import CueConfig, mouth_cues
from lipcore.cues.shapes import SHAPES
from lipcore.engines.mouth_shape import MOUTH_POINTS
from lipcore.media.audio import clip_audio
from lipcore.media.probe import probe
from training.fit_mouth_shape import TRAIN_CLIPS, find_clip, load_clip

_P = {p: i for i, p in enumerate(MOUTH_POINTS)}
#: A shape needs this many frames in a clip for the clip to vote on it.
MIN_FRAMES = 3


def clip_shape_medians(media: Path, name: str) -> dict[str, tuple[np.ndarray, int]]:
    """Per shape: the clip's median displacement ``(P, 2)`` and its frame count."""
    clip = load_clip(media, name)
    path = find_clip(media, name)
    fps = probe(path).video.fps
    shapes = frame_shapes(mouth_cues(clip_audio(path), CueConfig(fps=fps)))
    n = min(len(shapes), len(clip.disp))
    labels = np.array(shapes[:n])
    keep = np.all(np.isfinite(clip.disp[:n]), axis=1)
    out = {}
    for s in SHAPES:
        rows = keep & (labels == s)
        if rows.sum() >= MIN_FRAMES:
            med = np.median(clip.disp[:n][rows], axis=0).reshape(-1, 2)
            out[s] = (med, int(rows.sum()))
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure every shape on the training clips and write the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=Path, default=Path("../shared/media"))
    ap.add_argument("--out", type=Path, default=Path("lipcore/data/cue_shapes.json"))
    args = ap.parse_args(argv)
    per_clip = {}
    for name in TRAIN_CLIPS:
        per_clip[name] = clip_shape_medians(args.media, name)
        counts = {s: v[1] for s, v in per_clip[name].items()}
        print(name, counts, file=sys.stderr, flush=True)
    table, gaps, frames, voters = {}, {}, {}, {}
    for s in SHAPES:
        meds = [c[s][0] for c in per_clip.values() if s in c]
        if s == "X" or not meds:
            table[s] = np.zeros((len(MOUTH_POINTS), 2))
        else:
            table[s] = np.median(np.stack(meds), axis=0)
        frames[s] = int(sum(c[s][1] for c in per_clip.values() if s in c))
        voters[s] = len(meds)
        gaps[s] = round(float(table[s][_P[14], 1] - table[s][_P[13], 1]), 4)
    data = {
        "format": "lipsync-cue-shapes",
        "version": 1,
        "points": list(MOUTH_POINTS),
        "shapes": {s: np.round(table[s], 5).tolist() for s in SHAPES},
        "gap_change": gaps,
        "frames": frames,
        "clips_voting": voters,
        "clips": list(TRAIN_CLIPS),
    }
    atomic_write_bytes(args.out, (json.dumps(data, indent=1) + "\n").encode())
    print(json.dumps({"gap_change": gaps, "frames": frames, "clips_voting": voters}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
