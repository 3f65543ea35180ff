"""The render planner without Qt: requests per segment, export passes, the mix, recorded results.

The plan tests use the generated clip of the model fixtures; the last test renders a segment of a
real talking face through the planner and exports, and checks that the export re-used the
segment's chunk instead of rendering it again (and that the job kept the chunk store to its size
without touching that chunk).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from editor.model.document import Document
from editor.model.planner import RenderPlanner, iter_export, new_render_cache
from lipcore.errors import LipsyncError
from lipcore.render.mix import MIX_DUCK_GAIN, MixTrack, duck_db


def _doc(media, tmp_path) -> Document:
    d = Document.load(media / "template.lsproj", render_cache=new_render_cache(tmp_path / "r"))
    d.path = None
    return d


def test_segment_job_uses_the_project_request(media, tmp_path):
    doc = _doc(media, tmp_path)
    dub = next(t.id for t in doc.project.audio_tracks if not t.is_original)
    doc.set_track_offset(dub, 800)
    sid = doc.add_segment(5, 25, audio_track_id=dub)
    planner = RenderPlanner(doc, checkpoint=None)
    job = planner.segment_job(sid, tracks=None)
    assert job.segment_id == sid and job.params_hash == doc.params_hash(sid)
    req = job.request
    assert req.video == media / "clip.mp4" and req.audio == media / "dub.wav"
    assert req.audio_offset_samples == 800
    assert [(s.start_frame, s.end_frame) for s in req.segments] == [(5, 25)]
    assert req == doc.project.render_request([sid], req.output, audio_mix="dub", crf=12)

    none = doc.add_segment(30, 40)
    doc.set_segment_options(none, audio_track_id=None)
    with pytest.raises(LipsyncError, match="no dub track"):
        planner.segment_job(none, tracks=None)


def test_export_groups_passes_and_builds_the_mix(media, tmp_path):
    doc = _doc(media, tmp_path)
    dub = next(t.id for t in doc.project.audio_tracks if not t.is_original)
    other = doc.add_audio_track(media / "dub2.wav", name="Second")
    muted = doc.add_audio_track(media / "dub.wav", name="Muted")
    doc.set_track_gain(other, -6.0)
    doc.set_mute(muted, True)
    doc.add_segment(0, 10, audio_track_id=dub, face_track_id="face-0")
    doc.add_segment(12, 20, audio_track_id=dub, face_track_id="face-0")
    doc.add_segment(22, 30, audio_track_id=other, face_track_id="face-1")
    planner = RenderPlanner(doc)
    out = tmp_path / "out.mp4"

    plan = planner.export_plan(out, "dub")
    assert len(plan.passes) == 2  # (dub, face-0) with two segments, (second, face-1)
    assert [len(p.segments) for p in plan.passes] == [2, 1]
    assert {p.face.track_id for p in plan.passes} == {"face-0", "face-1"}
    assert all(p.audio_mix == "dub" and p.output == out for p in plan.passes)
    assert plan.mix == (
        MixTrack(media / "dub.wav", 0, 0.0),
        MixTrack(media / "dub2.wav", 0, -6.0),
    )  # the muted track is not heard
    assert plan.total_samples == 50 * 48000 // 25 and not plan.silent

    mixed = planner.export_plan(out, "mix")
    assert mixed.mix[-1] == MixTrack(None, 0, duck_db(MIX_DUCK_GAIN))  # the ducked original
    original = next(t.id for t in doc.project.audio_tracks if t.is_original)
    doc.set_mute(original, True)
    assert planner.export_plan(out, "mix").mix == plan.mix  # a muted original stays silent
    # The preview hears the same tracks through the same mixer (original at its own level).
    doc.set_mute(original, False)
    assert planner.mix_tracks("mix")[0] == MixTrack(None, 0, 0.0)


def test_export_without_dub_segments_is_refused(media, tmp_path):
    doc = _doc(media, tmp_path)
    planner = RenderPlanner(doc)
    assert planner.exportable_segments() == []
    with pytest.raises(LipsyncError, match="dub track"):
        planner.export_plan(tmp_path / "x.mp4")


def test_a_rendered_segment_is_recorded_and_not_rendered_again_by_the_export(
    shared_media, tmp_path
):
    from lipcore.face.track import track_faces
    from lipcore.media.probe import probe
    from lipcore.progress import drain
    from lipcore.render.chunks import CHUNK_SUFFIX, chunk_root

    clip = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i",
         str(shared_media / "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"),
         "-t", "4", "-vf", "scale=256:256", "-c:v", "libx264", "-crf", "16", "-preset",
         "veryfast", "-g", "12", "-c:a", "aac", str(clip)],
        check=True,
    )  # fmt: skip
    doc = Document(render_cache=new_render_cache(tmp_path / "renders"))
    doc.open_video(clip)
    dub = doc.add_audio_track(shared_media / "audio/B19_en_48k_retalking2.wav", name="Dub")
    sid = doc.add_segment(20, 60, audio_track_id=dub)
    tracks = track_faces(clip)
    # A store over its size: an old chunk of another project goes once a new chunk is written;
    # the one just rendered stays (and the export below reuses it).
    planner = RenderPlanner(doc, chunk_cache_bytes=1)
    old = chunk_root() / f"from-an-old-project{CHUNK_SUFFIX}"
    old.write_bytes(b"\0" * 4096)
    os.utime(old, (time.time() - 7200,) * 2)

    job = planner.segment_job(sid, tracks)
    result = drain(job.run(), show=False)
    assert result.rendered_segments == 1
    assert not old.exists() and Path(result.output).is_file()
    stored = planner.record_segment(sid, job.params_hash, result)
    assert stored == doc.render_cache.path_for(job.params_hash) and stored.exists()
    assert doc.segment(sid).render.status == "done"
    assert Path(doc.segment(sid).render.output_path) == stored
    # The same render recorded again (a re-render that the cache answers, after an undo) keeps
    # the one stored file and leaves no temporary link in the render cache.
    assert planner.record_segment(sid, job.params_hash, result) == stored
    assert planner.record_segment(sid, job.params_hash, result) == stored
    assert not [p.name for p in stored.parent.iterdir() if p.name.endswith(".tmp")]

    plan = planner.export_plan(tmp_path / "export.mp4", "dub")
    stages: list[str] = []
    gen = iter_export(plan, tracks, planner.warm)
    try:
        while True:
            stages.append(next(gen).stage)
    except StopIteration as stop:
        exported = stop.value
    assert exported.rendered_segments == 0 and not any("rendering" in s for s in stages)
    info = probe(tmp_path / "export.mp4")
    assert info.video.frame_count == doc.project.frame_count and info.audio is not None
    assert np.isclose(float(info.video.fps), 25.0)

    # A warm re-render (the segment edited) decodes only the segment's own pictures, from the
    # keyframe before it (one every 12 frames), not the clip: its cost follows the segment.
    from lipcore.media.decode import VideoReader

    decoded: list[int] = []
    close = VideoReader.close

    def counting_close(reader):
        if not reader._closed:
            decoded.append(reader.decoded_pictures)
        close(reader)

    doc.set_segment_options(sid, mouth_strength=0.6)
    job = planner.segment_job(sid, tracks)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(VideoReader, "close", counting_close)
        again = drain(job.run(), show=False)
    assert again.rendered_segments == 1 and Path(again.output) != Path(result.output)
    assert 40 <= sum(decoded) <= (60 - 12) + 8 < doc.project.frame_count  # 100 frames
