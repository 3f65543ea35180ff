"""Does ``lipsync adapt`` make renders of an actor better on footage of them it has not seen?

For each shared in-sync actor clip: the clip is cut into halves (ffmpeg re-encode, crf 14); the
actor is adapted on the first half (:func:`lipcore.actor.iter_adapt_actor`, the code
``lipsync adapt`` runs); the second half, which adaptation never saw, is rendered **with its own
audio** by the generic and by the adapted actor, and the rendered mouth is compared with the real
one (the footage is the ground truth: the same speech, the actor's own mouth):

- ``r``: correlation of the rendered inner-lip gap (FaceMesh on the output) with the real
  footage's, voiced frames. Independent of the fit: measured on pixels the engine drew, against
  frames the adaptation never saw;
- ``bilab``: at the recognised /p b m/ of the held-out speech (phones, another model), the
  rendered gap's minimum around the phone over the render's median voiced gap (lower = the lips
  close; the real footage's own figure is printed as ``real``). Independent of the fit, though
  the one-shot engine itself closes the lips on recognised bilabials;
- ``conf``: the shipped sync meter's confidence (:mod:`lipcore.sync`) for the render with the
  speech it was driven by. The meter was fitted on these shared clips (its weights saw both
  halves), so it is the least independent of the three.

"Generic" is what a new actor gets: the shipped mouth-shape model was fitted on every shared
clip, both halves included, so it would flatter itself on them. The bench refits it leaving the
actor's recording out (:mod:`training.fit_mouth_shape`'s recipe: PCA, ridge at the shipped
strength, leave-one-recording-out gain) and adapts from that; the shipped model's own figures are
printed alongside for reference. Two engines:

- ``oneshot``: the mouth-shape model alone (generic: the left-out model; adapted: the actor's);
- ``retime``: the second half's own footage is the library (generic), plus the actor's first
  half (adapted: the bundle's footage). Both arms hold the rendered frames themselves in their
  library, the same for both.

Usage::

    python bench/adapt_render.py [--clips A01 A02 ...] [--render-seconds 6] [--engines oneshot]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lipcore.actor import (  # noqa: E402
    actor_manifest,
    iter_adapt_actor,
    iter_measure_footage,
    shape_gap_r,
    write_actor,
)
from lipcore.engines.mouth_shape import MouthShapeModel, load_mouth_shape_model  # noqa: E402
from lipcore.errors import LipsyncError  # noqa: E402
from lipcore.progress import drain  # noqa: E402
from lipcore.sync.meter import load_meter_model, measure_lip_gap, score_av  # noqa: E402

MEDIA = Path("/work/shared/media")
#: The in-sync single-speaker shared clips (A01 and A05 are one recording).
CLIPS = ("A01", "A02", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A14")


def _clip(prefix: str) -> Path:
    return sorted((MEDIA / "video").glob(f"{prefix}_*.mp4"))[0]


def _cut(src: Path, out: Path, start_s: float, length_s: float | None) -> Path:
    cmd = ["ffmpeg", "-v", "error", "-y", "-ss", f"{start_s:.3f}", "-i", str(src)]
    cmd += ["-t", f"{length_s:.3f}"] if length_s else []
    cmd += ["-c:v", "libx264", "-crf", "14", "-c:a", "aac", str(out)]
    subprocess.run(cmd, check=True)
    return out


def _wav(src: Path, out: Path) -> Path:
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-vn", "-ac", "1", "-ar", "16000"]
    subprocess.run([*cmd, str(out)], check=True)
    return out


class LeftOut:
    """The generic mouth-shape model refitted without one recording (training's recipe)."""

    def __init__(self):
        self.loaded = {}

    def model(self, prefix: str) -> MouthShapeModel:
        from training import fit_mouth_shape as fms

        for name in CLIPS:
            if name not in self.loaded:
                self.loaded[name] = fms.load_clip(MEDIA, name)
        group = fms.SAME_SOURCE.get(prefix, prefix)
        others = [c for n, c in self.loaded.items() if fms.SAME_SOURCE.get(n, n) != group]
        shipped = load_mouth_shape_model()
        alpha = float(shipped.meta.get("alpha", 3000.0))
        if hasattr(fms, "loso_sweep"):  # the config-driven trainer (training/configs)
            from training.configs.mouth_shape import PRESETS

            config = dataclasses.replace(PRESETS["shipped"], alphas=(alpha,))
            stats = [fms.clip_stats(c, config.lags, config.target_smooth_frames) for c in others]
            gain = fms.loso_sweep(others, stats, range(len(others)), config)[0]["gain"]
            fit = fms.fit(others, alpha, config)
        else:
            fit = fms.fit(others, alpha)
            gain = fms.validate(others, alpha)["gain"]
        meta = {**shipped.meta, "left_out": group, "training_clips": [c.name for c in others]}
        meta["rest_width_mean"] = float(np.mean([fms._rest_width(c.rest) for c in others]))
        return dataclasses.replace(fit, gain=np.asarray(gain, np.float64), meta=meta)


def _r(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> float:
    keep = keep & np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 10 or np.std(a[keep]) < 1e-9 or np.std(b[keep]) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def _bilabial_ratio(gap: np.ndarray, windows: list[tuple[int, int]], voiced: np.ndarray):
    """Median over /p b m/ of the gap's minimum there, over the median voiced gap."""
    ref = np.nanmedian(gap[voiced]) if voiced.any() else np.nan
    mins = [np.nanmin(gap[lo:hi]) for lo, hi in windows if np.isfinite(gap[lo:hi]).any()]
    if not mins or not np.isfinite(ref) or ref <= 1e-6:
        return float("nan")
    return float(np.median(mins) / ref)


def _bilabial_windows(audio: np.ndarray, fps, n: int) -> list[tuple[int, int]]:
    from lipcore.audio.phones import bilabials, recognise_phones

    out = []
    for p in bilabials(recognise_phones(audio)):
        lo = int(np.floor(p.start_sample / 16000 * float(fps))) - 1
        hi = int(np.ceil(p.end_sample / 16000 * float(fps))) + 2
        lo, hi = max(lo, 0), min(hi, n)
        if hi > lo:
            out.append((lo, hi))
    return out


def _judge(video: Path, truth: np.ndarray, audio: np.ndarray, fps, voiced, windows) -> dict:
    n = len(truth)
    series = measure_lip_gap(video)
    gap = np.full(n, np.nan)
    rows = series.frames < n
    gap[series.frames[rows]] = series.gap[rows]
    conf = float(score_av(gap, audio, fps).confidence)
    return {"r": _r(gap, truth, voiced), "bilab": _bilabial_ratio(gap, windows, voiced),
            "conf": conf}  # fmt: skip


def bench_clip(prefix, render_s, engines, tmp: Path, left_out: LeftOut, keep_dir=None) -> dict:
    """Adapt on the first half of ``prefix``'s clip, render and judge the second."""
    from lipcore.audio.vad import voiced_frames
    from lipcore.media.audio import clip_audio
    from lipcore.media.probe import probe
    from lipcore.render.pipeline import render
    from lipcore.render.request import RenderRequest, SegmentSpec

    src = _clip(prefix)
    half_s = float(probe(src).video.duration_sec) / 2
    first = _cut(src, tmp / f"{prefix}_first.mp4", 0.0, half_s)
    second = _cut(src, tmp / f"{prefix}_second.mp4", half_s, render_s)
    generic_model = left_out.model(prefix)
    t0 = time.monotonic()
    bundle = drain(
        iter_adapt_actor([first], tmp / f"{prefix}.lsactor", shape_prior=generic_model), False
    )
    adapt_s = time.monotonic() - t0
    held = drain(iter_measure_footage(second), False)
    generic_path = write_actor(
        tmp / f"{prefix}_generic.lsactor",
        actor_manifest([], [], {}, {"adapted": False}),
        load_meter_model(),
        generic_model,
    )
    shape = bundle.manifest["mouth_shape"]
    row = {
        "clip": prefix,
        "adapted": bool(shape["adapted"]),
        "alpha": shape["alpha"],
        "range_rescale": shape.get("range_rescale"),
        "adapt_s": round(adapt_s, 1),
        "model_r": {
            "shipped": shape_gap_r(load_mouth_shape_model(), held),
            "generic": shape_gap_r(generic_model, held),
            "adapted": shape_gap_r(bundle.shape_model(), held),
        },
    }
    audio = clip_audio(second)
    fps = held.fps
    truth_series = measure_lip_gap(second)
    n = held.n_frames
    truth = np.full(n, np.nan)
    keep = truth_series.frames < n
    truth[truth_series.frames[keep]] = truth_series.gap[keep]
    voiced = voiced_frames(audio, fps, n)
    windows = _bilabial_windows(audio, fps, n)
    row["real"] = {"bilab": _bilabial_ratio(truth, windows, voiced), "n_bilabials": len(windows),
                   "conf": float(score_av(truth, audio, fps).confidence)}  # fmt: skip
    wav = _wav(second, tmp / f"{prefix}_second.wav")
    for engine in engines:
        for arm, actor in (("generic", generic_path), ("adapted", bundle.path)):
            if engine == "oneshot" and arm == "adapted" and not row["adapted"]:
                row[f"{engine}_{arm}"] = row[f"{engine}_generic"]  # the same model, same pixels
                continue
            out = tmp / f"{prefix}_{engine}_{arm}.mp4"
            seg = SegmentSpec(0, 10**6, engine=engine)
            try:
                render(RenderRequest(second, wav, out, segments=(seg,), actor=actor), False)
            except LipsyncError as exc:
                row[f"{engine}_{arm}"] = {"error": str(exc).splitlines()[0][:60]}
                continue
            row[f"{engine}_{arm}"] = _judge(out, truth, audio, fps, voiced, windows)
            if keep_dir is not None:
                keep_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy(out, keep_dir / out.name)
    return row


def _fmt(v) -> str:
    return "   -  " if v is None or not np.isfinite(v) else f"{v:+.3f}"


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the table (and the rows as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=list(CLIPS))
    parser.add_argument("--engines", nargs="+", default=["oneshot", "retime"])
    parser.add_argument("--render-seconds", type=float, default=6.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--keep", type=Path, default=None, help="keep the renders here")
    args = parser.parse_args(argv)
    left_out = LeftOut()
    rows = []
    with tempfile.TemporaryDirectory() as t:
        for prefix in args.clips:
            rows.append(
                bench_clip(prefix, args.render_seconds, args.engines, Path(t), left_out, args.keep)
            )
            print(json.dumps(rows[-1], default=float), flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1, default=float))
    print("\nmodel lip-gap r on the held-out half (speech -> shape, no render): "
          "shipped (saw it) / generic (left out) / adapted")  # fmt: skip
    for r in rows:
        m, scale = r["model_r"], r["range_rescale"] or 1.0
        print(f"{r['clip']}  adapted={str(r['adapted']):5}  {_fmt(m['shipped'])} "
              f"{_fmt(m['generic'])} {_fmt(m['adapted'])}  x{scale:.2f}")  # fmt: skip
    for engine in args.engines:
        print(f"\n{engine}: rendered lip-gap r, bilabial ratio, meter conf  generic -> adapted")
        for r in rows:
            g, a = r[f"{engine}_generic"], r[f"{engine}_adapted"]
            cells = []
            for k in ("r", "bilab", "conf"):
                cells.append(f"{k} {_fmt(g.get(k))} -> {_fmt(a.get(k))}")
            note = g.get("error") or a.get("error") or ""
            print(f"{r['clip']}  " + "  ".join(cells) + f"  (real bilab "
                  f"{_fmt(r['real']['bilab'])}) {note}")  # fmt: skip
        for k in ("r", "bilab", "conf"):
            gv = [r[f"{engine}_generic"].get(k, np.nan) for r in rows]
            av = [r[f"{engine}_adapted"].get(k, np.nan) for r in rows]
            both = [(x, y) for x, y in zip(gv, av, strict=True) if np.isfinite(x + y)]
            if both:
                gm, am = np.mean([b[0] for b in both]), np.mean([b[1] for b in both])
                better = sum((y < x) if k == "bilab" else (y > x) for x, y in both)
                print(f"  mean {k}: {gm:+.3f} -> {am:+.3f}, better on {better}/{len(both)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
