"""The one audio mixer: dub tracks (and the clip's own sound) on the picture's clock.

The editor's preview player, the editor's export and ``lipsync sync`` all hear the result of
:func:`mix_tracks`, so what plays while editing is what gets exported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.render.request import AUDIO_RATE

#: Output sample rate of the muxed audio.
OUTPUT_AUDIO_RATE = 48000
#: How much the original audio is lowered under the dub in "mix" mode (-12 dB).
MIX_DUCK_GAIN = 0.25
#: Samples mixed at a time (memory of the mix's temporaries; 22 s at 48 kHz).
MIX_BLOCK_SAMPLES = 1 << 20


@dataclass(frozen=True)
class MixTrack:
    """One track in the mix.

    Attributes:
        path: Audio file (any format ffmpeg reads), or None for the clip's own sound.
        offset_samples: Where its first sample plays, at 16 kHz after frame 0 (negative drops
            its head; ignored for the clip's own sound, which is on the clip's clock).
        gain_db: Level change in dB (0 = as recorded).
    """

    path: Path | None
    offset_samples: int = 0
    gain_db: float = 0.0


def load_speech(path: str | Path, sample_rate: int, info=None, mono: bool = True) -> np.ndarray:
    """New speech as it plays: a video file's audio on that video's clock.

    An audio file's first sample is its start. A video file given as the audio (a dub exported
    with picture, or the clip's own track in the editor) is placed by its streams' start times,
    as :class:`~lipcore.media.encode.VideoWriter` does for such a file (H01's audio starts
    0.844 s before its picture; decoding it from its own start would shift the speech by that).

    Args:
        path: The file.
        sample_rate: Rate in Hz.
        info: Its :class:`~lipcore.media.probe.MediaInfo` when already probed.
        mono: Fold the channels into one; False keeps stereo and folds surround to stereo
            (what the exported track carries).

    Returns:
        ``(N,)`` mono or ``(N, C)`` float32 samples, C at most 2.
    """
    from lipcore.media.audio import load_audio
    from lipcore.media.probe import probe
    from lipcore.render.timeline import place_audio

    info = info if info is not None else probe(path)
    samples = load_audio(path, sample_rate, mono=mono, info=info, max_channels=None if mono else 2)
    if info.video is None or info.audio is None:
        return samples
    # Only the start is moved (its tail is kept: a long-audio policy may still want it).
    lead = Fraction(info.audio.start_sec).limit_denominator(10**6) - Fraction(
        info.video.start_sec
    ).limit_denominator(10**6)
    shift = int(round(lead * sample_rate))  # < 0: the audio starts first, its head is dropped
    return place_audio(samples, shift, max(0, len(samples) + shift))


def mix_tracks(
    tracks: Sequence[MixTrack | tuple],
    total_samples: int,
    rate: int = OUTPUT_AUDIO_RATE,
    clip: str | Path | None = None,
    channels: int = 1,
) -> np.ndarray:
    """Mix tracks into one track of ``total_samples`` at ``rate``, mono or stereo.

    Args:
        tracks: :class:`MixTrack` or ``(path | None, offset_samples_16k, gain_db)`` items.
        total_samples: Length of the mix (the picture's duration at ``rate``).
        rate: Sample rate in Hz.
        clip: The clip whose own sound a track with ``path=None`` is.
        channels: 1 (every track folded to mono) or 2 (stereo tracks stay stereo, mono ones
            play on both sides; surround is folded to stereo).

    Returns:
        ``(total_samples,)`` (mono) or ``(total_samples, 2)`` float32, scaled down only when
        the sum would clip.

    Raises:
        MediaError: A track cannot be read (the message names the file), or the clip has no
            audio of its own when a track asks for it.
    """
    from lipcore.media.audio import clip_audio

    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, not {channels}")
    mono = channels == 1
    out = np.zeros((int(total_samples),) if mono else (int(total_samples), 2), np.float32)

    def add(samples: np.ndarray, offset: int, gain: np.float32) -> None:
        # Added in place, block by block: a long mix holds no full-length temporary (a 30-minute
        # stereo mix is 690 MB; placed, repeated to stereo and scaled copies would each add one).
        src0, dst0 = max(0, -offset), max(0, offset)
        n = min(len(samples) - src0, len(out) - dst0)
        for a in range(0, max(0, n), MIX_BLOCK_SAMPLES):
            b = min(n, a + MIX_BLOCK_SAMPLES)
            part = samples[src0 + a : src0 + b]
            if not mono and (part.ndim == 1 or part.shape[1] != 2):
                part = part.reshape(len(part), -1)[:, :1]  # a mono track plays on both sides
            out[dst0 + a : dst0 + b] += gain * part

    for item in tracks:
        track = item if isinstance(item, MixTrack) else MixTrack(*item)
        gain = np.float32(10.0 ** (track.gain_db / 20.0))
        if track.path is None:
            if clip is None:
                raise ValueError("a track of the clip's own sound needs the clip")
            add(clip_audio(clip, rate, mono=mono, max_channels=None if mono else 2), 0, gain)
            continue
        offset = int(round(track.offset_samples * rate / AUDIO_RATE))
        add(load_speech(track.path, rate, mono=mono), offset, gain)
    peak = 0.0
    for a in range(0, len(out), MIX_BLOCK_SAMPLES):
        peak = max(peak, float(np.abs(out[a : a + MIX_BLOCK_SAMPLES]).max()))
    if peak > 1.0:
        out /= np.float32(peak)
    return out


def duck_db(linear_gain: float) -> float:
    """A linear gain (e.g. :data:`MIX_DUCK_GAIN`) in dB for a :class:`MixTrack`."""
    return float(20.0 * np.log10(max(linear_gain, 1e-9)))
