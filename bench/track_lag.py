"""How much of the head's real motion the tracked landmarks follow (gain), before and after.

On a few shared clips with head motion (A06, A01, A02 by default), the first ``--frames``
frames are tracked with the product's tracker (:func:`lipcore.face.track.track_faces`, default
:class:`~lipcore.face.track.TrackerSettings`: the detector every 8th frame, the landmark model
following in between, Savitzky-Golay smoothed). The frame-to-frame motion of the stable points
(nose bridge and tip, eye corners: their mean) is regressed against a reference that does not
use the tracker:

- **ECC**: the translation of the nose and upper-cheek patch between consecutive frames, found
  by image registration (``cv2.findTransformECC``, translation model) on the original frames;
- **fresh**: FaceMesh fitted afresh on every frame from the detector's box (no following), whose
  own gain against ECC is printed too (the best a landmark fit reaches here).

Printed per clip and checkout: gain (least-squares slope through the origin of the tracked
motion on the ECC motion, x and y pooled), the residual (RMS px of tracked motion minus
gain x ECC motion), the same against the fresh fits, the gain of the nose base's points (not
among the points the tracker keeps unsmoothed), the tests' landmark jitter (second difference
per eye distance; frames without a fit left out), how far the points moved on repeated
pictures (a frame identical to the one before: the face did not move; RMS px), and tracking
speed (frames per wall and
per CPU second of the tracking process alone). The tracker runs in its own process per
checkout (``--before /work/main`` is the code before the change), alternated clip by clip, so
both are measured in the same minutes; the load average is printed with each line.

Usage::

    PYTHONPATH=. nice -n 10 python bench/track_lag.py [--clips A06,A01,A02] [--frames 150]
        [--before /work/main] [--raw]

``--raw`` also tracks with ``landmark_window_frames=1`` (no smoothing: the follower's own gain).

Measured (150 frames, load 16-18, ``--before`` the code before the refit and the
translation-keeping smoothing): gain against ECC A06 0.76 -> 1.06, A01 0.97 -> 1.06, A02 0.99
-> 1.11 (FaceMesh afresh on every frame: 1.05, 1.06, 1.08, so ECC's patch reads the motion a
little short); residual 1.18 -> 0.58, 1.12 -> 0.82, 1.22 -> 0.67 px; on A06's 39 repeated
pictures the points moved 1.66 -> 0.25 px rms; jitter 0.011 -> 0.022 (A06: the real jerks of its
cadence now count), 0.011 -> 0.016, 0.013 -> 0.019; tracking CPU 69 -> 52 fps on these moving
heads (a second landmark-model run on 36-62 % of the followed frames). Unsmoothed, the old
follower read 1.03-1.05 here: the gain lost before was mostly the smoothing's.
The last line reads ``gain_<clip>=.. before_gain_<clip>=.. fps=.. before_fps=..``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", "/work/shared/media"))
#: Nose bridge and tip, outer and inner eye corners: points that move with the skull.
STABLE = (168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263)
#: Nose base (alae, subnasale): rigid with the skull, and not among the points the tracker keeps
#: unsmoothed (a check that the whole face follows, not only the measured points).
NOSE_BASE = (64, 98, 97, 2, 326, 327, 294)
#: The registered patch: nose and upper cheeks, between these points' extent.
PATCH = (168, 2, 50, 280, 1, 4)


def load() -> str:
    """The 1-minute load average, for the record."""
    return f"{os.getloadavg()[0]:.1f}"


def find_clip(prefix: str) -> Path:
    """The shared clip whose name starts with ``prefix_``."""
    hits = sorted((MEDIA / "video").glob(f"{prefix}_*"))
    if not hits:
        raise SystemExit(f"no shared clip {prefix}_* in {MEDIA / 'video'}")
    return hits[0]


def worker(repo: Path, clip: Path, frames: int, window: int, out: Path) -> None:
    """Track ``clip`` with the ``lipcore`` of ``repo`` and save the main face's landmarks."""
    sys.path.insert(0, str(repo))
    from lipcore.face.track import TrackerSettings, track_faces

    settings = TrackerSettings(end_frame=frames, landmark_window_frames=window)
    track_faces(find_clip("A07"), TrackerSettings(end_frame=2), use_cache=False)  # warm-up
    c0, t0 = time.process_time(), time.perf_counter()
    ts = track_faces(clip, settings, use_cache=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t = ts.tracks[0]
    np.savez(out, frames=t.frames, landmarks=t.landmarks, wall=wall, cpu=cpu, n=frames)


def run_tracker(repo: Path, clip: Path, frames: int, window: int) -> dict:
    """Run :func:`worker` in a new process (``repo``'s code only) and read its result."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "track.npz"
        env = dict(os.environ, PYTHONPATH=str(repo), GLOG_minloglevel="2")
        cmd = [sys.executable, __file__, "--worker", str(repo), str(clip), str(frames),
               str(window), str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, env=env, cwd=repo, stderr=subprocess.DEVNULL)
        with np.load(out) as z:
            return {k: z[k] for k in z.files}


def read_frames(clip: Path, frames: int) -> list[np.ndarray]:
    """The first ``frames`` frames of ``clip``, BGR."""
    from lipcore.media.decode import VideoReader

    with VideoReader(clip) as reader:
        return [f.copy() for _, f in reader.iter_frames(0, frames)]


def fresh_fits(frames: list[np.ndarray]) -> list[np.ndarray | None]:
    """FaceMesh on every frame from the detector's box (the largest face), no following."""
    from lipcore.face.detect import make_detector
    from lipcore.face.mesh import MeshLandmarker

    det = make_detector("mediapipe", None, 0.5, True)
    fits: list[np.ndarray | None] = []
    try:
        with MeshLandmarker() as mesher:
            for f in frames:
                dets = det.detect(f)
                if not dets:
                    fits.append(None)
                    continue
                d = max(dets, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
                fits.append(mesher.landmarks(f, d.box))
    finally:
        det.close()
    return fits


def ecc_motion(frames: list[np.ndarray], fits: list[np.ndarray | None]) -> np.ndarray:
    """``(n, 2)`` translation of the nose/cheek patch from frame k-1 to k (NaN where unknown)."""
    out = np.full((len(frames), 2), np.nan)
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.float32) for f in frames]
    for k in range(1, len(frames)):
        lm = fits[k - 1]
        if lm is None:
            continue
        pts = lm[list(PATCH)]
        x0, y0 = np.floor(pts.min(0)).astype(int)
        x1, y1 = np.ceil(pts.max(0)).astype(int)
        h, w = grey[k].shape
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 16 or y1 - y0 < 16:
            continue
        warp = np.eye(2, 3, dtype=np.float32)
        try:
            _, warp = cv2.findTransformECC(
                grey[k - 1][y0:y1, x0:x1], grey[k][y0:y1, x0:x1], warp,
                cv2.MOTION_TRANSLATION, crit, None, 5,
            )  # fmt: skip
        except cv2.error:
            continue
        out[k] = warp[:, 2]
    return out


