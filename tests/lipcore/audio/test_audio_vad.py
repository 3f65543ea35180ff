"""Voice activity on real speech with inserted silence, hiss and a short end."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.audio.vad import speech_ranges, voiced_frames
from lipcore.media.audio import load_audio

SR = 16000


@pytest.fixture(scope="module")
def speech_gap_speech(shared_media) -> tuple[np.ndarray, tuple[int, int]]:
    """3 s of real speech, 1.5 s of faint hiss (-70 dBFS), 2 s of speech."""
    speech = load_audio(shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav")
    hiss = (np.random.default_rng(0).standard_normal(int(1.5 * SR)) * 3e-4).astype(np.float32)
    a, b = speech[: 3 * SR], speech[3 * SR : 5 * SR]
    return np.concatenate([a, hiss, b]), (len(a), len(a) + len(hiss))


def test_speech_ranges_split_at_the_pause(speech_gap_speech):
    audio, (gap0, gap1) = speech_gap_speech
    ranges = speech_ranges(audio, pad_sec=0.1, min_gap_sec=0.3)
    assert len(ranges) >= 2
    assert all(0 <= s < e <= len(audio) for s, e in ranges)
    assert all(ranges[i][1] < ranges[i + 1][0] for i in range(len(ranges) - 1))
    # nothing inside the hiss, except the 0.1 s padding at its edges
    inside = [(s, e) for s, e in ranges if e > gap0 + 0.2 * SR and s < gap1 - 0.2 * SR]
    assert inside == []
    # speech covers most of both talking parts
    covered = sum(min(e, gap0) - s for s, e in ranges if s < gap0)
    assert covered > 0.7 * gap0
    # a larger min gap bridges the pause into one stretch
    assert len(speech_ranges(audio, min_gap_sec=2.0)) < len(ranges)


def test_speech_ranges_at_other_sample_rates(speech_gap_speech):
    import librosa

    audio, _ = speech_gap_speech
    ref = speech_ranges(audio)
    for rate in (22050, 48000):
        resampled = librosa.resample(audio, orig_sr=SR, target_sr=rate)
        got = speech_ranges(resampled, sample_rate=rate)
        assert len(got) == len(ref)
        for (s, e), (rs, re_) in zip(got, ref, strict=True):
            assert abs(s / rate - rs / SR) < 0.1 and abs(e / rate - re_ / SR) < 0.1


def test_voiced_frames_false_in_silence_and_past_the_end(speech_gap_speech):
    audio, (gap0, gap1) = speech_gap_speech
    fps = 25
    n_frames = int(len(audio) / SR * fps) + 40  # picture runs 1.6 s past the audio
    voiced = voiced_frames(audio, fps, n_frames)
    assert voiced.shape == (n_frames,) and voiced.dtype == bool
    f0, f1 = gap0 * fps // SR, gap1 * fps // SR
    assert not voiced[f0 + 3 : f1 - 3].any()
    first_past_end = -(-len(audio) * fps // SR)  # first frame starting after the last sample
    assert not voiced[first_past_end:].any()
    assert voiced[:f0].mean() > 0.7


def test_digital_silence_and_empty_audio():
    assert not voiced_frames(np.zeros(SR * 2, np.float32), 25, 50).any()
    assert speech_ranges(np.zeros(SR, np.float32)) == []
    assert voiced_frames(np.zeros(0, np.float32), 25, 10).shape == (10,)


def test_pause_ratio_tells_music_from_speech(shared_media):
    """Speech in any language (and sung) keeps its pauses; A16's music and a drone do not;
    a steady tone under speech does not hide the speech."""
    from lipcore.audio.vad import MUSIC_PAUSE_RATIO, pause_ratio, sounds_like_music
    from lipcore.media.audio import clip_audio

    audio = shared_media / "audio"
    for name in ("B01", "B05", "B09", "B13"):  # English, Chinese, German, singing
        sound = load_audio(next(audio.glob(f"{name}_*")), SR)[: 8 * SR]
        assert pause_ratio(sound) > MUSIC_PAUSE_RATIO + 0.05, name
        assert not sounds_like_music(sound)
    music = clip_audio(next((shared_media / "video").glob("A16_*.mp4")), SR)
    assert sounds_like_music(music)
    speech = load_audio(next(audio.glob("B01_*")), SR)[: 8 * SR]
    t = np.arange(len(speech)) / SR
    tone = 0.1 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    assert not sounds_like_music(speech + tone)
    rng = np.random.default_rng(1)
    drone = (0.2 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(len(t))).astype(
        np.float32
    )
    assert sounds_like_music(drone)
    assert not sounds_like_music(np.zeros(4 * SR, np.float32))  # silence is not music
