"""Issue #10's "done when", checked as a user would: ``lipsync sync`` with ``--engine auto`` on
every shared clip.

For every video in ``shared/media/video`` (from ``MANIFEST.tsv``) plus a still PNG taken from
A04, the real command line (``python -m lipcore.cli sync CLIP SPEECH -o OUT``, the default
engine) renders the first ``--seconds`` of the clip (cut with ffmpeg into ``--work``) driven by
speech from ``shared/media/audio``, a different recording from the clip's own (cut to the same
length). Two more cases check what a user gets where the detector finds no face: a crop of A04's
background (no face at all: the command must stop with exit 2 and one line naming the file and
``--face-box``, not a traceback), and H02 with the face pointed out by ``--face-box`` (the manual
box path from the command line).

Per render the table gives the exit code, the engine ``auto`` chose and the reason it printed,
wall and CPU seconds of the command (user + system of the child), whether the output has the
clip's frame count, size and frame rate (a still: the speech's length at ``--fps 25``) and the new
audio (its loudness envelope against the new speech's and the clip's own), the PSNR outside the
lower face against the source (FaceMesh's lower face, or the lower part of the manual box), and
how much the rendered mouth moves (range of the inner-lip gap over the clip's eye distance, and
the mouth box's mean frame-to-frame change against the source's: a frozen mouth reads near 0).
One PNG per render is written into ``--out``: the source's face and the render's face, then both
mouths zoomed, at the render's most open frame. A clip that is refused or crashes is a failure,
named with the command's message.

Usage: PYTHONPATH=. .venv/bin/python bench/auto_sweep.py [--seconds 3] [--out DIR] [--work DIR]
[--only A04,H02,still,noface,facebox]
"""

from __future__ import annotations

import argparse
import csv
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's lipcore, not an installed one
sys.path.insert(0, str(REPO / "bench"))

from before_after import _label, _square  # noqa: E402
from oneshot_quality import MEDIA, _boxes, _find, _frames, _track, psnr_outside  # noqa: E402

#: Speech for each clip: another recording than the clip's own (A05 is a crop of A01, so not B
#: speech of A01's recording either; B25 may be H08's own, so H08 gets B19), English for most and
#: a few other languages. Clips not listed get B19.
SPEECH = {
    "A01": "B24", "A02": "B20", "A04": "B21", "A05": "B02", "A06": "B01", "A07": "B22",
    "A08": "B25", "A09": "B02", "A10": "B03", "A11": "B02", "A13": "B11", "A14": "B04",
    "A15": "B21", "A16": "B20", "A18": "B01", "A19": "B03", "H01": "B19", "H02": "B17",
    "H03": "B16", "H07": "B01", "H08": "B19", "H09": "B10", "still": "B20",
}  # fmt: skip
#: The manual box for H02's face (the README's example of ``--face-box``).
H02_FACE_BOX = "186,273,287,252@0:mouth=.33,.76,.59,.79,.46,.74,.47,.84"
STILL_FPS = 25
#: The output's loudness must follow the new speech at least this well (envelope correlation).
AUDIO_MATCH_MIN = 0.8


@dataclass
class Case:
    """One command to run: a clip (or still), the speech, extra options, what is expected."""

    name: str
    clip: Path
    speech: Path
    extra: tuple[str, ...] = ()
    expect_refusal: bool = False  # the no-face case: exit 2 with a message naming the fix
    face_box: tuple[int, int, int, int] | None = None  # for the PSNR mask where FaceMesh fails


