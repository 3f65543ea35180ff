"""The built-in engine: re-time the actor's own mouth (no downloaded weights).

From footage where the face is seen speaking with its own audio (the clip itself, plus optional
extra footage of the same actor) the engine builds a library of aligned crops with their mouth
shapes and audio features, and fits a ridge map from audio to (per-speaker z-scored) mouth shape,
blended with the project's speaker-independent opening regression (the sync meter's weights) in
a share chosen on held-out footage, so a few seconds of footage still generalise to other voices
and languages. For a segment of new audio it predicts the mouth shape of every output frame,
rests the mouth where the new audio is silent, picks library frames by dynamic programming over
the whole segment (shape match + temporal smoothness, see :mod:`lipcore.engines.retime_select`),
morphs across the remaining cuts (both frames warped onto one mouth shape, then blended), and
returns the chosen lower face on each target crop after a residual landmark alignment, with the
region it replaces (:mod:`lipcore.engines.retime_composite`); the pipeline feathers, colour-matches
and pastes it. The engine works at any crop size, so the pipeline gives it the face at its native
resolution and the library's lips reach the output without being scaled down and up.

Extra footage: pass a list of :class:`SourceFootage` to :meth:`RetimeEngine.prepare` (the clip
first), or call :meth:`RetimeEngine.add_footage` before :meth:`~RetimeEngine.prepare`; both end up
in one library.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from lipcore.engines.base import (
    CropBatch,
    Engine,
    EngineOptions,
    GeneratedCrops,
    SegmentDrive,
    SourceFootage,
)
from lipcore.engines.picture_clock import per_picture_max, picture_groups, picture_rows
from lipcore.engines.retime_composite import library_lower_face
from lipcore.engines.retime_library import (
    CLOSED_GAP,
    OPEN_GAP,
    SHAPE_WEIGHTS,
    ShapeModel,
    audio_features,
    fit_shape_model,
    lip_gap,
    shape_descriptor,
    speech_frames,
)
from lipcore.engines.retime_pace import (
    CADENCE_JUMP_SCALE,
    incoming_steps,
    library_phases,
    pace_cost,
    row_phases,
)
from lipcore.engines.retime_select import (
    SelectionCosts,
    crossfade_plan,
    select_frames,
    successors,
)
from lipcore.errors import FootageError
from lipcore.media.sample_file import SampleFile, has_sound
from lipcore.progress import Progress
from lipcore.render.frame_pool import map_frames
from lipcore.scratch import RELEASE_EVERY_ROWS, release_pages, save_rows

#: Least visible-face footage with speech that gives a usable library, in seconds.
MIN_SPEECH_SEC = 3.0
#: Footage length that gives good results (reported in the error message as advice).
GOOD_SPEECH_SEC = 10.0
#: Least frames with a closed and with a clearly open mouth.
MIN_SHAPE_FRAMES = 3
#: Library frames kept at most (the Viterbi step is quadratic in it).
MAX_LIBRARY_FRAMES = 1500
#: Frames a path cut is morphed over. At 2 the fades held A02's mouth-box change at 1.12x the
#: original's (a cut every 5-7 frames in a 4-s library, the cut frames 1.3x the original's
#: change); at 3 each step of the texture change is a quarter instead of a third: A02 1.11x,
#: A07 1.13x -> 1.10x, A06 1.27x -> 1.25x (with the source-cadence hold), sharpness kept.
FADE_FRAMES = 3
#: Unary cost added to non-resting frames during silence: silence must close the mouth.
SILENT_OPEN_PENALTY = 6.0
#: Voiced output frames needed before a segment's own prediction statistics are trusted.
MIN_SEGMENT_STATS_FRAMES = 50
#: Unary cost per standard deviation of head-pose difference between a library frame and the
#: target frame (when the target is a frame of the library's own clip): a lower face taken from
#: another head turn shows as a skewed mouth and chin.
POSE_WEIGHT = 0.6
#: Pose difference (in standard deviations of the library's poses) that costs nothing.
POSE_FREE_STD = 0.75
#: A library mouth more open than wanted by more than this (inner-lip gap per eye distance) is
#: closed further by warping it (shapes the library lacks are made from its nearest entry).
RESHAPE_MIN_GAP = 0.02
#: A mouth wider than the library's widest is made by opening a library mouth, at most this many
#: times the widest gap (beyond it the warp would stretch the lips past what the face shows). At
#: 1.3 A07's widest mouth (dubbed with B22) showed the actor's dark cavity pulled a third taller
#: than she ever opens it; at 1.2 it reads as her own widest frame, and the sync meter read 0.410
#: (main 0.419, 1.3 0.382) in the same session.
RESHAPE_MAX_OPEN = 1.2
#: How far one library mouth is warped open at most, in widest gaps (the library's widest
#: inner-lip gap): a frame that would need more (a closed mouth still fading out of a cut into a
#: wide one) hands the opening to the widest-open frame. Opened 0.2 eye distances, a closed A07
#: mouth was all new lips around a borrowed interior, darker than any open frame the actor shows
#: (A07 dubbed with B22, FaceMesh on the render: mean LAB lightness of the opening 41 and 61 on
#: its two widest frames, teeth 3% and 13% of it, against 75-118 over the six most open real
#: frames; with the widest frame opened instead, at most 1.2x, 58 and 76, teeth 11% and 20%).
RESHAPE_MAX_STRETCH = 0.5
#: Resampling of a library mouth closed further (see :meth:`RetimeEngine._shaped`).
RESHAPE_INTERPOLATION = cv2.INTER_CUBIC
#: Unary cost (shape units) of a library mouth per halving of its fine detail below the
#: library's sharp closed mouths, on the output frames that want the mouth closed (silence, a
#: /p b m/). A01's few closed frames while silent read 126 of Laplacian variance (luma, mouth
#: box, in their own frames) against 182 for its closed mouths overall, and were what every
#: pause of a dub held: its closed output mouths read 114 against the original's 182.
SOFT_CLOSED_WEIGHT = 1.0
#: The same cost's weight on the other (speaking) frames: among mouths of about the shape
#: wanted, the sharper (half-open mouths caught mid-motion are often blurred). Measured on the
#: 8-s bench: A01 retime sharpness 0.87 -> 0.96 (B24) and 0.89 -> 1.03 (B05) against 0 here,
#: flicker within +0.01 of main's.
SOFT_SPEAKING_WEIGHT = 0.5
#: Mouth detail (variance of the Laplacian of luma, grey levels squared) that is no detail: flat
#: skin reads about this much from noise and the codec. A04's mouths read 3.7-5.0 in its
#: library (its cheeks 3.4-6.6 in the source frame); their softness differences were noise,
#: and the softness cost there chose, among the resting mouths, lips parted by a dark line
#: (the line is the only detail) to hold through silence: FaceMesh measured the output's
#: silent mouth 0.03-0.05 open instead of 0.003, and the opening-vs-loudness r of
#: ``bench/retime_follow.py`` fell from 0.517 to 0.467. Libraries of real lip detail
#: (A01/A05, A06, A07: medians 15-60) are unchanged.
DETAIL_FLOOR = 8.0
#: Both softness weights' scale where the library repeats pictures (the pace cost of
#: :mod:`.retime_pace` plans there): the two costs pull the path apart, and the rhythm is what
#: those clips' flicker needs. On A06 (8 s, dubbed with B01 / B11) the softness cost took the
#: flicker from 1.11 / 1.11 to 1.12 / 1.14 and broke the picture rhythm the pace cost plans,
#: while A06's sharpness without it is 1.02 / 1.13 of the original's.
CADENCE_SOFT_SCALE = 0.0
#: Bumped when the library's contents change (old libraries on disk are rebuilt).
_LIBRARY_VERSION = 4
#: Mouth-region patch used for the appearance distance (width, height in pixels).
_PATCH_WH = (24, 16)


@dataclass
class RetimeLibrary:
    """The footage library the engine picks frames from.

    Attributes:
        crops: ``(N, S, S, 3)`` uint8 BGR aligned crops.
        landmarks: ``(N, 478, 2)`` float32 landmarks in crop pixels.
        features: ``(N, D)`` audio features of each frame's own audio.
        shapes: ``(N, K)`` mouth-shape descriptors.
        shapes_z: ``(N, K)`` the same, z-scored for this speaker.
        gaps: ``(N,)`` inner-lip gap per eye distance.
        speech: ``(N,)`` bool, the frame's own audio carries speech.
        run_ids: ``(N,)`` contiguous-run ids (a run = consecutive source frames of one footage).
        appearance_dist: ``(N, N)`` mouth-region appearance distance (median 1).
        rest: ``(N,)`` bool, typical resting (closed, quiet) frames.
        rest_shape_z: ``(K,)`` z-scored shape of a resting mouth.
        model: The audio->shape regression.
        pose: ``(N, 3)`` head-pose proxies (see :func:`head_pose`).
        clip_rows: Source frame index -> library row, for the first footage (the clip itself).
        fps: Frame rate of the footage.
        speech_sec: Seconds of visible face with speech.
        repeats: ``(N,)`` bool, frames showing the same picture as the frame before (a 25-fps
            picture in a 30-fps file): runs step over them, and output rows that show such a
            picture of the clip repeat the row before (the engine plans on the picture clock).
        detail: ``(N,)`` fine detail of each crop's mouth (:func:`mouth_detail`); None when
            unknown (closed mouths are then chosen by shape alone).
    """

    crops: np.ndarray
    landmarks: np.ndarray
    features: np.ndarray
    shapes: np.ndarray
    shapes_z: np.ndarray
    gaps: np.ndarray
    speech: np.ndarray
    run_ids: np.ndarray
    appearance_dist: np.ndarray
    rest: np.ndarray
    rest_shape_z: np.ndarray
    model: ShapeModel
    pose: np.ndarray
    clip_rows: dict[int, int]
    fps: Fraction
    speech_sec: float
    repeats: np.ndarray | None = None
    detail: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.crops)

    def repeat_rows(self) -> np.ndarray:
        """``(N,)`` bool :attr:`repeats` (all False when unknown)."""
        if self.repeats is None:
            return np.zeros(len(self.crops), bool)
        return np.asarray(self.repeats, bool)

    def repeat_frames(self) -> list[int]:
        """The clip frames whose library rows repeat the picture before (:meth:`repeat_rows`)."""
        repeats = self.repeat_rows()
        return [f for f, r in self.clip_rows.items() if repeats[r]]

    def rows_of(self, frames: np.ndarray) -> np.ndarray:
        """``(T,)`` int64 library row of each clip frame, -1 where the library lacks it."""
        return np.array([self.clip_rows.get(int(f), -1) for f in frames], np.int64)


@dataclass
class SegmentPlan:
    """What :meth:`RetimeEngine.begin_segment` decided for the current segment.

    Attributes:
        predicted_shape: ``(T, K)`` target mouth shape per output frame (descriptor units).
        predicted_gap: ``(T,)`` its lip-gap column (inner-lip gap per eye distance).
        path: ``(T,)`` chosen library frame per output frame.
        blend: Per output frame, ``(library index, weight)`` pairs (cross-fades at cuts).
        voiced: ``(T,)`` the drive's voiced flags.
        closure: ``(T,)`` 1 where the phones put a /p b m/ (the lips must shut), else 0.
        picture_row: ``(T,)`` the row whose mouth each row shows: itself, or the row before
            where the row shows a repeat of the clip's previous picture (the render holds the
            mouth there; the plan does not spend a step of the library's motion on it).
    """

    predicted_shape: np.ndarray
    predicted_gap: np.ndarray
    path: np.ndarray
    blend: list[list[tuple[int, float]]] = field(default_factory=list)
    voiced: np.ndarray | None = None
    closure: np.ndarray | None = None
    picture_row: np.ndarray | None = None

    @property
    def cuts(self) -> int:
        """Number of output frames where the path does not continue its run or hold."""
        return sum(1 for b in self.blend if len(b) > 1 and b[1][1] > 0.5)


def _runs(frames: np.ndarray) -> np.ndarray:
    """Run id per frame: a new run wherever the source frame index does not step by one."""
    if len(frames) == 0:
        return np.zeros(0, np.int64)
    return np.concatenate([[0], np.cumsum(np.diff(frames) != 1)]).astype(np.int64)


def join_footage_parts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The footage parts as one (a single part as it is: its crops are not copied)."""
    if len(parts) == 1:
        return dict(parts[0])
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _mouth_patches(crops: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Small colour patches of the mouth region, ``(N, w*h*3)``, for the appearance cost.

    Each patch's own mean colour is removed (the colour match takes care of overall lighting),
    but the contrast is kept: lips that turn from pale to dark red across a cut are a visible
    jump even when the mouth shape matches.
    """
    import cv2

    size = crops.shape[1]
    centre = np.median(landmarks[:, [13, 14, 61, 291]].reshape(-1, 2), axis=0)
    half_w, half_h = 0.2 * size, 0.13 * size
    x0, x1 = int(max(centre[0] - half_w, 0)), int(min(centre[0] + half_w, size))
    y0, y1 = int(max(centre[1] - half_h, 0)), int(min(centre[1] + half_h, size))
    out = np.zeros((len(crops), _PATCH_WH[0] * _PATCH_WH[1] * 3), np.float32)
    for i, crop in enumerate(crops):
        lab = cv2.cvtColor(crop[y0:y1, x0:x1], cv2.COLOR_BGR2LAB)
        p = cv2.resize(lab, _PATCH_WH, interpolation=cv2.INTER_AREA).astype(np.float32)
        out[i] = (p - p.mean(axis=(0, 1))).ravel()
        if i % RELEASE_EVERY_ROWS == RELEASE_EVERY_ROWS - 1:
            release_pages(crops)  # disk-backed crops: read once, not kept
    release_pages(crops)
    return out


def mouth_detail(crops: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Fine detail of each crop's mouth: variance of the Laplacian of its luma, ``(N,)`` float32.

    Measured in the box of the crop's own outer lips, grown by a quarter of their width and
    0.4 of their height (the lips, their edges and the skin just around them). A mouth caught
    moving (motion blur) or pressed soft reads low.
    """
    import cv2

    from lipcore.face.landmarks import LIPS_OUTER

    size = crops.shape[1]
    out = np.zeros(len(crops), np.float32)
    lips = np.asarray(landmarks, np.float32)[:, list(LIPS_OUTER)]
    lo, hi = lips.min(axis=1), lips.max(axis=1)
    grow = (hi - lo) * np.float32([0.25, 0.4])
    boxes = np.clip(np.round(np.concatenate([lo - grow, hi + grow], axis=1)), 0, size)
    for i, (x0, y0, x1, y1) in enumerate(boxes.astype(np.int64)):
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            grey = cv2.cvtColor(np.asarray(crops[i, y0:y1, x0:x1]), cv2.COLOR_BGR2GRAY)
            out[i] = cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F).var()
        if i % RELEASE_EVERY_ROWS == RELEASE_EVERY_ROWS - 1:
            release_pages(crops)  # disk-backed crops: read once, not kept
    release_pages(crops)
    return out


