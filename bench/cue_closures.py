"""Mouth-cue figures on shared speech and synthetic voices: closures, rest, shape use, speed.

Per clip (English, Chinese, German, French, Russian, singing): seconds of speech (voice activity,
pauses under 0.3 s bridged), cues per second, closures (A) per second of speech, the share of the
pauses shown as rest (X), the share of speech time shown as rest (should be small), distinct
shapes, and analysis time as a ratio of the audio's duration.

For two synthetic voices reading a sentence with 16 words holding /p b m/ (Flite's diphone voice
``slt`` and espeak-ng's formant voice), the closure hit rate: the share of those words during
which an A cue shows, with the dialogue text, and without it (phones only, or recognised English
words aligned). The word times come
from aligning the text, so the "without text" figure is judged by something the phone recogniser
did not produce. espeak-ng's voice does not align; its row reports the fallback only.

Usage: .venv/bin/python bench/cue_closures.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", REPO.parent / "shared" / "media"))
SR = 16000
TEXT = (
    "Bob bought a big map. Mom made maple pie for my baby brother, "
    "and Pam paid the plumber by the pub."
)
CLIPS = [
    "B01_en_hdtf_RD_Radio31_16k.wav",
    "B21_en_16k_20s_latentsync_demo2.wav",
    "B25_en_16k_geneface_zozo.wav",
    "B05_zh_chinese_news_48k.wav",
    "B07_zh_poem1_24k.wav",
    "B09_de_deyu_48k_s24.wav",
    "B11_fr_fayu_48k_s24.wav",
    "B10_ru_eluosi_48k_s24.wav",
    "B13_singing_imagine_48k_s24.wav",
]


def _clip_row(name: str) -> str:
    from lipcore.audio.vad import speech_ranges
    from lipcore.cues.make import CueConfig, mouth_cues
    from lipcore.media.audio import load_audio

    audio = load_audio(MEDIA / "audio" / name)
    voiced = np.zeros(len(audio), bool)
    # silence = pauses of 0.3 s or more (shorter ones hold the mouth by design)
    for s, e in speech_ranges(audio, pad_sec=0.05, min_gap_sec=0.3):
        voiced[s:e] = True
    t0 = time.perf_counter()
    track = mouth_cues(audio, CueConfig(fps=Fraction(24)))
    dt = time.perf_counter() - t0
    rest = np.zeros(len(audio), bool)
    for c in track.cues:
        if c.shape == "X":
            rest[c.start_sample : c.end_sample] = True
    speech_sec = voiced.sum() / SR
    silent = (~voiced).sum()
    closures = sum(c.shape == "A" for c in track.cues)
    rest_in_silence = (rest & ~voiced).sum() / silent if silent else float("nan")
    rest_in_speech = (rest & voiced).sum() / max(1, voiced.sum())
    return (
        f"{name[:30]:30s} {len(audio) / SR:6.1f} {speech_sec:6.1f} "
        f"{len(track.cues) / (len(audio) / SR):6.1f} {closures / max(speech_sec, 1e-9):6.2f} "
        f"{rest_in_silence:7.2f} {rest_in_speech:7.2f} {len({c.shape for c in track.cues}):4d} "
        f"{dt / (len(audio) / SR):6.3f}"
    )


def _tts(tool: str, args: list[str], out: Path) -> Path | None:
    if shutil.which(tool) is None:
        return None
    subprocess.run([tool, *(str(out) if a == "OUT" else a for a in args)], check=True)
    return out


def _hit_rate(track, spans) -> float:
    hits = [
        any(c.shape == "A" and c.start_sample < e and c.end_sample > s for c in track.cues)
        for s, e in spans
    ]
    return float(np.mean(hits)) if hits else float("nan")


def main() -> None:
    """Print both tables (phones are recomputed: the cache goes to a temporary folder)."""
    os.environ["LIPSYNC_CACHE_DIR"] = tempfile.mkdtemp(prefix="cue-bench-")
    from lipcore.audio.align import align_text
    from lipcore.cues.make import CueConfig, mouth_cues
    from lipcore.media.audio import load_audio

    print(
        "clip                            dur_s speech  cue/s  A/s_sp  X|sil  X|speech shp  t/dur"
    )
    for name in CLIPS:
        print(_clip_row(name))
    print()
    print("voice            aligned  words_pbm  hit_text  hit_phones  hit_words  A_cues_phones")
    with tempfile.TemporaryDirectory() as tmp:
        voices = {
            "flite slt": _tts(
                "flite", ["-voice", "slt", "-t", TEXT, "-o", "OUT"], Path(tmp) / "f.wav"
            ),
            "espeak-ng en-us": _tts(
                "espeak-ng", ["-v", "en-us", "-s", "150", "-w", "OUT", TEXT], Path(tmp) / "e.wav"
            ),
        }
        for label, path in voices.items():
            if path is None:
                print(f"{label:16s} (not installed)")
                continue
            audio = load_audio(path)
            words = align_text(audio, TEXT)
            phones_only = mouth_cues(audio, CueConfig(fps=Fraction(24)))
            n_a = sum(c.shape == "A" for c in phones_only.cues)
            if words is None:
                print(f"{label:16s} {'no':7s} {'-':>9s} {'-':>9s} {'-':>11s} {'-':>10s} {n_a:14d}")
                continue
            spans = [(w.start_sample, w.end_sample) for w in words if set(w.text) & set("pbm")]
            with_text = mouth_cues(audio, CueConfig(fps=Fraction(24)), text=TEXT)
            from_words = mouth_cues(audio, CueConfig(fps=Fraction(24)), recogniser="words")
            print(
                f"{label:16s} {'yes':7s} {len(spans):9d} {_hit_rate(with_text, spans):9.2f} "
                f"{_hit_rate(phones_only, spans):11.2f} {_hit_rate(from_words, spans):10.2f} "
                f"{n_a:14d}"
            )


if __name__ == "__main__":
    main()