@dataclass
class Result:
    """What one command did and how its output measures."""

    name: str
    speech: str
    rc: int
    engine: str = "-"
    reason: str = ""
    wall_sec: float = 0.0
    cpu_sec: float = 0.0
    shape_ok: bool | None = None
    shape_note: str = ""
    audio_new: float = float("nan")
    audio_old: float = float("nan")
    psnr_db: float = float("nan")
    gap_range: float = float("nan")
    motion_ratio: float = float("nan")
    png: Path | None = None
    message: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the case did what a user wants (a refusal case: refused clearly)."""
        return not self.problems


def cut_clip(src: Path, dst: Path, seconds: float) -> None:
    """The first ``seconds`` of ``src`` re-encoded near-losslessly (audio kept, if any)."""
    from lipcore.media.probe import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-i", str(src), "-t", f"{seconds}",
           "-c:v", "libx264", "-crf", "10", "-c:a", "aac", str(dst)]  # fmt: skip
    subprocess.run(cmd, check=True)


def cut_audio(src: Path, dst: Path, seconds: float) -> None:
    """The first ``seconds`` of ``src`` as a wav."""
    from lipcore.media.probe import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-i", str(src), "-t", f"{seconds}", str(dst)]
    subprocess.run(cmd, check=True)


def still_from(src: Path, dst: Path, at_sec: float = 2.2) -> None:
    """One frame of ``src`` as a PNG (the still-image path's input)."""
    from lipcore.media.probe import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-ss", f"{at_sec}", "-i", str(src),
           "-frames:v", "1", str(dst)]  # fmt: skip
    subprocess.run(cmd, check=True)


def no_face_clip(src: Path, dst: Path, seconds: float) -> None:
    """A clip of ``src``'s background only: its top-left 200x150 corner (A04's map, no face)."""
    from lipcore.media.probe import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-i", str(src), "-t", f"{seconds}",
           "-vf", "crop=200:150:0:0", "-c:v", "libx264", "-crf", "10", "-c:a", "aac",
           str(dst)]  # fmt: skip
    subprocess.run(cmd, check=True)


def run_cli(args: list[str]) -> tuple[int, str, str, float, float]:
    """``python -m lipcore.cli ARGS`` -> (exit code, stdout, stderr, wall s, child CPU s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", *args], capture_output=True, text=True, cwd=REPO
    )
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, proc.stdout, proc.stderr, wall, cpu


def _envelope(audio_16k: np.ndarray, n: int) -> np.ndarray:
    """Log RMS in 20 ms windows of the first ``n`` windows."""
    win = 320
    a = np.asarray(audio_16k, np.float64)[: n * win]
    a = np.pad(a, (0, n * win - len(a)))
    return np.log(np.sqrt((a.reshape(n, win) ** 2).mean(1)) + 1e-4)


def envelope_match(a: np.ndarray, b: np.ndarray, max_lag: int = 5) -> float:
    """Best correlation of two sounds' loudness envelopes within +-``max_lag`` windows."""
    n = min(len(a), len(b)) // 320
    if n < 20:
        return float("nan")
    ea, eb = _envelope(a, n), _envelope(b, n)
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x, y = (ea[lag:], eb[: n - lag]) if lag >= 0 else (ea[: n + lag], eb[-lag:])
        if x.std() > 0 and y.std() > 0:
            best = max(best, float(np.corrcoef(x, y)[0, 1]))
    return best


def _lower_from_box(box: tuple[int, int, int, int], shape, n: int) -> np.ndarray:
    """The manual box's lower 60%, enlarged by 15%, as the lower face for every frame."""
    x, y, w, h = box
    x0, y0, x1, y1 = x - 0.15 * w, y + 0.4 * h - 0.15 * h, x + 1.15 * w, y + 1.15 * h
    clip = np.array([shape[1], shape[0], shape[1], shape[0]]) - 1
    one = np.clip(np.round([x0, y0, x1, y1]), 0, clip).astype(int)
    return np.repeat(one[None], n, 0)


