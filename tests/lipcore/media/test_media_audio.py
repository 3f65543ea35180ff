"""load_audio / clip_audio: any format, rate and layout; audio placed on the video clock."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.errors import MediaError
from lipcore.media import clip_audio, load_audio, probe


def _peak_hz(samples: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * sample_rate / samples.size)


def test_wav_48k_stereo_resampled_to_16k_mono(clips):
    samples = load_audio(clips["wav48k"])
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - 1.5 * 16000) <= 2
    assert abs(_peak_hz(samples, 16000) - 300) < 2
    stereo = load_audio(clips["wav48k"], sample_rate=48000, mono=False)
    assert stereo.shape == (72000, 2)
    # Averaging two equal channels must not change the level (ffmpeg's -ac 1 would).
    channel_peak = np.abs(stereo[:, 0]).max()
    assert channel_peak > 0.05
    assert abs(np.abs(samples).max() - channel_peak) < 0.01 * channel_peak


@pytest.mark.parametrize("key", ["B01", "B24", "B09"])
def test_real_audio_files(shared_clip, key):
    path = shared_clip(key)
    info = probe(path)
    samples = load_audio(path, sample_rate=16000)
    assert samples.dtype == np.float32
    assert abs(samples.size / 16000 - info.audio.duration_sec) < 0.06
    assert 0.05 < np.abs(samples).max() <= 1.0
    assert np.sqrt(np.mean(samples**2)) > 0.005  # speech, not silence


def test_audio_track_of_video_and_m4a(clips):
    from_video = load_audio(clips["cfr25"], sample_rate=22050)
    from_m4a = load_audio(clips["audio_only"], sample_rate=22050)
    assert abs(_peak_hz(from_video, 22050) - 440) < 3
    assert np.allclose(from_video, from_m4a, atol=1e-6)


def test_clip_audio_matches_video_duration(clips):
    samples = clip_audio(clips["cfr25"])
    # 100 frames at 25 fps = 4 s exactly.
    assert samples.shape == (64000,)


def test_clip_audio_h01_uses_stream_start_times(shared_clip):
    path = shared_clip("H01")
    info = probe(path)
    assert abs(info.video.start_sec - 0.852) < 1e-3 and abs(info.audio.start_sec - 0.008) < 1e-3
    raw = load_audio(path)
    placed = clip_audio(path)
    assert placed.size == round(275 * 16000 / (2997 / 100))
    shift = round((0.852019 - 0.008005) * 16000)
    overlap = raw[shift : shift + placed.size]
    assert np.array_equal(placed[: overlap.size], overlap)
    # H01's audio ends ~12 ms before its last frame: the rest is silence, not stretched sound.
    assert 0 < placed.size - overlap.size < 0.02 * 16000
    assert not placed[overlap.size :].any()


def test_no_audio_stream_is_a_clear_error(shared_clip, clips):
    with pytest.raises(MediaError, match="no audio stream") as err:
        clip_audio(shared_clip("A11"))
    assert "A11" in str(err.value)
    with pytest.raises(MediaError, match="no audio stream"):
        load_audio(clips["video_only"])
