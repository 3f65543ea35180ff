"""Dialogue text aligned to speech: timed words and their phones (PocketSphinx forced alignment).

Pronunciations come from the CMU dictionary that ships in the ``pocketsphinx`` wheel
(``cmudict-en-us.dict``, 134k English words). ``g2p-en`` was the first choice for words the
dictionary lacks, but it cannot run offline: on first use it downloads NLTK's ``cmudict`` and
``averaged_perceptron_tagger`` and fails without a network. Words outside the dictionary (names,
made-up words) get a spelling-based pronunciation from :func:`spell_out` so that their closures
(a written ``b``, ``m``, ``p``) still land in the alignment.

Alignment is two passes over the clip, as PocketSphinx documents it: words first, then phones
inside the words. When the acoustics do not fit the text at all (wrong text, or a synthetic voice
far from the model's training speech) :func:`align_text` returns ``None`` and callers fall back to
free phone recognition.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from lipcore.audio import SAMPLE_RATE
from lipcore.audio.phones import DECODER_FRAME_SAMPLES, Phone
from lipcore.progress import Progress

#: Letters and their usual ARPAbet phone, for words the dictionary lacks.
_LETTER_PHONES = {
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "Y", "z": "Z",
}  # fmt: skip
_DIGRAPHS = {"th": "TH", "sh": "SH", "ch": "CH", "ph": "F", "ng": "NG", "oo": "UW", "ee": "IY"}


@dataclass(frozen=True)
class Word:
    """One aligned word of the dialogue.

    Attributes:
        text: The word as written in the dialogue (lower case, punctuation removed).
        start_sample: First sample at 16 kHz.
        end_sample: One past the last sample.
        phones: The word's phones, timed, in order.
    """

    text: str
    start_sample: int
    end_sample: int
    phones: tuple[Phone, ...]


def dialogue_words(text: str) -> list[str]:
    """Split dialogue text into lower-case words (apostrophes kept, other punctuation dropped).

    Args:
        text: Free text, any punctuation and line breaks.

    Returns:
        Words in order.
    """
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def spell_out(word: str) -> str:
    """A rough ARPAbet pronunciation from spelling, for words the dictionary lacks.

    Args:
        word: A lower-case word.

    Returns:
        Space-separated ARPAbet phones (never empty for a non-empty word).
    """
    phones: list[str] = []
    i = 0
    letters = re.sub(r"[^a-z]", "", word)
    while i < len(letters):
        pair = letters[i : i + 2]
        if pair in _DIGRAPHS:
            phones.append(_DIGRAPHS[pair])
            i += 2
            continue
        ch = letters[i]
        if not (phones and phones[-1] == _LETTER_PHONES[ch]):
            phones.append(_LETTER_PHONES[ch])
        i += 1
    return " ".join(phones) or "AH"


def _decoder():
    from pocketsphinx import Decoder, get_model_path

    return Decoder(
        hmm=get_model_path("en-us/en-us"),
        dict=get_model_path("en-us/cmudict-en-us.dict"),
        lm=None,
        bestpath=False,
        beam=1e-80,
        wbeam=1e-60,
        pbeam=1e-80,
        loglevel="FATAL",
    )


def iter_recognise_words(audio_16k: np.ndarray) -> Generator[Progress, None, str]:
    """Recognise English words with PocketSphinx's bundled language model; returns the text.

    Several times slower than phone recognition (1-1.5x real time on a busy two-core machine).
    The vocabulary keeps the closures of real words, but the words themselves are often wrong;
    on a synthetic test voice it placed closures no better than phones do
    (``bench/cue_closures.py``).

    Args:
        audio_16k: ``(S,)`` mono float samples at 16 kHz in [-1, 1].

    Returns:
        The recognised words, space-separated ("" when nothing was recognised).
    """
    from pocketsphinx import Decoder, get_model_path

    audio = np.asarray(audio_16k, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono 16 kHz audio of shape (S,), got {audio.shape}")
    decoder = Decoder(
        hmm=get_model_path("en-us/en-us"),
        lm=get_model_path("en-us/en-us.lm.bin"),
        dict=get_model_path("en-us/cmudict-en-us.dict"),
        loglevel="FATAL",
    )
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    decoder.start_utt()
    for done in range(0, len(pcm), SAMPLE_RATE):
        decoder.process_raw(pcm[done : done + SAMPLE_RATE].tobytes(), False, False)
        yield Progress(min(len(pcm), done + SAMPLE_RATE), len(pcm), "recognising words")
    decoder.end_utt()
    hyp = decoder.hyp()
    words = hyp.hypstr if hyp is not None else ""
    return " ".join(w for w in words.split() if not w.startswith(("<", "[", "+")))


def align_text(audio_16k: np.ndarray, text: str) -> list[Word] | None:
    """Align dialogue text to speech.

    Args:
        audio_16k: ``(S,)`` mono float samples at 16 kHz in [-1, 1].
        text: The words spoken (English; punctuation is ignored).

    Returns:
        The aligned words in order (pauses are not words), or ``None`` when the text has no
        words or the speech cannot be aligned to it.
    """
    words = dialogue_words(text)
    audio = np.asarray(audio_16k, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono 16 kHz audio of shape (S,), got {audio.shape}")
    if not words or len(audio) < DECODER_FRAME_SAMPLES * 10:
        return None
    decoder = _decoder()
    for word in set(words):
        if not decoder.lookup_word(word):
            decoder.add_word(word, spell_out(word), False)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    decoder.set_align_text(" ".join(words))
    decoder.start_utt()
    decoder.process_raw(pcm, False, True)
    decoder.end_utt()
    if decoder.hyp() is None:
        return None
    decoder.set_alignment()
    decoder.start_utt()
    decoder.process_raw(pcm, False, True)
    decoder.end_utt()
    alignment = decoder.get_alignment()
    if alignment is None:
        return None
    n = len(audio)
    out: list[Word] = []
    for entry in alignment:
        name = re.sub(r"\(\d+\)$", "", entry.name)
        if name.startswith("<") or name.startswith("["):
            continue
        phones = tuple(
            Phone(
                p.name,
                min(n, p.start * DECODER_FRAME_SAMPLES),
                min(n, (p.start + p.duration) * DECODER_FRAME_SAMPLES),
            )
            for p in entry
        )
        start = min(n, entry.start * DECODER_FRAME_SAMPLES)
        end = min(n, (entry.start + entry.duration) * DECODER_FRAME_SAMPLES)
        out.append(Word(name, start, end, phones))
    return out or None
