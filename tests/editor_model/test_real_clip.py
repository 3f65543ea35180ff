"""The model on a real shared clip: open, import a dub, segments from its speech, save, reopen."""

from __future__ import annotations

import json

from editor.model.document import Document
from lipcore.project import SAMPLE_RATE_HZ, load_project

CLIP = "video/A14_closeup_child_512p25_liveportrait_d11.mp4"
DUB = "audio/B02_en_hdtf_RD_Radio34_16k.wav"  # 8 s of talk with three pauses


def test_real_clip_speech_segments_save_reopen(shared_media, tmp_path):
    from lipcore.audio.vad import speech_ranges
    from lipcore.media.audio import load_audio

    doc = Document()
    doc.open_video(shared_media / CLIP)
    p = doc.project
    assert (p.fps, p.width, p.height) == (25, 512, 512)
    assert p.frame_count == 225  # 9.0 s at 25 fps
    assert [t.name for t in p.audio_tracks] == ["Original"]

    # the dub starts 0.5 s into the clip
    dub = doc.add_audio_track(shared_media / DUB, name="English dub", offset_samples=8000)
    track = doc.project.track(dub)
    assert abs(track.duration_samples - 8 * SAMPLE_RATE_HZ) <= SAMPLE_RATE_HZ // 100

    # what the worker does: VAD over the dub, placed on the timeline through the track
    audio = load_audio(shared_media / DUB, SAMPLE_RATE_HZ)
    ranges = [doc.track_samples_to_frames(dub, a, b) for a, b in speech_ranges(audio)]
    ids = doc.segments_from_speech(dub, ranges, pad_frames=1)
    segs = sorted((doc.project.segment(i) for i in ids), key=lambda s: s.start_frame)
    assert segs, "no speech found in a speech recording"
    assert all(0 <= s.start_frame < s.end_frame <= 225 for s in segs)
    assert all(a.end_frame <= b.start_frame for a, b in zip(segs, segs[1:], strict=False))
    speech_frames = sum(s.duration_frames for s in segs)
    assert len(segs) == 4  # the three pauses (0.48, 0.24, 0.12 s) cut the talk
    assert segs[0].start_frame == 11  # speech at 0.0 s of the dub = 0.5 s = frame 12.5, padded
    assert 150 <= speech_frames <= 210  # about 7 s of the 8 s is speech
    assert doc.undo_log.undo_text == "Segments from speech"

    # nudge the dub by 3 frames: one undo step, and every segment it drives needs a new render
    for _ in range(3):
        doc.nudge_track(dub, 1)
    assert doc.project.track(dub).offset_samples == 8000 + 3 * 640
    assert len(doc.stale_segments()) == len(segs)

    (tmp_path / "project").mkdir()
    path = doc.save(tmp_path / "project" / "child.lsproj")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert not data["video"]["path"].startswith("/")  # stored relative to the project
    again = load_project(path)
    assert again == doc.project
    assert again.video.path == shared_media / CLIP and again.video.exists()

    req = again.render_request([segs[0].id], tmp_path / "seg.mp4")
    assert req.audio == shared_media / DUB and req.audio_offset_samples == 8000 + 3 * 640
    assert req.segments[0].start_frame == segs[0].start_frame
    print(
        f"{len(segs)} speech segments, {speech_frames} of 200 dub frames:",
        [(s.start_frame, s.end_frame) for s in segs],
    )
