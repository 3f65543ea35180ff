"""Long clips and dubs for the long-clip benches, made with ffmpeg from the shared media.

A long clip is the shared talking-face clips (five people, each 5-18 s) scaled and padded to one
modest frame size (360 p by default: a 30-minute render has to finish on a 2-core machine), at
25 fps, concatenated in a fixed order and repeated until the wanted length: a lecture-like
stream of shots, with a cut at every join. A long dub is the shared English speech files
concatenated the same way (16 kHz mono). Everything is written under the work folder (``/tmp``),
never into the repository; a file already there is reused.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", REPO.parent / "shared" / "media"))
#: Frontal and close-up talking faces (A06, A13, A16 are 30 fps: resampled to 25).
CLIP_NAMES = (
    "A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4",
    "A04_frontal_man_mapbg_844p25_retalking2.mp4",
    "A05_frontal_woman_flagbg_590p25_retalking3.mp4",
    "A07_frontal_woman_glasses_524p25_retalking5.mp4",
    "A15_closeup_man_glasses_512p25_liveportrait_d12.mp4",
)
#: English speech.
DUB_NAMES = (
    "B01_en_hdtf_RD_Radio31_16k.wav",
    "B20_en_ad_16k_latentsync_demo1.wav",
    "B21_en_16k_20s_latentsync_demo2.wav",
    "B22_en_16k_19s_latentsync_demo3.wav",
    "B25_en_16k_geneface_zozo.wav",
    "B02_en_hdtf_RD_Radio34_16k.wav",
)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def _duration_sec(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def _concat_loop(parts: list[Path], seconds: float, out: Path, codec_args: list[str]) -> Path:
    """``parts`` concatenated in order, repeated, cut to ``seconds`` (written atomically)."""
    cycle = sum(_duration_sec(p) for p in parts)
    repeats = int(seconds // cycle) + 1
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p}'\n" for _ in range(repeats) for p in parts))
    tmp = out.with_name(f".{out.name}")
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-t", f"{seconds:.3f}",
            *codec_args, "-f", out.suffix.lstrip("."), str(tmp))  # fmt: skip
    tmp.rename(out)
    listing.unlink()
    return out


def long_clip(work: Path, seconds: float, height: int = 360) -> Path:
    """A ``seconds``-long clip of the shared faces at ``height`` p (16:9, padded), 25 fps."""
    out = work / f"long_{height}p_{seconds:g}s.mp4"
    if out.exists():
        return out
    parts_dir = work / f"parts_{height}p"
    parts_dir.mkdir(parents=True, exist_ok=True)
    width = (height * 16 // 9) // 2 * 2
    parts = []
    for name in CLIP_NAMES:
        part = parts_dir / f"{name[:3]}.mp4"
        if not part.exists():
            vf = (
                f"scale=-2:{height},pad={width}:{height}:(ow-iw)/2:0,setsar=1,fps=25,"
                "format=yuv420p"
            )
            _ffmpeg("-i", str(MEDIA / "video" / name), "-vf", vf, "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "18", "-g", "50", "-c:a", "aac", "-ar",
                    "48000", "-ac", "2", str(part))  # fmt: skip
        parts.append(part)
    # Stream copy: every part has the same codec settings, so the joins need no re-encode.
    return _concat_loop(parts, seconds, out, ["-c", "copy"])


def long_dub(work: Path, seconds: float) -> Path:
    """A ``seconds``-long dub of shared English speech (16 kHz mono WAV)."""
    out = work / f"dub_{seconds:g}s.wav"
    if out.exists():
        return out
    parts_dir = work / "dub_parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    parts = []
    for name in DUB_NAMES:
        part = parts_dir / f"{name[:3]}.wav"
        if not part.exists():
            _ffmpeg("-i", str(MEDIA / "audio" / name), "-ar", "16000", "-ac", "1", str(part))
        parts.append(part)
    return _concat_loop(parts, seconds, out, ["-c:a", "pcm_s16le"])