def closed_softness(gaps: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """``(N,)`` halvings of each frame's mouth detail below the sharp closed mouths' level.

    The level is the 75th percentile of the closed frames' detail (gap under
    :data:`CLOSED_GAP`, or the least-open tenth where the library has few): 0 at or above it,
    1 at half of it, and so on.

    Detail below :data:`DETAIL_FLOOR` counts as the floor: a library whose mouths are all as
    flat as skin has no sharper mouth to prefer (every frame 0).
    """
    closed = gaps < CLOSED_GAP
    if closed.sum() < MIN_SHAPE_FRAMES:
        closed = gaps <= np.percentile(gaps, 10)
    level = float(np.percentile(detail[closed], 75)) if closed.any() else 0.0
    if level <= DETAIL_FLOOR:
        return np.zeros(len(gaps), np.float32)
    soft = np.log2(level / np.maximum(np.asarray(detail, np.float32), DETAIL_FLOOR))
    return np.maximum(soft, 0.0).astype(np.float32)


def _appearance_distance(patches: np.ndarray) -> np.ndarray:
    """Pairwise patch distance scaled so its median over pairs is 1, ``(N, N)`` float32."""
    sq = (patches * patches).sum(axis=1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * patches @ patches.T, 0.0))
    off = d[~np.eye(len(d), dtype=bool)]
    med = float(np.median(off)) if off.size else 1.0
    return (d / max(med, 1e-6)).astype(np.float32)


