"""Mouth cues on real English, Chinese and German speech and on two synthetic voices.

What an animator checks: the lips close (A) at /p b m/, the mouth rests (X) in silence, every cue
sits on the target frame grid, and holds respect the minimum.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lipcore.audio.align import align_text, dialogue_words, spell_out
from lipcore.audio.phones import BILABIAL_LABELS, recognise_phones
from lipcore.audio.vad import speech_ranges
from lipcore.cues.make import CueConfig, mouth_cues, shape_at
from lipcore.cues.shapes import BASIC_SHAPES, SHAPES
from lipcore.media.audio import load_audio
from lipcore.timebase import frame_to_sample

SR = 16000


def _on_grid(track) -> bool:
    grid = {frame_to_sample(k, track.fps, SR) for k in range(int(track.fps * 60) + 2)}
    return all(c.start_sample in grid for c in track.cues)


def _contiguous(track) -> bool:
    cues = track.cues
    return (
        cues[0].start_sample == 0
        and cues[-1].end_sample == track.duration_samples
        and all(a.end_sample == b.start_sample for a, b in zip(cues, cues[1:], strict=False))
        and all(a.shape != b.shape for a, b in zip(cues, cues[1:], strict=False))
    )


def _closure_hits(track, spans) -> float:
    """Share of (start, end) sample spans that an A cue overlaps."""
    hits = [
        any(c.shape == "A" and c.start_sample < e and c.end_sample > s for c in track.cues)
        for s, e in spans
    ]
    return float(np.mean(hits)) if hits else 0.0


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(25), Fraction(30), Fraction(12)])
def test_english_cues_on_the_frame_grid_close_at_bilabials(english, fps):
    track = mouth_cues(english, CueConfig(fps=fps))
    assert _contiguous(track) and _on_grid(track)
    assert {c.shape for c in track.cues} >= BASIC_SHAPES
    # every /p b m/ the recogniser hears in speech gets a closed mouth
    bilabials = [
        (p.start_sample, p.end_sample)
        for p in recognise_phones(english)
        if p.label in BILABIAL_LABELS
    ]
    assert len(bilabials) >= 5
    assert _closure_hits(track, bilabials) == 1.0
    # closures are brief, not the mouth's usual state
    closed = sum(c.end_sample - c.start_sample for c in track.cues if c.shape == "A")
    assert closed < 0.2 * track.duration_samples


def test_min_hold_and_basic_shapes(english):
    track = mouth_cues(english, CueConfig(fps=Fraction(30), min_hold_frames=3, extended_shapes=""))
    frame = SR / 30
    assert {c.shape for c in track.cues} <= BASIC_SHAPES
    short = [c for c in track.cues[1:-1] if c.end_sample - c.start_sample < 3 * frame - 1]
    assert all(c.shape == "A" for c in short)
    assert len(track.cues) < len(mouth_cues(english, CueConfig(fps=Fraction(30))).cues)


@pytest.mark.parametrize(
    "name",
    [
        "B01_en_hdtf_RD_Radio31_16k.wav",
        "B05_zh_chinese_news_48k.wav",
        "B09_de_deyu_48k_s24.wav",
    ],
)
def test_rest_in_silence_and_speech_around_it(shared_media, name):
    speech = load_audio(shared_media / "audio" / name)[: 6 * SR]
    gap0, gap1 = 3 * SR, int(4.5 * SR)
    audio = np.concatenate([speech[:gap0], np.zeros(gap1 - gap0, np.float32), speech[gap0:]])
    track = mouth_cues(audio, CueConfig(fps=Fraction(25)))
    assert _contiguous(track)
    inside = [shape_at(track.cues, s) for s in range(gap0 + SR // 5, gap1 - SR // 5, SR // 50)]
    assert set(inside) == {"X"}
    first_speech = speech_ranges(audio)[0][0]
    assert first_speech < 2 * SR
    talking = [
        shape_at(track.cues, s) for s in range(first_speech + SR // 5, gap0 - SR // 5, SR // 50)
    ]
    assert np.mean([s != "X" for s in talking]) > 0.8
    assert len({s for s in talking}) >= 5
    assert "A" in talking


def test_tts_voice_with_text_closes_at_every_bilabial_word(flite_voice):
    audio, text = flite_voice
    track = mouth_cues(audio, CueConfig(fps=Fraction(24)), text=text)
    assert track.source == "text"
    assert [w.text for w in track.words] == dialogue_words(text)
    # the written words say where closures must be (independent of the recogniser)
    spans = [
        (w.start_sample, w.end_sample) for w in track.words if any(ch in "pbm" for ch in w.text)
    ]
    assert len(spans) == 16
    assert _closure_hits(track, spans) == 1.0
    # words without any closure sound never close the lips
    open_words = [w for w in track.words if not any(ch in "pbm" for ch in w.text)]
    frame = SR // 24
    for w in open_words:
        # a closure may start up to a frame early, on the frame grid, for the next word
        inner = [c for c in track.cues if w.start_sample <= c.start_sample < w.end_sample - frame]
        assert all(c.shape != "A" for c in inner), w.text
    assert track.cues[0].shape == "X" and track.cues[-1].shape == "X"


def test_tts_voice_without_text_is_not_silent(flite_voice, espeak_voice):
    for audio, text in (flite_voice, espeak_voice):
        track = mouth_cues(audio, CueConfig(fps=Fraction(24)))
        speaking = sum(c.end_sample - c.start_sample for c in track.cues if c.shape != "X")
        assert speaking > 0.6 * track.duration_samples
        assert sum(c.shape == "A" for c in track.cues) >= 3
        words = [w for w in dialogue_words(text) if w]
        assert len(track.cues) > len(words)


def test_recognised_english_words_place_closures(flite_short):
    audio, text = flite_short
    reference = align_text(audio, text)  # the true words, timed
    spans = [(w.start_sample, w.end_sample) for w in reference if set(w.text) & set("pbm")]
    assert len(spans) == 8
    track = mouth_cues(audio, CueConfig(fps=Fraction(24)), recogniser="words")
    assert track.source == "words" and track.words
    assert _contiguous(track) and _on_grid(track)
    assert _closure_hits(track, spans) >= 0.75
    with pytest.raises(ValueError, match="recogniser"):
        mouth_cues(audio, recogniser="whisper")


def test_text_on_a_voice_that_does_not_align_falls_back_to_phones(espeak_voice):
    audio, text = espeak_voice
    # espeak-ng's formant voice is too far from the acoustic model for forced alignment
    assert align_text(audio, text) is None
    track = mouth_cues(audio, CueConfig(), text=text)
    assert track.source == "phones" and track.words == ()
    assert _contiguous(track)


def test_out_of_dictionary_words_are_spelled_out():
    assert spell_out("zorblax").split() == ["Z", "AA", "R", "B", "L", "AE", "K", "S"]
    assert "M" in spell_out("mbembe").split()
    assert all(p in SHAPES or p.isupper() for p in spell_out("thing").split())


def test_bad_config():
    with pytest.raises(ValueError, match="between 1 and 120"):
        CueConfig(fps=Fraction(0))
    with pytest.raises(ValueError, match="subset of GHX"):
        CueConfig(extended_shapes="GQ")
    with pytest.raises(ValueError, match="min_hold"):
        CueConfig(min_hold_frames=0)
    assert mouth_cues(np.zeros(0, np.float32)).cues == ()
