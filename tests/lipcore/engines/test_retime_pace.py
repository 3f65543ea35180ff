"""Retime follows the clip's own pace: the library runs it plays step big where the original's
mouth steps big and small where it steps small (A06's pictures after a repeat move little), so
the mouth box does not change in two rhythms at once."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.engines.retime_pace import (
    incoming_steps,
    library_phases,
    pace_cost,
    phase_factors,
    row_phases,
)
from lipcore.engines.retime_select import select_frames, successors
from lipcore.progress import drain

CLIP = "video/A06_frontal_woman_bluebg_700p30_retalking4.mp4"
SPEECH = "audio/B01_en_hdtf_RD_Radio31_16k.wav"


def test_incoming_steps_come_from_the_previous_picture_of_the_run():
    run_ids = np.array([0, 0, 0, 0, 1, 1])
    repeats = np.array([0, 0, 1, 0, 0, 0], bool)
    dist = np.arange(36, dtype=np.float32).reshape(6, 6)
    steps = incoming_steps(dist, successors(run_ids, repeats), repeats)
    # 0 -> 1 -> 3 (2 repeats 1 and is stepped over), 4 -> 5; run starts and repeats have none
    assert steps[[1, 3, 5]].tolist() == [dist[0, 1], dist[1, 3], dist[4, 5]]
    assert np.isnan(steps[[0, 2, 4]]).all()


def test_phases_count_pictures_since_the_last_repeat():
    run_ids = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    repeats = np.array([0, 1, 0, 0, 0, 0, 1, 0, 0, 1], bool)
    assert library_phases(run_ids, repeats).tolist() == [-1, -1, 0, 1, 2, 2, -1, -1, -1, -1]
    picture_row = np.array([0, 0, 2, 3, 3, 5])  # rows 1 and 4 repeat the row before
    assert row_phases(picture_row).tolist() == [-1, -1, 0, 1, -1, 0]


def _cadence_library(offset: int, n: int = 24):
    """One run of ``n`` frames repeating a picture every fourth frame from ``offset``."""
    repeats = np.zeros(n, bool)
    repeats[offset::4] = True
    repeats[0] = False
    return repeats


@pytest.mark.parametrize("search", ["exact", "beam"])
def test_the_selection_plays_the_run_in_phase_with_the_clip(search, monkeypatch):
    import lipcore.engines.retime_select as rs

    if search == "beam":
        monkeypatch.setattr(rs, "EXACT_LIMIT", 0)
        monkeypatch.setattr(rs, "BEAM_CANDIDATES", 6)
        monkeypatch.setattr(rs, "BEAM_FOLLOW", 4)
    # Two runs of the same pictures, one repeat every four frames, steps into the first,
    # second and third picture after a repeat 0.1, 0.3, 0.6 (A06's rhythm); the second run is a
    # shade closer in shape but repeats at other places, so its pictures fall at other phases.
    n = 24
    repeats = np.concatenate([_cadence_library(3, n), _cadence_library(1, n)])
    run_ids = np.repeat([0, 1], n)
    phases = library_phases(run_ids, repeats)
    dist = np.ones((2 * n, 2 * n), np.float32)
    nxt = successors(run_ids, repeats)
    ramp = np.array([0.1, 0.3, 0.6], np.float32)
    for j in np.nonzero((nxt >= 0) & ~repeats)[0]:
        dist[j, nxt[j]] = ramp[phases[nxt[j]]] if phases[nxt[j]] >= 0 else 0.3
    steps = incoming_steps(dist, nxt, repeats)
    factors = phase_factors(steps, phases)
    assert factors[0] < factors[1] < factors[2]

    # The output shows the first run: its repeated rows repeat the row before
    picture_row = np.arange(n) - repeats[:n]
    distinct = np.nonzero(picture_row == np.arange(n))[0]
    pictures = [np.nonzero(~repeats[:n])[0], n + np.nonzero(~repeats[n:])[0]]
    count = min(len(p) for p in pictures)
    rows = distinct[:count]
    unary = np.ones((count, 2 * n), np.float32)
    unary[np.arange(count), pictures[0][:count]] = 0.05
    unary[np.arange(count), pictures[1][:count]] = 0.0
    silent = np.zeros(count, bool)
    out_phases = row_phases(picture_row)[rows]

    def chosen_phases(extra):
        path = select_frames(unary, dist, run_ids, silent, repeats=repeats, step_extra=extra)
        known = (out_phases >= 0) & (phases[path] >= 0)
        return phases[path][known], out_phases[known]

    got, want = chosen_phases(None)
    assert (got != want).mean() > 0.5, "without the pace cost the other run wins"
    got, want = chosen_phases(pace_cost(steps, phases, out_phases))
    assert np.array_equal(got, want)
    assert not pace_cost(steps, phases, np.full(count, -1)).any()


def test_the_bounded_search_keeps_the_full_search_path_with_step_costs():
    """The extra cost of playing a run on must not break the bounded step's bound."""
    import lipcore.engines.retime_select as rs
    from lipcore.engines.retime_select import SelectionCosts

    rng = np.random.default_rng(5)
    n, t_len = 400, 50
    run_ids = np.repeat(np.arange(n // 25), 25)
    repeats = (np.arange(n) % 4 == 3) & (np.arange(n) % 25 != 0)
    lib = np.cumsum(rng.normal(size=n)) * 0.2
    target = np.cumsum(rng.normal(size=t_len)) * 0.2
    unary = np.abs(target[:, None] - lib[None, :]).astype(np.float32)
    dist = rng.uniform(0.5, 2.0, size=(n, n)).astype(np.float32)
    nxt = rs.successors(run_ids, repeats)
    trans = rs.Transitions(rs.transition_costs(dist, run_ids, SelectionCosts(), repeats), nxt)
    hold = np.full(t_len, 0.35)
    extra = rng.uniform(0.0, 1.5, size=(t_len, n))
    assert n >= rs.BOUNDED_MIN_FRAMES
    full = rs._viterbi_exact(unary, trans, hold, extra)
    assert np.array_equal(rs._viterbi_bounded(unary, trans, hold, extra), full)
    assert not np.array_equal(full, rs._viterbi_exact(unary, trans, hold)), "the cost acts"
    with pytest.raises(ValueError):
        rs.viterbi(unary, trans, hold, nxt, -extra)


@pytest.fixture(scope="module")
def a06_plan(shared_media):
    """A06 (a 22-fps picture in a 30-fps file) prepared for retime, and B01's English speech
    planned on it with and without the pace cost."""
    import lipcore.engines.retime as retime
    from lipcore.audio.vad import voiced_frames
    from lipcore.engines.base import SegmentDrive
    from lipcore.face.select import choose_track
    from lipcore.face.track import track_faces
    from lipcore.media.audio import clip_audio, load_audio
    from lipcore.render.footage import align_track, iter_source_footage
    from lipcore.render.request import FaceChoice

    path = shared_media / CLIP
    track = choose_track(track_faces(path), FaceChoice())
    footage = drain(iter_source_footage(path, align_track(track), clip_audio(path)), show=False)
    engine = retime.RetimeEngine()
    drain(engine.prepare(footage), show=False)
    n = len(footage.frames)
    speech = load_audio(shared_media / SPEECH)[: n * 16000 // 30]
    drive = SegmentDrive(
        frames=np.arange(n),
        mel_windows=np.zeros((n, 80, 16), np.float32),
        voiced=voiced_frames(speech, footage.fps, n),
        fps=footage.fps,
        audio_16k=speech,
        source_frames=np.asarray(footage.frames),
    )
    engine.begin_segment(drive)
    paced = engine.plan
    # Main's plan before the pace cost: no step cost, the usual price of a cut
    original = retime.pace_cost, retime.CADENCE_JUMP_SCALE
    retime.pace_cost = lambda steps, phases, rows: np.zeros((len(rows), len(steps)), np.float32)
    retime.CADENCE_JUMP_SCALE = 1.0
    try:
        engine.begin_segment(drive)
    finally:
        retime.pace_cost, retime.CADENCE_JUMP_SCALE = original
    return engine, footage, paced, engine.plan


def _mouth_change(crops: np.ndarray, lm: np.ndarray, a: int, b: int) -> float:
    """Mean absolute luma change of the mouth region between two aligned crops."""
    import cv2

    x0, y0 = np.floor(lm[[61, 0, 291, 17]].min(0)).astype(int) - 8
    x1, y1 = np.ceil(lm[[61, 0, 291, 17]].max(0)).astype(int) + 8
    ga = cv2.cvtColor(np.ascontiguousarray(crops[a][y0:y1, x0:x1]), cv2.COLOR_BGR2GRAY)
    gb = cv2.cvtColor(np.ascontiguousarray(crops[b][y0:y1, x0:x1]), cv2.COLOR_BGR2GRAY)
    return float(np.abs(ga.astype(np.float32) - gb).mean())


def test_on_a06_the_mouth_steps_in_the_clips_rhythm(a06_plan):
    engine, footage, paced, plain = a06_plan
    lib = engine.library
    rows = np.array([lib.clip_rows[int(f)] for f in footage.frames])
    median_lm = np.median(lib.landmarks, axis=0)
    pictures = np.nonzero(paced.picture_row == np.arange(len(rows)))[0]
    phases = row_phases(paced.picture_row)[pictures[1:]]

    def by_phase(path):
        """Mean mouth change (crop luma) of the steps into each phase's pictures."""
        pairs = zip(path[:-1], path[1:], strict=True)
        change = np.array([_mouth_change(lib.crops, median_lm, a, b) for a, b in pairs])
        return np.array([change[phases == k].mean() for k in range(3)])

    own = by_phase(rows[pictures])
    got, before = by_phase(paced.path[pictures]), by_phase(plain.path[pictures])
    # Measured on the crops' luma, not the appearance patches the cost uses: the original's
    # steps grow from the first picture after a repeat (9.3 grey levels) to the third (15.1).
    # Main's plan stepped the other way (11.8 against 9.3); now the first is the smaller one.
    assert own[0] < 0.8 * own[2]
    assert got[0] / got[2] < before[0] / before[2] - 0.2
    assert got[0] < got[2]
    # Closures stay forced, and the selection cuts less often (a cut is a texture jump)
    assert paced.closure.any() and np.array_equal(paced.closure, plain.closure)
    assert paced.cuts < plain.cuts
