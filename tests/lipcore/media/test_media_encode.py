"""VideoWriter: exact size/fps/frame count, audio muxed on the video clock, atomic and safe."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from media_clips import coded_frame, read_code

from lipcore.errors import MediaError
from lipcore.media import VideoReader, VideoWriter, clip_audio, load_audio, probe


def _write_coded(path, n, size=(320, 240), fps=Fraction(30000, 1001), **kwargs):
    width, height = size
    with VideoWriter(path, width, height, fps, preset="ultrafast", **kwargs) as writer:
        for i in range(n):
            writer.write(coded_frame(i, width, height))
    return path


def test_h264_keeps_size_fps_frames_and_muxes_audio(clips, tmp_path):
    out = _write_coded(tmp_path / "out.mp4", 45, audio=clips["wav48k"])
    info = probe(out)
    assert (info.video.width, info.video.height) == (320, 240)
    assert info.video.fps == Fraction(30000, 1001) and info.video.frame_count == 45
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert info.audio is not None and info.audio.codec == "aac"
    # Audio cut to the video's duration (the 1.5 s tone is longer than 45 frames = 1.5015 s? no:
    # 45 * 1001 / 30000 = 1.5015 s, so it is padded by 1.5 ms).
    assert abs(info.audio.duration_sec - 45 * 1001 / 30000) < 0.03
    with VideoReader(out) as reader:
        assert [read_code(f) for _, f in reader.iter_frames()] == list(range(45))


def test_matroska_with_audio_keeps_the_frame_count(tmp_path):
    # Matroska has no frame count and stretches its duration tag to the muxed audio.
    tone = np.zeros(48000 * 3, np.float32)
    out = _write_coded(tmp_path / "out.mkv", 75, fps=25, audio=(tone, 48000))
    assert probe(out).video.frame_count == 75
    with VideoReader(out) as reader:
        assert [read_code(f) for _, f in reader.iter_frames()] == list(range(75))


def test_odd_size_and_array_audio(tmp_path):
    tone = (0.3 * np.sin(2 * np.pi * 500 * np.arange(8000) / 16000)).astype(np.float32)
    out = _write_coded(tmp_path / "odd.mp4", 12, size=(321, 241), fps=25, audio=(tone, 16000))
    info = probe(out)
    assert (info.video.width, info.video.height, info.video.frame_count) == (321, 241, 12)
    audio = load_audio(out, 16000)
    # 12 frames = 0.48 s: the 0.5 s tone is cut to the picture.
    assert abs(audio.size - 7680) < 40
    with VideoReader(out) as reader:
        assert read_code(reader.read(11)) == 11


def test_prores_mov(tmp_path):
    out = _write_coded(tmp_path / "master.mov", 6, fps=24, codec="prores", audio=None)
    info = probe(out)
    assert info.video.codec == "prores" and info.video.bit_depth == 10
    assert info.video.frame_count == 6 and info.video.fps == 24
    with pytest.raises(MediaError, match=".mov"):
        VideoWriter(tmp_path / "master.mp4", 64, 64, 24, codec="prores")


def test_reencode_of_real_clip_h01_keeps_pixels_and_av_sync(shared_clip, tmp_path):
    """Decode 40 frames of H01 and write them back with H01's audio: pixels and clocks hold."""
    src = shared_clip("H01")
    out = tmp_path / "h01_copy.mp4"
    with VideoReader(src) as reader:
        with VideoWriter(
            out, reader.width, reader.height, reader.fps, audio=src, sources=[src],
            preset="ultrafast",
        ) as writer:  # fmt: skip
            originals = {}
            for i, frame in reader.iter_frames(0, 40):
                writer.write(frame)
                if i in (0, 20, 39):
                    originals[i] = frame.copy()
    info = probe(out)
    assert info.video.fps == Fraction(2997, 100) and info.video.frame_count == 40
    with VideoReader(out) as reader:
        for i, ref in originals.items():
            mse = np.mean((reader.read(i).astype(float) - ref.astype(float)) ** 2)
            assert 10 * np.log10(255**2 / mse) > 38, f"frame {i} lost quality"
    # The muxed audio is the source's audio on the source's video clock (lag 0 +- 1 ms).
    ours = clip_audio(out)
    theirs = clip_audio(src)[: ours.size]
    window = slice(4000, ours.size - 4000)
    lags = range(-32, 33)
    scores = [float(np.dot(ours[window], np.roll(theirs, lag)[window])) for lag in lags]
    assert abs(lags[int(np.argmax(scores))]) <= 16


