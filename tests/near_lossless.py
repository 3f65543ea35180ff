"""A few frames of a shared clip cut near-lossless (x264 CRF 8), tracked and aligned.

Tests that compare fine mouth detail before and after a step (paste, cut, colour match) need
frames whose detail is the clip's, not a second encode's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from lipcore.face.select import choose_track
from lipcore.face.track import track_faces
from lipcore.face.types import FaceTrack
from lipcore.media.probe import ffmpeg_exe
from lipcore.render.footage import align_track
from lipcore.render.pipeline import PASTE_SIZE
from lipcore.render.request import FaceChoice


def near_lossless_cut(
    shared_media: Path, prefix: str, frames: int, out: Path, start_s: str | None = None
) -> Path:
    """The first ``frames`` frames (from ``start_s``) of shared video ``prefix``_*, no audio."""
    src = next((shared_media / "video").glob(f"{prefix}_*"))
    seek = ["-ss", start_s] if start_s is not None else []
    cmd = [ffmpeg_exe(), "-v", "error", *seek, "-i", str(src), "-frames:v", str(frames), "-an",
           "-c:v", "libx264", "-crf", "8", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True)
    return out


def tracked_and_aligned(clip: Path):
    """The clip's main face track and its alignment to :data:`PASTE_SIZE` crops."""
    track: FaceTrack = choose_track(track_faces(clip), FaceChoice())
    return track, align_track(track, PASTE_SIZE)
