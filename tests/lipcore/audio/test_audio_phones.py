"""Phone recognition on real shared English speech: timed phones, closures, silence, cache."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.audio.phones import (
    BILABIAL_LABELS,
    NON_SPEECH_LABELS,
    bilabial_times_sec,
    bilabials,
    iter_recognise_phones,
    recognise_phones,
)
from lipcore.audio.vad import speech_ranges
from lipcore.cache import cache_root
from lipcore.media.audio import load_audio

SR = 16000
ARPABET = set(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
    "UH UW V W Y Z ZH".split()
)


@pytest.fixture(scope="module")
def english(shared_media) -> np.ndarray:
    return load_audio(shared_media / "audio" / "B21_en_16k_20s_latentsync_demo2.wav")


def test_english_speech_gives_ordered_arpabet_phones(english):
    phones = recognise_phones(english)
    assert all(p.label in ARPABET | NON_SPEECH_LABELS for p in phones)
    assert all(0 <= p.start_sample < p.end_sample <= len(english) for p in phones)
    assert all(a.end_sample <= b.start_sample for a, b in zip(phones, phones[1:], strict=False))
    speech_sec = sum(e - s for s, e in speech_ranges(english)) / SR
    n_speech = sum(p.is_speech for p in phones)
    # conversational English runs at roughly 8-15 phones a second
    assert 6.0 < n_speech / speech_sec < 16.0
    # many different phones, not one label repeated
    assert len({p.label for p in phones if p.is_speech}) >= 25


def test_bilabials_at_a_plausible_rate(english):
    phones = recognise_phones(english)
    closures = bilabials(phones)
    assert all(p.label in BILABIAL_LABELS for p in closures)
    times = bilabial_times_sec(phones)
    assert len(times) == len(closures)
    assert np.all(np.diff(times) > 0)
    speech_sec = sum(e - s for s, e in speech_ranges(english)) / SR
    # /p b m/ make up ~5-10 % of English phones: several per 20 s, far fewer than all phones
    assert 0.2 < len(times) / speech_sec < 2.0
    assert all(p.end_sec - p.start_sec < 0.4 for p in closures)


def test_silence_has_no_speech_phones(shared_media):
    speech = load_audio(shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav")
    gap0, gap1 = 3 * SR, int(4.5 * SR)
    audio = np.concatenate([speech[:gap0], np.zeros(gap1 - gap0, np.float32), speech[gap0:]])
    phones = recognise_phones(audio)
    margin = int(0.1 * SR)
    inside = [
        p
        for p in phones
        if p.is_speech and p.start_sample >= gap0 + margin and p.end_sample <= gap1 - margin
    ]
    assert inside == []
    assert any(p.label == "SIL" and p.start_sample <= gap0 + margin for p in phones)
    assert sum(p.is_speech for p in phones if p.end_sample <= gap0) > 15


def test_progress_and_cache(english):
    clip = english[: 4 * SR]
    gen = iter_recognise_phones(clip)
    steps = []
    try:
        while True:
            steps.append(next(gen))
    except StopIteration as stop:
        first = stop.value
    assert steps and steps[-1].done == steps[-1].total == len(clip)
    assert list((cache_root() / "phones").glob("*.json"))
    # a cache hit yields nothing and returns the same phones
    assert recognise_phones(clip) == first
    assert recognise_phones(clip, use_cache=False) == first


def test_stereo_or_short_input():
    with pytest.raises(ValueError, match="mono"):
        recognise_phones(np.zeros((SR, 2), np.float32))
    assert recognise_phones(np.zeros(100, np.float32)) == []
