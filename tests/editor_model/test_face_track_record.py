"""Face track ids found by tracking are recorded as derived data: dirty, but no undo step."""

from __future__ import annotations

from lipcore.project import FaceTracksRef


def test_recorded_tracks_are_not_an_undo_step(doc, tmp_path):
    doc.save(tmp_path / "p.lsproj")
    assert not doc.dirty
    can_undo, undo_text = doc.undo_log.can_undo, doc.undo_log.undo_text
    events: list[str] = []
    doc.changed.append(lambda event, payload: events.append(event))

    ref = FaceTracksRef("clip:mediapipe", "mediapipe", ["face-0", "face-1"])
    assert doc.record_face_tracks(ref)
    assert doc.project.face_tracks == ref
    assert (doc.undo_log.can_undo, doc.undo_log.undo_text) == (can_undo, undo_text)
    assert doc.dirty and "project_changed" in events
    # "auto" now means the main face's lane.
    assert doc.lane_of(None) == "face-0"

    doc.save()
    assert not doc.dirty
    # The same tracks again (a reopened project tracked once more) change nothing.
    assert not doc.record_face_tracks(
        FaceTracksRef("clip:mediapipe", "mediapipe", ["face-0", "face-1"])
    )
    assert not doc.dirty


def test_new_tracks_make_rendered_segments_stale(doc, tmp_path):
    doc.record_face_tracks(FaceTracksRef("a", "mediapipe", ["face-0"]))
    sid = doc.add_segment(
        5, 20, audio_track_id=next(t.id for t in doc.project.audio_tracks if not t.is_original)
    )
    rendered = tmp_path / "seg.mp4"
    rendered.write_bytes(b"x")
    doc.mark_rendered(sid, rendered, doc.params_hash(sid))
    assert doc.segment(sid).render.status == "done"
    doc.record_face_tracks(FaceTracksRef("b", "insightface", ["face-0"]))
    assert doc.segment(sid).render.status == "stale"