def point_motion(lms: list[np.ndarray | None] | np.ndarray, points=STABLE) -> np.ndarray:
    """``(n, 2)`` motion of ``points``' mean from frame k-1 to k (NaN where unknown)."""
    centre = np.array(
        [np.full(2, np.nan) if lm is None else lm[list(points)].mean(0) for lm in lms]
    )
    out = np.full((len(centre), 2), np.nan)
    out[1:] = centre[1:] - centre[:-1]
    return out


def gain(motion: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Slope through the origin of ``motion`` on ``ref`` (x and y pooled) and the residual RMS."""
    ok = np.isfinite(motion).all(1) & np.isfinite(ref).all(1)
    a, b = motion[ok].ravel(), ref[ok].ravel()
    slope = float(a @ b / max(b @ b, 1e-9))
    return slope, float(np.sqrt(np.mean((a - slope * b) ** 2)))


def landmark_jitter(lms: np.ndarray) -> float:
    """The tracker tests' jitter (second difference per eye distance) over frames with a fit."""
    from lipcore.face.landmarks import landmark_jitter as jitter

    return jitter(lms[np.isfinite(lms).all(axis=(1, 2))])


def tracked(result: dict, n: int) -> np.ndarray:
    """The track's landmarks on frames ``0..n-1`` (NaN where it has none)."""
    lms = np.full((n, *result["landmarks"].shape[1:]), np.nan, np.float32)
    lms[result["frames"]] = result["landmarks"]
    return lms


def main() -> None:
    """Reference motion per clip, then each checkout's tracker; print the table and summary."""
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        repo, clip, frames, window, out = sys.argv[2:7]
        worker(Path(repo), Path(clip), int(frames), int(window), Path(out))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", default="A06,A01,A02", help="shared clip prefixes")
    ap.add_argument("--frames", type=int, default=150, help="frames tracked per clip")
    ap.add_argument("--before", type=Path, help="another checkout, e.g. /work/main")
    ap.add_argument("--raw", action="store_true", help="also track without smoothing")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    checkouts = [("after", REPO)]
    if args.before is not None:
        checkouts.insert(0, ("before", args.before.resolve()))
    windows = [5, 1] if args.raw else [5]
    summary: dict[str, float] = {}
    speed: dict[str, list[float]] = {}
    print(f"load {load()}")
    for prefix in args.clips.split(","):
        clip = find_clip(prefix)
        frames = read_frames(clip, args.frames)
        n = len(frames)
        # Repeated pictures (A06's 25-to-30 fps cadence): the face did not move at all there.
        held = np.array([False] + [
            float(cv2.absdiff(frames[k], frames[k - 1]).mean()) < 0.5 for k in range(1, n)
        ])  # fmt: skip
        fits = fresh_fits(frames)
        ecc = ecc_motion(frames, fits)
        fresh = point_motion(fits)
        g, r = gain(fresh, ecc)
        print(f"{prefix}: {n} frames; ECC motion RMS {np.sqrt(np.nanmean(ecc**2)):.2f} px/frame; "
              f"fresh FaceMesh gain {g:.2f} (resid {r:.2f} px); load {load()}")  # fmt: skip
        for label, repo in checkouts:
            for window in windows:
                res = run_tracker(repo, clip, n, window)
                lms = tracked(res, n)
                motion = point_motion(lms)
                g, r = gain(motion, ecc)
                gf, rf = gain(motion, fresh)
                gb, rb = gain(point_motion(lms, NOSE_BASE), ecc)
                jit = landmark_jitter(lms)
                still = motion[held & np.isfinite(motion).all(1)]
                on_held = float(np.sqrt(np.mean(still**2))) if len(still) else float("nan")
                fps, cpu_fps = n / float(res["wall"]), n / float(res["cpu"])
                tag = f"{label:6s} window {window}"
                print(f"  {tag}: gain {g:.2f} (resid {r:.2f} px) vs ECC; {gf:.2f} "
                      f"({rf:.2f} px) vs fresh; nose base {gb:.2f} ({rb:.2f} px); "
                      f"jitter {jit:.4f}; on {int(held.sum())} repeated pictures "
                      f"{on_held:.2f} px; "
                      f"{fps:.1f} fps wall, {cpu_fps:.1f} fps CPU; "
                      f"load {load()}")  # fmt: skip
                if window == 5:
                    key = "gain" if label == "after" else "before_gain"
                    summary[f"{key}_{prefix}"] = g
                    speed.setdefault(label, []).append(cpu_fps)
    for label, fps in speed.items():
        summary["fps" if label == "after" else "before_fps"] = float(np.mean(fps))
    print(" ".join(f"{k}={v:.2f}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
