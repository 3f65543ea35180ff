"""SyncNet expert scoring: joonson's LSE procedure, the MFCC front-end, both checkpoint formats."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.errors import LipsyncError
from lipcore.models.checkpoints import save_public_checkpoint
from lipcore.sync.expert import (
    crop_v2_face,
    crop_wav2lip_face,
    pairwise_shift_distances,
    psf_mfcc,
    score_crops,
    shift_stats,
    smooth_boxes,
)

CLIP = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"


def test_psf_mfcc_matches_python_speech_features():
    # Reference values from python_speech_features 0.6 ``mfcc(x, 16000)`` on this exact signal.
    t = np.arange(1600) / 16000.0
    x = (8000 * np.sin(2 * np.pi * 440 * t) + 3000 * np.sin(2 * np.pi * 1300 * t)).astype(np.int16)
    m = psf_mfcc(x.astype(np.float64), 16000)
    assert m.shape == (9, 13)
    np.testing.assert_allclose(
        m[3, :5], [19.8536574847, 22.1267449124, -12.5283308552, -20.1386547667, -2.0318865173],
        rtol=0, atol=1e-8,
    )  # fmt: skip
    np.testing.assert_allclose(m[-1, [0, 12]], [19.6137345788, -10.5790589925], atol=1e-8)


@pytest.mark.parametrize("shift", [-3, 0, 4])
def test_shift_search_finds_a_known_audio_delay(shift):
    rng = np.random.default_rng(0)
    n, k = 60, 15
    content = rng.normal(size=(n + 2 * k, 32))
    video = content[k : k + n]
    # Audio late by `shift` windows: the sound of video window i sits at audio window i + shift.
    audio = content[k - shift : k - shift + n] + 0.05 * rng.normal(size=(n, 32))
    stats = shift_stats(pairwise_shift_distances(video, audio, k))
    assert stats.best_lag == shift
    assert stats.lse_c > 1.0 and stats.lse_d < 1.0
    assert stats.window_conf.shape == (n,)
    assert len(stats.mean_dist) == 2 * k + 1


def test_smooth_boxes_keeps_length_and_averages():
    boxes = np.array([[0, 0, 10, 10]] * 4 + [[5, 5, 15, 15]] * 4, np.float64)
    out = smooth_boxes(boxes, window=4)
    assert out.shape == boxes.shape
    np.testing.assert_allclose(out[0], [0, 0, 10, 10])
    np.testing.assert_allclose(out[2], [2.5, 2.5, 12.5, 12.5])
    np.testing.assert_allclose(out[-1], [5, 5, 15, 15])


@pytest.fixture(scope="module")
def clip_frames(shared_media):
    from lipcore.face.detect import MediaPipeDetector
    from lipcore.media.audio import clip_audio
    from lipcore.media.decode import VideoReader

    path = shared_media / CLIP
    with VideoReader(path) as reader, MediaPipeDetector() as det:
        fps = reader.fps
        frames = [f for _i, f in reader.iter_frames(0, 10)]
        box = det.detect(frames[0])[0].box
    return frames, box, fps, clip_audio(path, 16000)


def test_crops_have_expert_sizes(clip_frames):
    frames, box, _fps, _audio = clip_frames
    w2l = crop_wav2lip_face(frames[0], box)
    v2 = crop_v2_face(frames[0], box)
    assert w2l.shape == (96, 96, 3) and v2.shape == (224, 224, 3)
    # A box past the picture edge is padded with joonson's grey.
    v2_edge = crop_v2_face(frames[0], np.array([-200, -200, -40, -40], np.float32))
    assert (v2_edge[0, 0] == 110).all()


def test_score_crops_wav2lip_expert(tmp_path, clip_frames, tiny_syncnet):
    frames, box, fps, audio = clip_frames
    path = save_public_checkpoint(tiny_syncnet, tmp_path / "lipsync_expert.pth")
    crops = np.stack([crop_wav2lip_face(f, box) for f in frames])
    score = score_crops(crops, audio, fps, path, device="cpu", max_offset=3)
    assert score.method == "syncnet-wav2lip"
    assert -3 <= score.offset_frames <= 3
    assert score.lse_c == pytest.approx(score.confidence) and score.lse_c >= 0
    assert 0 <= score.lse_d <= 2.0 + 1e-5  # unit embeddings
    assert score.per_frame.shape == (10,) and np.isnan(score.per_frame[[0, 1, -1, -2]]).all()
    assert np.isfinite(score.per_frame[2:-2]).all()
    assert score.lag_curve.shape == (7,)
    assert score.to_dict()["method"] == "syncnet-wav2lip"


def test_score_crops_syncnet_v2(tmp_path, clip_frames, tiny_syncnet_v2):
    import torch

    frames, box, fps, audio = clip_frames
    path = tmp_path / "syncnet_v2.model"
    torch.save(tiny_syncnet_v2.state_dict(), path)
    crops = np.stack([crop_v2_face(f, box) for f in frames[:8]])
    score = score_crops(crops, audio, fps, path, device="cpu", max_offset=2, batch_size=4)
    assert score.method == "syncnet-v2"
    # joonson scores min(frames, audio frames) - 5 windows: 3 here.
    assert np.isfinite(score.per_frame).sum() == 3
    assert score.lse_d > 0 and score.lse_c >= 0


def test_score_crops_refuses_a_generator(tmp_path, clip_frames, tiny_wav2lip):
    frames, box, fps, audio = clip_frames
    path = save_public_checkpoint(tiny_wav2lip, tmp_path / "wav2lip.pth")
    crops = np.stack([crop_wav2lip_face(f, box) for f in frames])
    with pytest.raises(LipsyncError, match="not a sync expert"):
        score_crops(crops, audio, fps, path)
    with pytest.raises(LipsyncError, match="at least 6 frames"):
        score_crops(crops[:4], audio, fps, path)


@pytest.mark.slow
def test_score_with_expert_on_a_video_file(shared_media, tmp_path, tiny_syncnet, tiny_syncnet_v2):
    """The file-level entry point: tracks the face, cuts crops, scores both expert formats."""
    import subprocess

    import torch

    from lipcore.face.select import choose_track
    from lipcore.face.track import track_faces
    from lipcore.progress import Job
    from lipcore.sync.expert import iter_score_with_expert, score_with_expert

    clip = tmp_path / "a01_1s.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(shared_media / CLIP), "-t", "1",
         "-c:v", "libx264", "-crf", "10", "-c:a", "aac", str(clip)],
        check=True,
    )  # fmt: skip
    expert = save_public_checkpoint(tiny_syncnet, tmp_path / "lipsync_expert.pth")
    score = score_with_expert(clip, checkpoint=expert, max_offset=4, device="cpu")
    assert score.method == "syncnet-wav2lip"
    assert len(score.frames) == 25 and score.frames[0] == 0
    assert np.isfinite(score.per_frame[2:-2]).all() and abs(score.offset_frames) <= 4
    # A separate (foreign) audio file and an explicit track and frame range.
    track = choose_track(track_faces(clip))
    v2 = tmp_path / "syncnet_v2.model"
    torch.save(tiny_syncnet_v2.state_dict(), v2)
    foreign = shared_media / "audio/B01_en_hdtf_RD_Radio31_16k.wav"
    job = Job(iter_score_with_expert(clip, foreign, v2, track, (5, 17), "cpu", max_offset=2))
    stages = [p.stage for p in job]
    assert stages[-1] == "scoring with the expert"
    score2 = job.result
    assert score2.method == "syncnet-v2"
    np.testing.assert_array_equal(score2.frames, np.arange(5, 17))
    assert score2.lse_d is not None and score2.lse_c is not None
