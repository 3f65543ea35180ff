"""The one-shot engine and the "auto" choice, on a real face from a shared clip and real speech.

The face is one frame of A04 (a still, as a user would give a portrait); the speech is English
(B01). What a user would check: the mouth moves with the speech, rests in silence, the lips shut
on the /p b m/ the phone recogniser hears, and "auto" names the engine it picks and why.
"""

from __future__ import annotations

import dataclasses
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lipcore.audio.phones import Phone
from lipcore.engines.base import CropBatch, EngineOptions, SegmentDrive, SourceFootage
from lipcore.engines.oneshot import OneShotEngine, phone_tracks
from lipcore.engines.registry import AutoEngine, choose_engine, create_engine, engine_choice
from lipcore.media.audio import load_audio
from lipcore.progress import drain

FPS = Fraction(25)


@pytest.fixture(scope="module")
def still_png(shared_media, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("oneshot") / "a04.png"
    clip = next((shared_media / "video").glob("A04_*.mp4"))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "2.2", "-i", str(clip), "-frames:v", "1", str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def still_footage(still_png) -> SourceFootage:
    from lipcore.face.track import iter_track_faces
    from lipcore.render.footage import align_track, iter_source_footage

    tracks = drain(iter_track_faces(still_png), show=False)
    assert tracks.tracks, "FaceMesh found no face on the A04 frame"
    alignment = align_track(tracks.tracks[0], size=256)
    return drain(iter_source_footage(still_png, alignment, None), show=False)


@pytest.fixture(scope="module")
def speech(shared_media) -> np.ndarray:
    path = next((shared_media / "audio").glob("B01_*.wav"))
    return load_audio(path, 16000)[: 16000 * 6]


def _drive(audio: np.ndarray, voiced: np.ndarray | None = None) -> SegmentDrive:
    from lipcore.audio.vad import voiced_frames

    n = int(len(audio) / 16000 * 25)
    v = voiced_frames(audio, FPS, n) if voiced is None else voiced
    return SegmentDrive(np.arange(n), np.zeros((n, 80, 16), np.float32), v, FPS, audio)


def test_phone_tracks_put_closures_on_the_bilabial_frames():
    phones = [Phone("M", 3200, 4800), Phone("UW", 4800, 8000), Phone("IY", 12000, 14400)]
    closure, rounded, spread = phone_tracks(phones, FPS, 30)
    # /m/ spans 0.2-0.3 s: frame centres 0.18 (within half a frame before), 0.22, 0.26, 0.30
    assert set(np.nonzero(closure)[0]) == {4, 5, 6, 7}
    assert rounded[10] > 0.9 and spread[20] > 0.9
    assert rounded[20] < 0.1 and spread[10] < 0.1


def test_mouth_moves_with_speech_rests_in_silence_and_closes_on_bilabials(still_footage, speech):
    engine = OneShotEngine()
    drain(engine.prepare(still_footage), show=False)
    # One second of silence in the middle: the mouth must rest there
    audio = speech.copy()
    audio[16000 * 3 : 16000 * 4] = 0.0
    engine.begin_segment(_drive(audio))
    plan = engine.plan
    assert plan.phones_used
    speaking = plan.voiced
    gap = plan.gap
    assert gap[speaking].std() > 0.03, "the predicted mouth hardly moves"
    assert np.percentile(gap[speaking], 90) > 0.08, "the mouth never opens clearly"
    rest_gap = float(np.median(gap[~speaking]))
    assert abs(rest_gap) < 0.02
    silent = slice(int(3.2 * 25), int(3.8 * 25))
    assert np.all(np.abs(gap[silent] - rest_gap) < 0.01)
    held = plan.closure > 0.99
    assert held.sum() >= 3, "the phone recogniser found no /p b m/ in English speech"
    assert np.all(gap[held] <= max(rest_gap, 0.0) + 0.01), "lips stay open on a bilabial"


def test_generated_crops_change_only_the_lower_face(still_footage, speech):
    engine = OneShotEngine(EngineOptions(reference="neutral"))
    drain(engine.prepare(still_footage), show=False)
    engine.begin_segment(_drive(speech[: 16000 * 3]))
    rows = np.array([int(np.argmax(engine.plan.gap)), int(np.argmin(engine.plan.gap))])
    crops = np.repeat(still_footage.crops[:1], 2, axis=0)
    lms = np.repeat(still_footage.landmarks[:1], 2, axis=0)
    out = engine.generate(CropBatch(rows, crops, lms))
    assert out.shape == crops.shape and out.dtype == np.uint8
    lm = still_footage.landmarks[0]
    y_mouth = int(lm[14, 1])
    x0, x1 = int(lm[61, 0]) - 5, int(lm[291, 0]) + 5
    box = (slice(y_mouth - 12, y_mouth + 18), slice(x0, x1))
    diff_mouth = np.abs(out[0][box].astype(int) - out[1][box].astype(int)).mean()
    assert diff_mouth > 8, "open and closed frames look the same"
    eyes = slice(0, int(lm[[33, 263], 1].max()) + 5)
    # The texture is the resting frame aligned onto the target: the eyes are the same pixels
    # up to resampling (the pipeline pastes only the lower face anyway)
    assert np.abs(out[0][eyes].astype(int) - out[1][eyes].astype(int)).max() == 0


def test_auto_chooses_oneshot_for_a_still_and_says_why(still_footage):
    name, reason = choose_engine(still_footage)
    assert name == "oneshot"
    assert "audio" in reason
    engine = create_engine("auto")
    assert isinstance(engine, AutoEngine)
    drain(engine.prepare(still_footage), show=False)
    assert engine_choice(engine)[0] == "oneshot"


def test_auto_gives_oneshot_the_native_crops_and_scales_footage_faithfully(still_footage):
    """The pipeline cuts auto's footage at the face's native size (auto takes any size); the
    one-shot engine takes any size too, so it works on those crops as they are (a fixed 256 px
    crop softened a 512p face's mouth). Footage scaled for a fixed-size engine keeps its
    landmarks on its pixels."""
    import cv2

    from lipcore.engines.registry import scale_footage

    big = scale_footage(still_footage, 512)
    assert big.crops.shape[1:3] == (512, 512)
    engine = create_engine("auto")
    assert engine.any_crop_size
    engine.crop_size = 512  # what the pipeline's native size would be
    drain(engine.prepare(big), show=False)
    assert engine_choice(engine)[0] == "oneshot"
    assert engine.crop_size == engine.inner.crop_size == 512
    assert engine.inner.rest_crop.shape[:2] == (512, 512)
    back = scale_footage(big, 256)
    # landmarks follow the pixels: an eye corner drawn at a landmark stays on it after scaling
    np.testing.assert_allclose(back.landmarks, still_footage.landmarks, atol=0.01)
    marked = still_footage.crops[0].copy()
    x, y = np.round(still_footage.landmarks[0, 33]).astype(int)
    marked[y - 3 : y + 4, x - 3 : x + 4] = (0, 0, 255)
    one = dataclasses.replace(
        still_footage, crops=marked[None], landmarks=still_footage.landmarks[:1]
    )
    grown = scale_footage(one, 512)
    gx, gy = np.round(grown.landmarks[0, 33]).astype(int)
    assert grown.crops[0][gy, gx, 2] > 200 and grown.crops[0][gy, gx, 0] < 60
    assert cv2.absdiff(scale_footage(grown, 256).crops[0], marked).mean() < 3


def test_auto_chooses_retime_for_speaking_footage_and_wav2lip_for_a_checkpoint(
    still_footage, speech
):
    # Six seconds of the face "speaking" (its mouth opening and closing) with real speech
    n = 150
    lm = np.repeat(still_footage.landmarks[:1], n, axis=0).copy()
    eye = float(np.linalg.norm(lm[0, 263] - lm[0, 33]))
    opening = (0.15 * eye * (np.sin(np.arange(n) / 3.0) > 0))[:, None]
    lower = [14, 87, 178, 88, 95, 317, 402, 318, 324, 17, 84, 181, 91, 146, 314, 405, 321, 375]
    lm[:, 13, 1] = lm[:, 14, 1] - 0.01 * eye
    for p in lower:
        lm[:, p, 1] += opening[:, 0]
    footage = SourceFootage(
        crops=np.repeat(still_footage.crops[:1], n, axis=0),
        landmarks=lm,
        frames=np.arange(n),
        fps=FPS,
        audio_16k=speech,
        mel=np.zeros((80, 0), np.float32),
    )
    name, reason = choose_engine(footage)
    assert name == "retime", reason
    assert "s of the face speaking" in reason
    assert choose_engine(footage, checkpoint="w.pth")[0] == "wav2lip"


def test_morphing_two_library_mouths_gives_one_mouth(still_footage):
    """Retime's cut: a closed and an open mouth warped onto their mean shape line up."""
    from lipcore.engines.mouth_shape import MOUTH_POINTS
    from lipcore.engines.oneshot_render import render_mouth, reshape_gap
    from lipcore.engines.retime_composite import morph_together

    crop = still_footage.crops[0]
    lm = still_footage.landmarks[0]
    eye = float(np.linalg.norm(lm[263] - lm[33]))
    closed_pts = reshape_gap(lm, 0.0)
    open_pts = reshape_gap(lm, 0.2 * eye)
    closed_lm, open_lm = lm.copy(), lm.copy()
    closed_lm[list(MOUTH_POINTS)] = closed_pts
    open_lm[list(MOUTH_POINTS)] = open_pts
    closed = render_mouth(crop, lm, closed_pts, eye)
    opened = render_mouth(crop, lm, open_pts, eye)
    imgs, lms = morph_together([closed, opened], [closed_lm, open_lm], [0.5, 0.5])
    assert np.allclose(lms[0][list(MOUTH_POINTS)], lms[1][list(MOUTH_POINTS)])
    y = int(lm[14, 1])
    box = (slice(y - 25, y + 25), slice(int(lm[61, 0]) - 5, int(lm[291, 0]) + 5))

    def diff(a, b):
        return np.abs(a[box].astype(int) - b[box].astype(int)).mean()

    # The lips of the two morphed frames lie on each other; blended as they were, they did not
    assert diff(imgs[0], imgs[1]) < 0.5 * diff(closed, opened)
