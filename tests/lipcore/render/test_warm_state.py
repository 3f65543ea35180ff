"""The session warm state keeps what a re-render reuses, not the tracks every job brings.

In the editor's worker process each render job arrives with its own unpickled copy of the
face tracks; the warm state must find the same alignment for an equal copy and must not keep
the copies alive (``bench/editor_soak.py`` saw the render worker grow by one track a render).
"""

from __future__ import annotations

import gc
import pickle
import weakref

import numpy as np

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"


def _track(shared_media):
    from lipcore.face.track import TrackerSettings, track_faces

    tracks = track_faces(shared_media / CLIP, TrackerSettings(end_frame=20))
    return tracks.tracks[0]


def test_copies_of_a_track_share_one_alignment_and_are_not_kept(shared_media):
    from lipcore.render.footage import align_track
    from lipcore.render.warm import WarmState

    track = _track(shared_media)
    warm = WarmState()
    first = warm.alignment(pickle.loads(pickle.dumps(track)), 256)
    assert np.array_equal(first.transforms, align_track(track, size=256).transforms)
    refs = []
    for _ in range(12):  # twelve jobs, each with its own copy of the same track
        copy = pickle.loads(pickle.dumps(track))
        assert warm.alignment(copy, 256) is first, "an equal track was aligned again"
        assert warm.track_digest(copy) == warm.track_digest(track)
        refs.append(weakref.ref(copy))
        del copy
    gc.collect()
    assert [r for r in refs if r() is not None] == [], "the warm state kept the jobs' tracks"


def test_a_changed_track_gets_its_own_alignment(shared_media):
    from dataclasses import replace

    from lipcore.render.warm import WarmState

    track = _track(shared_media)
    moved = replace(track, landmarks=track.landmarks + np.float32(3.0))
    warm = WarmState()
    a, b = warm.alignment(track, 256), warm.alignment(moved, 256)
    assert a is not b
    assert warm.track_digest(track) != warm.track_digest(moved)
    assert not np.allclose(a.transforms, b.transforms)
