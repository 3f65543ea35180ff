"""VideoReader: frame accuracy after seeks, rational and variable rates, rotation, bit depth."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest
from media_clips import read_code

from lipcore.errors import MediaError
from lipcore.media import VideoReader, probe


def test_sequential_frames_are_in_order(clips):
    with VideoReader(clips["cfr25"]) as reader:
        assert reader.frame_count == 100
        assert reader.fps == 25
        codes = [read_code(frame) for _, frame in reader.iter_frames()]
        indices = [i for i, _ in reader.iter_frames(0, 5)]
    assert codes == list(range(100))
    assert indices == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("start", [1, 11, 12, 13, 37, 50, 95, 99])
def test_seek_returns_exactly_frame_n(clips, start):
    # GOP of 12 with B-frames: starts on, just before and just after keyframes.
    with VideoReader(clips["cfr25"]) as reader:
        got = [(i, read_code(f)) for i, f in reader.iter_frames(start, start + 3)]
    expected = [(i, i) for i in range(start, min(start + 3, 100))]
    assert got == expected


def test_long_gop_seek_skips_work_but_not_frames(clips):
    with VideoReader(clips["longgop"]) as reader:
        for target in (149, 120, 100, 26, 24):
            before = reader.decoded_pictures
            got = [read_code(f) for _, f in reader.iter_frames(target, target + 2)]
            assert got == [target, target + 1][: 150 - target]
            if target >= 100:
                # Unreferenced B-pictures before the last second were never decoded.
                assert reader.decoded_pictures - before < target


def test_random_access_read(clips):
    with VideoReader(clips["ntsc"]) as reader:
        for index in [80, 3, 4, 5, 45, 44, 89, 0, 60]:
            assert read_code(reader.read(index)) == index
        with pytest.raises(IndexError):
            reader.read(90)


def test_seek_does_not_decode_from_start(clips):
    """A seek to frame 80 of a 30-frame-GOP clip decodes at most one GOP, not 80 frames."""
    with VideoReader(clips["ntsc"]) as reader:
        assert read_code(reader.read(80)) == 80
        assert reader.decoded_pictures <= 30 + 4
        # Reading on from there decodes forward without another seek.
        before = reader.decoded_pictures
        assert read_code(reader.read(83)) == 83
        assert reader.decoded_pictures - before <= 3 + 4


def test_ntsc_rate_is_exact(clips):
    info = probe(clips["ntsc"])
    assert info.video.fps == Fraction(30000, 1001)
    assert info.video.frame_count == 90
    with VideoReader(clips["ntsc"]) as reader:
        assert reader.frame_time_sec(90) == Fraction(90 * 1001, 30000)
        last = list(reader.iter_frames(85))
    assert [read_code(f) for _, f in last] == [85, 86, 87, 88, 89]


def test_vfr_is_normalised_to_grid_without_drift(clips):
    times = clips["vfr_times"]
    info = probe(clips["vfr"])
    video = info.video
    assert video.is_vfr
    # 80 pictures over ~3.3 s: the average rate is below the nominal 30.
    assert 22 < float(video.fps) < 26
    with VideoReader(clips["vfr"]) as reader:
        sources = [read_code(f) for _, f in reader.iter_frames()]
        seek_sources = [read_code(f) for _, f in reader.iter_frames(50, 55)]
    assert len(sources) == video.frame_count
    assert sources == sorted(sources), "pictures must never go backwards"
    assert sources[0] == 0 and sources[-1] == 79
    start = times[0]
    max_gap = max(b - a for a, b in zip(times, times[1:], strict=False))
    for i, src in enumerate(sources):
        grid_t = start + Fraction(i) / video.fps
        # The picture chosen is the one showing at the grid time (within half a frame either way).
        assert times[src] <= grid_t + Fraction(1, 2) / video.fps
        assert grid_t - times[src] <= max_gap, f"frame {i} shows a stale picture {src}"
    assert seek_sources == sources[50:55]


@pytest.mark.parametrize("container", ["mkv", "ts", "mov", "h264"])
def test_other_containers(clips, tmp_path, container):
    """Matroska (ms timestamps), MPEG-TS (start 1.4 s), QuickTime, raw H.264 (no index, no PTS)."""
    path = tmp_path / f"ntsc.{container}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clips["ntsc"]), "-c", "copy", str(path)],
        check=True,
    )
    info = probe(path)
    assert info.video.frame_count == 90
    assert (
        info.video.fps in (Fraction(30000, 1001), Fraction(25))[: 2 if container == "h264" else 1]
    )
    with VideoReader(path, info=info) as reader:
        assert [read_code(reader.read(i)) for i in (60, 61, 7)] == [60, 61, 7]
        assert [read_code(f) for _, f in reader.iter_frames(86)] == [86, 87, 88, 89]


@pytest.mark.parametrize("tag", [90, 180, 270])
def test_rotation_matches_ffmpeg_autorotate(clips, tmp_path, tag):
    path = tmp_path / f"rot{tag}.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clips["cfr25"]), "-map", "0:v", "-c", "copy",
         "-metadata:s:v:0", f"rotate={tag}", str(path)],
        check=True,
    )  # fmt: skip
    info = probe(path)
    # ffmpeg 5.1 stores the legacy ``rotate`` tag as a display matrix whose sign convention has
    # changed across versions; whichever it is, ffmpeg's own autorotation is the reference.
    assert info.video.rotation in (90, 180, 270)
    portrait = info.video.rotation in (90, 270)
    assert (info.video.width, info.video.height) == ((240, 320) if portrait else (320, 240))
    with VideoReader(path) as reader:
        frame = reader.read(7)
    assert frame.shape == (info.video.height, info.video.width, 3)
    png = tmp_path / "ref.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(path), "-vf", "select=eq(n\\,7)",
         "-frames:v", "1", str(png)],
        check=True,
    )  # fmt: skip
    import cv2

    ref = cv2.imread(str(png))
    assert ref.shape == frame.shape
    assert np.abs(ref.astype(int) - frame.astype(int)).mean() < 3
    # Turning back by the reported clockwise angle restores the coded frame and its barcode.
    assert read_code(np.rot90(frame, k=info.video.rotation // 90)) == 7


def test_ten_bit_and_odd_size(clips):
    info = probe(clips["tenbit"])
    assert info.video.bit_depth == 10 and info.video.pix_fmt.startswith("yuv420p10")
    with VideoReader(clips["tenbit"]) as reader:
        frame = reader.read(17)
    assert frame.dtype == np.uint8 and frame.shape == (240, 320, 3)
    assert read_code(frame) == 17

    with VideoReader(clips["odd"]) as reader:
        assert (reader.width, reader.height) == (321, 241)
        frames = list(reader.iter_frames(20, 23))
    assert [f.shape for _, f in frames] == [(241, 321, 3)] * 3
    assert [read_code(f) for _, f in frames] == [20, 21, 22]


def test_real_clip_h01_start_offset(shared_clip):
    """H01's first frame is at 0.852 s; frame 0 is that frame, and seeking agrees with decoding."""
    with VideoReader(shared_clip("H01")) as reader:
        assert reader.frame_count == 275 and reader.fps == Fraction(2997, 100)
        assert abs(float(reader.frame_time_sec(0)) - 0.852) < 1e-3
        seq = {i: f.copy() for i, f in reader.iter_frames(0, 140) if i >= 136}
        for i in range(136, 140):
            assert np.array_equal(reader.read(i), seq[i]), f"seek to {i} differs"


