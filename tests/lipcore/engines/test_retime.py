"""The built-in retime engine on real shared clips: library, prediction, selection, compositing.

The footage is built here the way the render pipeline does it (decode, FaceMesh on the frame, a
similarity alignment to a canonical square, 16 kHz audio), so the engine is tested on real faces
and real speech. The mouth opening of the *output* is measured again with FaceMesh, as a viewer
would judge it.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from lipcore.engines.base import (
    CropBatch,
    EngineOptions,
    GeneratedCrops,
    SegmentDrive,
    SourceFootage,
)
from lipcore.engines.retime import MIN_SPEECH_SEC, RetimeEngine
from lipcore.engines.retime_library import speech_frames
from lipcore.engines.retime_select import (
    SelectionCosts,
    crossfade_plan,
    select_frames,
    successors,
)
from lipcore.errors import FootageError
from lipcore.face.landmarks import lip_gap
from lipcore.progress import drain
from lipcore.render.blend import blend_in_crop, prepare_paste

CROP = 256
#: The pipeline's default soft edge (SegmentSpec.feather_px), in pixels of a 256 px crop.
FEATHER_PX = 12
FPS = Fraction(25)
#: Canonical positions of the outer eye corners (33, 263) and the nose tip (1) in the crop.
CANONICAL = np.float32([[0.30, 0.36], [0.70, 0.36], [0.50, 0.56]]) * CROP
CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"
NEW_SPEECH_EN = "audio/B19_en_48k_retalking2.wav"
NEW_SPEECH_ZH = "audio/B06_zh_bus_chinese_48k.wav"


def _audio_16k(path: Path) -> np.ndarray:
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "16000", "-f", "f32le"]
    cmd.append("-")
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32).copy()


def _face_mesh():
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False, max_num_faces=1, refine_landmarks=True
    )


def _mesh_points(mesh, bgr: np.ndarray) -> np.ndarray | None:
    h, w = bgr.shape[:2]
    res = mesh.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if not res.multi_face_landmarks:
        return None
    pts = res.multi_face_landmarks[0].landmark
    return np.array([[p.x * w, p.y * h] for p in pts], np.float32)


def build_footage(video: Path) -> SourceFootage:
    """Aligned crops, landmarks and 16 kHz audio of ``video``, as the pipeline makes them."""
    cap = cv2.VideoCapture(str(video))
    crops, lms, frames = [], [], []
    with _face_mesh() as mesh:
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            pts = _mesh_points(mesh, frame)
            if pts is not None:
                m, _ = cv2.estimateAffinePartial2D(pts[[33, 263, 1]], CANONICAL)
                crop = cv2.warpAffine(frame, m, (CROP, CROP), borderMode=cv2.BORDER_REPLICATE)
                crops.append(crop)
                lms.append(pts @ m[:, :2].T + m[:, 2])
                frames.append(i)
            i += 1
    cap.release()
    return SourceFootage(
        crops=np.stack(crops),
        landmarks=np.stack(lms).astype(np.float32),
        frames=np.array(frames, np.int64),
        fps=FPS,
        audio_16k=_audio_16k(video),
        mel=np.zeros((80, 0), np.float32),  # the retime engine works on its own features
    )


def subset(src: SourceFootage, keep: np.ndarray) -> SourceFootage:
    """The footage restricted to the rows ``keep``."""
    return SourceFootage(
        crops=src.crops[keep],
        landmarks=src.landmarks[keep],
        frames=src.frames[keep],
        fps=src.fps,
        audio_16k=src.audio_16k,
        mel=src.mel,
    )


def measured_gaps(crops: np.ndarray) -> np.ndarray:
    """Lip gap of each crop measured by FaceMesh (nan where no face is found)."""
    out = np.full(len(crops), np.nan, np.float32)
    with _face_mesh() as mesh:
        for i, crop in enumerate(crops):
            pts = _mesh_points(mesh, crop)
            if pts is not None:
                out[i] = lip_gap(pts)
    return out


def render(engine: RetimeEngine, footage: SourceFootage, audio: np.ndarray, voiced=None):
    """Drive ``engine`` with ``audio`` over the clip's own frames; returns the output crops."""
    n = len(footage.frames)
    audio = audio[: n * 16000 // 25]
    if voiced is None:
        voiced = speech_frames(audio, FPS, n)
    drive = SegmentDrive(
        frames=footage.frames.copy(),
        mel_windows=np.zeros((n, 80, 16), np.float32),
        voiced=voiced,
        fps=FPS,
        audio_16k=audio,
    )
    engine.begin_segment(drive)
    out = []
    for start in range(0, n, 16):
        rows = np.arange(start, min(n, start + 16))
        batch = CropBatch(rows=rows, crops=footage.crops[rows], landmarks=footage.landmarks[rows])
        out.append(composited(batch, engine.generate(batch)))
    return np.concatenate(out)


def composited(batch: CropBatch, made: GeneratedCrops) -> np.ndarray:
    """The engine's crops put onto the targets by the pipeline's compositor, in crop space."""
    out = []
    for b in range(len(batch.rows)):
        crop, mask = prepare_paste(
            batch.crops[b], made.crops[b], batch.landmarks[b], FEATHER_PX,
            made.regions[b], made.mouth_landmarks[b],
        )  # fmt: skip
        out.append(blend_in_crop(batch.crops[b], crop, mask))
    return np.stack(out)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


@pytest.fixture(scope="module")
def footage(shared_media) -> SourceFootage:
    return build_footage(shared_media / CLIP)


@pytest.fixture(scope="module")
def engine(footage) -> RetimeEngine:
    eng = RetimeEngine()
    drain(eng.prepare(footage), show=False)
    return eng


@pytest.fixture(scope="module")
def english_render(engine, footage, shared_media):
    audio = _audio_16k(shared_media / NEW_SPEECH_EN)
    out = render(engine, footage, audio)
    return out, measured_gaps(out), engine.plan, audio


# --- library ---------------------------------------------------------------------------------


def test_library_is_built_from_the_clip_with_a_validated_audio_to_shape_map(engine, footage):
    lib = engine.library
    assert len(lib) == len(footage.frames) == 125
    assert lib.speech_sec >= MIN_SPEECH_SEC
    # Closed and open mouths are both there, and the resting frames are closed ones
    assert lib.gaps.min() < 0.02 and lib.gaps.max() > 0.15
    assert lib.rest.sum() >= 3 and np.all(lib.gaps[lib.rest] < np.median(lib.gaps))
    # The held-out correlation of the audio->lip-gap map is positive on this 5 s clip
    assert lib.model.validation_r > 0.1
    assert lib.appearance_dist.shape == (125, 125)


def test_too_little_footage_says_how_much_is_needed(footage):
    short = subset(footage, np.arange(40))  # 1.6 s
    with pytest.raises(FootageError) as info:
        drain(RetimeEngine().prepare(short), show=False)
    text = str(info.value)
    assert "1.6 s" in text and f"{MIN_SPEECH_SEC:.0f} s" in text and "--footage" in text


def test_footage_without_audio_is_refused_with_a_way_out(footage):
    mute = subset(footage, np.arange(len(footage.frames)))
    mute.audio_16k = np.zeros(0, np.float32)
    with pytest.raises(FootageError, match="no audio") as info:
        drain(RetimeEngine().prepare(mute), show=False)
    assert "--footage" in str(info.value)


def test_footage_without_closed_mouths_is_refused(footage):
    open_only = np.nonzero(lip_gap(footage.landmarks) > 0.05)[0]
    assert len(open_only) / 25 >= MIN_SPEECH_SEC  # long enough, but no variety
    with pytest.raises(FootageError, match="no closed mouth"):
        drain(RetimeEngine().prepare(subset(footage, open_only)), show=False)


def test_extra_footage_completes_a_library_too_small_on_its_own(footage):
    first, second = subset(footage, np.arange(60)), subset(footage, np.arange(60, 125))
    with pytest.raises(FootageError):
        drain(RetimeEngine().prepare(first), show=False)
    eng = RetimeEngine()
    eng.add_footage(second)
    drain(eng.prepare(first), show=False)
    assert len(eng.library) == 125
    # The two footages are separate runs: playing on never crosses from one into the other
    nxt = successors(eng.library.run_ids)
    assert nxt[59] == -1 and nxt[58] == 59
    listed = RetimeEngine()
    drain(listed.prepare([first, second]), show=False)
    assert np.array_equal(listed.library.run_ids, eng.library.run_ids)


def test_silence_rests_on_the_librarys_sharper_closed_mouths(engine, footage):
    """A silent stretch holds closed mouths with fine detail, not the softest closed frames
    (A01's quiet closed frames read 0.7 of its closed mouths' Laplacian variance)."""
    from lipcore.engines.retime import closed_softness, mouth_detail

    lib = engine.library
    assert lib.detail is not None and len(lib.detail) == len(lib)
    assert np.allclose(lib.detail, mouth_detail(footage.crops, footage.landmarks))
    n = len(footage.frames)
    render(engine, footage, np.zeros(n * 640, np.float32), voiced=np.zeros(n, bool))
    soft = closed_softness(lib.gaps, lib.detail)
    chosen = np.unique(engine.plan.path)
    assert np.all(lib.gaps[chosen] < np.median(lib.gaps))  # closed mouths
    assert soft[chosen].mean() <= 0.25, (soft[chosen], soft[lib.rest])
    assert soft[chosen].mean() < soft[lib.gaps < np.median(lib.gaps)].mean()


def test_speech_prefers_sharper_library_mouths_of_the_same_shape(engine, footage, monkeypatch):
    """While speaking, the path takes mouths with less motion blur where shapes allow (the
    cost off, the same drive picks softer ones)."""
    from lipcore.engines import retime
    from lipcore.engines.retime import closed_softness

    lib = engine.library
    soft = closed_softness(lib.gaps, lib.detail)
    n = len(footage.frames)
    drive = _drive(footage, n, speech_frames(footage.audio_16k[: n * 640], FPS, n))
    engine.begin_segment(drive)
    with_cost = soft[engine.plan.path].mean()
    monkeypatch.setattr(retime, "SOFT_SPEAKING_WEIGHT", 0.0)
    monkeypatch.setattr(retime, "SOFT_CLOSED_WEIGHT", 0.0)
    engine.begin_segment(drive)
    without = soft[engine.plan.path].mean()
    assert with_cost < without - 0.02, (with_cost, without)


def test_mouths_as_flat_as_skin_have_no_softness_to_prefer(engine, footage):
    """Where every library mouth's detail is at the noise level (A04's read 3.7-5.0, its cheeks
    3.4-6.6), the softness cost chooses nothing: the plan is the one without it. Before, it
    held lips parted by a dark line (their only detail) through a silence."""
    from dataclasses import replace

    from lipcore.engines.retime import DETAIL_FLOOR, closed_softness

    lib = engine.library
    rng = np.random.default_rng(0)
    flat = rng.uniform(0.45, 0.62, len(lib)).astype(np.float32) * DETAIL_FLOOR
    assert not closed_softness(lib.gaps, flat).any()
    assert closed_softness(lib.gaps, flat * 4).any()  # the same spread above the floor counts
    n = len(footage.frames)
    voiced = speech_frames(footage.audio_16k[: n * 640], FPS, n)
    voiced[: n // 4] = False  # a silence to rest through
    paths = []
    for detail in (flat, None):
        eng = RetimeEngine()
        eng.library = replace(lib, detail=detail)
        eng.begin_segment(_drive(footage, n, voiced))
        paths.append(eng.plan.path)
    eng = RetimeEngine()
    eng.library = replace(lib, detail=flat * 4)
    eng.begin_segment(_drive(footage, n, voiced))
    assert np.array_equal(paths[0], paths[1])
    assert not np.array_equal(eng.plan.path, paths[1])  # real detail differences do choose


# --- rendering -------------------------------------------------------------------------------


def test_output_mouth_follows_the_new_speech_not_the_old(english_render, engine, footage):
    out, gaps, plan, _ = english_render
    assert out.shape == footage.crops.shape and out.dtype == np.uint8
    assert np.isfinite(gaps).mean() > 0.95
    # The measured opening tracks the shape predicted from the NEW audio ...
    r_new = corr(gaps, plan.predicted_gap)
    # ... and not what the clip's OWN audio predicts, nor the clip's original mouth
    from lipcore.engines.retime_library import audio_features

    own = engine.library.model.predict_z(audio_features(footage.audio_16k, FPS, len(out)))[:, 0]
    r_own_audio = corr(gaps, own)
    r_orig_mouth = corr(gaps, lip_gap(footage.landmarks))
    assert r_new > 0.6, r_new
    assert r_new > r_own_audio + 0.4, (r_new, r_own_audio)
    assert r_orig_mouth < 0.4, r_orig_mouth
    # The mouth really moves: closed and clearly open frames both occur
    assert np.nanpercentile(gaps, 10) < 0.03 and np.nanpercentile(gaps, 90) > 0.09


def test_output_changes_only_the_lower_face(english_render, footage):
    out, _, plan, _ = english_render
    # Everything above the nostrils, and the frame's sides, stay exactly as they were
    top = int(footage.landmarks[:, 2, 1].min()) - 4
    assert np.array_equal(out[:, :top], footage.crops[:, :top])
    assert np.array_equal(out[:, :, :20], footage.crops[:, :, :20])
    diff = np.abs(out.astype(int) - footage.crops.astype(int)).max(axis=3)
    changed = (diff > 8).any(axis=(1, 2))
    # Every frame showing another library frame than itself has a new lower face
    other = np.array([any(j != row for j, _ in b) for row, b in enumerate(plan.blend)])
    assert other.mean() > 0.7
    assert changed[other].all()


def test_no_hard_jumps_between_output_frames(english_render, footage):
    out, _, plan, _ = english_render
    step_out = np.abs(np.diff(out.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))
    step_src = np.abs(np.diff(footage.crops.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))
    # Frame-to-frame change stays within that of the source clip itself
    assert step_out.mean() < 1.15 * step_src.mean(), (step_out.mean(), step_src.mean())
    assert step_out.max() < 1.25 * step_src.max(), (step_out.max(), step_src.max())
    # The lower face alone: no cut is shown without a cross-fade, and most frames continue a run
    lower = slice(int(footage.landmarks[:, 2, 1].min()), CROP)
    low_out = np.abs(np.diff(out[:, lower].astype(np.float32), axis=0)).mean(axis=(1, 2, 3))
    low_src = np.abs(np.diff(footage.crops[:, lower].astype(np.float32), axis=0))
    low_src = low_src.mean(axis=(1, 2, 3))
    assert low_out.max() < 1.5 * low_src.max(), (low_out.max(), low_src.max())
    assert plan.cuts < len(out) / 3
    assert all(abs(sum(w for _, w in b) - 1.0) < 1e-6 for b in plan.blend)


def test_silent_drive_gives_a_resting_closed_mouth(engine, footage):
    n = len(footage.frames)
    out = render(engine, footage, np.zeros(n * 640, np.float32), voiced=np.zeros(n, bool))
    gaps = measured_gaps(out)
    assert np.isfinite(gaps).all()
    assert np.all(gaps < np.median(engine.library.gaps)), gaps.max()
    assert np.all(engine.library.rest[engine.plan.path])


def test_chinese_speech_then_silence_closes_the_mouth_after_it(engine, footage, shared_media):
    audio = _audio_16k(shared_media / NEW_SPEECH_ZH)  # 3.4 s of speech over a 5 s clip
    out = render(engine, footage, audio)
    gaps = measured_gaps(out)
    voiced = engine.plan.voiced
    assert voiced[:60].mean() > 0.6 and not voiced[-30:].any()
    assert np.all(gaps[-30:] < np.median(engine.library.gaps))
    assert np.nanmax(gaps[:85]) > 0.1  # while it speaks the mouth opens
    assert corr(gaps, engine.plan.predicted_gap) > 0.6


def test_mouth_strength_zero_keeps_the_target(engine, footage):
    eng = RetimeEngine(EngineOptions(mouth_strength=0.0))
    eng.library = engine.library
    n = 20
    drive = SegmentDrive(
        frames=np.arange(n),
        mel_windows=np.zeros((n, 80, 16), np.float32),
        voiced=np.ones(n, bool),
        fps=FPS,
        audio_16k=footage.audio_16k[: n * 640],
    )
    eng.begin_segment(drive)
    batch = CropBatch(np.arange(n), footage.crops[:n], footage.landmarks[:n])
    made = eng.generate(batch)
    assert not made.regions.any()  # nothing to paste
    assert np.array_equal(composited(batch, made), footage.crops[:n])


def _drive(footage: SourceFootage, n: int, voiced: np.ndarray) -> SegmentDrive:
    return SegmentDrive(
        frames=np.arange(n),
        mel_windows=np.zeros((n, 80, 16), np.float32),
        voiced=voiced,
        fps=FPS,
        audio_16k=footage.audio_16k[: n * 640],
    )


def test_mouth_strength_above_one_exaggerates_the_predicted_opening(engine, footage):
    n = len(footage.frames)
    spread = {}
    for strength in (1.0, 1.6):
        eng = RetimeEngine(EngineOptions(mouth_strength=strength))
        eng.library = engine.library
        eng.begin_segment(_drive(footage, n, np.ones(n, bool)))
        spread[strength] = float(np.std(eng.plan.predicted_gap))
    assert spread[1.6] > 1.3 * spread[1.0]


def test_chosen_neutral_frame_is_used_for_silence(engine, footage):
    closed = int(np.argmin(engine.library.gaps))
    eng = RetimeEngine(EngineOptions(neutral_frame=int(footage.frames[closed])))
    drain(eng.prepare(footage), show=False)
    eng.begin_segment(_drive(footage, 30, np.zeros(30, bool)))
    assert eng.library.rest[closed]
    assert np.all(eng.library.gaps[eng.plan.path] < 0.03)


def test_generate_before_begin_segment_is_an_error(footage):
    with pytest.raises(RuntimeError, match="begin_segment"):
        RetimeEngine().generate(CropBatch(np.arange(1), footage.crops[:1], footage.landmarks[:1]))


# --- selection (synthetic, milliseconds) -----------------------------------------------------


def test_viterbi_plays_natural_runs_when_shapes_allow():
    n, t_len = 30, 8
    run_ids = np.repeat([0, 1, 2], 10)
    dist = np.ones((n, n), np.float32)
    unary = np.ones((t_len, n), np.float32)
    unary[0, 12] = 0.0  # start inside run 1; afterwards any frame fits equally
    path = select_frames(unary, dist, run_ids, np.zeros(t_len, bool), SelectionCosts())
    assert path[0] == 12
    # It plays run 1 on to its end instead of jumping around
    assert list(path[:8]) == list(range(12, 20))


def test_pruned_search_finds_the_exact_optimum(monkeypatch):
    import lipcore.engines.retime_select as rs

    rng = np.random.default_rng(0)
    n, t_len = 400, 120
    run_ids = np.repeat(np.arange(n // 40), 40)
    lib = np.cumsum(rng.normal(size=n)) * 0.2
    target = np.cumsum(rng.normal(size=t_len)) * 0.2
    unary = np.abs(target[:, None] - lib[None, :]).astype(np.float32)
    dist = np.abs(rng.normal(1.0, 0.3, size=(n, n))).astype(np.float32)
    silent = np.zeros(t_len, bool)
    exact = select_frames(unary, dist, run_ids, silent)
    monkeypatch.setattr(rs, "EXACT_LIMIT", 0)
    pruned = select_frames(unary, dist, run_ids, silent)
    assert np.array_equal(exact, pruned)


@pytest.mark.parametrize("levels", [None, 4, 1])
def test_bounded_exact_search_gives_the_full_search_path_bit_for_bit(levels):
    """The bounded step (big libraries) must choose exactly what the full step chooses, ties
    included: costs on a coarse binary grid (exact in floating point) make many equal totals,
    where the lowest index must win as in the full step's argmin."""
    import lipcore.engines.retime_select as rs

    rng = np.random.default_rng(3)
    n, t_len = 600, 60
    run_ids = np.repeat(np.arange(n // 30), 30)
    # Shapes drifting along the footage and the new speech, as in a real library.
    lib = np.cumsum(rng.normal(size=n)) * 0.2
    target = np.cumsum(rng.normal(size=t_len)) * 0.2
    unary = np.abs(target[:, None] - lib[None, :]).astype(np.float32)
    # Mostly expensive cuts, and for every frame one cheap way in from a far-off frame: the best
    # step into a frame is then often from a state outside the best-scoring few.
    dist = rng.uniform(2.0, 3.0, size=(n, n)).astype(np.float32)
    dist[np.arange(n), rng.permutation(n)] = 0.0
    if levels is not None:
        unary = np.round(unary * levels) / levels
        dist = np.round(dist * levels) / levels
    silent = rng.random(t_len) < 0.3
    costs = SelectionCosts()
    if levels is not None:
        costs = SelectionCosts(jump=0.5, appearance=0.5, hold=0.25, hold_silent=0.125)
    nxt = rs.successors(run_ids)
    trans = rs.Transitions(rs.transition_costs(dist, run_ids, costs), nxt)
    hold = np.where(silent, costs.hold_silent, costs.hold).astype(np.float64)
    assert n >= rs.BOUNDED_MIN_FRAMES
    full = rs._viterbi_exact(unary, trans, hold)
    assert np.array_equal(rs.viterbi(unary, trans, hold, nxt), full)
    # Paths forced to end on many frames follow many back-pointers, not just the best path's.
    for end in rng.choice(n, 12, replace=False):
        forced = np.vstack([unary, np.full((1, n), 1e3, np.float32)])
        forced[-1, end] = 0.0
        hold_f = np.append(hold, hold[-1])
        bounded = rs._viterbi_bounded(forced, trans, hold_f)
        assert np.array_equal(bounded, rs._viterbi_exact(forced, trans, hold_f)), end


def test_bounded_search_takes_the_cheap_cut_from_a_state_outside_its_first_candidates():
    """The best way into a frame can come from a state that scores worse so far (a cheap cut):
    the bound must send that frame to the full step, or the path would differ."""
    import lipcore.engines.retime_select as rs

    n = 300
    run_ids = np.arange(n)  # every frame its own run: no free successor steps
    far, target = 250, 280
    dist = np.full((n, n), 3.0, np.float32)
    dist[far, target] = 0.0  # the one cheap cut: 0.6 instead of 3.0
    unary = np.full((2, n), 10.0, np.float32)
    unary[0, :100] = 0.0  # 100 states better than ``far`` so far (more than the candidates)
    unary[0, far] = 1.0
    unary[1, target] = 0.0
    path = select_frames(unary, dist, run_ids, np.zeros(2, bool), SelectionCosts())
    assert max(64, n // rs.BOUNDED_SHARE) < 100  # ``far`` is not among the first candidates
    assert list(path) == [far, target]


def test_crossfade_blends_old_run_into_new_one():
    run_ids = np.zeros(20, np.int64)
    path = np.array([2, 3, 4, 15, 16, 17])
    plan = crossfade_plan(path, run_ids, fade_frames=2)
    assert plan[2] == [(4, 1.0)]
    assert plan[3][0][0] == 15 and plan[3][1] == (5, pytest.approx(2 / 3))
    assert plan[4][1] == (6, pytest.approx(1 / 3))
    assert plan[5] == [(17, 1.0)]


def test_the_engine_morphs_a_cut_in_quarter_steps():
    """At the engine's fade length every step of a cut's texture change is a quarter of it."""
    from lipcore.engines.retime import FADE_FRAMES

    plan = crossfade_plan(np.array([2, 3, 15, 16, 17, 18]), np.zeros(20, np.int64), FADE_FRAMES)
    old = [dict(p).get(g, 0.0) for p, g in zip(plan[1:], [3, 4, 5, 6, 7], strict=True)]
    assert old == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])
    assert plan[5] == [(18, 1.0)]


def test_a_mouth_wider_than_the_library_has_is_made_by_opening_a_library_mouth(engine):
    """Shapes the library lacks, the opening way: asked for more than its widest mouth, retime
    opens a library frame (measured independently by FaceMesh on the new pixels)."""
    from lipcore.engines.retime import RESHAPE_MAX_OPEN
    from lipcore.face.landmarks import lip_gap
    from lipcore.face.mesh import MeshLandmarker

    lib = engine.library
    widest = int(np.argmax(lib.gaps))
    j = int(np.argsort(lib.gaps)[len(lib.gaps) // 2])  # a middling mouth
    want = 1.15 * float(lib.gaps[widest])
    assert want < RESHAPE_MAX_OPEN * float(lib.gaps[widest])
    crop, lm = engine._opened(j, want, widest)
    assert abs(float(lip_gap(lm)) - want) < 0.02
    size = crop.shape[0]
    box = np.array([0.2 * size, 0.15 * size, 0.8 * size, 0.9 * size])
    with MeshLandmarker(expand=1.3) as mesh:
        before = mesh.landmarks(lib.crops[j], box)
        after = mesh.landmarks(crop, box)
    assert before is not None and after is not None
    assert float(lip_gap(after)) > float(lip_gap(before)) + 0.05, (lip_gap(before), lip_gap(after))
    eyes = slice(0, int(lm[[33, 263], 1].max()) - 10)
    assert np.array_equal(crop[eyes], lib.crops[j][eyes]), "only the lower face moves"
    # Asked for no more than the frame shows, nothing changes
    same, _ = engine._opened(widest, float(lib.gaps[widest]), widest)
    assert np.array_equal(same, lib.crops[widest])


def test_faces_made_only_where_the_paste_reads_composite_bit_for_bit(
    english_render, engine, footage
):
    """With the pipeline's reach, retime warps, morphs and blends only the window its paste
    reads; the composited crops (morphed cuts included) are exactly those of whole crops."""
    from lipcore.render.blend import paste_reach_px

    plan = english_render[2]
    eng = RetimeEngine()
    eng.library, eng.plan = engine.library, plan
    morphs = [r for r in range(len(plan.blend)) if sum(w > 0 for _, w in plan.blend[r]) > 1]
    assert morphs, "the English drive must cut between library runs somewhere"
    rows = np.array(sorted(set(morphs[:6]) | {0, 1, 2}))
    rows = rows[rows < len(footage.frames)]
    whole = CropBatch(rows, footage.crops[rows], footage.landmarks[rows])
    reach = paste_reach_px(FEATHER_PX)
    part = CropBatch(rows, footage.crops[rows], footage.landmarks[rows], reach)
    made_whole, made_part = eng.generate(whole), eng.generate(part)
    assert np.array_equal(made_whole.regions, made_part.regions)
    assert np.array_equal(composited(whole, made_whole), composited(part, made_part))
    assert not np.array_equal(made_whole.crops, made_part.crops)  # the window was honoured