def mouth_png(
    src: list[np.ndarray], out: list[np.ndarray], lm: np.ndarray, gap: np.ndarray,
    path: Path, label: str, box: tuple[int, int, int, int] | None,
) -> int:  # fmt: skip
    """Source face, render face, source mouth, render mouth at the render's most open frame.

    The face and mouth are placed from the source's FaceMesh landmarks (held where missing), or
    from the manual box; the most open frame is the render's largest inner-lip gap where the
    render is tracked on most frames, else the frame that differs most from the source.
    Returns that frame.
    """
    import cv2

    from lipcore.face.landmarks import LIPS_OUTER

    n = min(len(src), len(out))
    found = np.nonzero(np.isfinite(lm[:n, 0, 0]))[0]
    if len(found):
        held = lm[found[np.clip(np.searchsorted(found, np.arange(n)), 0, len(found) - 1)]]
        lips = held[:, list(LIPS_OUTER)]
        centre = lips.mean(1)
        mouth_half = 0.9 * (lips[:, :, 0].max(1) - lips[:, :, 0].min(1))
        face_lo, face_hi = held.min(1), held.max(1)
    else:  # no landmarks: the manual box, mouth in its lower middle
        x, y, w, h = box or (0, 0, src[0].shape[1], src[0].shape[0])
        centre = np.repeat([[x + 0.5 * w, y + 0.78 * h]], n, 0)
        mouth_half = np.full(n, 0.3 * w)
        face_lo = np.repeat([[x, y]], n, 0)
        face_hi = np.repeat([[x + w, y + h]], n, 0)
    diffs = []
    for i in range(n):
        (cx, cy), half = centre[i], max(mouth_half[i], 8)
        ys = slice(max(int(cy - half), 0), int(cy + half))
        xs = slice(max(int(cx - half), 0), int(cx + half))
        diffs.append(float(np.abs(src[i][ys, xs].astype(int) - out[i][ys, xs].astype(int)).mean()))
    tracked = np.isfinite(gap[:n])
    i = int(np.nanargmax(gap[:n])) if tracked.mean() > 0.5 else int(np.argmax(diffs))
    (fx0, fy0), (fx1, fy1) = face_lo[i], face_hi[i]
    face_half = 0.62 * max(fx1 - fx0, fy1 - fy0)
    fcx, fcy = (fx0 + fx1) / 2, (fy0 + fy1) / 2 + 0.08 * (fy1 - fy0)
    (mcx, mcy), mh = centre[i], max(mouth_half[i], 8)
    tiles = [
        _label(_square(src[i], fcx, fcy, face_half), f"{label} f{i}"),
        _label(_square(out[i], fcx, fcy, face_half), "render"),
        _square(src[i], mcx, mcy, mh),
        _square(out[i], mcx, mcy, mh),
    ]
    cv2.imwrite(str(path), np.hstack(tiles))
    return i


def _mouth_motion(frames: list[np.ndarray], boxes: np.ndarray) -> float:
    from oneshot_quality import flicker

    return flicker(frames, boxes)


