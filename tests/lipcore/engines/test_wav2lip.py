"""The Wav2Lip engine on real face crops of a shared clip, with a tiny seeded generator on CPU."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from lipcore.engines.base import CropBatch, EngineOptions, SegmentDrive, SourceFootage
from lipcore.engines.registry import create_engine
from lipcore.engines.wav2lip import Wav2LipEngine, choose_neutral_row
from lipcore.errors import CheckpointError, FootageError, LipsyncError
from lipcore.models.checkpoints import save_public_checkpoint
from lipcore.models.wav2lip import Wav2Lip, Wav2LipConfig

CLIP = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"
N_FRAMES = 12


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: on a shared, oversubscribed CPU, 2 OpenMP threads run tiny nets
    several times slower than 1."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def clip_crops(shared_media):
    """96x96 face crops, crop-space FaceMesh points, frames, fps and audio of A01's start."""
    from lipcore.face.detect import MediaPipeDetector
    from lipcore.face.landmarks import landmarks_box
    from lipcore.face.mesh import MeshLandmarker, crop_square
    from lipcore.media.audio import clip_audio
    from lipcore.media.decode import VideoReader

    path = shared_media / CLIP
    crops, lms = [], []
    with VideoReader(path) as reader, MeshLandmarker() as mesh, MediaPipeDetector() as det:
        fps = reader.fps
        box = None
        for _i, frame in reader.iter_frames(0, N_FRAMES):
            if box is None:
                box = det.detect(frame)[0].box
            pts = mesh.landmarks(frame, box)
            assert pts is not None
            box = landmarks_box(pts)
            crop, x0, y0, scale = crop_square(frame, box, 1.25, 96)
            crops.append(crop)
            lms.append((pts - np.array([x0, y0], np.float32)) * scale)
    audio = clip_audio(path, 16000)
    return np.stack(crops), np.stack(lms).astype(np.float32), np.arange(N_FRAMES), fps, audio


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory):
    torch.manual_seed(3)
    model = Wav2Lip(Wav2LipConfig(base_channels=4)).eval()
    path = tmp_path_factory.mktemp("w2l") / "wav2lip_gan.pth"
    save_public_checkpoint(model, path)
    return path, model


def _drive(clip_crops, voiced):
    from lipcore.audio.mel import mel_windows, wav2lip_mel

    _crops, _lms, frames, fps, audio = clip_crops
    return SegmentDrive(
        frames=frames,
        mel_windows=mel_windows(wav2lip_mel(audio), frames, fps),
        voiced=np.asarray(voiced, bool),
        fps=fps,
        audio_16k=audio,
    )


def _source(clip_crops):
    crops, lms, frames, fps, audio = clip_crops
    from lipcore.audio.mel import wav2lip_mel

    return SourceFootage(crops, lms, frames, fps, audio, wav2lip_mel(audio))


