"""Does ``lipsync adapt`` help the one-shot engine on held-out footage of the actor?

For each actor clip: the clip is cut into halves (ffmpeg, stream copy free re-encode), the actor
is adapted on the first half (:func:`lipcore.actor.iter_adapt_actor`), and on the second half,
which adaptation never saw:

- **primary, independent of the fit**: the correlation of the inner-lip gap predicted from the
  clip's own speech by the shipped and by the adapted mouth-shape model with the inner-lip gap
  measured by FaceMesh (voiced frames) (:func:`lipcore.actor.shape_gap_r`);
- **secondary, the built-in meter**: the second half rendered by the one-shot engine with new
  speech from another recording, generic and ``--actor``, scored by the shipped meter
  (confidence at the found offset; it also says whether the offset is 0).

Prints the figures and the adapted/generic ratios. Usage::

    python bench/adapt_render.py [--clips A13 A02] [--speech A07] [--render-seconds 6]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lipcore.actor import iter_adapt_actor, iter_measure_footage, shape_gap_r  # noqa: E402
from lipcore.engines.mouth_shape import load_mouth_shape_model  # noqa: E402
from lipcore.progress import drain  # noqa: E402
from lipcore.render.pipeline import render  # noqa: E402
from lipcore.render.request import RenderRequest, SegmentSpec  # noqa: E402
from lipcore.sync.meter import score_video  # noqa: E402

MEDIA = Path("/work/shared/media")


def _clip(prefix: str) -> Path:
    return sorted((MEDIA / "video").glob(f"{prefix}_*.mp4"))[0]


def _cut(src: Path, out: Path, start_s: float, length_s: float | None) -> Path:
    cmd = ["ffmpeg", "-v", "error", "-y", "-ss", f"{start_s:.3f}", "-i", str(src)]
    cmd += ["-t", f"{length_s:.3f}"] if length_s else []
    cmd += ["-c:v", "libx264", "-crf", "14", "-c:a", "aac", str(out)]
    subprocess.run(cmd, check=True)
    return out


def _duration_s(path: Path) -> float:
    from lipcore.media.probe import probe

    return float(probe(path).video.duration_sec)


def bench_clip(prefix: str, speech: Path, render_s: float, tmp: Path) -> dict:
    """Adapt on the first half of ``prefix``'s clip, judge on the second."""
    src = _clip(prefix)
    half_s = _duration_s(src) / 2
    first = _cut(src, tmp / f"{prefix}_first.mp4", 0.0, half_s)
    second = _cut(src, tmp / f"{prefix}_second.mp4", half_s, None)
    bundle = drain(iter_adapt_actor([first], tmp / f"{prefix}.lsactor"), False)
    held = drain(iter_measure_footage(second), False)
    generic = load_mouth_shape_model()
    row = {
        "clip": prefix,
        "adapted": bundle.mouth_shape is not None,
        "fit_heldout_r": bundle.manifest["mouth_shape"]["heldout_r_gap_adapted"],
        "r_generic": shape_gap_r(generic, held),
        "r_adapted": shape_gap_r(bundle.shape_model(), held),
    }
    short = _cut(second, tmp / f"{prefix}_render_src.mp4", 0.0, render_s)
    for name, actor in (("generic", None), ("adapted", bundle.path)):
        out = tmp / f"{prefix}_{name}.mp4"
        seg = SegmentSpec(0, 10**6, engine="oneshot")
        req = RenderRequest(short, speech, out, segments=(seg,), actor=actor)
        render(req, show_progress=False)
        score = score_video(out, speech)
        row[f"meter_conf_{name}"] = float(score.confidence)
        row[f"meter_offset_{name}"] = int(score.offset_frames)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["A13", "A02"])
    parser.add_argument("--speech", default="A07", help="clip whose speech drives the renders")
    parser.add_argument("--render-seconds", type=float, default=6.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        speech = tmp / "speech.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(_clip(args.speech)), "-vn",
                        "-ac", "1", "-ar", "16000", str(speech)], check=True)  # fmt: skip
        rows = [bench_clip(c, speech, args.render_seconds, tmp) for c in args.clips]
    print("clip  adapted  held-out lip-gap r: generic  adapted  ratio | meter conf: generic "
          "adapted ratio (offsets)")  # fmt: skip
    for r in rows:
        ratio = r["r_adapted"] / r["r_generic"] if r["r_generic"] else float("nan")
        mratio = r["meter_conf_adapted"] / r["meter_conf_generic"]
        print(
            f"{r['clip']:4}  {str(r['adapted']):7}  {r['r_generic']:+.3f}  {r['r_adapted']:+.3f}  "
            f"x{ratio:.2f} | {r['meter_conf_generic']:.3f}  {r['meter_conf_adapted']:.3f}  "
            f"x{mratio:.2f} ({r['meter_offset_generic']:+d}, {r['meter_offset_adapted']:+d})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
