"""Retime on the picture clock: where a clip repeats pictures, the library's motion steps once
per picture, both in the library (runs step over repeated pictures) and in the output (a row
showing a repeated picture repeats the row before, as the render's hold does)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from lipcore.engines.retime import RetimeEngine
from lipcore.engines.retime_select import crossfade_plan, select_frames, successors
from lipcore.media.audio import clip_audio
from lipcore.media.probe import ffmpeg_exe
from lipcore.progress import drain

CLIP = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"


def test_runs_step_over_repeated_pictures():
    run_ids = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    repeats = np.array([0, 0, 1, 0, 0, 0, 1, 0], bool)
    assert successors(run_ids).tolist() == [1, 2, 3, 4, -1, 6, 7, -1]
    assert successors(run_ids, repeats).tolist() == [1, 3, 3, 4, -1, 7, 7, -1]


def test_a_path_never_shows_a_repeated_picture_and_plays_on_across_it():
    n = 12
    run_ids = np.zeros(n, np.int64)
    repeats = np.zeros(n, bool)
    repeats[[3, 7]] = True
    # Shapes that a run played picture by picture matches best: 0, 1, 2, 4, 5, 6, 8, ...
    pictures = np.nonzero(~repeats)[0]
    unary = np.ones((len(pictures), n), np.float32)
    unary[np.arange(len(pictures)), pictures] = 0.0
    dist = np.ones((n, n), np.float32)
    path = select_frames(unary, dist, run_ids, np.zeros(len(pictures), bool), repeats=repeats)
    assert path.tolist() == pictures.tolist()
    plan = crossfade_plan(np.array([0, 1, 2, 9, 10]), run_ids, 2, repeats)
    # The old run fading out after the cut steps over the repeated picture 3 as well
    assert [dict(p).get(g) for p, g in zip(plan[3:], [4, 5], strict=True)] == pytest.approx(
        [2 / 3, 1 / 3]
    )


@pytest.fixture(scope="module")
def pulldown(shared_media, tmp_path_factory):
    """Four seconds of A01 (25 fps) as a lossless 30-fps file (every sixth frame a repeat),
    its aligned footage as the render builds it, and a retime engine prepared on it."""
    from lipcore.face.select import choose_track
    from lipcore.face.track import track_faces
    from lipcore.render.footage import align_track, iter_source_footage
    from lipcore.render.request import FaceChoice

    path = tmp_path_factory.mktemp("retime_cadence") / "a01_30fps.mkv"
    cmd = [ffmpeg_exe(), "-y", "-v", "error", "-i", str(shared_media / CLIP), "-t", "4",
           "-vf", "fps=30", "-c:v", "libx264", "-qp", "0", "-c:a", "flac", str(path)]  # fmt: skip
    subprocess.run(cmd, check=True)
    track = choose_track(track_faces(path, use_cache=False), FaceChoice())
    footage = drain(iter_source_footage(path, align_track(track), clip_audio(path)), show=False)
    engine = RetimeEngine()
    drain(engine.prepare(footage), show=False)
    return path, footage, engine


def _repeated_frames(path, count) -> list[int]:
    from lipcore.media.decode import VideoReader

    with VideoReader(path) as reader:
        frames = [f for _, f in reader.iter_frames(0, count)]
    return [j for j in range(1, count) if np.array_equal(frames[j], frames[j - 1])]


def test_the_footage_marks_the_repeated_pictures_and_the_plan_holds_them(pulldown):
    from lipcore.engines.base import SegmentDrive

    path, footage, engine = pulldown
    repeated = _repeated_frames(path, 120)
    assert len(repeated) >= 18, "the fps filter repeats every sixth picture"
    marked = footage.frames[footage.repeats].tolist()
    # Every repeat the render would hold (the test needs two changes of history first)
    assert set(marked) <= set(repeated) and len(marked) >= len(repeated) - 1
    lib = engine.library
    assert lib.repeat_rows().sum() == len(marked)

    n = 90
    speech = clip_audio(path)
    drive = SegmentDrive(
        frames=np.arange(n),
        mel_windows=np.zeros((n, 80, 16), np.float32),
        voiced=np.ones(n, bool),
        fps=footage.fps,
        audio_16k=speech[: n * 16000 // 30],
        source_frames=np.arange(n),
    )
    engine.begin_segment(drive)
    plan = engine.plan
    held = [j for j in range(n) if plan.picture_row[j] != j]
    assert held == [j for j in marked if j < n]
    assert all(plan.picture_row[j] == j - 1 for j in held)
    assert all(plan.path[j] == plan.path[j - 1] for j in held)
    assert not lib.repeat_rows()[plan.path].any(), "no repeated library picture is shown"
    # On a new picture the library plays its own next picture, never a frame of itself twice
    # over two pictures' worth of speech
    steps = [
        (int(plan.path[j - 1]), int(plan.path[j]))
        for j in range(1, n)
        if j not in held and len(plan.blend[j]) == 1
    ]
    nxt = successors(lib.run_ids, lib.repeat_rows())
    natural = sum(b == nxt[a] for a, b in steps)
    assert natural >= 0.5 * len(steps)


def test_a_saved_library_keeps_its_repeated_pictures(pulldown, tmp_path):
    _, _, engine = pulldown
    assert engine.save_state(tmp_path / "lib")
    loaded = RetimeEngine()
    assert loaded.load_state(tmp_path / "lib")
    assert np.array_equal(loaded.library.repeat_rows(), engine.library.repeat_rows())
    assert engine.library.repeat_rows().any()
