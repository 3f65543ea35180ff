"""Timed phones for any speech, offline: PocketSphinx's English acoustic model in allphone mode.

The ``pocketsphinx`` wheel ships the CMU en-us continuous acoustic model and a phone n-gram
(``en-us-phone.lm.bin``), so recognition needs no download. The decoder runs over the whole clip
as one utterance (10 ms frames) with the settings CMU recommends for phone recognition (wide beams,
language weight 2) and returns ARPAbet phones without stress marks (``AA`` ... ``ZH``), ``SIL`` for
silence and ``+NSN+`` / ``+SPN+`` for noise and unclassifiable speech.

English is the validated case. On other languages the model still labels every stretch with its
nearest English phone, so closures (/p b m/) and pauses are found where the speech has them, while
vowel labels are rough.

Results are cached on disk keyed by the audio's content, so the editor, the cue lane and the
engines ask for the same clip's phones at no extra cost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterable
from dataclasses import dataclass

import numpy as np

from lipcore.audio import SAMPLE_RATE
from lipcore.cache import atomic_write_bytes, cache_path, settings_key
from lipcore.progress import Progress, drain

#: PocketSphinx analyses 10 ms frames: 160 samples at 16 kHz.
DECODER_FRAME_SAMPLES = SAMPLE_RATE // 100
#: Labels that are not speech sounds (silence, noise, unclassified speech).
NON_SPEECH_LABELS = frozenset({"SIL", "+NSN+", "+SPN+"})
#: Lips pressed together: /p/, /b/, /m/.
BILABIAL_LABELS = frozenset({"P", "B", "M"})
#: Samples handed to the decoder per step (one progress report per second of audio).
_BLOCK_SAMPLES = SAMPLE_RATE
#: Bumped whenever decoding settings change, so stale cache entries are not reused.
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class PhoneConfig:
    """Decoder settings (CMU's recommended allphone settings by default).

    Attributes:
        language_weight: Weight of the phone n-gram against the acoustics.
        beam: Viterbi beam (smaller keeps more hypotheses).
        phone_beam: Phone-exit beam.
    """

    language_weight: float = 2.0
    beam: float = 1e-20
    phone_beam: float = 1e-20


@dataclass(frozen=True)
class Phone:
    """One recognised phone.

    Attributes:
        label: ARPAbet phone without stress ("M", "AA"), or a :data:`NON_SPEECH_LABELS` entry.
        start_sample: First sample at 16 kHz.
        end_sample: One past the last sample at 16 kHz.
    """

    label: str
    start_sample: int
    end_sample: int

    @property
    def start_sec(self) -> float:
        """Start time in seconds."""
        return self.start_sample / SAMPLE_RATE

    @property
    def end_sec(self) -> float:
        """End time in seconds."""
        return self.end_sample / SAMPLE_RATE

    @property
    def is_speech(self) -> bool:
        """Whether this is a speech sound rather than silence or noise."""
        return self.label not in NON_SPEECH_LABELS


def _model_paths() -> tuple[str, str]:
    from pocketsphinx import get_model_path

    return get_model_path("en-us/en-us"), get_model_path("en-us/en-us-phone.lm.bin")


def _audio_key(audio_16k: np.ndarray, config: PhoneConfig) -> str:
    samples = np.ascontiguousarray(audio_16k, dtype=np.float32)
    h = hashlib.blake2b(samples.tobytes(), digest_size=16)
    return h.hexdigest() + "_" + settings_key({"config": config.__dict__, "fmt": _CACHE_FORMAT})


def _to_pcm16(audio_16k: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio_16k, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono 16 kHz audio of shape (S,), got {audio.shape}")
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")


def _phones_from_segments(segments: Iterable[tuple[str, int, int]], n_samples: int) -> list[Phone]:
    """Decoder segments (label, first frame, last frame inclusive) to contiguous phones."""
    phones: list[Phone] = []
    for label, first, last in segments:
        start = min(n_samples, first * DECODER_FRAME_SAMPLES)
        end = min(n_samples, (last + 1) * DECODER_FRAME_SAMPLES)
        if end <= start:
            continue
        name = label.upper()
        if name.startswith("<") or name.startswith("["):
            name = "SIL"
        phones.append(Phone(name.rstrip("012"), start, end))
    return phones


def iter_recognise_phones(
    audio_16k: np.ndarray, config: PhoneConfig = PhoneConfig(), use_cache: bool = True
) -> Generator[Progress, None, list[Phone]]:
    """Recognise phones, yielding progress per second of audio; returns the phones.

    Args:
        audio_16k: ``(S,)`` mono float samples at 16 kHz in [-1, 1].
        config: Decoder settings.
        use_cache: Read and write the on-disk cache (keyed by the audio content and settings).

    Returns:
        Phones in time order, non-overlapping, covering the decoded speech (gaps the decoder
        leaves are silence).
    """
    pcm = _to_pcm16(audio_16k)
    n = len(pcm)
    path = None
    if use_cache:
        path = cache_path("phones", _audio_key(audio_16k, config), suffix=".json")
    if path is not None and path.exists():
        rows = json.loads(path.read_text())
        return [Phone(str(lab), int(s), int(e)) for lab, s, e in rows]
    if n < DECODER_FRAME_SAMPLES * 3:
        return []
    from pocketsphinx import Config, Decoder

    hmm, phone_lm = _model_paths()
    decoder = Decoder(
        Config(
            hmm=hmm,
            allphone=phone_lm,
            lm=None,
            lw=config.language_weight,
            beam=config.beam,
            pbeam=config.phone_beam,
            backtrace=False,
            loglevel="FATAL",
        )
    )
    decoder.start_utt()
    for done in range(0, n, _BLOCK_SAMPLES):
        decoder.process_raw(pcm[done : done + _BLOCK_SAMPLES].tobytes(), False, False)
        yield Progress(min(n, done + _BLOCK_SAMPLES), n, "recognising phones")
    decoder.end_utt()
    phones = _phones_from_segments(
        ((seg.word, seg.start_frame, seg.end_frame) for seg in decoder.seg()), n
    )
    if path is not None:
        rows = [[p.label, p.start_sample, p.end_sample] for p in phones]
        atomic_write_bytes(path, json.dumps(rows).encode())
    return phones


def recognise_phones(
    audio_16k: np.ndarray, config: PhoneConfig = PhoneConfig(), use_cache: bool = True
) -> list[Phone]:
    """Recognise phones in speech (drains :func:`iter_recognise_phones` without a bar).

    Args:
        audio_16k: ``(S,)`` mono float samples at 16 kHz in [-1, 1].
        config: Decoder settings.
        use_cache: Read and write the on-disk cache.

    Returns:
        Phones in time order.
    """
    return drain(iter_recognise_phones(audio_16k, config, use_cache), show=False)


def bilabials(phones: Iterable[Phone]) -> list[Phone]:
    """The /p b m/ phones: where the lips must close.

    Args:
        phones: Recognised phones.

    Returns:
        The bilabial phones, in order.
    """
    return [p for p in phones if p.label in BILABIAL_LABELS]


def bilabial_times_sec(phones: Iterable[Phone]) -> np.ndarray:
    """Centre time of each /p b m/ phone, in seconds.

    Args:
        phones: Recognised phones.

    Returns:
        ``(K,)`` float64 seconds, ascending.
    """
    return np.array(
        [(p.start_sample + p.end_sample) / (2 * SAMPLE_RATE) for p in bilabials(phones)],
        dtype=np.float64,
    )