def _rest_frames(
    shapes: np.ndarray, gaps: np.ndarray, speech: np.ndarray, neutral_row: int | None
) -> np.ndarray:
    """Typical resting frames: closed mouths, preferably while the actor is silent.

    With ``neutral_row`` (the user's neutral frame) that frame and its closed look-alikes.
    """
    n = len(gaps)
    if neutral_row is not None:
        rest = np.zeros(n, bool)
        rest[neutral_row] = True
        # Its closed neighbours too, so a long silence is not one frozen frame
        close = np.abs(shapes - shapes[neutral_row]).sum(axis=1)
        rest |= (gaps < CLOSED_GAP) & (close < np.percentile(close, 20))
        return rest
    closed = gaps <= max(CLOSED_GAP, float(np.percentile(gaps, 15)))
    quiet = closed & ~speech
    if quiet.sum() >= MIN_SHAPE_FRAMES:
        return quiet
    return closed


def head_pose(landmarks: np.ndarray) -> np.ndarray:
    """Head-pose proxies in the aligned crop, ``(..., 3)``: yaw, pitch and cheek asymmetry.

    Nose tip offset from the eye-corner midpoint and the difference of the nose-to-cheek
    distances, all per eye distance; enough to tell a turned head from a frontal one.
    """
    lm = np.asarray(landmarks, np.float32)
    eyes_mid = 0.5 * (lm[..., 33, :] + lm[..., 263, :])
    ed = np.maximum(np.linalg.norm(lm[..., 263, :] - lm[..., 33, :], axis=-1), 1e-6)
    nose = lm[..., 1, :]
    yaw = (nose[..., 0] - eyes_mid[..., 0]) / ed
    pitch = (nose[..., 1] - eyes_mid[..., 1]) / ed
    cheeks = (
        np.linalg.norm(nose - lm[..., 234, :], axis=-1)
        - np.linalg.norm(nose - lm[..., 454, :], axis=-1)
    ) / ed
    return np.stack([yaw, pitch, cheeks], axis=-1).astype(np.float32)


