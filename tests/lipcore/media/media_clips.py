"""Synthetic clip makers for the media tests: every frame carries its own index as a barcode.

The barcode is a row of black/white blocks across the top of the frame (bit 0 leftmost), large
enough to survive lossy coding, so a test can read back which source frame a decoder returned.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

N_BITS = 10
SHARED_CLIPS = {
    "A01": "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4",
    "A10": "video/A10_vertical_1080x1920_hevc_30fps_man_seated_latentsync_demo3.mp4",
    "A11": "video/A11_facecrop_256p30_noaudio_iplap_129.mp4",
    "H01": "video/H01_multiface_profile_lowlight_cuts_640x360_hamilton_facerecognition.mp4",
    "B01": "audio/B01_en_hdtf_RD_Radio31_16k.wav",
    "B24": "audio/B24_en_abstract_48k_33s_iplap.mp3",
    "B09": "audio/B09_de_deyu_48k_s24.wav",
}


def coded_frame(index: int, width: int, height: int) -> np.ndarray:
    """BGR frame whose top band encodes ``index`` in binary; a red marker sits bottom-left."""
    frame = np.full((height, width, 3), 96, np.uint8)
    block_w = width // N_BITS
    band_h = max(8, height // 4)
    for bit in range(N_BITS):
        if (index >> bit) & 1:
            frame[:band_h, bit * block_w : (bit + 1) * block_w] = 255
        else:
            frame[:band_h, bit * block_w : (bit + 1) * block_w] = 0
    # An orientation marker (coded bottom-left corner) for the rotation tests.
    frame[height - height // 5 :, : width // 5] = (0, 0, 255)
    return frame


def read_code(frame: np.ndarray) -> int:
    """Index encoded by :func:`coded_frame` (frame must be in coded orientation)."""
    height, width = frame.shape[:2]
    block_w = width // N_BITS
    band_h = max(8, height // 4)
    value = 0
    for bit in range(N_BITS):
        block = frame[2 : band_h - 2, bit * block_w + 2 : (bit + 1) * block_w - 2]
        if block.mean() > 128:
            value |= 1 << bit
    return value


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; fail the test with its message on error."""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.fail(f"ffmpeg {' '.join(args)} failed: {proc.stderr}")


def make_coded_clip(
    path: Path,
    n_frames: int,
    fps: str = "25",
    size: tuple[int, int] = (320, 240),
    pix_fmt: str = "yuv420p",
    codec: str = "libx264",
    gop: int = 12,
    out_args: Sequence[str] = (),
    tone_hz: float | None = None,
) -> Path:
    """Encode ``n_frames`` barcoded frames at an exact ``fps`` (optionally with a sine tone)."""
    width, height = size
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", fps, "-i", "-",
    ]  # fmt: skip
    if tone_hz is not None:
        duration = float(n_frames / Fraction(fps))
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=44100:d={duration}"]
        cmd += ["-c:a", "aac", "-shortest"]
    cmd += ["-c:v", codec, "-pix_fmt", pix_fmt, "-g", str(gop)]
    if codec == "libx264":
        cmd += ["-preset", "ultrafast", "-crf", "18", "-bf", "2"]
    cmd += [*out_args, str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(n_frames):
        proc.stdin.write(coded_frame(i, width, height).tobytes())
    proc.stdin.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.wait() != 0:
        pytest.fail(f"making {path.name} failed: {err}")
    return path


def make_vfr_clip(path: Path, times_sec: Sequence[Fraction], size=(320, 240)) -> Path:
    """Encode barcoded frames ``0..len(times)-1`` at the given presentation times (PyAV)."""
    import av

    width, height = size
    time_base = Fraction(1, 90000)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = time_base
        # The encoder's own time base must be as fine, or the jitter is rounded away.
        stream.codec_context.time_base = time_base
        stream.options = {"crf": "18", "preset": "ultrafast", "g": "10"}
        for i, t in enumerate(times_sec):
            frame = av.VideoFrame.from_ndarray(coded_frame(i, width, height), format="bgr24")
            frame.pts = int(t / time_base)
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
