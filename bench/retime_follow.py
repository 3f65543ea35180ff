"""Does the re-synced mouth follow the NEW audio? (issue 3 evidence; prints a table).

For each pair (shared clip, speech from another clip in another language) this renders
``lipsync sync`` with the built-in engine, measures the mouth opening (inner-lip gap from FaceMesh
landmarks) on the output, and correlates it with

- the new audio's loudness envelope (what issue 3 asks), compared with how well the ORIGINAL clip's
  mouth follows its own audio, and with the OLD audio (which the output must no longer follow);
- the built-in sync meter (spectral ridge regression, see SYNC-FACTS.md), whose confidence says
  more than loudness does.

Correlations take the best lag within +-2 frames (the meter's timing precision).
Usage: .venv/bin/python bench/retime_follow.py [--seconds 8] [--out DIR] [--only A06,A07]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's lipcore, not an installed one
MEDIA = REPO.parent / "shared" / "media"
if not MEDIA.exists():  # a worktree beside the checkout
    MEDIA = Path("/work/shared/media")

PAIRS = [
    ("A05_frontal_woman_flagbg_590p25_retalking3.mp4", "B05_zh_chinese_news_48k.wav"),
    ("A04_frontal_man_mapbg_844p25_retalking2.mp4", "B09_de_deyu_48k_s24.wav"),
    ("A07_frontal_woman_glasses_524p25_retalking5.mp4", "B11_fr_fayu_48k_s24.wav"),
    ("A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4", "B10_ru_eluosi_48k_s24.wav"),
    ("A06_frontal_woman_bluebg_700p30_retalking4.mp4", "B19_en_48k_retalking2.wav"),
]


def best_lag_corr(a: np.ndarray, b: np.ndarray, max_lag: int = 2) -> float:
    """Highest Pearson r between ``a`` and ``b`` over lags -max_lag..max_lag (NaNs dropped)."""
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, lag) : len(a) + min(0, lag)]
        y = b[max(0, -lag) : len(b) + min(0, -lag)]
        n = min(len(x), len(y))
        x, y = x[:n], y[:n]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() > 10 and np.std(x[ok]) > 0 and np.std(y[ok]) > 0:
            best = max(best, float(np.corrcoef(x[ok], y[ok])[0, 1]))
    return best


def mouth_curve(video: Path, n_frames: int) -> np.ndarray:
    """Per-frame inner-lip gap of the main face (NaN where it is not found)."""
    from lipcore.face.landmarks import lip_gap
    from lipcore.face.select import choose_track
    from lipcore.face.track import track_faces
    from lipcore.render.request import FaceChoice

    track = choose_track(track_faces(video), FaceChoice())
    out = np.full(n_frames, np.nan)
    keep = track.frames < n_frames
    out[track.frames[keep]] = lip_gap(track.landmarks[keep])
    return out


def main() -> int:
    from lipcore.audio.features import loudness_envelope
    from lipcore.media.audio import clip_audio, load_audio
    from lipcore.media.probe import probe
    from lipcore.render.pipeline import render
    from lipcore.render.request import RenderRequest, SegmentSpec
    from lipcore.sync.meter import score_video

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each clip to render")
    ap.add_argument("--out", type=Path, default=None, help="keep the renders here")
    ap.add_argument("--only", default="", help="comma-separated clip prefixes to run")
    args = ap.parse_args()
    only = {s for s in args.only.split(",") if s}
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="retime_follow_"))
    out_dir.mkdir(parents=True, exist_ok=True)

    header = (
        f"{'clip':<10}{'speech':<8}{'orig~own':>10}{'out~new':>10}{'out~old':>10}"
        f"{'ratio':>8}{'meter new':>11}{'meter old':>11}"
    )
    print(header)
    rows = []
    for clip_name, speech_name in PAIRS:
        if only and clip_name[:3] not in only:
            continue
        src = MEDIA / "video" / clip_name
        speech = MEDIA / "audio" / speech_name
        fps = probe(src).video.fps
        n = int(args.seconds * fps)
        # A shortened copy keeps the bench quick; the render covers its whole length.
        clip = out_dir / f"{clip_name[:3]}_src.mp4"
        _cut(src, clip, args.seconds)
        out = out_dir / f"{clip_name[:3]}_{speech_name[:3]}.mp4"
        render(
            RenderRequest(video=clip, audio=speech, output=out, segments=(SegmentSpec(0, n),)),
            show_progress=False,
        )
        own = clip_audio(clip)
        new = load_audio(speech)[: len(own)]
        orig_gap = mouth_curve(clip, n)
        out_gap = mouth_curve(out, n)
        r_orig = best_lag_corr(orig_gap, loudness_envelope(own, fps, n))
        r_new = best_lag_corr(out_gap, loudness_envelope(new, fps, n))
        r_old = best_lag_corr(out_gap, loudness_envelope(own, fps, n))
        m_new = score_video(out, audio=speech)
        m_old = score_video(out, audio=clip)
        ratio = r_new / r_orig if r_orig > 0 else float("inf")
        rows.append((r_orig, r_new, r_old, m_new.confidence, m_old.confidence))
        print(
            f"{clip_name[:3]:<10}{speech_name[:3]:<8}{r_orig:>10.3f}{r_new:>10.3f}{r_old:>10.3f}"
            f"{ratio:>8.2f}{m_new.confidence:>11.3f}{m_old.confidence:>11.3f}",
            flush=True,
        )
    arr = np.array(rows)
    print(
        f"{'mean':<18}{arr[:, 0].mean():>10.3f}{arr[:, 1].mean():>10.3f}{arr[:, 2].mean():>10.3f}"
        f"{'':>8}{arr[:, 3].mean():>11.3f}{arr[:, 4].mean():>11.3f}"
    )
    print(f"renders kept in {out_dir}")
    return 0


def _cut(src: Path, dst: Path, seconds: float) -> None:
    import subprocess

    from lipcore.media.probe import ffmpeg_exe

    subprocess.run(
        [ffmpeg_exe(), "-y", "-v", "error", "-i", str(src), "-t", f"{seconds}", "-c:v", "libx264",
         "-crf", "12", "-c:a", "aac", str(dst)],
        check=True,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
