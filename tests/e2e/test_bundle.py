"""The Linux desktop bundle (``packaging/build_bundle.sh``) starts offscreen, opens a real clip,
imports a dub and renders a segment through the editor's own queue; its ``lipsync`` command
reports its versions. Skipped when the bundle has not been built: building it takes minutes and
CI stays fast (set LIPSYNC_BUNDLE to test a bundle elsewhere)."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lipcore.media.decode import VideoReader
from lipcore.media.probe import probe

REPO = Path(__file__).resolve().parents[2]
BUNDLE = Path(os.environ.get("LIPSYNC_BUNDLE", REPO / "dist" / "lipsync-editor"))
EDITOR = BUNDLE / "lipsync-editor"

pytestmark = pytest.mark.skipif(
    not EDITOR.is_file(),
    reason=f"desktop bundle not built at {BUNDLE} (run packaging/build_bundle.sh)",
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        LIPSYNC_CACHE_DIR=str(tmp_path / "cache"),
        LIPSYNC_CONFIG_DIR=str(tmp_path / "config"),
    )
    return env


@pytest.fixture(scope="module")
def clip_and_dub(shared_media, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    clip, dub = folder / "clip.mp4", folder / "dub.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i",
         str(shared_media / "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"), "-t", "3.2",
         "-c:v", "libx264", "-crf", "12", "-c:a", "aac", str(clip)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(shared_media / "audio/B19_en_48k_retalking2.wav"),
         "-t", "3.2", str(dub)],
        check=True,
    )  # fmt: skip
    return clip, dub


def test_the_bundled_editor_renders_a_segment_offscreen(clip_and_dub, tmp_path):
    clip, dub = clip_and_dub
    proc = subprocess.run(
        [str(EDITOR), "--self-test", str(clip), str(dub)],
        capture_output=True, text=True, timeout=900, env=_env(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    result = json.loads(lines[-1])
    assert result["ok"], result
    out = Path(result["output"])
    assert probe(out).video.frame_count == probe(clip).video.frame_count == result["frames"]
    start, end = result["range"]
    inside, outside = [], []
    with VideoReader(clip) as a, VideoReader(out) as b:
        for (i, fa), (_, fb) in zip(a.iter_frames(), b.iter_frames(), strict=True):
            diff = float(np.abs(fa.astype(np.int16) - fb.astype(np.int16)).mean())
            (inside if start <= i < end else outside).append(diff)
    assert max(inside) > 0.3  # the mouth was re-synced inside the segment
    assert max(outside) < 1.5  # and the frames around it are the source's


def test_the_bundled_command_line_reports_its_versions(tmp_path):
    proc = subprocess.run(
        [str(BUNDLE / "lipsync"), "--version"],
        capture_output=True, text=True, timeout=300, env=_env(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for expected in ("PyTorch", "PySide6 (Qt)", "FFmpeg", "face_landmark_with_attention", "CPU"):
        assert expected in proc.stdout, expected
    assert "not installed" not in proc.stdout.split("Face models:")[0].split("PyTorch")[1][:40]


def test_the_bundle_has_a_desktop_entry_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(BUNDLE / "lipsync-editor.desktop")
    section = entry["Desktop Entry"]
    assert section["Exec"].split()[0] == "lipsync-editor"
    assert (BUNDLE / f"{section['Icon']}.svg").is_file()
    assert (BUNDLE / "install-desktop-entry.sh").is_file()