def _expected(model, crop, ref, mel):
    masked = crop.copy()
    masked[48:] = 0
    x = torch.from_numpy(np.concatenate([masked, ref], axis=2)).permute(2, 0, 1)[None] / 255.0
    with torch.no_grad():
        y = model(torch.from_numpy(mel)[None, None], x.float())[0]
    return (y.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def test_engine_generates_like_the_paper(clip_crops, generator_file):
    path, model = generator_file
    engine = create_engine(
        "wav2lip", EngineOptions(reference="self"), checkpoint=path, device="cpu"
    )
    assert isinstance(engine, Wav2LipEngine) and engine.crop_size == 96
    assert engine.device.type == "cpu" and engine.fp16 is False
    list(engine.prepare(_source(clip_crops)))
    voiced = np.ones(N_FRAMES, bool)
    voiced[-3:] = False
    drive = _drive(clip_crops, voiced)
    engine.begin_segment(drive)
    crops, lms = clip_crops[0], clip_crops[1]
    rows = np.arange(N_FRAMES)
    out = engine.generate(CropBatch(rows, crops, lms))
    assert out.shape == (N_FRAMES, 96, 96, 3) and out.dtype == np.uint8
    # Voiced frames: the target itself is the reference (the paper's inference).
    np.testing.assert_array_equal(
        out[0], _expected(model, crops[0], crops[0], drive.mel_windows[0])
    )
    # Silent frames: the neutral (resting) frame is the reference instead.
    neutral = engine.neutral_crop
    np.testing.assert_array_equal(
        out[-1], _expected(model, crops[-1], neutral, drive.mel_windows[-1])
    )
    # Batching does not change results.
    engine.batch_frames = 5
    np.testing.assert_array_equal(engine.generate(CropBatch(rows, crops, lms)), out)


def test_neutral_reference_is_a_closed_mouth_in_silence(clip_crops, generator_file):
    from lipcore.face.landmarks import lip_gap

    path, _model = generator_file
    engine = Wav2LipEngine(EngineOptions(reference="neutral"), checkpoint=path, device="cpu")
    source = _source(clip_crops)
    list(engine.prepare(source))
    gaps = lip_gap(source.landmarks)
    assert engine.neutral_frame is not None
    assert gaps[engine.neutral_frame] <= np.median(gaps)
    # Explicit neutral frame.
    engine2 = Wav2LipEngine(EngineOptions(neutral_frame=4), checkpoint=path, device="cpu")
    list(engine2.prepare(source))
    np.testing.assert_array_equal(engine2.neutral_crop, source.crops[4])
    with pytest.raises(FootageError, match="neutral frame 999"):
        list(Wav2LipEngine(EngineOptions(neutral_frame=999), path, "cpu").prepare(source))


def test_choose_neutral_row_prefers_silence():
    lms = np.zeros((4, 478, 2), np.float32)
    lms[:, 263, 0] = 100.0  # eye corners 100 px apart
    lms[:, 14, 1] = [1.0, 2.0, 30.0, 5.0]  # lip gaps
    rms = np.array([0.5, 0.0, 0.0, 0.0], np.float32)  # frame 0 is loud
    assert choose_neutral_row(lms, rms) == 1


def test_mouth_strength_zero_and_silence_without_footage(clip_crops, generator_file):
    path, _model = generator_file
    crops, lms = clip_crops[0], clip_crops[1]
    rows = np.arange(N_FRAMES)
    engine = Wav2LipEngine(EngineOptions(mouth_strength=0.0), checkpoint=path, device="cpu")
    list(engine.prepare(_source(clip_crops)))
    engine.begin_segment(_drive(clip_crops, np.ones(N_FRAMES, bool)))
    np.testing.assert_array_equal(engine.generate(CropBatch(rows, crops, lms)), crops)
    # No footage to pick a resting frame from: silent frames come back untouched.
    bare = Wav2LipEngine(EngineOptions(), checkpoint=path, device="cpu")
    empty = SourceFootage(
        crops[:0], lms[:0], rows[:0], Fraction(25), np.zeros(0), np.zeros((80, 1))
    )
    list(bare.prepare(empty))
    bare.begin_segment(_drive(clip_crops, np.zeros(N_FRAMES, bool)))
    np.testing.assert_array_equal(bare.generate(CropBatch(rows, crops, lms)), crops)


def test_registry_errors(tmp_path):
    with pytest.raises(CheckpointError, match="needs generator weights"):
        create_engine("wav2lip", EngineOptions())
    with pytest.raises(CheckpointError, match="missing.pth"):
        create_engine("wav2lip", EngineOptions(), checkpoint=tmp_path / "missing.pth")
    with pytest.raises(LipsyncError, match="unknown engine"):
        create_engine("nope", EngineOptions())


@pytest.mark.slow
def test_render_shared_clip_end_to_end_on_cpu(shared_media, generator_file, tmp_path):
    """The pipeline builds the engine from the registry and writes a re-mouthed clip."""
    import subprocess

    from lipcore.engines.base import EngineOptions
    from lipcore.media.decode import VideoReader
    from lipcore.media.probe import probe
    from lipcore.render.pipeline import render
    from lipcore.render.request import RenderRequest, SegmentSpec

    path, _model = generator_file
    clip = tmp_path / "a01_1s.mp4"
    speech = tmp_path / "b01_1s.wav"
    ffmpeg = ["ffmpeg", "-v", "error", "-y"]
    # A 1 s excerpt keeps face tracking and encoding fast; lossless-ish so pixels compare.
    subprocess.run(
        [*ffmpeg, "-i", str(shared_media / CLIP), "-t", "1", "-c:v", "libx264", "-crf", "0",
         "-c:a", "aac", str(clip)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [*ffmpeg, "-i", str(shared_media / "audio/B01_en_hdtf_RD_Radio31_16k.wav"), "-t", "1",
         str(speech)],
        check=True,
    )  # fmt: skip
    out = tmp_path / "out.mp4"
    options = EngineOptions(reference="neutral")
    request = RenderRequest(
        video=clip,
        audio=speech,
        output=out,
        segments=(SegmentSpec(0, 25, engine="wav2lip", options=options),),
        checkpoint=path,
    )
    result = render(request, show_progress=False)
    assert out.exists() and result.frame_count == 25 and result.frames_changed >= 20
    info = probe(out)
    assert info.video.frame_count == 25 and info.audio is not None
    with VideoReader(clip) as a, VideoReader(out) as b:
        src, dst = a.read(12), b.read(12)
    diff = np.abs(src.astype(np.int16) - dst.astype(np.int16)).max(axis=2)
    h, w = diff.shape
    # The top of the picture is untouched; the lower face changed (a random tiny generator).
    assert np.percentile(diff[: h // 8], 99) <= 8
    assert (diff > 40).sum() > 200


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fp16_matches_cpu_and_reports_fps(clip_crops, generator_file):
    import time

    path, _model = generator_file
    crops, lms = clip_crops[0], clip_crops[1]
    rows = np.arange(N_FRAMES)
    drive = _drive(clip_crops, np.ones(N_FRAMES, bool))
    outs = {}
    for device in ("cpu", "cuda"):
        engine = Wav2LipEngine(EngineOptions(reference="self"), path, device=device)
        assert engine.fp16 is (device == "cuda")
        engine.begin_segment(drive)
        start = time.perf_counter()
        outs[device] = engine.generate(CropBatch(rows, crops, lms))
        print(f"{device}: {N_FRAMES / (time.perf_counter() - start):.1f} frames/s")
    diff = np.abs(outs["cpu"].astype(np.int16) - outs["cuda"].astype(np.int16))
    assert diff.mean() < 2.0  # fp16 rounding only
