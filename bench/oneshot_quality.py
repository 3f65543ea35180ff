"""Mouth quality of the one-shot and retime engines against the original clip, in one run.

Two tables:

1. Every shared clip with its own speech (A01, A02, A04, A06-A10, A14; A05 is a crop of A01)
   dubbed with speech of another recording, English for each and another language for four,
   rendered by ``retime`` and by ``oneshot``; the original clip with its own speech is the
   reference. English closures are also pooled over the clips (a clip has few bilabials).
2. The one-shot engine on faces retime cannot use (no audio, CGI, generated, a still PNG).

Per render (ratios are output over original, same frames, same mouth box):

- ``flicker``: mean absolute frame-to-frame luma change in the mouth box (<= 1.1 wanted);
- ``sharp``: variance of the Laplacian in the mouth box (>= 0.9 wanted);
- ``psnr``: PSNR outside the lower face against the source frames (>= 40 dB wanted);
- ``close``: share of the driving speech's /p b m/ (English phone recogniser, so English dubs
  only) where the measured inner-lip gap falls to the clip's closed level within a frame;
  ``/orig`` is that over the original's rate with its own speech (>= 0.9 wanted); ``chance`` is
  the same test at every voiced frame;
- ``conf``: the built-in sync meter's confidence of the output with the new speech.

The mouth box and the closed level come from the original's FaceMesh track. Renders, a zoomed
mouth strip per render (``*_mouth.png``: frames spread over the clip) and the frames around its
largest jump beyond the original's (``*_worst.png``: original above, output below) are kept in
``--out``.

Usage: .venv/bin/python bench/oneshot_quality.py [--seconds 8 (0: whole clips)] [--out DIR]
[--only A04,H02] [--engines retime,oneshot] [--langs zh,fr (en: English only)] [--skip-table2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's lipcore, not an installed one
MEDIA = REPO.parent / "shared" / "media"
if not MEDIA.exists():
    MEDIA = Path("/work/shared/media")

#: In-sync clips with their own speech (A05 is a crop of A01: left out), each dubbed with speech
#: of another recording: English for every clip (8 s or more, so a render can use it all), and
#: another language for some. ``(clip, speech, language)``.
DUBS = [
    ("A01", "B24", "en"),
    ("A01", "B05", "zh"),
    ("A02", "B20", "en"),
    ("A04", "B21", "en"),
    ("A06", "B01", "en"),
    ("A06", "B11", "fr"),
    ("A07", "B22", "en"),
    ("A07", "B10", "ru"),
    ("A08", "B25", "en"),
    ("A09", "B02", "en"),
    ("A10", "B03", "en"),
    ("A10", "B09", "de"),
    ("A14", "B04", "en"),
]
#: Faces without usable speaking footage, with English speech; "A04.png" = a still from A04.
ONESHOT_ONLY = [
    ("A11", "B02"),
    ("A18", "B01"),
    ("A19", "B03"),
    ("H02", "B17"),
    ("H03", "B16"),
    ("H08", "B25"),
    ("A04.png", "B20"),
]


def _find(folder: str, prefix: str) -> Path:
    return next((MEDIA / folder).glob(f"{prefix}_*"))


def _cut(src: Path, dst: Path, seconds: float) -> None:
    from lipcore.media.probe import ffmpeg_exe

    length = ["-t", f"{seconds}"] if seconds > 0 else []
    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-i", str(src), *length,
           "-c:v", "libx264", "-crf", "10", "-c:a", "aac", str(dst)]  # fmt: skip
    subprocess.run(cmd, check=True)


def _frames(path: Path, n: int) -> list[np.ndarray]:
    from lipcore.media.decode import VideoReader

    with VideoReader(path) as r:
        return [f for _, f in r.iter_frames(0, n)]


def _track(path: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 478, 2)`` landmarks of the main face (NaN where absent) and its ``(n,)`` lip gap."""
    from lipcore.face.landmarks import lip_gap
    from lipcore.face.select import choose_track
    from lipcore.face.track import track_faces
    from lipcore.render.request import FaceChoice

    tracks = track_faces(path)
    lm = np.full((n, 478, 2), np.nan, np.float32)
    if tracks.tracks:
        t = choose_track(tracks, FaceChoice())
        keep = t.frames < n
        lm[t.frames[keep]] = t.landmarks[keep]
    with np.errstate(invalid="ignore"):
        return lm, lip_gap(lm)


