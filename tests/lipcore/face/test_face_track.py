"""Face tracks on real clips (first seconds only, to stay fast): one face, cuts, many faces,
the insightface backend, the disk cache, cancellation and gap filling."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lipcore import cache
from lipcore.face import landmarks as L
from lipcore.face.detect import box_iou
from lipcore.face.smooth import contiguous_runs
from lipcore.face.track import TrackerSettings, _fill_gaps, iter_track_faces, track_faces
from lipcore.face.types import N_LANDMARKS
from lipcore.progress import Progress


def test_frontal_clip_is_one_full_track(clip):
    ts = track_faces(clip("A01"), TrackerSettings(end_frame=40))
    assert [t.track_id for t in ts.tracks] == ["face-0"]
    t = ts.tracks[0]
    np.testing.assert_array_equal(t.frames, np.arange(40))
    assert t.landmarks.shape == (40, N_LANDMARKS, 2) and np.isfinite(t.landmarks).all()
    assert not t.interpolated.any()
    # Detected on keyframes (every 8th frame by default), followed by the mesh in between.
    assert (t.scores[::8] > 0.5).all() and (t.scores[t.scores > 0] > 0.5).all()
    assert (t.scores == 0).sum() >= 30
    assert t.thumbnail is not None and t.thumbnail.shape == (96, 96, 3)
    # Box holds mouth and chin on every frame (boxes are smoothed harder than the landmarks, so
    # allow 3 % slack); face about 250 px wide in this 512 px clip.
    slack = 0.03 * (t.boxes[:, 3] - t.boxes[:, 1])
    for pt in (L.UPPER_LIP_INNER, L.CHIN, L.MOUTH_RIGHT, L.MOUTH_LEFT):
        assert (t.landmarks[:, pt, 0] >= t.boxes[:, 0] - slack).all()
        assert (t.landmarks[:, pt, 0] <= t.boxes[:, 2] + slack).all()
        assert (t.landmarks[:, pt, 1] <= t.boxes[:, 3] + slack).all()
    assert 180 < np.mean(t.boxes[:, 2] - t.boxes[:, 0]) < 400
    assert ts.frame_count == 200 and ts.fps == 25 and ts.shot_cuts == []
    # Smoothed landmarks are steady: frame-to-frame wobble well under 3 % of the eye distance.
    assert L.landmark_jitter(t.landmarks) < 0.03


def test_second_call_comes_from_the_cache_and_corrupt_entries_are_rebuilt(clip):
    settings = TrackerSettings(end_frame=15)
    first = track_faces(clip("A07"), settings)
    t0 = time.perf_counter()
    again = track_faces(clip("A07"), settings)
    assert time.perf_counter() - t0 < 1.0
    np.testing.assert_array_equal(again.tracks[0].landmarks, first.tracks[0].landmarks)
    faces = cache.cache_root() / "faces"
    entries = list(faces.glob(f"{cache.file_fingerprint(clip('A07'))}*.npz"))
    assert len(entries) == 1
    entries[0].write_bytes(entries[0].read_bytes()[:100])  # a truncated write
    rebuilt = track_faces(clip("A07"), settings)
    np.testing.assert_allclose(rebuilt.tracks[0].landmarks, first.tracks[0].landmarks, atol=1e-3)
    assert entries[0].stat().st_size > 1000
    # The landmarks' uncompressed copy beside an entry is kept for the rewritten entry only.
    from lipcore.face.store import load_trackset

    mapped = load_trackset(entries[0], mapped=True)
    np.testing.assert_allclose(mapped.tracks[0].landmarks, first.tracks[0].landmarks, atol=1e-3)
    copies = list(faces.glob(f"{entries[0].name}.mapped-*"))
    assert len(copies) == 1 and copies[0].name.endswith(str(entries[0].stat().st_mtime_ns))
    # Other settings are another entry, not a stale hit.
    other = track_faces(clip("A07"), TrackerSettings(end_frame=10))
    assert other.tracks[0].last_frame == 9


def test_cuts_split_tracks_and_sparse_detection_keeps_every_frame(clip):
    # H01: film with cuts at 20 and 82; detect every 3rd frame, follow with the mesh between.
    ts = track_faces(clip("H01"), TrackerSettings(end_frame=100, detect_every=3), use_cache=False)
    assert ts.shot_cuts == [20, 82]
    assert ts.tracks, "the performer is visible in shots 1 and 3"
    for t in ts.tracks:
        for run in contiguous_runs(t.frames, []):
            shots = np.searchsorted([20, 82], t.frames[run], side="right")
            assert len(set(shots.tolist())) == 1, f"{t.track_id} runs across a cut"
    # The performer's close shot (82-99): landmarks on every frame although only every 3rd
    # frame was detected, and none of them invented by interpolation.
    close = [t for t in ts.tracks if t.last_frame >= 82]
    assert len(close) == 1
    t = close[0]
    sel = t.frames >= 82
    assert sel.sum() >= 16
    assert (~t.interpolated[sel]).mean() > 0.8
    assert ((t.scores[sel] == 0) & ~t.interpolated[sel]).any()  # followed by the mesh alone
    assert np.isfinite(t.landmarks[sel]).all()


def test_default_keyframes_still_start_every_shot_on_its_cut(clip):
    # H01's cuts (20, 82) are not multiples of the keyframe spacing: each shot's first frame is
    # detected anyway, so the performer's close shot is tracked from its very first frame.
    ts = track_faces(clip("H01"), TrackerSettings(end_frame=100), use_cache=False)
    assert ts.shot_cuts == [20, 82]
    close = [t for t in ts.tracks if t.last_frame >= 82]
    assert len(close) == 1 and close[0].frames[close[0].frames >= 82][0] == 82
    assert close[0].scores[close[0].frames == 82][0] > 0.5


def test_meeting_has_one_track_per_visible_face(clip):
    ts = track_faces(clip("H07"), TrackerSettings(start_frame=30, end_frame=70), use_cache=False)
    assert len(ts.tracks) >= 3
    # Distinct people: no two tracks share a box on a common frame.
    for a in ts.tracks:
        for b in ts.tracks:
            if a is b:
                continue
            common, ia, ib = np.intersect1d(a.frames, b.frames, return_indices=True)
            if len(common):
                assert np.diag(box_iou(a.boxes[ia], b.boxes[ib])).max() < 0.3
    assert all(t.first_frame >= 30 and t.last_frame < 70 for t in ts.tracks)
    lengths = [len(t.frames) for t in ts.tracks]
    assert lengths == sorted(lengths, reverse=True)
    assert [t.track_id for t in ts.tracks] == [f"face-{k}" for k in range(len(ts.tracks))]


def test_insightface_backend_tracks_with_scrfd(clip, pack_with_arcface):
    pack = str(pack_with_arcface)
    settings = TrackerSettings(backend="insightface", model_dir=pack, end_frame=20)
    ts = track_faces(clip("A14"), settings)
    assert ts.backend == "insightface" and len(ts.tracks) == 1
    t = ts.tracks[0]
    assert len(t.frames) == 20 and t.embedding is not None and t.embedding.shape == (16,)


def test_progress_and_cancel(clip, tmp_path, monkeypatch):
    # A cache of its own: other tests of the session may have cached A05's tracks already.
    monkeypatch.setenv("LIPSYNC_CACHE_DIR", str(tmp_path / "cache"))
    gen = iter_track_faces(clip("A05"), TrackerSettings(end_frame=30), use_cache=True)
    steps = [next(gen) for _ in range(3)]
    assert all(isinstance(s, Progress) for s in steps)
    assert [s.done for s in steps] == [1, 2, 3] and steps[0].total == 30
    gen.close()  # cancel: releases the decoder and the graphs, caches nothing
    assert not list((cache.cache_root() / "faces").glob(f"{cache.file_fingerprint(clip('A05'))}*"))


def test_short_gaps_are_interpolated_within_a_shot_only():
    frames = np.array([0, 1, 4, 5, 9, 10])
    lms = np.zeros((6, N_LANDMARKS, 2), np.float32)
    lms[:, :, 0] = frames[:, None] * 10.0
    scores = np.ones(6, np.float32)
    f, lm, s, interp = _fill_gaps(frames, lms, scores, shot_cuts=[7], max_gap=3)
    # Gap 2-3 filled; 6-8 crosses the cut at 7, so it stays a gap.
    np.testing.assert_array_equal(f, [0, 1, 2, 3, 4, 5, 9, 10])
    np.testing.assert_array_equal(interp, [0, 0, 1, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(lm[2:4, 0, 0], [20.0, 30.0])
    assert (s[interp] == 0).all()


def test_unknown_backend_and_missing_file(tmp_path, clip):
    with pytest.raises(ValueError, match="backend"):
        track_faces(clip("A01"), TrackerSettings(backend="dlib"))
    from lipcore.errors import MediaError

    with pytest.raises(MediaError, match="missing.mp4"):
        track_faces(tmp_path / "missing.mp4")
