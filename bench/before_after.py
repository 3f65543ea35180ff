"""The README's before/after pictures, rendered with this checkout's engines.

Two JPGs in ``resources/screenshots``, one row per clip: the source's face and the render's
face, then the source's and the render's mouth zoomed (source left, render right in each pair),
at the render's most open frame (inner-lip gap measured by FaceMesh on the render; the frame that
differs most from the source in the mouth box where the render is not tracked):

- ``oneshot_before_after.jpg``: the one-shot engine (forced) on the faces of issue #10's list
  (A11, A18, A19, H02, H03, H08 and a still PNG taken from A04), each with speech from
  ``shared/media/audio`` (the pairs of ``bench/oneshot_quality.py``);
- ``retime_before_after.jpg``: the retime engine on in-sync clips dubbed with English speech
  of another recording.

The mouth box comes from the source's FaceMesh track. Each clip is cut to ``--seconds``
(``--retime-seconds`` for retime, which needs 3 s of the face speaking); renders are kept in
``--work`` (``--reuse`` takes the renders already there). The attribution lines for the README
(source repository and licence from ``shared/media/MANIFEST.tsv``) are printed at the end. About
11 minutes on the shared 2-core machine under load.

Usage: PYTHONPATH=. .venv/bin/python bench/before_after.py [--seconds 3] [--retime-seconds 8]
[--only A11,H02] [--engines oneshot,retime] [--out resources/screenshots] [--work DIR] [--reuse]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's lipcore, not an installed one
sys.path.insert(0, str(REPO / "bench"))

from oneshot_quality import MEDIA, ONESHOT_ONLY, _cut, _find, _frames, _track  # noqa: E402

#: In-sync clips dubbed with English speech of another recording, for the retime picture.
RETIME = [("A04", "B21"), ("A07", "B22"), ("A01", "B19"), ("A06", "B01")]
TILE = 200  # side of each tile, pixels
MAX_BYTES = 300_000


def render(clip: Path, speech: Path, out: Path, engine: str) -> None:
    """Render the whole clip with ``engine`` (the engine is forced, not auto's choice)."""
    from lipcore.engines.registry import create_engine
    from lipcore.render.pipeline import render as run
    from lipcore.render.request import RenderRequest, SegmentSpec

    seg = SegmentSpec(0, 1 << 40, engine=engine)
    req = RenderRequest(video=clip, audio=speech, output=out, segments=(seg,))
    run(req, show_progress=False, engine=create_engine(engine))


def _square(frame: np.ndarray, cx: float, cy: float, half: float) -> np.ndarray:
    """A ``TILE`` x ``TILE`` crop centred on ``(cx, cy)``, edges replicated past the frame."""
    import cv2

    m = np.float32([[TILE / (2 * half), 0, TILE / 2 - cx * TILE / (2 * half)],
                    [0, TILE / (2 * half), TILE / 2 - cy * TILE / (2 * half)]])  # fmt: skip
    return cv2.warpAffine(frame, m, (TILE, TILE), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    import cv2

    tile = tile.copy()
    cv2.rectangle(tile, (0, 0), (8 + 8 * len(text), 18), (0, 0, 0), -1)
    cv2.putText(tile, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1,
                cv2.LINE_AA)  # fmt: skip
    return tile


def row(src: Path, out: Path, clip_id: str, speech_id: str, engine: str) -> np.ndarray:
    """One picture row: face and zoomed mouth, source then render, at the most changed frame."""
    from lipcore.face.landmarks import LIPS_OUTER

    rendered = _frames(out, 10_000)
    source = _frames(src, len(rendered))
    if len(source) == 1:  # a still: held for the whole speech
        source = source * len(rendered)
    n = min(len(source), len(rendered))
    lm, _ = _track(src, len(_frames(src, n)))
    found = np.nonzero(np.isfinite(lm[:, 0, 0]))[0]
    if not len(found):
        raise SystemExit(f"{src}: no face found to place the pictures")
    lm = lm[found[np.clip(np.searchsorted(found, np.arange(n)), 0, len(found) - 1)]]
    if len(lm) < n:
        lm = np.repeat(lm[:1], n, 0)
    diffs = []
    _, gap = _track(out, n)
    for i in range(n):
        lips = lm[i][list(LIPS_OUTER)]
        (x0, y0), (x1, y1) = np.floor(lips.min(0)).astype(int), np.ceil(lips.max(0)).astype(int)
        pad = max(x1 - x0, 8) // 2
        a = source[i][max(y0 - pad, 0) : y1 + pad, max(x0 - pad, 0) : x1 + pad]
        b = rendered[i][max(y0 - pad, 0) : y1 + pad, max(x0 - pad, 0) : x1 + pad]
        diffs.append(float(np.abs(a.astype(int) - b.astype(int)).mean()))
    tracked = np.isfinite(gap)
    i = int(np.nanargmax(gap)) if tracked.mean() > 0.5 else int(np.argmax(diffs))
    face = lm[i]
    (fx0, fy0), (fx1, fy1) = face.min(0), face.max(0)
    face_half = 0.62 * max(fx1 - fx0, fy1 - fy0)
    fcx, fcy = (fx0 + fx1) / 2, (fy0 + fy1) / 2 + 0.08 * (fy1 - fy0)
    lips = face[list(LIPS_OUTER)]
    mcx, mcy = lips.mean(0)
    mouth_half = 0.9 * (lips[:, 0].max() - lips[:, 0].min())
    tiles = [
        _label(_square(source[i], fcx, fcy, face_half), f"{clip_id} f{i}"),
        _label(_square(rendered[i], fcx, fcy, face_half), f"+{speech_id} {engine}"),
        _square(source[i], mcx, mcy, mouth_half),
        _square(rendered[i], mcx, mcy, mouth_half),
    ]
    return np.hstack(tiles)


def write_jpg(rows: list[np.ndarray], path: Path) -> None:
    """Stack the rows and write a JPG under :data:`MAX_BYTES` (quality lowered until it fits)."""
    import cv2

    image = np.vstack(rows)
    for quality in (90, 85, 80, 75, 70, 60):
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(buf) <= MAX_BYTES:
            break
    tmp = path.with_suffix(".tmp.jpg")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(path)
    print(f"{path}: {image.shape[1]}x{image.shape[0]}, {len(buf) // 1000} KB, quality {quality}")


def attribution(ids: list[str]) -> str:
    """ "A11: Weizhi-Zhong/IP_LAP (Apache-2.0); ..." for the README, from MANIFEST.tsv."""
    with open(MEDIA / "MANIFEST.tsv", newline="") as f:
        rows = {Path(r["file"]).name[:3]: r for r in csv.DictReader(f, delimiter="\t")}
    seen, parts = set(), []
    for i in ids:
        r = rows[i]
        if i not in seen:
            seen.add(i)
            parts.append(f"{i}: {r['source_repo']} ({r['repo_licence']})")
    return "; ".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="one-shot clips' length")
    ap.add_argument("--retime-seconds", type=float, default=8.0,
                    help="retime clips' length (it needs 3 s of the face speaking)")  # fmt: skip
    ap.add_argument("--engines", default="oneshot,retime", help="which pictures to make")
    ap.add_argument("--only", default="", help="comma-separated clip prefixes (A04 = its still)")
    ap.add_argument("--out", type=Path, default=REPO / "resources" / "screenshots")
    ap.add_argument("--work", type=Path, default=None, help="folder for the cut clips and renders")
    ap.add_argument("--reuse", action="store_true", help="keep renders already in --work")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="before_after_"))
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    only = {s for s in args.only.split(",") if s}
    jobs = [("oneshot", c, s) for c, s in ONESHOT_ONLY] + [("retime", c, s) for c, s in RETIME]
    rows: dict[str, list[np.ndarray]] = {"oneshot": [], "retime": []}
    used: dict[str, list[str]] = {"oneshot": [], "retime": []}
    for engine, clip_id, speech_id in jobs:
        base = clip_id.split(".")[0]
        if (only and base not in only) or engine not in args.engines.split(","):
            continue
        seconds = args.seconds if engine == "oneshot" else args.retime_seconds
        if clip_id.endswith(".png"):  # a still taken from the clip
            src = work / f"{base}_still.png"
            cmd = ["ffmpeg", "-y", "-v", "error", "-ss", "2.2", "-i",
                   str(_find("video", base)), "-frames:v", "1", str(src)]  # fmt: skip
            subprocess.run(cmd, check=True)
            label = f"{base} still"
        else:
            src = work / f"{base}_src.mp4"
            _cut(_find("video", base), src, seconds)
            label = base
        speech = work / f"{speech_id}_{seconds:g}s.wav"
        cmd = ["ffmpeg", "-y", "-v", "error", "-i", str(_find("audio", speech_id)),
               "-t", f"{seconds}", str(speech)]  # fmt: skip
        subprocess.run(cmd, check=True)
        out = work / f"{base}_{speech_id}_{engine}.mp4"
        if not (args.reuse and out.exists()):
            render(src, speech, out, engine)
        rows[engine].append(row(src, out, label, speech_id, engine))
        used[engine] += [base, speech_id]
        print(f"{engine} {clip_id} + {speech_id}: {out}", flush=True)
    for engine, picture in rows.items():
        if picture:
            write_jpg(picture, args.out / f"{engine}_before_after.jpg")
            print(f"  sources: {attribution(used[engine])}")
    print(f"renders kept in {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
