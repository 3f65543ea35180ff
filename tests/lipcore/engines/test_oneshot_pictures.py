"""The one-shot engine on a clip that repeats pictures: the mouth steps on the picture clock.

A 25-fps picture in a 30-fps file (or a frame-dropping encoder) shows some pictures twice, and the
render holds the new mouth there. The engine must plan one shape per picture: on a row that
repeats its picture the shape is that of the row before (never a shape of its own, which would
make the row after step twice as far), and the track is smoothed over pictures. The face is a
real one (a frame of A04 shown as footage whose every fifth frame repeats), the speech real (B01).
"""

from __future__ import annotations

import dataclasses
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from lipcore.engines.base import SegmentDrive, SourceFootage
from lipcore.engines.oneshot import OneShotEngine
from lipcore.engines.picture_clock import (
    gaussian_smooth,
    per_picture_max,
    picture_rows,
    smooth_on_pictures,
)
from lipcore.media.audio import load_audio
from lipcore.progress import drain

FPS = Fraction(30)


def test_picture_rows_hold_single_repeats_where_the_output_steps_through_the_clip():
    shown = np.arange(10)
    # 3 and 4 both "repeat": the render holds single repeats only, so 4 is a picture of its own
    assert picture_rows(shown, {3, 4, 7}).tolist() == [0, 1, 2, 2, 4, 5, 6, 6, 8, 9]
    # a held or reversed source picture (a long-audio policy) is never treated as a repeat
    assert picture_rows(np.array([5, 5, 6, 5, 4]), {5, 6}).tolist() == [0, 1, 1, 3, 4]
    assert picture_rows(shown, set()).tolist() == list(range(10))


def test_smoothing_on_pictures_is_constant_per_picture_and_plain_without_repeats():
    rng = np.random.default_rng(0)
    track = rng.normal(size=(40, 3, 2))
    rows = np.arange(40)
    assert np.array_equal(smooth_on_pictures(track, rows, 1.6), gaussian_smooth(track, 1.6))
    held = picture_rows(rows, set(range(4, 40, 5)))
    out = smooth_on_pictures(track, held, 1.6)
    for k in np.nonzero(held != rows)[0]:
        assert np.array_equal(out[k], out[k - 1])
    # one value per picture: the mean of its rows, before smoothing
    firsts = np.nonzero(held == rows)[0]
    raw = smooth_on_pictures(track, held, 0.0)
    assert np.allclose(raw[3], track[3:5].mean(0))
    assert len(np.unique(raw[:, 0, 0])) == len(firsts)
    closure = np.zeros(40)
    closure[4] = 1.0  # a /b/ on a repeated row shuts the lips on the picture it repeats
    assert per_picture_max(closure, held)[[3, 4]].tolist() == [1.0, 1.0]


@pytest.fixture(scope="module")
def repeating_footage(shared_media, tmp_path_factory) -> SourceFootage:
    """A04's face as 60 frames of footage, every fifth frame repeating the picture before."""
    from lipcore.face.track import iter_track_faces
    from lipcore.render.footage import align_track, iter_source_footage

    png = tmp_path_factory.mktemp("pictures") / "a04.png"
    clip = next((shared_media / "video").glob("A04_*.mp4"))
    cmd = ["ffmpeg", "-v", "error", "-ss", "2.2", "-i", str(clip), "-frames:v", "1", str(png)]
    subprocess.run(cmd, check=True)
    tracks = drain(iter_track_faces(png), show=False)
    still = drain(iter_source_footage(png, align_track(tracks.tracks[0], 256), None), show=False)
    n = 60
    repeats = np.zeros(n, bool)
    repeats[4::5] = True
    return dataclasses.replace(
        still,
        crops=np.repeat(np.asarray(still.crops), n, 0),
        landmarks=np.repeat(np.asarray(still.landmarks), n, 0),
        frames=np.arange(n),
        fps=FPS,
        repeats=repeats,
    )


def test_mouth_changes_only_where_the_picture_steps(repeating_footage, shared_media):
    speech = load_audio(next((shared_media / "audio").glob("B01_*.wav")), 16000)[: 16000 * 2]
    from lipcore.audio.vad import voiced_frames

    n = 60
    drive = SegmentDrive(
        np.arange(n), np.zeros((n, 80, 16), np.float32), voiced_frames(speech, FPS, n), FPS,
        speech,
    )  # fmt: skip
    engine = OneShotEngine()
    drain(engine.prepare(repeating_footage), show=False)
    engine.begin_segment(drive)
    disp = engine.plan.displacement
    step = np.abs(np.diff(disp, axis=0)).max(axis=(1, 2))  # step[k]: row k -> row k + 1
    repeated = np.zeros(n, bool)
    repeated[4::5] = True
    # No step onto a repeated picture; the mouth moves on the other pictures of the speech
    assert np.all(step[repeated[1:]] == 0.0)
    moving = step[~repeated[1:] & drive.voiced[1:]]
    assert np.mean(moving > 1e-4) > 0.8
    # The step after a repeat is not twice a usual one: planned per picture, smoothed over them
    after = step[np.nonzero(repeated)[0][:-1]]
    usual = step[~repeated[1:] & ~repeated[:-1] & drive.voiced[1:]]
    assert np.median(after) < 1.6 * np.median(usual)
    # The same footage without repeats: every row has a shape of its own
    plain = OneShotEngine()
    drain(plain.prepare(dataclasses.replace(repeating_footage, repeats=None)), show=False)
    plain.begin_segment(drive)
    plain_step = np.abs(np.diff(plain.plan.displacement, axis=0)).max(axis=(1, 2))
    assert np.mean(plain_step[drive.voiced[1:]] > 1e-4) > 0.9


def test_cue_driven_mouth_steps_on_the_picture_clock_too(repeating_footage):
    n = 30
    cues = np.array(list("XBBCCDDEEFFAAGGHHXXBBCCDDEEFFX"))
    drive = SegmentDrive(
        np.arange(n), np.zeros((n, 80, 16), np.float32), np.ones(n, bool), FPS,
        np.zeros(16000, np.float32), cue_shapes=cues,
    )  # fmt: skip
    engine = OneShotEngine(use_phones=False)
    drain(engine.prepare(repeating_footage), show=False)
    engine.begin_segment(drive)
    disp = engine.plan.displacement
    for k in range(4, n, 5):
        assert np.array_equal(disp[k], disp[k - 1])