def test_real_clip_a10_hevc_vertical(shared_clip):
    with VideoReader(shared_clip("A10")) as reader:
        assert (reader.width, reader.height, reader.fps) == (1080, 1920, 30)
        assert reader.frame_count == 600
        seq = [f.copy() for _, f in reader.iter_frames(298, 301)]
        seeked = reader.read(300)
    assert seq[0].shape == (1920, 1080, 3)
    assert np.array_equal(seeked, seq[2])
    assert not np.array_equal(seq[1], seq[2])


def test_reader_errors(clips):
    with pytest.raises(MediaError, match="no video stream"):
        VideoReader(clips["audio_only"])
    with VideoReader(clips["cfr25"]) as reader:
        pass
    with pytest.raises(ValueError, match="closed"):
        reader.read(0)


def test_interleaved_iteration_and_random_reads(clips):
    """A thumbnail read() in the middle of a playback loop must not derail the loop."""
    with VideoReader(clips["cfr25"]) as reader:
        seen = []
        other = reader.iter_frames(70, 75)
        for index, frame in reader.iter_frames(10, 20):
            seen.append((index, read_code(frame)))
            if index == 12:
                assert read_code(reader.read(90)) == 90
            if index == 15:
                assert [read_code(f) for _, f in other] == [70, 71, 72, 73, 74]
        assert seen == [(i, i) for i in range(10, 20)]
        first = reader.read(40)
        first[:] = 0  # callers may draw on frames
        assert read_code(reader.read(40)) == 40


def test_truncated_files(clips, tmp_path):
    # Index at the end (no faststart), file cut in half: unreadable, with a precise reason.
    cut = tmp_path / "cut.mp4"
    data = clips["cfr25"].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="moov atom"):
        probe(cut)
    # Index first, pictures cut off: the index lists every frame, but probing says the file is
    # cut short (before any work) instead of the decoder failing half-way through.
    fast = tmp_path / "fast.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clips["cfr25"]), "-map", "0:v", "-c", "copy",
         "-movflags", "+faststart", str(fast)],
        check=True,
    )  # fmt: skip
    data = fast.read_bytes()
    fast.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(MediaError, match="truncated: its index lists 100 frames"):
        VideoReader(fast)