def sweep_one(case: Case, work: Path, out_dir: Path, seconds: float) -> Result:
    """Render ``case`` with the real command line and measure its output (see the module doc)."""
    from lipcore.media.audio import clip_audio, load_audio
    from lipcore.media.probe import probe

    speech = work / f"{case.speech.stem[:3]}_{seconds:g}s.wav"
    if not speech.exists():
        cut_audio(case.speech, speech, seconds)
    out = work / f"{case.name}_auto.mp4"
    out.unlink(missing_ok=True)
    args = ["sync", str(case.clip), str(speech), "-o", str(out), "-q", *case.extra]
    rc, stdout, stderr, wall, cpu = run_cli(args)
    res = Result(case.name, case.speech.stem[:3], rc, wall_sec=wall, cpu_sec=cpu)
    m = re.search(r"^engine: (\w+) \((.*)\)$", stdout, re.M)
    if m:
        res.engine, res.reason = m.group(1), m.group(2)
    last = (stderr.strip().splitlines() or [""])[-1]
    if case.expect_refusal:
        res.message = last
        if rc != 2:
            res.problems.append(f"exit {rc}, not 2 (a refusal)")
        if "Traceback" in stderr:
            res.problems.append("a traceback instead of a message")
        if case.clip.name not in stderr or "--face-box" not in stderr:
            res.problems.append("the message does not name the file and --face-box")
        if out.exists():
            res.problems.append("an output was written")
        return res
    if rc != 0:
        res.message = last or f"exit {rc}"
        res.problems.append(f"exit {rc}: {res.message}")
        return res
    if "Traceback" in stderr:
        res.problems.append("a traceback on stderr")
    if not m:
        res.problems.append("no 'engine: NAME (reason)' line printed")

    src_info, out_info = probe(case.clip), probe(out)
    still = src_info.video.frame_count <= 1
    want_fps = STILL_FPS if still else src_info.video.fps
    want_n = round(seconds * STILL_FPS) if still else src_info.video.frame_count
    got = (out_info.video.frame_count, out_info.video.width, out_info.video.height)
    want = (want_n, src_info.video.width, src_info.video.height)
    res.shape_ok = got == want and out_info.video.fps == want_fps
    res.shape_note = f"{got[0]}f {got[1]}x{got[2]} {float(out_info.video.fps):g}fps"
    if not res.shape_ok:
        res.problems.append(
            f"output {res.shape_note}, clip {want[0]}f {want[1]}x{want[2]} {float(want_fps):g}fps"
        )
    new = load_audio(speech, 16000)
    got_audio = clip_audio(out) if out_info.audio is not None else np.zeros(0, np.float32)
    res.audio_new = envelope_match(got_audio, new)
    if src_info.audio is not None:
        res.audio_old = envelope_match(got_audio, clip_audio(case.clip))
    if not (res.audio_new >= AUDIO_MATCH_MIN):
        res.problems.append(f"output audio follows the new speech at r {res.audio_new:.2f}")

    n = out_info.video.frame_count
    out_frames = _frames(out, n)
    src_frames = _frames(case.clip, n)
    lm, _ = _track(case.clip, len(src_frames))
    if still:
        src_frames = src_frames * len(out_frames)
        lm = np.repeat(lm[:1], len(out_frames), 0)
    n = min(len(src_frames), len(out_frames))
    mouth, lower = _boxes(lm[:n], src_frames[0].shape[:2])
    if not np.isfinite(lm[:n, 0, 0]).any() and case.face_box is not None:
        lower = _lower_from_box(case.face_box, src_frames[0].shape[:2], n)
        x, y, w, h = case.face_box
        mouth = np.repeat([[x + w // 4, y + 6 * h // 10, x + 3 * w // 4, y + 9 * h // 10]], n, 0)
    res.psnr_db = psnr_outside(src_frames[:n], out_frames[:n], lower)
    if res.psnr_db < 40:
        res.problems.append(f"PSNR outside the lower face {res.psnr_db:.1f} dB < 40")
    _, out_gap = _track(out, n)
    finite = out_gap[np.isfinite(out_gap)]
    if finite.size > n // 2:
        res.gap_range = float(np.percentile(finite, 95) - np.percentile(finite, 5))
    src_motion = _mouth_motion(src_frames[:n], mouth) if not still else float("nan")
    out_motion = _mouth_motion(out_frames[:n], mouth)
    res.motion_ratio = out_motion / src_motion if src_motion and src_motion > 0 else out_motion
    if out_motion < 0.3:
        res.problems.append(f"frozen mouth (mouth box changes {out_motion:.2f} grey levels/frame)")
    out_dir.mkdir(parents=True, exist_ok=True)
    res.png = out_dir / f"{case.name}_mouth.png"
    mouth_png(src_frames, out_frames, lm, out_gap, res.png, case.name, case.face_box)
    return res


def cases(work: Path, seconds: float, only: set[str] = frozenset()) -> list[Case]:
    """Every shared video, the still from A04, the no-face crop and H02 with a manual box.

    Only the cases named in ``only`` (all when empty) are cut into ``work``.
    """
    with open(MEDIA / "MANIFEST.tsv", newline="") as f:
        videos = [MEDIA / r["file"] for r in csv.DictReader(f, delimiter="\t")]
    wanted = [v for v in videos if v.parent.name == "video"]
    out = []

    def clip(cid: str) -> Path:
        path = work / f"{cid}_{seconds:g}s.mp4"
        if not path.exists():
            cut_clip(_find("video", cid), path, seconds)
        return path

    def want(name: str) -> bool:
        return not only or name in only

    for v in wanted:
        cid = v.name[:3]
        if want(cid):
            out.append(Case(cid, clip(cid), _find("audio", SPEECH.get(cid, "B19"))))
    if want("still"):
        still = work / "A04_still.png"
        if not still.exists():
            still_from(_find("video", "A04"), still)
        speech = _find("audio", SPEECH["still"])
        out.append(Case("still", still, speech, ("--fps", str(STILL_FPS))))
    if want("noface"):
        noface = work / "A04_background.mp4"
        if not noface.exists():
            no_face_clip(_find("video", "A04"), noface, seconds)
        out.append(Case("noface", noface, _find("audio", "B21"), expect_refusal=True))
    if want("facebox"):
        box = tuple(int(v) for v in H02_FACE_BOX.split("@")[0].split(","))
        extra = ("--face-box", H02_FACE_BOX)
        out.append(Case("facebox", clip("H02"), _find("audio", "B17"), extra, face_box=box))
    return out


def _fmt(x: float, spec: str) -> str:
    return "-" if x != x else format(x, spec)


def table(results: list[Result]) -> str:
    """The results as a Markdown table (the README's form)."""
    lines = [
        "| clip | speech | exit | engine | reason | wall s | CPU s | frames/size/fps | "
        "audio new/old | psnr | lip-gap range | mouth motion | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        shape = "-" if r.shape_ok is None else ("ok " if r.shape_ok else "WRONG ") + r.shape_note
        reason = r.reason if r.rc == 0 else r.message
        verdict = "ok" if r.ok else "FAIL: " + "; ".join(r.problems)
        lines.append(
            f"| {r.name} | {r.speech} | {r.rc} | {r.engine} | {reason} | {r.wall_sec:.1f} | "
            f"{r.cpu_sec:.1f} | {shape} | {_fmt(r.audio_new, '.2f')}/{_fmt(r.audio_old, '.2f')} "
            f"| {_fmt(r.psnr_db, '.1f')} | {_fmt(r.gap_range, '.3f')} | "
            f"{_fmt(r.motion_ratio, '.2f')} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    import os

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="length cut from each clip")
    ap.add_argument("--out", type=Path, default=None, help="folder for the mouth PNGs")
    ap.add_argument("--work", type=Path, default=None, help="folder for the cut clips and renders")
    ap.add_argument("--only", default="", help="comma-separated case names (A04, still, noface)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="auto_sweep_"))
    work.mkdir(parents=True, exist_ok=True)
    out_dir = args.out or work
    only = {s for s in args.only.split(",") if s}
    results = []
    for case in cases(work, args.seconds, only):
        r = sweep_one(case, work, out_dir, args.seconds)
        results.append(r)
        print(f"{r.name}: exit {r.rc}, {r.engine} ({r.reason or r.message}), "
              f"{r.wall_sec:.0f} s wall, {r.cpu_sec:.0f} s CPU, "
              f"{'ok' if r.ok else 'FAIL: ' + '; '.join(r.problems)}", flush=True)  # fmt: skip
    print()
    print(table(results))
    load = os.getloadavg()
    failed = [r.name for r in results if not r.ok]
    failures = f"; failed: {', '.join(failed)}" if failed else ""
    loads = " ".join(f"{v:.1f}" for v in load)
    print(f"\n{len(results) - len(failed)} of {len(results)} cases ok{failures}; load average "
          f"{loads}; PNGs in {out_dir}, renders in {work}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
