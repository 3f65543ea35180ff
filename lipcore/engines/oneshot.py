"""The one-shot engine: any face, one frame is enough, no speaking footage, no downloaded weights.

The mouth shape of every output frame comes from the new speech alone: the project's speaker-
independent speech -> mouth-shape model (:mod:`lipcore.engines.mouth_shape`, trained on the in-sync
shared clips) predicts how the lips and chin move away from the speaker's resting mouth, scaled to
this face's mouth width. Phones (:mod:`lipcore.audio.phones`) sharpen it: the lips close on
/p b m/, the corners come in on rounded /o u w/ and go out on spread /i e/. Silence rests the
mouth. The shape track is smoothed over time so the mouth never jitters, on the clip's picture
clock (:mod:`lipcore.engines.picture_clock`): where the clip shows a picture twice the render
holds the mouth, so the track has one shape per picture and is smoothed over pictures. A segment
driven by an animator's mouth cues (``SegmentDrive.cue_shapes``) takes each frame's shape from
the measured shape table of :mod:`lipcore.engines.cue_mouths` instead of the speech, with the
same smoothing, and its A (closed) frames are held shut like a recognised /p b m/.

Pixels come from the actor's own face: each target frame itself (its head pose, lighting and grain
stay its own; its mouth is first brought to the resting opening, so the original speech's opening
does not leak, then moved by the predicted motion), deformed by the dense landmark warp of
:mod:`lipcore.face.warp`. Footage without a closed mouth (a still of someone speaking) is closed by
warping once and that frame is the texture. The mouth opening is filled from the actor's most open
frame when the footage has one (its teeth rows kept at their own height and split at its own
bite: :mod:`lipcore.engines.oneshot_teeth`), otherwise synthesised in the face's colours
(:mod:`lipcore.engines.oneshot_render`); lips pressed shut over an open original are sealed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from lipcore.engines.base import CropBatch, Engine, EngineOptions, SegmentDrive, SourceFootage
from lipcore.engines.cue_mouths import cue_displacements
from lipcore.engines.mouth_shape import MOUTH_POINTS, MouthShapeModel, load_mouth_shape_model
from lipcore.engines.oneshot_render import (
    WARP_INTERPOLATION,
    CavitySource,
    closed_mouth,
    render_mouth,
    reshape_gap,
    seal_lips,
)
from lipcore.engines.picture_clock import (
    gaussian_smooth as _smooth,
)
from lipcore.engines.picture_clock import (
    per_picture_max,
    picture_rows,
    smooth_on_pictures,
)
from lipcore.engines.retime_composite import residual_warp, warp_points
from lipcore.face.landmarks import lip_gap
from lipcore.progress import Progress

#: Share of the footage's most closed frames whose median is the resting mouth (as in training).
REST_SHARE = 0.15
#: A resting mouth more open than this (inner-lip gap per eye distance) is closed by warping.
REST_MAX_GAP = 0.03
#: A footage frame with at least this inner-lip gap (per eye distance) lends its mouth interior.
OPEN_EXEMPLAR_GAP = 0.07
#: Temporal smoothing of the shape track, pictures (Gaussian sigma; a picture is a frame where
#: the clip repeats none, :mod:`lipcore.engines.picture_clock`). A /b/'s closure is applied
#: after it, so it stays sharp; at 1.0 the mouth box's frame-to-frame change was 1.2-1.4x the
#: original's on A04, A06, A07 (bench/oneshot_quality.py); at 1.3 A07 stayed at 1.12x (a wide
#: opening in the new speech), at 1.6 1.10x with closures and the meter's confidence kept
#: (A04 0.161 -> 0.174); wider smoothing costs sync. Counted in frames on the clips that repeat
#: pictures, A06 (148 pictures in 199 frames) read 1.118 with B01, A07 (104 in 122) 1.114 with
#: B22 and 1.108 with B10; counted in pictures 1.077, 1.100 and 1.074.
SMOOTH_SIGMA_PICTURES = 1.6
#: The resting frame's mouth is the texture wherever it fits the target by a similarity within
#: REST_FIT_FULL (stable points, eye-distance units): the target's own moving mouth, squeezed to
#: rest, left its teeth and lip motion flickering under the new one. From REST_FIT_NONE on (a
#: turned head) the target's own mouth is the texture, for the perspective; between, a blend of
#: the two, both warped onto the same mouth shape.
REST_FIT_FULL = 0.1
#: Nose-base points that bound the resting frame's mouth region from above.
_PHILTRUM = (98, 327, 2, 164, 206, 426)
#: Feather of the resting frame's mouth-and-chin region on the target (eye-distance units).
REST_FEATHER = 0.12
REST_FIT_NONE = 0.2
#: Footage frames with audio needed before the motion is scaled to the actor's own opening.
ADAPT_MIN_FRAMES = 50
#: Bounds of that per-speaker scale. At a floor of 0.5 (with sigma 1.6 frames) a reserved
#: speaker's mouth moved too little for the sync meter to see it follow the speech (A04: 0.06);
#: A02, A04 and A07 ask for less than 0.75, and at 0.7 (shape track on the picture clock) the
#: meter's confidence read A04/B21 0.363 -> 0.374, A07/B22 0.468 -> 0.472, A07/B10 0.211 ->
#: 0.227, A02/B20 0.257 -> 0.230, the opening's correlation with the new speech's loudness
#: 0.239 -> 0.239, 0.144 -> 0.148, 0.385 -> 0.390, 0.281 -> 0.283, and the mouth-box flicker
#: over the original's 0.972 -> 0.947, 1.100 -> 1.075, 1.074 -> 1.048, 0.810 -> 0.794.
ADAPT_RANGE = (0.7, 1.2)
#: Frames over which the mouth settles to rest when the speech stops.
REST_RAMP_FRAMES = 3
#: How far the corners move in on a rounded vowel / out on a spread one (eye-distance units).
ROUND_SHIFT = 0.04
SPREAD_SHIFT = 0.025
#: Share of the model's predicted motion used (its spread matches real speakers', but a still
#: face opening as wide as the most open speakers looks exaggerated).
MOTION_SCALE = 0.85
#: Phones with rounded and with spread lips (ARPAbet).
ROUNDED = frozenset({"OW", "UW", "UH", "W", "AO", "OY"})
SPREAD = frozenset({"IY", "IH", "EY", "EH", "Y"})
BILABIAL = frozenset({"P", "B", "M"})
_ROW = {p: i for i, p in enumerate(MOUTH_POINTS)}
#: Mouth points that move with the corners when rounding/spreading: (point, weight, side).
#: side -1 = subject's right corner (image left): inward is +x.
_CORNER_MOVES = tuple(
    [(p, w, -1) for p, w in ((61, 1.0), (78, 0.9), (185, 0.5), (146, 0.5), (191, 0.4), (95, 0.4))]
    + [(p, w, 1) for p, w in ((291, 1.0), (308, 0.9), (409, 0.5), (375, 0.5), (415, 0.4),
                              (324, 0.4))]
)  # fmt: skip


@dataclass
class OneShotPlan:
    """What :meth:`OneShotEngine.begin_segment` decided.

    Attributes:
        displacement: ``(T, P, 2)`` mouth-point displacements from rest, eye-distance units.
        closure: ``(T,)`` 0..1 how firmly the lips are held shut (bilabials).
        gap: ``(T,)`` predicted inner-lip gap per eye distance (for plots and tests).
        voiced: ``(T,)`` the drive's voiced flags.
        phones_used: Whether phones shaped the track.
    """

    displacement: np.ndarray
    closure: np.ndarray
    gap: np.ndarray
    voiced: np.ndarray
    phones_used: bool


def phone_tracks(
    phones: Sequence, fps, n_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame bilabial closure, rounding and spreading weights from timed phones.

    A frame belongs to a phone when its centre lies inside the phone (widened by half a frame so
    a short /b/ always owns one frame).

    Returns:
        ``(closure, rounded, spread)``, each ``(n_frames,)`` float in [0, 1].
    """
    closure = np.zeros(n_frames)
    rounded = np.zeros(n_frames)
    spread = np.zeros(n_frames)
    fps_f = float(fps)
    for p in phones:
        # Frame i (centre (i + 1/2) / fps) belongs when start - half <= centre < end + half
        start, end = p.start_sample / 16000.0 * fps_f, p.end_sample / 16000.0 * fps_f
        lo, hi = int(np.ceil(start - 1.0)), int(np.ceil(end)) - 1
        lo, hi = max(lo, 0), min(hi, n_frames - 1)
        if hi < lo:
            continue
        if p.label in BILABIAL:
            closure[lo : hi + 1] = 1.0
        elif p.label in ROUNDED:
            rounded[lo : hi + 1] = 1.0
        elif p.label in SPREAD:
            spread[lo : hi + 1] = 1.0
    return closure, _smooth(rounded, 1.5), _smooth(spread, 1.5)


