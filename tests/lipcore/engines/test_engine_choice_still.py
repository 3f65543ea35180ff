"""What ``--engine auto`` says for a still image: that it is one, not that "the footage has no
audio" (true, but not what a user who gave a portrait needs to read)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lipcore.engines.registry import choose_engine
from lipcore.progress import drain


def test_a_still_is_named_as_the_reason_for_the_oneshot_engine(shared_media, tmp_path):
    from lipcore.face.track import iter_track_faces
    from lipcore.render.footage import align_track, iter_source_footage

    png = tmp_path / "portrait.png"
    clip = next((shared_media / "video").glob("A04_*.mp4"))
    cmd = ["ffmpeg", "-v", "error", "-ss", "2.2", "-i", str(clip), "-frames:v", "1", str(png)]
    subprocess.run(cmd, check=True)
    tracks = drain(iter_track_faces(png), show=False)
    footage = drain(iter_source_footage(png, align_track(tracks.tracks[0], size=256), None), False)
    assert len(footage.frames) == 1
    name, reason = choose_engine(footage)
    assert name == "oneshot" and reason.startswith("a still image"), reason
    # A checkpoint still wins: the user asked for the neural engine
    assert choose_engine(footage, checkpoint=Path("w.pth"))[0] == "wav2lip"