def _gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Smooth ``(T, K)`` along time with a small Gaussian (edges held)."""
    if sigma_frames <= 0 or len(x) < 3:
        return x
    r = int(np.ceil(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    padded = np.concatenate([np.repeat(x[:1], r, 0), x, np.repeat(x[-1:], r, 0)])
    return np.stack([np.convolve(padded[:, j], k, mode="valid") for j in range(x.shape[1])], 1)


class RetimeEngine(Engine):
    """Lip-sync by re-timing the actor's own mouth from footage; needs no weights.

    Args:
        options: Per-segment engine options (``mouth_strength`` below 1 blends toward the target's
            own mouth, above 1 exaggerates the predicted shapes; ``neutral_frame`` picks the
            resting frame used in silence; ``reference`` does not apply: every new lower face
            comes from the library).
        footage_paths: Extra clips of the same actor, for the record (the pipeline builds their
            :class:`SourceFootage` and passes them to :meth:`prepare` or :meth:`add_footage`).
        crop_size: Side of the aligned crops, in pixels.
        costs: Weights of the frame selection.
        use_phones: Close the lips on the new speech's /p b m/ (phone recogniser).
    """

    name = "retime"
    any_crop_size = True
    #: Library pixels replace the target's; only the crops' shape is checked.
    reads_crop_pixels = False

    def __init__(
        self,
        options: EngineOptions | None = None,
        footage_paths: Sequence[str | Path] = (),
        crop_size: int = 256,
        costs: SelectionCosts | None = None,
        use_phones: bool = True,
    ):
        super().__init__(options)
        self.footage_paths = tuple(Path(p) for p in footage_paths)
        self.crop_size = int(crop_size)
        self.costs = costs or SelectionCosts()
        self.use_phones = use_phones
        self.library: RetimeLibrary | None = None
        self.plan: SegmentPlan | None = None
        self._extra: list[SourceFootage] = []
        self._drive: SegmentDrive | None = None

    # --- library ----------------------------------------------------------------------------

    def add_footage(self, source: SourceFootage) -> None:
        """Queue extra footage of the same actor for the next :meth:`prepare`."""
        self._extra.append(source)

    def prepare(self, source: SourceFootage | Sequence[SourceFootage]) -> Iterator[Progress]:
        """Build the library and fit the audio->shape map (a generator yielding progress).

        Args:
            source: The clip's own footage, or a list of footages (the clip first); footage
                queued with :meth:`add_footage` is added to it.

        Raises:
            FootageError: Too little visible face with speech, or no closed / no open mouths.
        """
        sources = [source] if isinstance(source, SourceFootage) else list(source)
        sources += self._extra
        total = len(sources) + 2
        parts = []
        run_base = 0
        for k, src in enumerate(sources):
            yield Progress(k, total, "building mouth library")
            parts.append(self._footage_part(src, run_base))
            parts[-1]["source"] = np.full(len(parts[-1]["crops"]), k, np.int64)
            if len(parts[-1]["run_ids"]):
                run_base = int(parts[-1]["run_ids"].max()) + 1
        cat = join_footage_parts(parts)
        fps = sources[0].fps
        self._check_footage(cat, fps)
        cat = self._cap(cat)
        yield Progress(len(sources), total, "learning mouth shapes")
        model = fit_shape_model(cat["features"], cat["shapes"], cat["speech"])
        shapes_z = ((cat["shapes"] - model.shape_mean) / model.shape_std).astype(np.float32)
        dist = _appearance_distance(_mouth_patches(cat["crops"], cat["landmarks"]))
        # The library's resting frames are chosen without a neutral frame: a segment that names
        # one re-chooses them in begin_segment, so one library serves every segment's options.
        rest = _rest_frames(cat["shapes"], cat["gaps"], cat["speech"], None)
        detail = mouth_detail(cat["crops"], cat["landmarks"])
        self.library = RetimeLibrary(
            crops=cat["crops"],
            landmarks=cat["landmarks"].astype(np.float32),
            features=cat["features"],
            shapes=cat["shapes"],
            shapes_z=shapes_z,
            gaps=cat["gaps"],
            speech=cat["speech"],
            run_ids=cat["run_ids"],
            appearance_dist=dist,
            rest=rest,
            rest_shape_z=np.median(shapes_z[rest], axis=0),
            model=model,
            pose=head_pose(cat["landmarks"]),
            clip_rows={
                int(f): i
                for i, (f, k) in enumerate(zip(cat["frames_src"], cat["source"], strict=True))
                if k == 0
            },
            fps=fps,
            speech_sec=float(cat["speech"].sum() / float(fps)),
            # A repeat right after a split of the library (a capped block's first frame) starts
            # its run: it is a picture of its own there
            repeats=cat["repeats"] & (np.diff(cat["run_ids"], prepend=-1) == 0),
            detail=detail,
        )
        yield Progress(total, total, "learning mouth shapes")

    def _footage_part(self, src: SourceFootage, run_base: int) -> dict[str, np.ndarray]:
        crops = np.asarray(src.crops)
        if crops.ndim != 4 or crops.shape[1] != crops.shape[2]:
            raise ValueError(f"footage crops must be (N, S, S, 3), got {crops.shape}")
        frames = np.asarray(src.frames, np.int64)
        n_total = int(frames.max()) + 1 if len(frames) else 0
        audio = np.zeros(0, np.float32) if src.audio_16k is None else src.audio_16k
        if not isinstance(audio, SampleFile):  # a long clip's sound stays on disk
            audio = np.asarray(audio, np.float32).reshape(-1)
        feats = audio_features(audio, src.fps, n_total)[frames]
        speech = speech_frames(audio, src.fps, n_total)[frames]
        # Frames past the end of the footage's audio have no sound to learn from
        audio_frames = int(len(audio) * float(src.fps) / 16000)
        speech &= frames < audio_frames
        lm = np.asarray(src.landmarks, np.float32)
        return {
            "crops": crops,
            "landmarks": lm,
            "features": feats,
            "shapes": shape_descriptor(lm),
            "gaps": lip_gap(lm),
            "speech": speech,
            "run_ids": _runs(frames) + run_base,
            "frames_src": frames,
            "has_audio": np.full(len(frames), has_sound(audio)),
            "repeats": (
                np.zeros(len(frames), bool)
                if src.repeats is None
                else np.asarray(src.repeats, bool).reshape(-1)[: len(frames)]
            ),
        }

    def _check_footage(self, cat: dict[str, np.ndarray], fps: Fraction) -> None:
        speech_sec = float(cat["speech"].sum() / float(fps))
        where = ", ".join(str(p) for p in self.footage_paths) or None
        if not cat["has_audio"].any():
            raise FootageError(
                "the footage has no audio, so the built-in engine cannot learn how this actor's "
                f"mouth moves with speech (it needs at least {MIN_SPEECH_SEC:.0f} s of the face "
                "speaking with its own sound)",
                path=where,
                fix="add footage of the same actor speaking with --footage, or use an engine "
                "with a checkpoint (--engine wav2lip)",
            )
        if speech_sec < MIN_SPEECH_SEC:
            raise FootageError(
                f"only {speech_sec:.1f} s of footage shows the face while speaking; the built-in "
                f"engine needs at least {MIN_SPEECH_SEC:.0f} s (about {GOOD_SPEECH_SEC:.0f} s or "
                "more looks best)",
                path=where,
                fix="use a longer part of the clip, or add footage of the same actor speaking "
                "with --footage",
            )
        gaps = cat["gaps"]
        n_closed = int((gaps < CLOSED_GAP).sum())
        n_open = int((gaps > OPEN_GAP).sum())
        if n_closed < MIN_SHAPE_FRAMES or n_open < MIN_SHAPE_FRAMES:
            lacking = "closed" if n_closed < MIN_SHAPE_FRAMES else "open"
            raise FootageError(
                f"the footage has no {lacking} mouth ({n_closed} closed and {n_open} open frames "
                f"in {len(gaps) / float(fps):.1f} s); the built-in engine needs both, which "
                f"usually takes at least {GOOD_SPEECH_SEC:.0f} s of the face speaking",
                path=where,
                fix="add footage of the same actor speaking, with pauses, with --footage",
            )

    @staticmethod
    def _cap(cat: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Keep at most MAX_LIBRARY_FRAMES, as evenly spread blocks so runs stay playable."""
        n = len(cat["crops"])
        if n <= MAX_LIBRARY_FRAMES:
            return cat
        block = 50
        n_blocks = MAX_LIBRARY_FRAMES // block
        starts = np.linspace(0, n - block, n_blocks).astype(np.int64)
        keep = np.unique(np.concatenate([np.arange(s, s + block) for s in starts]))
        out = {k: v[keep] for k, v in cat.items()}
        # A skipped stretch splits a run: renumber so successors stay true neighbours
        step = np.concatenate([[0], (np.diff(keep) != 1) | (np.diff(out["run_ids"]) != 0)])
        out["run_ids"] = np.cumsum(step).astype(np.int64)
        return out

    def _segment_rest(self) -> tuple[np.ndarray, np.ndarray]:
        """Resting frames and their z-shape for the current options (a neutral frame or auto)."""
        lib = self.library
        assert lib is not None
        neutral = self.options.neutral_frame
        row = lib.clip_rows.get(int(neutral)) if neutral is not None else None
        if row is None:
            return lib.rest, lib.rest_shape_z
        rest = _rest_frames(lib.shapes, lib.gaps, lib.speech, row)
        return rest, np.median(lib.shapes_z[rest], axis=0)

    # --- state on disk ----------------------------------------------------------------------

    def prepare_key(self) -> tuple:
        """The library does not depend on the options (they act per segment): ``()``."""
        return ("retime-library", MAX_LIBRARY_FRAMES, self.crop_size, _LIBRARY_VERSION)

    def save_state(self, folder: Path) -> bool:
        """Write the library to ``folder`` (arrays as .npy, so crops load memory-mapped)."""
        import json

        lib = self.library
        if lib is None:
            return False
        folder.mkdir(parents=True, exist_ok=True)
        m = lib.model
        arrays = {
            "crops": lib.crops,
            "landmarks": lib.landmarks,
            "features": lib.features,
            "shapes": lib.shapes,
            "shapes_z": lib.shapes_z,
            "gaps": lib.gaps,
            "speech": lib.speech,
            "run_ids": lib.run_ids,
            "appearance_dist": lib.appearance_dist,
            "rest": lib.rest,
            "rest_shape_z": lib.rest_shape_z,
            "pose": lib.pose,
            "repeats": lib.repeat_rows(),
            "detail": lib.detail if lib.detail is not None else np.zeros(0, np.float32),
            "clip_frames": np.fromiter(lib.clip_rows.keys(), np.int64, len(lib.clip_rows)),
            "clip_rows": np.fromiter(lib.clip_rows.values(), np.int64, len(lib.clip_rows)),
            "m_x_mean": m.x_mean,
            "m_weights": m.weights,
            "m_shape_mean": m.shape_mean,
            "m_shape_std": m.shape_std,
            "m_pred_std": m.pred_std,
        }
        for name, value in arrays.items():
            if name == "crops":
                save_rows(folder / "crops.npy", value)  # hundreds of MB: never all resident
            else:
                np.save(folder / f"{name}.npy", np.asarray(value), allow_pickle=False)
        meta = {
            "fps": [lib.fps.numerator, lib.fps.denominator],
            "speech_sec": lib.speech_sec,
            "alpha": m.alpha,
            "prior_share": m.prior_share,
            "validation_r": m.validation_r,
            "prior_r": m.prior_r,
            "has_prior": m.prior is not None,
        }
        (folder / "meta.json").write_text(json.dumps(meta))  # written last: marks it complete
        return True

    def load_state(self, folder: Path) -> bool:
        """Load a library written by :meth:`save_state` (crops memory-mapped: no copy)."""
        import json

        from lipcore.engines.retime_library import generic_prior

        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            return False
        try:
            meta = json.loads(meta_path.read_text())

            def arr(name: str, mmap: bool = False) -> np.ndarray:
                return np.load(folder / f"{name}.npy", mmap_mode="r" if mmap else None)

            prior = generic_prior() if meta["has_prior"] else None
            if meta["has_prior"] and prior is None:
                return False  # fitted with weights this installation lacks
            model = ShapeModel(
                x_mean=arr("m_x_mean"),
                weights=arr("m_weights"),
                shape_mean=arr("m_shape_mean"),
                shape_std=arr("m_shape_std"),
                alpha=float(meta["alpha"]),
                prior_share=float(meta["prior_share"]),
                validation_r=float(meta["validation_r"]),
                pred_std=arr("m_pred_std"),
                prior=prior,
                prior_r=float(meta["prior_r"]),
            )
            self.library = RetimeLibrary(
                crops=arr("crops", mmap=True),
                landmarks=arr("landmarks"),
                features=arr("features"),
                shapes=arr("shapes"),
                shapes_z=arr("shapes_z"),
                gaps=arr("gaps"),
                speech=arr("speech"),
                run_ids=arr("run_ids"),
                appearance_dist=arr("appearance_dist"),
                rest=arr("rest"),
                rest_shape_z=arr("rest_shape_z"),
                model=model,
                pose=arr("pose"),
                clip_rows={
                    int(f): int(r)
                    for f, r in zip(arr("clip_frames"), arr("clip_rows"), strict=True)
                },
                fps=Fraction(*meta["fps"]),
                speech_sec=float(meta["speech_sec"]),
                repeats=arr("repeats"),
                detail=arr("detail"),
            )
        except (OSError, ValueError, KeyError):
            return False
        return True

    # --- segment ----------------------------------------------------------------------------

    def begin_segment(self, drive: SegmentDrive) -> None:
        """Predict the mouth shapes of the new audio and choose library frames for the segment."""
        lib = self.library
        if lib is None:
            raise RuntimeError("RetimeEngine.prepare() must run before begin_segment()")
        n_out = len(drive.frames)
        voiced = np.asarray(drive.voiced, bool).reshape(-1)[:n_out]
        if len(voiced) < n_out:
            voiced = np.concatenate([voiced, np.zeros(n_out - len(voiced), bool)])
        if drive.options is not None:
            self.use_options(drive.options)
        rest, rest_shape_z = self._segment_rest()
        target_z = self._predict(drive, voiced, rest_shape_z)
        shown = drive.frames if drive.source_frames is None else drive.source_frames
        shown = np.asarray(shown, np.int64)[:n_out]
        # Plan one row per picture: a row showing a repeat of the clip's picture before shows
        # that row's mouth again (the render holds it), so the library's own motion steps once
        # per picture, as the original's does, instead of twice on the row after a repeat.
        picture_row = picture_rows(shown, lib.repeat_frames())
        distinct, group = picture_groups(picture_row)  # (T,) the picture each row belongs to
        cadence = self._cadence(shown, picture_row)
        # A /p b m/ on a repeated picture shuts the lips on the picture it repeats
        closure = per_picture_max(self._closures(drive, voiced), picture_row)
        if closure.any():  # the lips shut on /p b m/: ask for the library's closed mouth
            target_z[closure > 0.5] = rest_shape_z
        soft_scale = 1.0 if cadence is None else CADENCE_SOFT_SCALE
        unary = self._unary(target_z, voiced, rest, closure, soft_scale)
        unary += self._pose_cost(shown)
        repeats = lib.repeat_rows()
        # Playing a run on costs what its step differs from the clip's step at that picture
        pace, costs = None, self.costs
        if cadence is not None:
            pace = pace_cost(*cadence)[distinct]
            costs = replace(costs, jump=costs.jump * CADENCE_JUMP_SCALE)
        path = select_frames(
            unary[distinct], lib.appearance_dist, lib.run_ids, ~voiced[distinct], costs,
            repeats, pace,
        )  # fmt: skip
        blend = crossfade_plan(path, lib.run_ids, FADE_FRAMES, repeats)
        path, blend = path[group], [blend[k] for k in group]
        model = lib.model
        shape = target_z * model.shape_std + model.shape_mean
        self.plan = SegmentPlan(
            predicted_shape=shape.astype(np.float32),
            predicted_gap=shape[:, 0].astype(np.float32),
            path=path,
            blend=blend,
            voiced=voiced,
            closure=closure,
            picture_row=picture_row,
        )
        self._drive = drive

    def _closures(self, drive: SegmentDrive, voiced: np.ndarray) -> np.ndarray:
        """``(T,)`` 1 on the frames of the new speech's bilabials (phone recogniser), else 0."""
        from lipcore.engines.oneshot import _recognise, phone_tracks

        n = len(voiced)
        if not self.use_phones or not voiced.any() or len(drive.audio_16k) < 1600:
            return np.zeros(n)
        phones = _recognise(drive.audio_16k)
        if phones is None:
            return np.zeros(n)
        return phone_tracks(phones, drive.fps, n)[0] * voiced

    def _predict(
        self, drive: SegmentDrive, voiced: np.ndarray, rest_shape_z: np.ndarray
    ) -> np.ndarray:
        """Target z-scored mouth shape per output frame, ``(T, K)``."""
        lib = self.library
        assert lib is not None
        n_out = len(voiced)
        feats = audio_features(drive.audio_16k, drive.fps, n_out)
        z = lib.model.predict_z(feats)  # (T, K)
        # Map the prediction's spread onto the speaker's own spread of speaking shapes: ridge
        # predictions are shrunk toward the mean, and another voice has another level
        lib_speech = lib.shapes_z[lib.speech] if lib.speech.sum() >= 10 else lib.shapes_z
        want_mean, want_std = lib_speech.mean(axis=0), lib_speech.std(axis=0)
        if voiced.sum() >= MIN_SEGMENT_STATS_FRAMES:
            got_mean, got_std = z[voiced].mean(axis=0), np.maximum(z[voiced].std(axis=0), 1e-3)
        else:
            fit = lib.model.predict_z(lib.features)
            sel = lib.speech if lib.speech.sum() >= 10 else np.ones(len(fit), bool)
            got_mean, got_std = fit[sel].mean(axis=0), lib.model.pred_std
        target = want_mean + (z - got_mean) / got_std * want_std
        strength = float(self.options.mouth_strength)
        if strength > 1.0:
            target = want_mean + (target - want_mean) * strength
        target = _gaussian_smooth(target, 0.8)
        target[~voiced] = rest_shape_z
        return target

    def _unary(
        self,
        target_z: np.ndarray,
        voiced: np.ndarray,
        rest: np.ndarray,
        closure: np.ndarray | None = None,
        soft_scale: float = 1.0,
    ) -> np.ndarray:
        """Shape cost ``(T, N)`` of each library frame at each output frame.

        Mouths softer than the library's sharp closed mouths cost more, most where the mouth
        is to be closed (silence, ``closure`` rows: :data:`SOFT_CLOSED_WEIGHT`), less while
        speaking (:data:`SOFT_SPEAKING_WEIGHT`), both times ``soft_scale``; in silence the
        library's sharper closed mouths may rest as well as its quiet ones (unless the options
        name a neutral frame).
        """
        lib = self.library
        assert lib is not None
        diff = np.abs(  # (T, N, K)
            target_z.astype(np.float32)[:, None, :] - lib.shapes_z.astype(np.float32)[None, :, :]
        )
        unary = (diff * SHAPE_WEIGHTS).sum(axis=2) / SHAPE_WEIGHTS.sum()
        # In silence only resting frames are acceptable; speaking frames prefer not to rest
        silent = ~voiced
        unary[silent] *= 2.0
        soft = None
        if lib.detail is not None and len(lib.detail) == len(lib):
            soft = closed_softness(lib.gaps, lib.detail)
        if soft is not None and soft.any():  # else no mouth is sharper than another
            neutral = self.options.neutral_frame
            if neutral is None or int(neutral) not in lib.clip_rows:  # else it rests alone
                rest = rest | ((lib.gaps < CLOSED_GAP) & (soft == 0))
            shut = silent if closure is None else silent | (closure > 0.5)
            unary[shut] += soft_scale * SOFT_CLOSED_WEIGHT * soft
            unary[~shut] += soft_scale * SOFT_SPEAKING_WEIGHT * soft
        unary[np.ix_(silent, ~rest)] += SILENT_OPEN_PENALTY
        return unary.astype(np.float32)

    def _pose_cost(self, out_frames: np.ndarray) -> np.ndarray:
        """Head-pose mismatch cost ``(T, N)`` of the source frames shown (0 if not in library)."""
        lib = self.library
        assert lib is not None
        cost = np.zeros((len(out_frames), len(lib)), np.float32)
        rows = lib.rows_of(out_frames)
        known = rows >= 0
        if known.any():
            scale = np.maximum(lib.pose.std(axis=0), 1e-3)
            diff = np.abs(lib.pose[rows[known]][:, None, :] - lib.pose[None, :, :]) / scale
            # Small pose differences are free: the residual warp absorbs them, and a cost there
            # would favour the target's own neighbours and so leak its original mouth back in
            cost[known] = POSE_WEIGHT * np.maximum(diff - POSE_FREE_STD, 0.0).mean(axis=2)
        return cost

    def _cadence(
        self, out_frames: np.ndarray, picture_row: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The library's picture steps and phases and the output rows' phases (see
        :mod:`.retime_pace`), or None where the library repeats no picture."""
        lib = self.library
        assert lib is not None
        repeats = lib.repeat_rows()
        if not repeats.any():
            return None
        steps = incoming_steps(lib.appearance_dist, successors(lib.run_ids, repeats), repeats)
        phases = library_phases(lib.run_ids, repeats)
        out_phases = row_phases(picture_row)
        # Rows before the segment's first repeat take the phase of the clip frame they show
        rows = lib.rows_of(out_frames)
        held = picture_row != np.arange(len(picture_row))
        fill = (out_phases < 0) & ~held & (rows >= 0) & (np.cumsum(held) == 0)
        out_phases[fill] = phases[rows[fill]]
        return steps, phases, out_phases

    # --- frames -----------------------------------------------------------------------------

    def generate(self, batch: CropBatch) -> GeneratedCrops:
        """The chosen library lower face on each target crop, with the region it replaces.

        Returns:
            :class:`GeneratedCrops`: ``(B, S, S, 3)`` crops, ``(B, S, S)`` regions (opacity
            ``options.mouth_strength`` clipped to [0, 1]) and the library mouths' landmarks.
        """
        lib, plan = self.library, self.plan
        if lib is None or plan is None:
            raise RuntimeError("RetimeEngine.begin_segment() must run before generate()")
        crops = np.asarray(batch.crops)
        if crops.shape[1:3] != lib.crops.shape[1:3]:
            raise ValueError(
                f"target crops are {crops.shape[1]}x{crops.shape[2]} but the library was built "
                f"from {lib.crops.shape[1]}x{lib.crops.shape[2]} crops"
            )
        strength = float(np.clip(self.options.mouth_strength, 0.0, 1.0))
        size = crops.shape[1]
        # Zeroed lazily (calloc): only the windows each frame writes are ever touched.
        out = np.zeros(crops.shape, crops.dtype)
        regions = np.zeros(crops.shape[:3], np.float32)
        mouths = np.asarray(batch.landmarks, np.float32).copy()

        def one(b: int) -> None:
            row = int(np.clip(int(batch.rows[b]), 0, len(plan.blend) - 1))
            if plan.picture_row is not None:
                row = int(plan.picture_row[row])
            sources = [(*self._shaped(j, row), w) for j, w in plan.blend[row] if w > 0]
            _, region, mouths[b] = library_lower_face(
                batch.landmarks[b], sources, size, batch.reach_px, out=out[b]
            )
            regions[b][region] = strength

        map_frames(one, range(len(crops)))  # frames are independent: spread over the cores
        # Disk-backed library crops: the few this batch read go back, so a long clip's many
        # segments never gather the whole library in memory.
        release_pages(lib.crops)
        return GeneratedCrops(crops=out, regions=regions, mouth_landmarks=mouths)

    def _shaped(self, j: int, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Library frame ``j`` as shown at output ``row``: closed further by warping when the
        library has no mouth as closed as wanted there (a bilabial, a near-closed vowel), and
        opened further when it has none as open (up to :data:`RESHAPE_MAX_OPEN` times its
        widest), the new opening filled from the library's widest-open mouth; a frame that
        would have to open by more than :data:`RESHAPE_MAX_STRETCH` widest gaps gives way to the
        widest-open frame itself."""
        lib, plan = self.library, self.plan
        assert lib is not None and plan is not None
        crop, lm = lib.crops[j], lib.landmarks[j]
        shut = plan.closure is not None and plan.closure[row] > 0.5
        want = 0.0 if shut else max(float(plan.predicted_gap[row]), 0.0)
        widest = int(np.argmax(lib.gaps))
        widest_gap = float(lib.gaps[widest])
        if want - widest_gap > RESHAPE_MIN_GAP:
            want = min(want, RESHAPE_MAX_OPEN * widest_gap)
            if want - float(lib.gaps[j]) > RESHAPE_MAX_STRETCH * widest_gap:
                j = widest  # a mouth that open is the widest one opened further, not a shut one
            return self._opened(j, want, widest)
        if lib.gaps[j] - want <= RESHAPE_MIN_GAP:
            return crop, lm
        from lipcore.engines.mouth_shape import MOUTH_POINTS
        from lipcore.engines.oneshot_render import reshape_gap, seal_lips, warp_mouth

        eye = float(np.linalg.norm(lm[263] - lm[33]))
        mouth = reshape_gap(lm, want * eye)
        # The one-shot engine's mouth warp, resampled cubic: the crop is resampled again by the
        # alignment, and Lanczos cost 3.3x as much for no visible gain here.
        crop = warp_mouth(crop, lm, mouth, eye, RESHAPE_INTERPOLATION)
        if want * eye < 1.0:
            crop = seal_lips(crop, mouth)
        lm = lm.copy()
        lm[list(MOUTH_POINTS)] = mouth
        return crop, lm

    def _opened(self, j: int, want: float, widest: int) -> tuple[np.ndarray, np.ndarray]:
        """Library frame ``j`` with its mouth opened to ``want`` (gap per eye distance)."""
        from lipcore.engines.oneshot_render import CavitySource, reshape_mouth

        lib = self.library
        assert lib is not None
        crop, lm = lib.crops[j], lib.landmarks[j]
        if want - float(lib.gaps[j]) <= RESHAPE_MIN_GAP:
            return crop, lm
        eye = float(np.linalg.norm(lm[263] - lm[33]))
        cavity = CavitySource(lib.crops[widest], lib.landmarks[widest])
        return reshape_mouth(crop, lm, want * eye, cavity, light_at_new_lips=True)


__all__ = ["MIN_SPEECH_SEC", "RetimeEngine", "RetimeLibrary", "SegmentPlan"]
