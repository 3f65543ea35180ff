"""The per-clip step of ``bench/auto_sweep.py`` on one short real clip, so the bench cannot rot.

It runs the real ``lipsync sync`` (default ``--engine auto``) on 2 s of A04 with speech of
another recording and checks what the bench reports as a user would read it: exit 0, the engine
and its reason, the clip's frame count, size and frame rate, the new audio and not the old, the
picture outside the lower face untouched, a moving mouth and the zoomed mouth PNG; and on a clip
of A04's background (no face anywhere) a refusal with exit 2 naming the file and ``--face-box``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "auto_sweep.py"
SECONDS = 2.0


def _bench():
    spec = importlib.util.spec_from_file_location("auto_sweep", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("auto_sweep", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    return _bench(), tmp_path_factory.mktemp("auto_sweep")


def test_one_clip_renders_with_auto_and_measures_as_a_user_checks(sweep, shared_media):
    bench, work = sweep
    clip = work / "A04_2s.mp4"
    bench.cut_clip(next((shared_media / "video").glob("A04_*.mp4")), clip, SECONDS)
    speech = next((shared_media / "audio").glob("B21_*.wav"))
    r = bench.sweep_one(bench.Case("A04", clip, speech), work, work / "png", SECONDS)
    assert r.rc == 0 and r.ok, (r.message, r.problems)
    # 2 s show the face speaking for less than retime's 3 s: auto says so and uses one-shot
    assert r.engine == "oneshot" and "speaking footage" in r.reason, r.reason
    assert r.shape_ok and r.shape_note == "50f 844x844 25fps", r.shape_note
    assert r.audio_new > 0.9 and r.audio_old < 0.6, (r.audio_new, r.audio_old)
    assert r.psnr_db >= 40.0
    assert r.gap_range > 0.03 and r.motion_ratio > 0.3, (r.gap_range, r.motion_ratio)
    assert r.cpu_sec > 0 and r.wall_sec > 0
    png = cv2.imread(str(r.png))
    assert png is not None and png.shape == (200, 800, 3)
    assert "| A04 | B21 | 0 | oneshot |" in bench.table([r])


def test_a_clip_without_a_face_is_refused_with_the_way_out(sweep, shared_media):
    bench, work = sweep
    clip = work / "background.mp4"
    bench.no_face_clip(next((shared_media / "video").glob("A04_*.mp4")), clip, SECONDS)
    speech = next((shared_media / "audio").glob("B21_*.wav"))
    case = bench.Case("noface", clip, speech, expect_refusal=True)
    r = bench.sweep_one(case, work, work / "png", SECONDS)
    assert r.rc == 2 and r.ok, (r.message, r.problems)
    assert "background.mp4" in r.message and "--face-box X,Y,W,H" in r.message
    # The bench names a refusal it did not expect as a failure, with the command's message
    surprise = bench.sweep_one(bench.Case("noface", clip, speech), work, work / "png", SECONDS)
    assert not surprise.ok and "no face was found" in surprise.problems[0]
