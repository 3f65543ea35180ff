""" "auto" on shared clips whose own sound is not plain speech: A16 (music only), A13 (speech,
then music), A15 (tones under the speech).

Retime learns from the clip's mouth moving with its own speech; a face over music has none to
learn from, so "auto" must say so and use the one-shot engine, while speech with music after it
or with tones under it still counts as speech.
"""

from __future__ import annotations

import pytest

from lipcore.engines.registry import choose_engine
from lipcore.progress import drain


def _footage(clip):
    from lipcore.face.track import iter_track_faces
    from lipcore.media.audio import clip_audio
    from lipcore.render.footage import align_track, iter_source_footage

    tracks = drain(iter_track_faces(clip), show=False)
    assert tracks.tracks, f"no face found in {clip.name}"
    alignment = align_track(tracks.tracks[0], size=256)
    return drain(iter_source_footage(clip, alignment, clip_audio(clip, 16000)), show=False)


@pytest.mark.parametrize(
    ("prefix", "engine", "words"),
    [("A16", "oneshot", "music"), ("A13", "retime", "speaking"), ("A15", "retime", "speaking")],
)
def test_auto_tells_music_from_speech_on_real_clips(shared_media, tmp_path, prefix, engine, words):
    import subprocess

    # The first 6 s (A13's speech and the start of its music; face tracking stays quick)
    clip = tmp_path / f"{prefix}.mp4"
    source = next((shared_media / "video").glob(f"{prefix}_*.mp4"))
    cmd = ["ffmpeg", "-v", "error", "-i", str(source), "-t", "6", "-c:v", "libx264", "-crf", "12"]
    subprocess.run([*cmd, "-c:a", "aac", "-b:a", "192k", str(clip)], check=True)
    name, reason = choose_engine(_footage(clip))
    assert name == engine, reason
    assert words in reason
