"""End to end: ``lipsync sync`` on a real talking-face clip with the built-in engine, on CPU.

What a user checks: the output plays at the source's size and frame rate for the whole clip,
carries the new audio, leaves frames outside the segment and pixels away from the mouth as
they were, changes the mouth inside the segment, and never touches the source.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lipcore.media.decode import VideoReader
from lipcore.media.probe import probe

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"
SPEECH = "audio/B19_en_48k_retalking2.wav"
SECONDS = 5  # A05 is 5 s long


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def short_clip(shared_media, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(shared_media / CLIP), "-t", str(SECONDS),
         "-c:v", "libx264", "-crf", "10", "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def rendered(short_clip, shared_media) -> tuple[Path, Path, str]:
    before = hashlib.sha256(short_clip.read_bytes()).hexdigest()
    out = short_clip.with_name("dubbed.mp4")
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", str(short_clip), str(shared_media / SPEECH),
         "-o", str(out), "--segment", "1.5-4", "-q"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return short_clip, out, before


def test_output_matches_the_source_format_and_carries_the_new_audio(rendered):
    src, out, before = rendered
    s, o = probe(src), probe(out)
    assert (o.video.width, o.video.height) == (s.video.width, s.video.height)
    assert o.video.fps == s.video.fps
    assert o.video.frame_count == s.video.frame_count
    assert o.audio is not None
    # The dub (5.01 s) is cut to the picture; the audio track covers the whole clip.
    assert abs(o.audio.duration_sec - float(s.video.frame_count / s.video.fps)) < 0.05
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # source untouched


def test_only_the_mouth_inside_the_segment_changes(rendered):
    from lipcore.face.select import choose_track
    from lipcore.face.track import track_faces
    from lipcore.render.request import FaceChoice

    src, out, _ = rendered
    track = choose_track(track_faces(src), FaceChoice())
    fps = probe(src).video.fps
    seg = range(int(1.5 * fps), int(4 * fps))
    with VideoReader(src) as a, VideoReader(out) as b:
        pairs = list(zip(a.iter_frames(), b.iter_frames(), strict=True))
    outside_psnr, mouth_diff, far_psnr = [], [], []
    for (i, fa), (_, fb) in pairs:
        if i not in seg:
            outside_psnr.append(_psnr(fa, fb))
            continue
        row = track.index_of(i)
        x0, y0, x1, y1 = track.boxes[row].astype(int)
        lm = track.landmarks[row]
        my0 = int(lm[:, 1][[0, 13, 14, 17]].min()) - 5
        mx0, mx1 = int(lm[61, 0]) - 5, int(lm[291, 0]) + 5
        my1 = int(lm[17, 1]) + 5
        mouth_diff.append(np.abs(fa[my0:my1, mx0:mx1].astype(int) - fb[my0:my1, mx0:mx1]).mean())
        # Well away from the face: the top band of the frame above the face box.
        if y0 > 40:
            far_psnr.append(_psnr(fa[: y0 - 20], fb[: y0 - 20]))
    assert min(outside_psnr) > 38, "frames outside the segment must look unchanged"
    assert min(far_psnr) > 38, "pixels away from the face must look unchanged"
    assert np.mean(mouth_diff) > 4.0, "the mouth inside the segment must have been re-synced"


def test_bad_inputs_fail_with_one_line_naming_the_file(tmp_path, short_clip, shared_media):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", str(bogus), str(shared_media / SPEECH),
         "-o", str(tmp_path / "x.mp4")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "notes.mp4" in proc.stderr and "Traceback" not in proc.stderr
    same = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", str(short_clip), str(shared_media / SPEECH),
         "-o", str(short_clip)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert same.returncode == 2 and "overwrite" in same.stderr
    assert not (tmp_path / "x.mp4").exists()