def _boxes(lm: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame mouth box and lower-face box ``(x0, y0, x1, y1)`` from the original landmarks."""
    from lipcore.face.landmarks import LIPS_OUTER, LOWER_FACE

    h, w = shape
    # Hold the last known landmarks where the face is missing
    filled = lm.copy()
    last = None
    for i in range(len(filled)):
        if np.isfinite(filled[i, 0, 0]):
            last = filled[i]
        elif last is not None:
            filled[i] = last
    mouth, lower = [], []
    for p in filled:
        if not np.isfinite(p[0, 0]):
            mouth.append((0, 0, 1, 1))
            lower.append((0, 0, 0, 0))
            continue
        lips = p[list(LIPS_OUTER)]
        (x0, y0), (x1, y1) = lips.min(0), lips.max(0)
        mx, my = 0.25 * (x1 - x0), 0.4 * (y1 - y0)
        mouth.append((x0 - mx, y0 - my, x1 + mx, y1 + my))
        lf = p[list(LOWER_FACE)]
        (a0, b0), (a1, b1) = lf.min(0), lf.max(0)
        ex, ey = 0.15 * (a1 - a0), 0.15 * (b1 - b0)
        lower.append((a0 - ex, b0 - ey, a1 + ex, b1 + ey))
    clip = np.array([w, h, w, h]) - 1
    return (
        np.clip(np.round(mouth), 0, clip).astype(int),
        np.clip(np.round(lower), 0, clip).astype(int),
    )


def _luma(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)


def flicker(frames: list[np.ndarray], boxes: np.ndarray) -> float:
    """Mean absolute frame-to-frame luma change inside each frame's mouth box."""
    vals = []
    for i in range(len(frames) - 1):
        x0, y0, x1, y1 = boxes[i]
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        a = _luma(frames[i][y0:y1, x0:x1])
        b = _luma(frames[i + 1][y0:y1, x0:x1])
        vals.append(float(np.abs(a - b).mean()))
    return float(np.mean(vals)) if vals else float("nan")


def sharpness(frames: list[np.ndarray], boxes: np.ndarray) -> float:
    """Mean variance of the Laplacian inside the mouth box."""
    import cv2

    vals = []
    for f, (x0, y0, x1, y1) in zip(frames, boxes, strict=False):
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        vals.append(float(cv2.Laplacian(_luma(f[y0:y1, x0:x1]), cv2.CV_32F).var()))
    return float(np.mean(vals)) if vals else float("nan")


def psnr_outside(src: list[np.ndarray], out: list[np.ndarray], lower: np.ndarray) -> float:
    """PSNR over all pixels outside the (enlarged) lower-face box of each frame."""
    se, count = 0.0, 0
    for a, b, (x0, y0, x1, y1) in zip(src, out, lower, strict=False):
        keep = np.ones(a.shape[:2], bool)
        keep[y0:y1, x0:x1] = False
        d = a[keep].astype(np.float64) - b[keep].astype(np.float64)
        se += float((d * d).sum())
        count += d.size
    mse = se / max(count, 1)
    return 99.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def closure_rates(gap: np.ndarray, audio_16k: np.ndarray, fps, closed_level: float):
    """(rate at /p b m/, rate at every voiced frame, number of bilabials)."""
    from lipcore.audio.phones import bilabial_times_sec, recognise_phones
    from lipcore.audio.vad import voiced_frames

    n = len(gap)
    closed = np.nan_to_num(gap, nan=np.inf) <= closed_level
    near = closed | np.roll(closed, 1) | np.roll(closed, -1)
    times = bilabial_times_sec(recognise_phones(audio_16k))
    idx = np.floor(times * float(fps)).astype(int)
    idx = idx[(idx >= 1) & (idx < n - 1)]
    voiced = voiced_frames(audio_16k, fps, n)
    rate = float(near[idx].mean()) if len(idx) else float("nan")
    chance = float(near[voiced].mean()) if voiced.any() else float("nan")
    return rate, chance, len(idx)


def mouth_strip(frames: list[np.ndarray], boxes: np.ndarray, path: Path, count: int = 6) -> None:
    """Save zoomed mouth crops of ``count`` frames side by side."""
    import cv2

    picks = np.linspace(0, len(frames) - 1, count).astype(int)
    tiles = []
    for i in picks:
        x0, y0, x1, y1 = boxes[i]
        cx, cy, half = (x0 + x1) // 2, (y0 + y1) // 2, max(x1 - x0, y1 - y0)
        h, w = frames[i].shape[:2]
        crop = frames[i][
            max(cy - half, 0) : min(cy + half, h), max(cx - half, 0) : min(cx + half, w)
        ]
        tiles.append(cv2.resize(crop, (200, 200), interpolation=cv2.INTER_CUBIC))
    cv2.imwrite(str(path), np.hstack(tiles))


def worst_strip(
    src: list[np.ndarray], out: list[np.ndarray], boxes: np.ndarray, path: Path, side: int = 2
) -> int:
    """Save zoomed mouths around the output's largest jump beyond the original's (original row
    above, output row below); returns that frame."""
    import cv2

    m = min(len(src), len(out))
    excess = [
        flicker(out[i - 1 : i + 1], boxes[i - 1 :]) - flicker(src[i - 1 : i + 1], boxes[i - 1 :])
        for i in range(1, m)
    ]
    worst = int(np.nanargmax(excess)) + 1
    picks = range(max(worst - side, 0), min(worst + side + 1, m))
    x0, y0, x1, y1 = boxes[worst]
    cx, cy, half = (x0 + x1) // 2, (y0 + y1) // 2, max(x1 - x0, y1 - y0)
    rows = []
    for frames in (src, out):
        ys, xs = slice(max(cy - half, 0), cy + half), slice(max(cx - half, 0), cx + half)
        tiles = [frames[i][ys, xs] for i in picks]
        rows.append(
            np.hstack([cv2.resize(t, (200, 200), interpolation=cv2.INTER_CUBIC) for t in tiles])
        )
    cv2.imwrite(str(path), np.vstack(rows))
    return worst


def render_one(clip: Path, speech: Path, out: Path, engine: str) -> str:
    """Render with ``engine``; returns the engine actually used."""
    from lipcore.engines.registry import create_engine, engine_choice
    from lipcore.render.pipeline import render
    from lipcore.render.request import RenderRequest, SegmentSpec

    eng = create_engine(engine)
    req = RenderRequest(
        video=clip, audio=speech, output=out, segments=(SegmentSpec(0, 1 << 40, engine=engine),)
    )
    render(req, show_progress=False, engine=eng)
    return engine_choice(eng)[0]


def measure(src: Path, out: Path, speech_16k: np.ndarray, n: int, ref: dict) -> dict:
    """Figures of one render against the original's reference measurements ``ref``."""
    from lipcore.media.probe import probe
    from lipcore.sync.meter import score_video

    out_frames = _frames(out, n)
    _, gap = _track(out, len(out_frames))
    fps = probe(out).video.fps
    rate, chance, k = closure_rates(gap, speech_16k[: int(n / float(fps) * 16000)], fps,
                                    ref["closed_level"])  # fmt: skip
    m = min(len(out_frames), len(ref["frames"]))
    conf = score_video(out, audio=out).confidence
    return {
        "flicker": flicker(out_frames[:m], ref["mouth"]) / ref["flicker"],
        "sharp": sharpness(out_frames[:m], ref["mouth"]) / ref["sharp"],
        "psnr": psnr_outside(ref["frames"][:m], out_frames[:m], ref["lower"]),
        "close": rate,
        "chance": chance,
        "bilabials": k,
        "conf": conf,
        "frames": out_frames,
    }


def reference(src: Path, n: int) -> dict:
    """Original-clip measurements: boxes, flicker, sharpness, closed level."""
    frames = _frames(src, n)
    lm, gap = _track(src, len(frames))
    mouth, lower = _boxes(lm, frames[0].shape[:2])
    if len(frames) == 1:  # a still: hold it
        frames = frames * n
        mouth, lower = np.repeat(mouth, n, 0), np.repeat(lower, n, 0)
        gap = np.repeat(gap, n)
    finite = gap[np.isfinite(gap)]
    closed_level = float(np.percentile(finite, 10) + 0.02) if finite.size else 0.03
    return {
        "frames": frames,
        "mouth": mouth,
        "lower": lower,
        "gap": gap,
        "flicker": flicker(frames, mouth) if len(set(map(id, frames))) > 1 else float("nan"),
        "sharp": sharpness(frames, mouth),
        "closed_level": max(closed_level, 0.03),
    }


def main() -> int:
    from lipcore.media.audio import clip_audio, load_audio
    from lipcore.media.probe import probe

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--seconds", type=float, default=8.0, help="length cut from each clip (0: the whole clip)"
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--only", default="", help="comma-separated clip prefixes to run")
    ap.add_argument("--engines", default="retime,oneshot", help="engines for table 1")
    ap.add_argument(
        "--langs", default="", help="non-English dubs to run, e.g. zh,fr (default: all; none: en)"
    )
    ap.add_argument("--skip-table2", action="store_true", help="only the dubbed clips")
    args = ap.parse_args()
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="oneshot_quality_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    only = {s for s in args.only.split(",") if s}

    print("1. in-sync clips with their own speech, dubbed with speech of another recording")
    print(f"{'clip':<6}{'speech':<10}{'engine':<9}{'flicker':>8}{'sharp':>7}{'psnr':>7}"
          f"{'close':>7}{'/orig':>7}{'chance':>7}{'/pbm':>6}{'conf':>7}")  # fmt: skip
    langs = {s for s in args.langs.split(",") if s}
    engines = args.engines.split(",")
    # Pooled English closures: engine -> [closed, bilabials]; "original" with its own speech
    pooled = {e: [0.0, 0] for e in ["original", *engines]}
    summary: dict[str, list[tuple[str, float, float, float]]] = {e: [] for e in engines}
    done_clips: set[str] = set()
    for clip_id, speech_id, lang in DUBS:
        if (only and clip_id not in only) or (langs and lang not in langs and lang != "en"):
            continue
        src = out_dir / f"{clip_id}_src.mp4"
        if clip_id not in done_clips:
            _cut(_find("video", clip_id), src, args.seconds)
            n = probe(src).video.frame_count
            ref = reference(src, n)
            fps = probe(src).video.fps
            own_rate, chance, k = closure_rates(
                ref["gap"], clip_audio(src), fps, ref["closed_level"]
            )
            pooled["original"][0] += own_rate * k if k else 0.0
            pooled["original"][1] += k
            done_clips.add(clip_id)
            print(f"{clip_id:<6}{'own (en)':<10}{'original':<9}{1.0:>8.2f}{1.0:>7.2f}{'-':>7}"
                  f"{own_rate:>7.2f}{'':>7}{chance:>7.2f}{k:>6}{'':>7}", flush=True)  # fmt: skip
        speech = _find("audio", speech_id)
        speech_16k = load_audio(speech, 16000)
        for engine in engines:
            out = out_dir / f"{clip_id}_{speech_id}_{engine}.mp4"
            render_one(src, speech, out, engine)
            r = measure(src, out, speech_16k, n, ref)
            mouth_strip(r["frames"], ref["mouth"], out.with_name(out.stem + "_mouth.png"))
            worst_strip(
                ref["frames"], r["frames"], ref["mouth"], out.with_name(out.stem + "_worst.png")
            )
            english = lang == "en"
            if english and r["bilabials"]:
                pooled[engine][0] += r["close"] * r["bilabials"]
                pooled[engine][1] += r["bilabials"]
            rel = r["close"] / own_rate if english and own_rate > 0 else float("nan")
            close = f"{r['close']:>7.2f}" if english else f"{'(' + lang + ')':>7}"
            summary[engine].append((clip_id, r["flicker"], r["sharp"], r["psnr"]))
            print(f"{'':<6}{speech_id + ' (' + lang + ')':<10}{engine:<9}{r['flicker']:>8.3f}"
                  f"{r['sharp']:>7.2f}{r['psnr']:>7.1f}{close}{rel:>7.2f}{r['chance']:>7.2f}"
                  f"{r['bilabials']:>6}{r['conf']:>7.3f}", flush=True)  # fmt: skip
    closed, total = pooled["original"]
    base = closed / total if total else float("nan")
    print(f"\nEnglish /p b m/ closures pooled over clips: original with its own speech "
          f"{closed:.0f} of {total} ({base:.2f})")  # fmt: skip
    for engine in engines:
        c, t = pooled[engine]
        rate = c / t if t else float("nan")
        fl = [x[1] for x in summary[engine]]
        print(f"  {engine:<8} {c:.0f} of {t} ({rate:.2f}) = {rate / base:.2f} of the original's; "
              f"flicker <= 1.1 on {sum(f <= 1.1 for f in fl)} of {len(fl)} renders "
              f"(max {max(fl, default=float('nan')):.3f}); sharp >= 0.9 on "
              f"{sum(x[2] >= 0.9 for x in summary[engine])}; psnr >= 40 on "
              f"{sum(x[3] >= 40 for x in summary[engine])}")  # fmt: skip

    if args.skip_table2:
        print(f"renders kept in {out_dir}")
        return 0
    print("\n2. one-shot engine on faces without usable speaking footage (auto engine)")
    print(f"{'clip':<9}{'speech':<7}{'engine':<9}{'flicker':>8}{'sharp':>7}{'psnr':>7}"
          f"{'close':>7}{'chance':>7}{'/pbm':>6}{'conf':>7}")  # fmt: skip
    for clip_id, speech_id in ONESHOT_ONLY:
        if only and clip_id.split(".")[0] not in only and clip_id not in only:
            continue
        if clip_id.endswith(".png"):
            src = out_dir / "A04_still.png"
            cmd = ["ffmpeg", "-y", "-v", "error", "-ss", "2.2", "-i",
                   str(_find("video", clip_id[:3])), "-frames:v", "1", str(src)]  # fmt: skip
            subprocess.run(cmd, check=True)
        else:
            src = out_dir / f"{clip_id}_src.mp4"
            _cut(_find("video", clip_id), src, args.seconds)
        speech = _find("audio", speech_id)
        speech_16k = load_audio(speech, 16000)
        out = out_dir / f"{clip_id.replace('.', '_')}_{speech_id}_auto.mp4"
        used = render_one(src, speech, out, "auto")
        n = probe(out).video.frame_count
        ref = reference(src, n)
        r = measure(src, out, speech_16k, n, ref)
        mouth_strip(r["frames"], ref["mouth"], out.with_name(out.stem + "_mouth.png"))
        fl = r["flicker"]
        print(f"{clip_id:<9}{speech_id:<7}{used:<9}{fl:>8.2f}{r['sharp']:>7.2f}{r['psnr']:>7.1f}"
              f"{r['close']:>7.2f}{r['chance']:>7.2f}{r['bilabials']:>6}{r['conf']:>7.3f}",
              flush=True)  # fmt: skip
    print(f"renders kept in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