class OneShotEngine(Engine):
    """Lip-sync any face from one frame: predicted mouth shapes rendered by a landmark warp.

    Args:
        options: ``mouth_strength`` scales the predicted motion; ``neutral_frame`` picks the
            resting frame (``reference`` does not apply: the shape always starts from rest).
        model: The speech -> mouth-shape model (default: the shipped one).
        use_phones: Recognise phones for closures and rounding (English model; other languages
            still give closures where they have them).
        crop_size: Side of the aligned crops, in pixels.
    """

    name = "oneshot"
    #: Works on crops of any side: the pipeline cuts them at the face's native resolution. At
    #: the fixed 256 px A01's 512p face was cut at 0.66 of its frame scale, and that cut pasted
    #: back unchanged kept 0.65 of the mouth's Laplacian variance (0.96 at its native 512 px).
    any_crop_size = True

    def __init__(
        self,
        options: EngineOptions | None = None,
        model: MouthShapeModel | None = None,
        use_phones: bool = True,
        crop_size: int = 256,
    ):
        super().__init__(options)
        self.model = model or load_mouth_shape_model()
        self.use_phones = use_phones
        self.crop_size = int(crop_size)
        self.plan: OneShotPlan | None = None
        self.rest_crop: np.ndarray | None = None
        self.rest_landmarks: np.ndarray | None = None
        self.rest_mouth: np.ndarray | None = None  # (P, 2) eye units, relative to rest frame
        self.cavity: CavitySource | None = None
        self.scale = 1.0
        self.synthetic_rest = False
        self.rest_gap = 0.0
        self.speaker_scale = 1.0
        self.repeat_frames: frozenset[int] = frozenset()

    def prepare(self, source: SourceFootage | Sequence[SourceFootage]) -> Iterator[Progress]:
        """Pick the resting frame, the open-mouth exemplar and the face's scale."""
        src = source if isinstance(source, SourceFootage) else list(source)[0]
        yield Progress(0, 1, "choosing the resting mouth")
        lm = np.asarray(src.landmarks, np.float32)
        if len(lm) == 0:
            raise ValueError("the one-shot engine needs at least one face frame")
        gaps = lip_gap(lm)
        rest_rows = np.nonzero(gaps <= np.quantile(gaps, REST_SHARE))[0]
        idx = int(rest_rows[np.argsort(gaps[rest_rows])[len(rest_rows) // 2]])
        neutral = self.options.neutral_frame
        if neutral is not None and np.any(src.frames == neutral):
            idx = int(np.nonzero(src.frames == neutral)[0][0])
        self.rest_crop = np.asarray(src.crops[idx])
        self.rest_landmarks = lm[idx]
        self.synthetic_rest = False
        eye = float(np.linalg.norm(lm[idx, 263] - lm[idx, 33]))
        if gaps[idx] > REST_MAX_GAP:
            self.synthetic_rest = True
            # No closed mouth in the footage (a still of someone speaking): close it by warping,
            # and keep the open original as the source of the mouth interior
            closed = closed_mouth(lm[idx])
            self.rest_crop = seal_lips(
                render_mouth(self.rest_crop, lm[idx], closed, eye, None), closed
            )
            self.rest_landmarks = lm[idx].copy()
            self.rest_landmarks[list(MOUTH_POINTS)] = closed
        width = float(lm[idx, 291, 0] - lm[idx, 61, 0]) / max(eye, 1e-6)
        ref = float(self.model.meta.get("rest_width_mean", width))
        self.scale = float(np.clip(width / max(ref, 1e-6), 0.6, 1.6))
        self.speaker_scale = self._speaker_scale(src, gaps)
        self.rest_gap = max(float(lip_gap(self.rest_landmarks)), 0.0)
        best = int(np.argmax(gaps))
        self.cavity = (
            CavitySource(np.asarray(src.crops[best]), lm[best])
            if gaps[best] >= OPEN_EXEMPLAR_GAP
            else None
        )
        # The clip's pictures shown twice: the mouth steps on the picture clock there
        repeats = src.repeats
        self.repeat_frames = (
            frozenset()
            if repeats is None
            else frozenset(int(f) for f in np.asarray(src.frames)[np.asarray(repeats, bool)])
        )
        yield Progress(1, 1, "choosing the resting mouth")

    def _speaker_scale(self, src: SourceFootage, gaps: np.ndarray) -> float:
        """How much this actor opens their mouth for speech, relative to the model's prediction.

        With footage of the actor speaking (its own audio), the spread (10th-90th percentile) of
        the measured inner-lip gap over the predicted one for the same audio; 1 otherwise (a
        still, a clip without sound). A reserved speaker's new mouth moves as little as theirs.
        """
        audio = src.audio_16k
        frames = np.asarray(src.frames, np.int64)
        if audio is None or not np.any(audio) or len(frames) < ADAPT_MIN_FRAMES:
            return 1.0
        from lipcore.audio.vad import voiced_frames

        n = int(frames.max()) + 1
        voiced = voiced_frames(np.asarray(audio, np.float32), src.fps, n)[frames]
        if voiced.sum() < ADAPT_MIN_FRAMES:
            return 1.0
        pred = self.model.predict(audio, src.fps, n)[frames] * self.scale * MOTION_SCALE
        rest = self._rest_mouth_eye()
        pred_gap = (
            pred[:, _ROW[14], 1] - pred[:, _ROW[13], 1] + (rest[_ROW[14], 1] - rest[_ROW[13], 1])
        )
        own = gaps[voiced]
        want = np.percentile(own, 90) - np.percentile(own, 10)
        got = np.percentile(pred_gap[voiced], 90) - np.percentile(pred_gap[voiced], 10)
        if got <= 1e-6:
            return 1.0
        return float(np.clip(want / got, *ADAPT_RANGE))

    def begin_segment(self, drive: SegmentDrive) -> None:
        """Predict the mouth shape of every frame of the segment's new audio (or its cues)."""
        n = len(drive.frames)
        voiced = np.asarray(drive.voiced, bool).reshape(-1)[:n]
        if len(voiced) < n:
            voiced = np.concatenate([voiced, np.zeros(n - len(voiced), bool)])
        shown = drive.frames if drive.source_frames is None else drive.source_frames
        picture_row = picture_rows(np.asarray(shown)[:n], self.repeat_frames)
        if drive.cue_shapes is not None:
            cues = np.asarray(drive.cue_shapes).reshape(-1)
            self.plan = self._cue_plan(cues, n, voiced, picture_row)
            return
        disp = self.model.predict(drive.audio_16k, drive.fps, n) * self.scale * MOTION_SCALE
        disp *= self.speaker_scale
        disp *= float(self.options.mouth_strength)
        # One shape per picture, smoothed over pictures: a row that shows a repeat of the clip's
        # picture before shows that row's mouth (the render holds it), so the track must not
        # step twice as far on the row after
        disp = smooth_on_pictures(disp, picture_row, SMOOTH_SIGMA_PICTURES)
        # Silence rests the mouth (with a short ramp, not a snap)
        speaking = _smooth(voiced.astype(np.float64), REST_RAMP_FRAMES / 2.0)
        speaking = np.clip(np.where(voiced, 1.0, speaking * 1.5 - 0.25), 0.0, 1.0)
        speaking = speaking[picture_row]
        disp *= speaking[:, None, None]
        closure = np.zeros(n)
        phones_used = False
        if self.use_phones and np.any(voiced) and len(drive.audio_16k) > 1600:
            phones = _recognise(drive.audio_16k)
            if phones is not None:
                phones_used = True
                closure, rounded, spread = phone_tracks(phones, drive.fps, n)
                closure = per_picture_max(closure * voiced, picture_row)
                rounded, spread = rounded[picture_row], spread[picture_row]
                for p, w, side in _CORNER_MOVES:
                    shift = (ROUND_SHIFT * rounded - SPREAD_SHIFT * spread) * w * self.scale
                    disp[:, _ROW[p], 0] += -side * shift * speaking
        # Held-shut lips: the neighbours half-closed, so the closure is a motion, not a blink
        soft = np.clip(np.convolve(closure, [0.5, 1.0, 0.5], mode="same"), 0.0, 1.0)
        soft = per_picture_max(soft, picture_row)
        lip_rows = np.arange(40)  # outer and inner lips come first in MOUTH_POINTS
        disp[:, lip_rows] *= (1.0 - soft)[:, None, None]
        disp[:, 40:] *= (1.0 - 0.7 * soft)[:, None, None]
        rest = self._rest_mouth_eye()
        pts = rest[None] + disp
        gap = pts[:, _ROW[14], 1] - pts[:, _ROW[13], 1]
        self.plan = OneShotPlan(disp.astype(np.float32), soft, gap, voiced, phones_used)

    def _cue_plan(
        self, shapes: np.ndarray, n: int, voiced: np.ndarray, picture_row: np.ndarray
    ) -> OneShotPlan:
        """The shape track of an animator's cues: each frame's shape from the measured table.

        The cue's shape replaces the speech model and the phones; the same smoothing applies
        (on the picture clock), and A (closed) frames are held shut like a recognised /p b m/.
        """
        shapes = np.concatenate([shapes[:n], np.full(max(n - len(shapes), 0), "X")])
        disp = cue_displacements([str(v) for v in shapes]) * self.scale
        disp *= float(self.options.mouth_strength)
        disp = smooth_on_pictures(disp, picture_row, SMOOTH_SIGMA_PICTURES)
        closure = per_picture_max((shapes == "A").astype(np.float64), picture_row)
        soft = np.clip(np.convolve(closure, [0.5, 1.0, 0.5], mode="same"), 0.0, 1.0)
        soft = per_picture_max(soft, picture_row)
        disp[:, :40] *= (1.0 - soft)[:, None, None]
        disp[:, 40:] *= (1.0 - 0.7 * soft)[:, None, None]
        pts = self._rest_mouth_eye()[None] + disp
        gap = pts[:, _ROW[14], 1] - pts[:, _ROW[13], 1]
        return OneShotPlan(disp.astype(np.float32), soft, gap, voiced, False)

    def _rest_texture(
        self, target: np.ndarray, target_lm: np.ndarray, m: np.ndarray, rest_here, eye: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The target with the resting frame's mouth and chin placed on it (feathered).

        Only the mouth and chin come from the resting frame; the rest of the crop (cheeks,
        earrings, background at the mask's edge) stays the target's, so nothing of the resting
        frame's surroundings shows twice. Placed with the warps' Lanczos4 (A01 at 512 px, cut
        and placed at a sub-pixel offset: cubic kept 0.92 of the mouth's Laplacian variance,
        Lanczos4 0.94).
        """
        import cv2

        size = target.shape[0]
        placed = cv2.warpAffine(
            self.rest_crop, m, (size, size), flags=WARP_INTERPOLATION,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        region = np.zeros((size, size), np.uint8)
        # Mouth, chin and the philtrum up to the nostrils: the lips lie well inside the region
        pts = rest_here[list(MOUTH_POINTS) + list(_PHILTRUM)]
        hull = cv2.convexHull(np.round(pts * 4).astype(np.int32))
        cv2.fillConvexPoly(region, hull, 255, cv2.LINE_AA, 2)
        feather = max(REST_FEATHER * eye, 1.0)
        alpha = cv2.GaussianBlur(region.astype(np.float32) / 255.0, (0, 0), feather / 2)
        alpha = alpha[..., None]
        texture = target.astype(np.float32) * (1 - alpha) + placed.astype(np.float32) * alpha
        tex_lm = np.asarray(target_lm, np.float32).copy()
        tex_lm[list(MOUTH_POINTS)] = rest_here[list(MOUTH_POINTS)]
        return np.clip(texture + 0.5, 0, 255).astype(np.uint8), tex_lm

    def _rest_mouth_eye(self) -> np.ndarray:
        lm = self.rest_landmarks
        assert lm is not None
        eye = float(np.linalg.norm(lm[263] - lm[33]))
        return lm[list(MOUTH_POINTS)] / eye

    def generate(self, batch: CropBatch) -> np.ndarray:
        """Return crops whose lips and chin follow the predicted shapes."""
        plan = self.plan
        if plan is None or self.rest_crop is None or self.rest_landmarks is None:
            raise RuntimeError("OneShotEngine.prepare() and begin_segment() must run first")
        crops = np.asarray(batch.crops)
        out = np.empty_like(crops)
        for b, row in enumerate(np.asarray(batch.rows, np.int64)):
            row = int(np.clip(row, 0, len(plan.displacement) - 1))
            target_lm = np.asarray(batch.landmarks[b], np.float32)
            # The resting mouth placed on this frame (stable points only): the shape moves
            # from there, so the target's own mouth shape never leaks into the new one
            m = residual_warp(self.rest_landmarks, target_lm)
            rest_here = warp_points(self.rest_landmarks, m)
            eye = float(np.linalg.norm(target_lm[263] - target_lm[33]))
            # How much of the resting frame's mouth to use as the texture: all of it where it
            # fits the target, none on a turned head, a blend between (never a per-frame switch)
            err = _fit_error(rest_here, target_lm)
            span = REST_FIT_NONE - REST_FIT_FULL
            w_rest = (
                1.0 if self.synthetic_rest else float(np.clip((REST_FIT_NONE - err) / span, 0, 1))
            )
            own_base = reshape_gap(target_lm, self.rest_gap * eye)
            base = w_rest * rest_here[list(MOUTH_POINTS)] + (1.0 - w_rest) * own_base
            mouth = base + plan.displacement[row] * eye
            rendered = np.zeros(crops.shape[1:], np.float32)
            if w_rest > 0.0:
                # The resting frame placed on the target (warped closed when the footage has no
                # closed mouth): only the new motion moves the mouth
                texture, tex_lm = self._rest_texture(crops[b], target_lm, m, rest_here, eye)
                rendered += w_rest * render_mouth(
                    texture, tex_lm, mouth, eye, self.cavity, rigid_teeth=True, corner_tails=True
                )
            if w_rest < 1.0:
                # The target itself: its head pose and perspective stay its own
                rendered += (1.0 - w_rest) * render_mouth(
                    crops[b], target_lm, mouth, eye, self.cavity, rigid_teeth=True,
                    corner_tails=True,
                )  # fmt: skip
            out[b] = np.clip(rendered + 0.5, 0, 255).astype(np.uint8)
        return out


def _fit_error(placed: np.ndarray, target: np.ndarray) -> float:
    """Mean distance of the stable points after placing, in eye-distance units."""
    from lipcore.engines.retime_composite import STABLE_POINTS

    idx = list(STABLE_POINTS)
    eye = max(float(np.linalg.norm(target[263] - target[33])), 1e-6)
    return float(np.linalg.norm(placed[idx] - target[idx], axis=1).mean() / eye)


def _recognise(audio_16k: np.ndarray):
    """Phones of the segment's speech, or None when the recogniser is not installed."""
    try:
        from lipcore.audio.phones import recognise_phones
    except ImportError:
        return None
    try:
        return recognise_phones(np.asarray(audio_16k, np.float32))
    except ImportError:
        return None


__all__ = ["OneShotEngine", "OneShotPlan", "phone_tracks"]
