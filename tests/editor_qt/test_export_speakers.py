"""Export of a two-speaker project: each face driven by its own dub track, one finished video.

The clip is two real frontal speakers side by side (A05 | A07, first 3 s). The project gives
each face its own dub track, sets a gain and an offset on one of them and mutes a third; the
export (in "mix" mode) must re-sync both mouths in their segments and carry exactly the audible
tracks' mix over the ducked original.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

FRAMES = 75
SEG_LEFT = (10, 45)
SEG_RIGHT = (40, 70)
RIGHT_OFFSET_SAMPLES = 8000  # 0.5 s at 16 kHz
RIGHT_GAIN_DB = -6.0


@pytest.fixture(scope="module")
def two_face_clip(shared_media, tmp_path_factory) -> Path:
    """Side-by-side clip of two frontal speakers (320x320 each) with the left one's audio."""
    left = next((shared_media / "video").glob("A05_*.mp4"))
    right = next((shared_media / "video").glob("A07_*.mp4"))
    out = tmp_path_factory.mktemp("clips") / "two_faces.mp4"
    graph = (
        f"[0:v]trim=end_frame={FRAMES},setpts=PTS-STARTPTS,scale=320:320[a];"
        f"[1:v]trim=end_frame={FRAMES},setpts=PTS-STARTPTS,scale=320:320[b];"
        f"[a][b]hstack=inputs=2[v];[0:a]atrim=end={FRAMES / 25},asetpts=PTS-STARTPTS[au]"
    )
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(left), "-i", str(right),
         "-filter_complex", graph, "-map", "[v]", "-map", "[au]", "-c:v", "libx264",
         "-crf", "14", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-r", "25", "-c:a", "aac",
         str(out)],
        check=True,
    )  # fmt: skip
    return out


def _mouth_diffs(track, pairs, segment) -> tuple[float, float]:
    inside, outside = [], []
    for i, (fa, fb) in enumerate(pairs):
        row = track.index_of(i)
        if row is None:
            continue
        x0, y0, x1, y1 = track.boxes[row]
        w, h = x1 - x0, y1 - y0
        ys, xs = slice(int(y0 + 0.62 * h), int(y1)), slice(int(x0 + 0.2 * w), int(x1 - 0.2 * w))
        diff = np.abs(fa[ys, xs].astype(np.int16) - fb[ys, xs].astype(np.int16)).mean()
        (inside if segment[0] <= i < segment[1] else outside).append(diff)
    return float(np.mean(inside)), float(np.mean(outside))


def test_two_speakers_export_with_their_own_dubs_and_the_mix(
    make_window, two_face_clip, shared_media, qtbot, tmp_path
):
    from lipcore.media.audio import clip_audio
    from lipcore.media.decode import VideoReader
    from lipcore.media.probe import probe
    from lipcore.render.multi import MixTrack, mix_audio_tracks
    from lipcore.render.pipeline import MIX_DUCK_GAIN

    w = make_window()
    assert w.open_video(two_face_clip)
    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    assert len(w.trackset.tracks) >= 2
    left, right = sorted(w.trackset.tracks, key=lambda t: float(np.mean(t.boxes[:, 0])))[:2]

    audio = shared_media / "audio"
    dub_left = next(audio.glob("B19_*.wav"))
    dub_right = next(audio.glob("B01_*.wav"))
    muted = next(audio.glob("B02_*.wav"))
    doc = w.document
    t_left = w.import_audio(dub_left)
    t_right = w.import_audio(dub_right)
    t_muted = w.import_audio(muted)
    doc.set_track_face(t_left, left.track_id)
    doc.set_track_face(t_right, right.track_id)
    doc.set_track_offset(t_right, RIGHT_OFFSET_SAMPLES)
    doc.set_track_gain(t_right, RIGHT_GAIN_DB)
    doc.set_mute(t_muted, True)
    doc.add_segment(*SEG_LEFT, audio_track_id=t_left, face_track_id=left.track_id)
    doc.add_segment(*SEG_RIGHT, audio_track_id=t_right, face_track_id=right.track_id)

    out_dir = tmp_path / "export"
    out_dir.mkdir()
    out = out_dir / "two_speakers.mp4"
    stages: list[str] = []
    w.render_queue.job_progressed.connect(lambda key, p: stages.append(p.stage))
    with qtbot.waitSignal(w.export_finished, timeout=240000) as exported:
        assert w.export(out, "mp4_h264_aac", "mix")
    assert exported.args[0] == out
    assert any(s.startswith("speaker 2/2") for s in stages), "one pass per speaker"
    assert sorted(p.name for p in out_dir.iterdir()) == [out.name]  # no temp file left

    src, got = probe(two_face_clip), probe(out)
    assert (got.video.width, got.video.height) == (src.video.width, src.video.height)
    assert got.video.fps == src.video.fps and got.video.frame_count == FRAMES

    with VideoReader(two_face_clip) as a, VideoReader(out) as b:
        pairs = [
            (fa, fb) for (_, fa), (_, fb) in zip(a.iter_frames(), b.iter_frames(), strict=True)
        ]
    for track, segment in ((left, SEG_LEFT), (right, SEG_RIGHT)):
        inside, outside = _mouth_diffs(track, pairs, segment)
        assert inside > 1.6 * outside, (track.track_id, inside, outside)

    # The sound is the audible dubs (gain and offset applied, the muted one left out) over the
    # ducked original.
    expected = mix_audio_tracks(
        [MixTrack(dub_left), MixTrack(dub_right, RIGHT_OFFSET_SAMPLES, RIGHT_GAIN_DB)],
        FRAMES * 48000 // 25,
        original=two_face_clip,
        original_gain=MIX_DUCK_GAIN,
    )
    with_muted = mix_audio_tracks([MixTrack(dub_left), MixTrack(muted)], len(expected))
    heard = clip_audio(out, 48000)
    n = min(len(heard), len(expected))
    corr = float(np.corrcoef(heard[:n], expected[:n])[0, 1])
    assert corr > 0.95, corr
    assert corr > float(np.corrcoef(heard[:n], with_muted[:n])[0, 1]) + 0.05
