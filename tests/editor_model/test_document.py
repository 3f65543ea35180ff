"""Document edits: every command round-trips do/undo/redo, overlap rules, stale marking, events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editor.model.document import Document
from editor.model.errors import EditError
from editor.model.jobs import RenderCache
from lipcore.project import SAMPLE_RATE_HZ, FaceTracksRef, dumps_project


def state(doc: Document) -> dict:
    """The whole project as saved (absolute paths), to compare states exactly."""
    return json.loads(dumps_project(doc.project, None))


def dub(doc: Document) -> str:
    return next(t.id for t in doc.project.audio_tracks if not t.is_original)


def original(doc: Document) -> str:
    return next(t.id for t in doc.project.audio_tracks if t.is_original)


def roundtrip(doc: Document, edit, label: str | None = None):
    """Apply ``edit``, then check undo restores the state before and redo the state after."""
    before = state(doc)
    result = edit()
    after = state(doc)
    assert after != before, "the edit changed nothing"
    if label is not None:
        assert doc.undo_log.undo_text == label
    doc.undo()
    assert state(doc) == before
    doc.redo()
    assert state(doc) == after
    return result


def test_open_video_reads_clip_and_adds_original_track(media):
    doc = Document()
    roundtrip(doc, lambda: doc.open_video(media / "clip.mp4"), "Open clip")
    p = doc.project
    assert (p.fps, p.frame_count, p.width, p.height) == (25, 50, 64, 48)
    assert p.video_has_audio and p.video.path == media / "clip.mp4"
    assert [t.name for t in p.audio_tracks] == ["Original"]
    assert p.audio_tracks[0].duration_samples == pytest.approx(2 * SAMPLE_RATE_HZ, rel=0.02)


def test_open_video_refuses_audio_only(media):
    from lipcore.errors import MediaError

    doc = Document()
    with pytest.raises(MediaError, match="dub.wav"):
        doc.open_video(media / "dub.wav")
    assert doc.project.video is None and not doc.undo_log.can_undo


def test_track_commands_roundtrip(doc, media):
    t = roundtrip(
        doc, lambda: doc.add_audio_track(media / "dub2.wav", offset_samples=800), "Import audio"
    )
    track = doc.project.track(t)
    assert track.name == "dub2" and track.offset_samples == 800
    assert track.duration_samples == SAMPLE_RATE_HZ  # 1 s at 22.05 kHz -> 16 kHz samples
    roundtrip(doc, lambda: doc.set_track_offset(t, -1600), "Move track")
    roundtrip(doc, lambda: doc.set_mute(t, True), "Mute track")
    roundtrip(doc, lambda: doc.set_solo(t, True), "Solo track")
    roundtrip(doc, lambda: doc.set_track_gain(t, -6.0), "Track gain")
    roundtrip(doc, lambda: doc.rename_track(t, "Spanish"), "Rename track")
    roundtrip(doc, lambda: doc.set_track_face(t, "face-1"), "Assign face")
    roundtrip(doc, lambda: doc.remove_audio_track(t), "Remove track")


def test_remove_track_unlinks_its_segments_and_undo_relinks(doc):
    s = doc.add_segment(0, 10)
    assert doc.project.segment(s).audio_track_id == dub(doc)
    track = dub(doc)
    roundtrip(doc, lambda: doc.remove_audio_track(track))
    assert doc.project.segment(s).audio_track_id is None
    doc.undo()
    assert doc.project.segment(s).audio_track_id == track


def test_consecutive_nudges_merge_into_one_step(doc):
    t = dub(doc)
    for _ in range(5):
        doc.nudge_track(t, 1)
    assert doc.project.track(t).offset_samples == 5 * 640  # 16000 / 25 samples per frame
    doc.nudge_track(t, -2)
    assert doc.project.track(t).offset_samples == 3 * 640
    assert doc.undo_log.undo_text == "Move track"
    doc.undo()
    assert doc.project.track(t).offset_samples == 0
    assert not doc.undo_log.can_undo  # all nudges were one step


def test_seal_separates_drags(doc):
    t = dub(doc)
    doc.set_track_offset(t, 100)
    doc.set_track_offset(t, 200)
    doc.seal()
    doc.set_track_offset(t, 300)
    doc.undo()
    assert doc.project.track(t).offset_samples == 200
    doc.undo()
    assert doc.project.track(t).offset_samples == 0


def test_segment_commands_roundtrip(doc):
    s = roundtrip(doc, lambda: doc.add_segment(10, 30), "Add segment")
    right = roundtrip(doc, lambda: doc.split_segment(s, 20), "Split segment")
    assert (doc.project.segment(s).end_frame, doc.project.segment(right).start_frame) == (20, 20)
    roundtrip(doc, lambda: doc.trim_segment(right, 22, 28), "Trim segment")
    roundtrip(doc, lambda: doc.move_segment(right, 21), "Move segment")
    roundtrip(doc, lambda: doc.move_segment(right, 22), "Move segment")
    kept = roundtrip(doc, lambda: doc.merge_segments([right, s]), "Merge segments")
    assert kept == s and (
        doc.project.segment(s).start_frame,
        doc.project.segment(s).end_frame,
    ) == (10, 28)
    roundtrip(
        doc,
        lambda: doc.set_segment_options(s, mouth_strength=0.6, feather_px=20),
        "Segment options",
    )
    roundtrip(doc, lambda: doc.set_segment_options(s, engine="wav2lip", label="hello"))
    roundtrip(doc, lambda: doc.delete_segments([s]), "Delete segment")
    assert doc.project.segments == []


def test_project_level_commands_roundtrip(doc, tmp_path):
    roundtrip(
        doc,
        lambda: doc.set_face_tracks(FaceTracksRef("abc", "mediapipe", ["face-0"])),
        "Track faces",
    )
    roundtrip(
        doc,
        lambda: doc.set_export(
            preset="mov_prores_pcm", audio_mix="mix", output_path=tmp_path / "out.mov"
        ),
        "Export settings",
    )


def test_segments_never_overlap_on_one_face(doc):
    a = doc.add_segment(10, 20)
    # drag-create into a neighbour clamps to the free gap
    b = doc.add_segment(20, 40, clamp=True)
    c = doc.add_segment(0, 15)
    assert (doc.project.segment(c).start_frame, doc.project.segment(c).end_frame) == (0, 10)
    assert doc.project.segment(b).start_frame == 20
    with pytest.raises(EditError, match="overlap"):
        doc.add_segment(15, 18)
    with pytest.raises(EditError, match="overlap"):
        doc.add_segment(40, 45, clamp=False) and doc.add_segment(44, 48, clamp=False)
    # another face may use the same frames
    other = doc.add_segment(10, 20, face_track_id="face-1")
    assert other
    # trimming stops at neighbours, never jumps over them
    doc.trim_segment(a, 5, 35)
    assert (doc.project.segment(a).start_frame, doc.project.segment(a).end_frame) == (10, 20)
    # ranges are clamped to the clip
    d = doc.add_segment(45, 500)
    assert doc.project.segment(d).end_frame == 50
    with pytest.raises(EditError, match="outside the clip"):
        doc.add_segment(60, 70)
    with pytest.raises(EditError, match="end > start"):
        doc.add_segment(5, 5)


def test_moving_segment_to_busy_face_is_refused(doc):
    doc.add_segment(10, 20, face_track_id="face-1")
    s = doc.add_segment(15, 25)
    with pytest.raises(EditError, match="face-1"):
        doc.set_segment_options(s, face_track_id="face-1")
    assert doc.project.segment(s).face_track_id is None


def test_auto_face_is_the_main_face_lane(doc):
    doc.set_face_tracks(FaceTracksRef("k", "", ["face-0", "face-1"]))
    doc.add_segment(10, 20, face_track_id="face-0")
    with pytest.raises(EditError):
        doc.add_segment(12, 18, face_track_id=None)  # None = face-0 here
    assert doc.add_segment(12, 18, face_track_id="face-1")


def test_merge_refuses_other_face_and_gaps_with_segments(doc):
    a = doc.add_segment(0, 10)
    b = doc.add_segment(10, 20)
    c = doc.add_segment(30, 40)
    f = doc.add_segment(0, 10, face_track_id="face-1")
    with pytest.raises(EditError, match="same face"):
        doc.merge_segments([a, f])
    with pytest.raises(EditError, match="between"):
        doc.merge_segments([a, c])
    with pytest.raises(EditError, match="at least two"):
        doc.merge_segments([a])
    assert doc.merge_segments([b, c]) == b
    assert doc.project.segment(b).end_frame == 40


def test_split_outside_and_bad_options_are_refused(doc):
    s = doc.add_segment(10, 20)
    for frame in (10, 20, 25):
        with pytest.raises(EditError, match="not inside"):
            doc.split_segment(s, frame)
    with pytest.raises(EditError, match="mouth_strength"):
        doc.set_segment_options(s, mouth_strength=5.0)
    with pytest.raises(EditError, match="reference"):
        doc.set_segment_options(s, reference="other")
    with pytest.raises(EditError, match="unknown"):
        doc.set_segment_options(s, colour="red")
    with pytest.raises(EditError, match="whole number"):
        doc.add_segment(1.5, 4)
    assert doc.undo_log.undo_text == "Add segment"


def test_option_change_marks_render_stale_and_undo_restores_done(doc, tmp_path):
    s = doc.add_segment(10, 20)
    out = tmp_path / "seg.mp4"
    out.write_bytes(b"rendered")
    h = doc.params_hash(s)
    doc.mark_rendered(s, out, h)
    assert doc.project.segment(s).render.status == "done" and doc.stale_segments() == []
    events = []
    doc.changed.append(lambda e, p: events.append((e, p)))
    doc.set_segment_options(s, mouth_strength=0.5)
    assert doc.project.segment(s).render.status == "stale"
    assert ("render_state_changed", {"id": s, "status": "stale"}) in events
    assert [x.id for x in doc.stale_segments()] == [s]
    doc.undo()
    assert doc.project.segment(s).render.status == "done"
    # label and mute are not render parameters
    doc.set_segment_options(s, label="hi")
    doc.set_mute(dub(doc), True)
    assert doc.project.segment(s).render.status == "done"
    # moving the driving track changes the audio under the mouth: stale
    doc.set_track_offset(dub(doc), 640)
    assert doc.project.segment(s).render.status == "stale"


def test_render_finished_after_edit_stays_stale(doc, tmp_path):
    s = doc.add_segment(10, 20)
    h_old = doc.params_hash(s)
    doc.set_segment_options(s, feather_px=3)  # the user edits while the job runs
    out = tmp_path / "seg.mp4"
    out.write_bytes(b"x")
    doc.mark_rendered(s, out, h_old)
    assert doc.project.segment(s).render.status == "stale"


def test_render_cache_brings_back_earlier_results(media, tmp_path):
    cache = RenderCache(tmp_path / "renders")
    doc = Document(render_cache=cache)
    doc.open_video(media / "clip.mp4")
    s = doc.add_segment(0, 10)
    h1 = doc.params_hash(s)
    produced = tmp_path / "job.mp4"
    produced.write_bytes(b"first")
    doc.mark_rendered(s, cache.store(h1, produced), h1)
    doc.set_segment_options(s, mouth_strength=0.3)
    assert doc.project.segment(s).render.status == "stale"
    doc.set_segment_options(s, mouth_strength=1.0)  # back to the rendered params, not via undo
    r = doc.project.segment(s).render
    assert r.status == "done" and Path(r.output_path).read_bytes() == b"first"


def test_mark_failed_and_dirty(doc):
    s = doc.add_segment(0, 5)
    doc.save(doc.project.video.path.parent / "p.lsproj")
    assert not doc.dirty
    events = []
    doc.changed.append(lambda e, p: events.append((e, p)))
    doc.mark_failed(s, "no face in frames 0-4")
    r = doc.project.segment(s).render
    assert (r.status, r.message) == ("failed", "no face in frames 0-4")
    assert doc.dirty and ("dirty_changed", {"dirty": True}) in events
    assert not doc.undo_log.can_undo or doc.undo_log.undo_text != "Render"
    assert [x.id for x in doc.stale_segments()] == [s]


def test_segments_from_speech(doc):
    t = dub(doc)
    existing = doc.add_segment(20, 25)
    ids = roundtrip(
        doc,
        lambda: doc.segments_from_speech(t, [(2, 8), (9, 12), (18, 30), (45, 60)], pad_frames=1),
        "Segments from speech",
    )
    got = [(doc.project.segment(i).start_frame, doc.project.segment(i).end_frame) for i in ids]
    # (2,8)+(9,12) padded touch -> one; (18,30) padded keeps clear of the existing 20-25;
    # (45,60) is clamped to the 50-frame clip
    assert got == [(1, 13), (17, 20), (25, 31), (44, 50)]
    assert all(doc.project.segment(i).audio_track_id == t for i in ids)
    assert doc.project.segment(existing).start_frame == 20


def test_track_samples_to_frames_applies_offset(doc):
    t = dub(doc)
    doc.set_track_offset(t, 640 * 10)  # 10 frames later
    assert doc.track_samples_to_frames(t, 0, 16000) == (10, 35)
    assert doc.track_samples_to_frames(t, 100, 700) == (10, 12)


def test_segments_from_srt(doc, tmp_path):
    srt_file = tmp_path / "dub.srt"
    srt_file.write_text(
        "\ufeff1\n00:00:00,100 --> 00:00:00,500\nHola\n\n"
        "2\n00:00:00,800 --> 00:00:01,210\nqué tal\nestás\n\n"
        "3\n00:00:05,000 --> 00:00:06,000\nafter the clip\n",
        encoding="utf-8",
    )
    ids = roundtrip(doc, lambda: doc.segments_from_srt(srt_file), "Segments from subtitles")
    segs = [doc.project.segment(i) for i in ids]
    assert [(s.start_frame, s.end_frame, s.label) for s in segs] == [
        (2, 13, "Hola"),
        (20, 31, "qué tal estás"),
    ]
    bad = tmp_path / "bad.srt"
    bad.write_text("1\nnot a time\nx\n", encoding="utf-8")
    from lipcore.errors import ProjectError

    with pytest.raises(ProjectError, match="bad.srt"):
        doc.segments_from_srt(bad)


def test_events_follow_undo(doc):
    events = []
    doc.changed.append(lambda e, p: events.append(e))
    s = doc.add_segment(0, 10)
    assert "segment_added" in events
    events.clear()
    doc.undo()
    assert "segment_removed" in events and "undo_changed" in events
    assert doc.project.segments == [] and s


def test_audible_tracks_mute_and_solo(doc, media):
    orig, d1 = original(doc), dub(doc)
    d2 = doc.add_audio_track(media / "dub2.wav")
    assert {t.id for t in doc.audible_tracks()} == {orig, d1, d2}
    doc.set_mute(orig, True)
    assert {t.id for t in doc.audible_tracks()} == {d1, d2}
    doc.set_solo(d2, True)
    assert [t.id for t in doc.audible_tracks()] == [d2]


def test_save_load_roundtrip_and_dirty(doc, media):
    s = doc.add_segment(3, 9)
    doc.set_segment_options(s, region=(1, 2, 30, 40), neutral_frame=4)
    assert doc.dirty and doc.title == "Untitled"
    path = doc.save(media / "proj.lsproj")
    assert not doc.dirty and doc.title == "proj"
    again = Document.load(path)
    assert again.project == doc.project and not again.dirty
    with pytest.raises(Exception, match="never been saved"):
        Document().save()


def test_move_segment_stops_at_neighbours_and_drag_merges(doc):
    a = doc.add_segment(10, 20)
    b = doc.add_segment(30, 35)
    for start in (12, 14, 25):  # a drag to the right runs into b
        doc.move_segment(a, start, merge=True)
    seg = doc.project.segment(a)
    assert (seg.start_frame, seg.end_frame) == (20, 30)
    doc.undo()
    assert (doc.project.segment(a).start_frame, doc.project.segment(a).end_frame) == (10, 20)
    doc.move_segment(b, 100)  # clip end
    assert doc.project.segment(b).end_frame == 50


def test_failed_compound_edit_rolls_back_everything(doc):
    t = dub(doc)
    s = doc.add_segment(10, 20)  # driven by the dub
    doc.add_segment(30, 40)  # also the dub: moves first, then s collides
    doc.add_segment(15, 25, audio_track_id=original(doc), face_track_id="face-1")
    before = state(doc)
    with pytest.raises(EditError, match="overlap"):
        doc.set_track_face(t, "face-1")  # s would collide on face-1
    assert state(doc) == before
    assert doc.undo_log.undo_text == "Add segment" and doc.project.segment(s).face_track_id is None


def test_segments_of_two_faces_cannot_collide_when_moved_together(doc):
    t = dub(doc)
    doc.add_segment(10, 20)
    doc.add_segment(15, 25, face_track_id="face-1")  # same dub, other face, same frames
    with pytest.raises(EditError, match="overlap"):
        doc.set_track_face(t, "face-1")
    assert doc.project.track(t).face_track_id is None


def test_listener_errors_do_not_break_the_undo_log(doc, caplog):
    def broken_view(event, payload):
        raise RuntimeError("view bug")

    doc.changed.append(broken_view)
    s = doc.add_segment(0, 10)
    assert doc.undo_log.undo_text == "Add segment" and doc.project.segment(s)
    doc.undo()
    assert doc.project.segments == []
    assert doc.listener_errors and "view bug" in caplog.text


def test_many_segments_at_once_stay_fast(doc):
    """Hundreds of subtitles or speech ranges: one transaction, undo and redo in well under 2 s."""
    import time

    doc.set_face_tracks(None)
    doc.project.frame_count = 100_000  # a long clip (tests may poke the model directly)
    ranges = [(i * 10, i * 10 + 6) for i in range(600)]
    t0 = time.perf_counter()
    ids = doc.segments_from_speech(dub(doc), ranges)
    doc.undo()
    doc.redo()
    elapsed = time.perf_counter() - t0
    assert len(ids) == 600 and len(doc.project.segments) == 600
    assert elapsed < 2.0, f"600 segments took {elapsed:.2f} s"


def test_done_segment_with_deleted_output_reopens_stale(doc, media, tmp_path):
    s = doc.add_segment(0, 10)
    out = tmp_path / "render.mp4"
    out.write_bytes(b"frames")
    doc.mark_rendered(s, out, doc.params_hash(s))
    path = doc.save(media / "p.lsproj")
    assert Document.load(path).project.segment(s).render.status == "done"
    out.unlink()  # the user cleared the cache
    r = Document.load(path).project.segment(s).render
    assert r.status == "stale" and "missing" in r.message


def test_relink_media_is_undoable_and_warns_on_other_content(doc, media, tmp_path):
    s = doc.add_segment(0, 10)
    out = tmp_path / "r.mp4"
    out.write_bytes(b"x")
    doc.mark_rendered(s, out, doc.params_hash(s))
    moved = tmp_path / "moved"
    moved.mkdir()
    (media / "dub.wav").rename(moved / "dub.wav")
    old = media / "dub.wav"
    result = roundtrip(doc, lambda: doc.relink_media(old, moved / "dub.wav"), "Relink media")
    assert result.updated == 1 and result.fingerprint_matches and result.warning is None
    assert doc.project.track(dub(doc)).media.path == moved / "dub.wav"
    assert doc.project.segment(s).render.status == "done"  # same content: render still valid
    result = doc.relink_media(moved / "dub.wav", media / "dub2.wav")
    assert not result.fingerprint_matches and "dub2.wav" in result.warning
    assert doc.project.segment(s).render.status == "stale"
    doc.undo()
    assert doc.project.segment(s).render.status == "done"
    from lipcore.errors import ProjectError

    with pytest.raises(ProjectError, match="does not use"):
        doc.relink_media(tmp_path / "nothing.wav", media / "dub2.wav")


def test_export_settings_are_validated(doc):
    with pytest.raises(EditError, match="preset"):
        doc.set_export(preset="gif")
    with pytest.raises(EditError, match="unknown"):
        doc.set_export(bitrate=5)
    doc.set_export(crf=18)
    assert doc.project.export.crf == 18 and doc.undo_log.undo_text == "Export settings"


def test_opening_a_shorter_clip_trims_segments(doc, media):
    import subprocess

    short = media / "short.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=1"]
        + ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(short)],
        check=True,
    )
    a = doc.add_segment(5, 15)
    b = doc.add_segment(20, 40)
    c = doc.add_segment(40, 50)
    roundtrip(doc, lambda: doc.open_video(short), "Open clip")
    assert doc.project.frame_count == 25 and not doc.project.video_has_audio
    assert doc.project.segment(a).end_frame == 15
    assert doc.project.segment(b).end_frame == 25
    assert c not in {s.id for s in doc.project.segments}
