"""Fixtures for the media tests: synthetic barcoded clips (made once) and the shared real clips."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from media_clips import SHARED_CLIPS, ffmpeg, make_coded_clip, make_vfr_clip


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Synthetic test clips, made once per session (about 2 s of ffmpeg on 2 cores)."""
    root = tmp_path_factory.mktemp("media_clips")
    out: dict[str, Path] = {}
    out["cfr25"] = make_coded_clip(root / "cfr25.mp4", 100, "25", tone_hz=440)
    out["ntsc"] = make_coded_clip(root / "ntsc.mp4", 90, "30000/1001", gop=30)
    # One keyframe for 6 s, B-frames: seeks fast-forward (skipping unreferenced pictures).
    out["longgop"] = make_coded_clip(root / "longgop.mp4", 150, "25", gop=300)
    out["odd"] = make_coded_clip(root / "odd.mp4", 30, "25", size=(321, 241), pix_fmt="yuv444p")
    out["tenbit"] = make_coded_clip(
        root / "tenbit.mp4", 30, "24", pix_fmt="yuv420p10le", out_args=["-profile:v", "high10"]
    )
    # VFR: 30 fps nominal with jittered timestamps and dropped frames (every 4th frame lasts 2/30).
    times: list[Fraction] = []
    t = Fraction(0)
    for i in range(80):
        times.append(t + (Fraction(1, 300) if i % 3 == 1 else 0))
        t += Fraction(2, 30) if i % 4 == 3 else Fraction(1, 30)
    out["vfr"] = make_vfr_clip(root / "vfr.mp4", times)
    out["vfr_times"] = times  # type: ignore[assignment]
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:d=1.5", "-ac", "2",
        str(root / "tone48k.wav"),
    )  # fmt: skip
    out["wav48k"] = root / "tone48k.wav"
    ffmpeg("-i", str(out["cfr25"]), "-map", "0:v", "-c", "copy", str(root / "video_only.mp4"))
    out["video_only"] = root / "video_only.mp4"
    ffmpeg("-i", str(out["cfr25"]), "-map", "0:a", "-c", "copy", str(root / "audio_only.m4a"))
    out["audio_only"] = root / "audio_only.m4a"
    (root / "empty.mp4").write_bytes(b"")
    out["empty"] = root / "empty.mp4"
    (root / "notes.mp4").write_text("this is a text file, not a video\n" * 20)
    out["text"] = root / "notes.mp4"
    return out


@pytest.fixture(scope="session")
def shared_clip(shared_media):
    """Look up a shared real clip by its short id (A01, A10, A11, H01, B01...)."""

    def get(key: str) -> Path:
        path = shared_media / SHARED_CLIPS[key]
        if not path.exists():
            pytest.fail(f"shared clip {key} missing at {path}")
        return path

    return get