def test_source_is_never_overwritten(clips, tmp_path):
    src = clips["cfr25"]
    before = src.read_bytes()
    with pytest.raises(MediaError, match="source"):
        VideoWriter(src, 320, 240, 25, sources=[None, src])
    with pytest.raises(MediaError, match="source"):
        VideoWriter(clips["wav48k"].with_name("tone48k.wav"), 320, 240, 25, audio=clips["wav48k"])
    # Another spelling of the same path is caught too.
    alias = src.parent / ".." / src.parent.name / src.name
    with pytest.raises(MediaError, match="source"):
        VideoWriter(alias, 320, 240, 25, sources=[src])
    assert src.read_bytes() == before


def test_exception_leaves_nothing_and_keeps_old_output(tmp_path):
    out = tmp_path / "render.mp4"
    out.write_bytes(b"previous render")
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(out, 64, 48, 25, preset="ultrafast") as writer:
            for i in range(5):
                writer.write(coded_frame(i, 64, 48))
            raise RuntimeError("boom")
    assert out.read_bytes() == b"previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["render.mp4"]


def test_abort_and_early_exit_leave_nothing(tmp_path):
    out = tmp_path / "render.mp4"
    writer = VideoWriter(out, 64, 48, 25, preset="ultrafast")
    writer.open()
    writer.write(coded_frame(0, 64, 48))
    writer.abort()
    assert list(tmp_path.iterdir()) == []

    # A loop that stops early (cancelled generator) with expected_frames set: nothing is kept.
    with pytest.raises(MediaError, match="2 of 10 frames"):
        with VideoWriter(out, 64, 48, 25, expected_frames=10, preset="ultrafast") as writer:
            for i in range(2):
                writer.write(coded_frame(i, 64, 48))
    assert list(tmp_path.iterdir()) == []


def test_bad_frames_and_folders(tmp_path):
    with pytest.raises(MediaError, match="folder does not exist"):
        VideoWriter(tmp_path / "missing" / "o.mp4", 64, 48, 25)
    with pytest.raises(ValueError, match=r"\(48, 64, 3\) uint8"):
        with VideoWriter(tmp_path / "o.mp4", 64, 48, 25) as writer:
            writer.write(np.zeros((48, 65, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_bad_audio_is_refused_before_rendering(clips, tmp_path):
    with pytest.raises(MediaError, match="no audio stream"):
        VideoWriter(tmp_path / "o.mp4", 64, 48, 25, audio=clips["video_only"])
    with pytest.raises(MediaError, match="not found"):
        VideoWriter(tmp_path / "o.mp4", 64, 48, 25, audio=tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="audio must be"):
        VideoWriter(tmp_path / "o.mp4", 64, 48, 25, audio=(np.zeros((0,), np.float32), 16000))
    assert list(tmp_path.iterdir()) == []


def test_forgotten_writer_cleans_up(tmp_path):
    import gc

    writer = VideoWriter(tmp_path / "o.mp4", 64, 48, 25, preset="ultrafast")
    writer.open()
    writer.write(coded_frame(0, 64, 48))
    proc = writer._proc
    del writer
    gc.collect()
    assert proc.poll() is not None, "ffmpeg must not outlive a dropped writer"
    assert list(tmp_path.iterdir()) == []
