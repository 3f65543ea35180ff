"""Face tracking figures on the shared clips: recall, landmark stability, track counts, speed.

Two tables:

1. **Tracker** (the default MediaPipe backend, or ``--backend insightface``) over whole clips:
   tracks found, main-face recall (frames where the main track has a detected or mesh-followed
   face / frames of the clip), detector recall on the main track (frames with a detection), frames
   filled by interpolation, and landmark jitter: the mean frame-to-frame *acceleration* of the 478
   points divided by the outer eye-corner distance, raw and after the tracker's centred
   Savitzky-Golay smoothing (steady head motion does not count, only wobble).
2. **Detectors alone** (``--detectors``) on every 5th frame: frames with at least one face and
   mean faces per frame for MediaPipe full-range on the whole frame, MediaPipe with tiles, SCRFD
   500m (onnxruntime, shared D06 file) and OpenCV's Haar cascade.

Usage: .venv/bin/python bench/face_recall.py [--clips A01 H07 ...] [--detectors] [--backend B]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MEDIA = REPO.parent / "shared" / "media"
DEFAULT_CLIPS = "A01 A02 A04 A05 A06 A07 A14 H09 H07 H01 H02 H03".split()


def clip_path(prefix: str) -> Path:
    """The shared clip whose name starts with ``prefix``."""
    hits = sorted((MEDIA / "video").glob(f"{prefix}*"))
    if not hits:
        raise SystemExit(f"no shared clip {prefix}* in {MEDIA / 'video'}")
    return hits[0]


def tracker_row(path: Path, backend: str, model_dir: str | None) -> dict:
    """Track one clip without smoothing, then smooth here to compare raw and smoothed jitter."""
    from lipcore.face.landmarks import landmark_jitter
    from lipcore.face.smooth import contiguous_runs, smooth_track
    from lipcore.face.track import TrackerSettings, track_faces

    base = TrackerSettings(backend=backend, model_dir=model_dir)
    raw = dataclasses.replace(base, landmark_window_frames=1, box_window_frames=1)
    t0 = time.perf_counter()
    ts = track_faces(path, raw, use_cache=False)
    elapsed = time.perf_counter() - t0
    row = {
        "clip": path.name[:3],
        "frames": ts.frame_count,
        "tracks": len(ts.tracks),
        "cuts": len(ts.shot_cuts),
        "fps_proc": ts.frame_count / elapsed,
    }
    if not ts.tracks:
        return row | {"recall": 0.0, "det_recall": 0.0, "interp": 0, "jit_raw": np.nan,
                      "jit_smooth": np.nan}  # fmt: skip
    main = ts.tracks[0]
    real = ~main.interpolated
    smoothed = smooth_track(main.frames, main.landmarks, base.landmark_window_frames, ts.shot_cuts)
    jit_raw, jit_s, weights = [], [], []
    for run in contiguous_runs(main.frames, ts.shot_cuts):
        if run.stop - run.start >= 10:
            jit_raw.append(landmark_jitter(main.landmarks[run]))
            jit_s.append(landmark_jitter(smoothed[run]))
            weights.append(run.stop - run.start)
    return row | {
        "recall": float(real.sum()) / ts.frame_count,
        "det_recall": float((main.scores > 0).sum()) / ts.frame_count,
        "interp": int(main.interpolated.sum()),
        "jit_raw": float(np.average(jit_raw, weights=weights)) if weights else np.nan,
        "jit_smooth": float(np.average(jit_s, weights=weights)) if weights else np.nan,
    }


def detector_rows(path: Path, step: int = 5) -> list[dict]:
    """Frames with >= 1 face and faces per frame for each detector alone."""
    import cv2

    from lipcore.face.detect import MediaPipeDetector
    from lipcore.face.insightface import ScrfdDetector
    from lipcore.media.decode import VideoReader

    haar = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def haar_detect(frame):
        gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        return haar.detectMultiScale(gray, 1.1, 5, minSize=(24, 24))

    scrfd = ScrfdDetector(MEDIA / "detectors" / "D06_scrfd_500m_bnkps.onnx")
    mp_full = MediaPipeDetector(tile=False)
    mp_tiles = MediaPipeDetector(tile=True)
    dets = {
        "mediapipe": mp_full.detect,
        "mediapipe+tiles": mp_tiles.detect,
        "scrfd500m": scrfd.detect,
        "haar": haar_detect,
    }
    counts = {k: [] for k in dets}
    times = {k: 0.0 for k in dets}
    with VideoReader(path) as reader:
        for i in range(0, reader.frame_count, step):
            frame = reader.read(i)
            for name, fn in dets.items():
                t0 = time.perf_counter()
                counts[name].append(len(fn(frame)))
                times[name] += time.perf_counter() - t0
    mp_full.close()
    mp_tiles.close()
    return [
        {
            "clip": path.name[:3],
            "detector": name,
            "frames_with_face": float(np.mean(np.array(c) > 0)),
            "faces_per_frame": float(np.mean(c)),
            "ms_per_frame": 1000 * times[name] / max(len(c), 1),
        }
        for name, c in counts.items()
    ]


def print_table(rows: list[dict]) -> None:
    """Print rows as an aligned text table."""
    if not rows:
        return
    cols = list(rows[0])
    cells = [[f"{r.get(c):.3f}" if isinstance(r.get(c), float) else str(r.get(c)) for c in cols]
             for r in rows]  # fmt: skip
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    sys.stdout.flush()


def main() -> None:
    """Run the benchmark and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="*", default=DEFAULT_CLIPS, help="clip name prefixes")
    ap.add_argument("--backend", default="mediapipe", choices=("mediapipe", "insightface"))
    ap.add_argument("--model-dir", default=None, help="insightface model folder")
    ap.add_argument("--detectors", action="store_true", help="also compare detectors alone")
    ap.add_argument("--no-tracker", action="store_true", help="skip the tracker table")
    args = ap.parse_args()
    paths = [clip_path(c) for c in args.clips]
    if not args.no_tracker:
        rows = []
        for p in paths:
            rows.append(tracker_row(p, args.backend, args.model_dir))
            print(f"# {rows[-1]}", file=sys.stderr, flush=True)
        print(f"\n## Tracker ({args.backend}); jitter = mean |accel| / eye distance")
        print_table(rows)
    if args.detectors:
        rows = []
        for p in paths:
            rows += detector_rows(p)
        print("\n## Detectors alone (every 5th frame)")
        print_table(rows)


if __name__ == "__main__":
    main()
