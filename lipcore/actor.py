"""Per-actor adaptation: the ``.lsactor`` bundle, and the light fits made from an actor's footage.

A bundle is a zip with:

- ``actor.json``: format, version, the footage used (source path, content fingerprint, frame
  range, gate verdict), the footage dropped, and the figures of every fit;
- ``meter_ridge.json``: the sync meter refitted on the actor (:func:`adapt_meter`);
- ``mouth_shape.json``: the one-shot engine's speech -> mouth-shape model adapted on the actor
  (:func:`adapt_mouth_shape`); absent when adaptation did not beat the shipped model on the
  held-out part of the footage (the engines then use the shipped model);
- ``generator/``: optionally a fine-tuned Wav2Lip generator (made by ``training.adapt_actor``).

Both fits are ridge regressions *shrunk towards the shipped weights*
(``alpha ||w - w_shipped||^2``) with the strength chosen on footage held out in time (the meter:
the last 30% of each clip; the mouth shapes: leave-one-block-out over three contiguous blocks);
the strongest shrinkage within a small tie margin of the best wins, and ``alpha = inf`` (the
shipped model) is always a candidate and is kept when too little speech is held out, so a few
seconds of footage fall back to the generic model rather than overfit. A mouth-shape strength
must beat the prior on every held-out block, and the adapted motion is rescaled to the actor's
own lip-gap range (measured over predicted spread, held out). The chosen strength is then
refitted on all the footage.

The render uses a bundle through ``RenderRequest.actor``: the one-shot engine takes its mouth-shape
model, the retime engine draws extra mouths from its footage (the files still present whose
content matches the recorded fingerprint).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from lipcore.engines.mouth_shape import MOUTH_POINTS, MouthShapeModel, load_mouth_shape_model
from lipcore.errors import LipsyncError
from lipcore.progress import Progress
from lipcore.sync.meter import MeterModel, load_meter_model, zscore

ACTOR_FORMAT = "lipsync-actor"
ACTOR_VERSION = 2
ACTOR_SUFFIX = ".lsactor"
#: Share of each clip (its end, in time) held out to choose the shrinkage.
HOLDOUT_SHARE = 0.3
#: Fewest held-out voiced frames with a face to trust the choice; fewer keeps the shipped model.
MIN_HELDOUT_FRAMES = 25
#: Held-out r within which stronger shrinkage (closer to the shipped model) wins.
PRIOR_TIE_R = 0.02
#: Shrinkage strengths tried for the meter (inf = the shipped meter).
METER_ALPHAS = (10.0, 100.0, 1_000.0, 10_000.0, float("inf"))
#: Shrinkage strengths tried for the mouth-shape model (inf = the shipped model).
SHAPE_ALPHAS = (100.0, 300.0, 1_000.0, 3_000.0, 10_000.0, float("inf"))
#: Contiguous blocks of each clip for the mouth-shape model's leave-one-block-out choice.
SHAPE_FOLDS = 3
#: Fewest held-out voiced frames (the smallest fold's) to adapt the mouth shapes at all. The
#: guard proper is that an adapted strength must beat the prior on *every* held-out block: a
#: mean over blocks alone let an 8 s news clip's half pick a model that took the r on the other
#: half from 0.52 to 0.09.
MIN_SHAPE_BLOCK_FRAMES = 15
#: Bounds of the adapted model's range rescale (measured / predicted gap spread, held out).
RANGE_RATIO_LIMITS = (0.5, 3.0)
#: Share of frames (most closed first) whose median is the resting mouth (as in training).
REST_SHARE = 0.15
#: Smallest share of a clip's frames with a tracked face for it to be used.
MIN_FACE_SHARE = 0.5
#: Largest audio/video offset (frames) the meter may find in footage used for adapting: the
#: meter's offset on a few seconds wanders by a few frames; clips off by half a second are not
#: the actor's own in-sync speech (driving videos re-voiced, dubbed takes).
MAX_OFFSET_FRAMES = 6
#: Side of the aligned crop the landmarks are measured in (as in training).
CROP_PX = 256
_ROW = {p: i for i, p in enumerate(MOUTH_POINTS)}


@dataclass
class ActorClip:
    """One clip of the actor: aligned landmarks of the frames with a face, and its own audio.

    Attributes:
        source: The video file.
        fingerprint: Its content fingerprint (:func:`lipcore.cache.file_fingerprint`).
        fps: Frame rate.
        n_frames: Frames in the clip.
        frames: ``(M,)`` frame indices with a detected (not interpolated) face.
        landmarks: ``(M, 478, 2)`` FaceMesh points in the track's aligned crop.
        audio_16k: The clip's own speech, first sample = frame 0.
        gate: Why it was kept (face share, meter offset and confidence).
    """

    source: str
    fingerprint: str
    fps: Fraction
    n_frames: int
    frames: np.ndarray
    landmarks: np.ndarray
    audio_16k: np.ndarray
    gate: dict = field(default_factory=dict)

    def features(self) -> np.ndarray:
        """``(n_frames, 72)`` spectral features of the clip's own audio."""
        from lipcore.audio.features import spectral_features

        return spectral_features(self.audio_16k, self.fps, self.n_frames)

    def voiced(self) -> np.ndarray:
        """``(n_frames,)`` speech mask of the clip's own audio."""
        from lipcore.audio.vad import voiced_frames

        return voiced_frames(self.audio_16k, self.fps, self.n_frames)

    def part(self, start: float, stop: float) -> ActorClip:
        """The clip's frames between the shares ``start`` and ``stop`` of its face frames."""
        n = len(self.frames)
        rows = slice(int(n * start), int(n * stop))
        return dataclasses.replace(self, frames=self.frames[rows], landmarks=self.landmarks[rows])


def iter_measure_footage(path: str | Path) -> Iterator[Progress]:
    """Track the main face of ``path`` (cached) and measure it in the aligned crop.

    Returns:
        An :class:`ActorClip` (its ``gate`` filled by :func:`gate_clip`).

    Raises:
        LipsyncError: The file cannot be read, has no audio, or has no face.
    """
    from lipcore.cache import file_fingerprint
    from lipcore.face.track import iter_track_faces
    from lipcore.media.audio import clip_audio
    from lipcore.media.probe import probe, require_video
    from lipcore.render.align import apply_affine
    from lipcore.render.footage import align_track

    path = Path(path)
    if not path.is_file():
        raise LipsyncError("footage not found", path, fix="give a video of the actor speaking")
    video = require_video(probe(path))
    tracks = yield from iter_track_faces(path)
    if not tracks.tracks:
        raise LipsyncError("no face found", path, fix="give footage where the actor's face shows")
    track = max(tracks.tracks, key=lambda t: len(t.frames))
    aligned = align_track(track, size=CROP_PX)
    keep = ~np.asarray(track.interpolated, bool)
    pairs = zip(aligned.transforms, track.landmarks, strict=True)
    lm = np.stack([apply_affine(m, p) for m, p in pairs])
    return ActorClip(
        source=os.fspath(path),
        fingerprint=file_fingerprint(path),
        fps=video.fps,
        n_frames=int(tracks.frame_count),
        frames=np.asarray(track.frames)[keep].astype(np.int64),
        landmarks=lm[keep].astype(np.float64),
        audio_16k=clip_audio(path),
    )


def gate_clip(clip: ActorClip) -> dict:
    """Whether the clip is fit to adapt on: enough face, and audio in sync (the built-in meter).

    Returns:
        ``{"keep": bool, "reason": str, "face_share", "offset_frames", "confidence"}``.
    """
    from lipcore.face.landmarks import lip_gap
    from lipcore.sync.meter import score_av

    face_share = len(clip.frames) / max(clip.n_frames, 1)
    verdict = {"face_share": round(face_share, 3)}
    if face_share < MIN_FACE_SHARE:
        return {**verdict, "keep": False, "reason": f"face on only {face_share:.0%} of frames"}
    gap = np.full(clip.n_frames, np.nan)
    gap[clip.frames] = lip_gap(clip.landmarks)
    score = score_av(gap, clip.audio_16k, clip.fps)
    verdict |= {"offset_frames": int(score.offset_frames), "confidence": float(score.confidence)}
    if abs(score.offset_frames) > MAX_OFFSET_FRAMES:
        reason = f"audio {score.offset_frames:+d} frames off the picture"
        return {**verdict, "keep": False, "reason": reason}
    return {**verdict, "keep": True, "reason": "in sync"}


# --- the mouth-shape model ---------------------------------------------------------------------


def mouth_displacement(landmarks: np.ndarray) -> np.ndarray:
    """Displacements ``(M, 2P)`` of :data:`MOUTH_POINTS` from the resting mouth, eye units."""
    eye = np.linalg.norm(landmarks[:, 263] - landmarks[:, 33], axis=1)
    pts = landmarks[:, list(MOUTH_POINTS)] / eye[:, None, None]
    gap = (landmarks[:, 14, 1] - landmarks[:, 13, 1]) / eye
    rest = np.median(pts[gap <= np.quantile(gap, REST_SHARE)], axis=0)
    return (pts - rest).reshape(len(pts), -1)


@dataclass
class _ShapeRows:
    x: np.ndarray  # standardised stacked features (with bias column)
    scores: np.ndarray  # target component scores, divided by the gain
    gap: np.ndarray  # measured inner-lip gap displacement
    voiced: np.ndarray


def _shape_rows(clip: ActorClip, model: MouthShapeModel, rest_disp: np.ndarray) -> _ShapeRows:
    from lipcore.engines.mouth_shape import stack_context

    x = (stack_context(clip.features(), model.lags) - model.x_mean) / model.x_std
    x = np.concatenate([x, np.ones((len(x), 1))], axis=1)[clip.frames]
    scores = (rest_disp - model.mean) @ model.components.T / model.gain
    pts = rest_disp.reshape(len(rest_disp), -1, 2)
    gap = pts[:, _ROW[14], 1] - pts[:, _ROW[13], 1]
    return _ShapeRows(x, scores, gap, clip.voiced()[clip.frames])


def _gaps(model: MouthShapeModel, rows: _ShapeRows) -> np.ndarray:
    """The model's inner-lip gap displacement ``(M,)`` for the rows' features."""
    pts = model.displacements((rows.x @ model.weights) * model.gain)
    return pts[:, _ROW[14], 1] - pts[:, _ROW[13], 1]


def _gap_r(model: MouthShapeModel, rows: _ShapeRows) -> float:
    gap = _gaps(model, rows)
    keep = rows.voiced
    if keep.sum() < 10 or np.std(gap[keep]) < 1e-9:
        return float("nan")
    return float(np.corrcoef(gap[keep], rows.gap[keep])[0, 1])


def _fit_shape(prior: MouthShapeModel, rows: Sequence[_ShapeRows], alpha: float):
    if not np.isfinite(alpha):
        return prior
    x = np.concatenate([r.x for r in rows])
    y = np.concatenate([r.scores for r in rows])
    pen = np.full(x.shape[1], alpha)
    pen[-1] = 0.0  # the bias is the actor's own mean shape: not held to the shipped one
    w = np.linalg.solve(x.T @ x + np.diag(pen), x.T @ y + pen[:, None] * prior.weights)
    return dataclasses.replace(prior, weights=w)


def _spread_ratio(pred: np.ndarray, measured: np.ndarray) -> float:
    """Measured over predicted spread of the voiced gap (1 when either is flat)."""
    if len(pred) < 10 or np.std(pred) < 1e-9 or np.std(measured) < 1e-9:
        return 1.0
    return float(np.std(measured) / np.std(pred))


def _rescaled(model: MouthShapeModel, rows: Sequence[_ShapeRows], ratio: float):
    """The model with its motion about the actor's mean shape scaled by ``ratio``.

    Ridge shrinks predictions toward the mean; the shipped model undoes that with its held-out
    ``gain``, and an adapted fit needs its own: without it an actor's mouth moves less than the
    actor does. The bias row takes the rest so the mean shape stays where it was.
    """
    x = np.concatenate([r.x for r in rows])
    mean = (x @ model.weights).mean(axis=0)
    w = model.weights * ratio
    w[-1] += (1.0 - ratio) * mean
    return dataclasses.replace(model, weights=w)


def _block(rows: _ShapeRows, k: int, n_blocks: int, keep: bool) -> _ShapeRows:
    """Rows of contiguous block ``k`` of ``n_blocks`` (keep=True) or all the others."""
    idx = np.arange(len(rows.x))
    inside = (idx * n_blocks // max(len(idx), 1)) == k
    pick = inside if keep else ~inside
    return _ShapeRows(rows.x[pick], rows.scores[pick], rows.gap[pick], rows.voiced[pick])


def adapt_mouth_shape(
    clips: Sequence[ActorClip], prior: MouthShapeModel | None = None
) -> tuple[MouthShapeModel | None, dict]:
    """The mouth-shape model adapted on the actor, or None when it does not beat the prior.

    A regularised shift from the prior: ridge towards the prior's weights (the bias free: it is
    the actor's mean shape), the strength chosen by leave-one-block-out over
    :data:`SHAPE_FOLDS` contiguous blocks of each clip (a held-out block is seconds of speech
    the fit never saw). The adapted motion is then rescaled to the actor's own lip-gap range:
    the measured over the predicted spread of the gap on the held-out blocks (ridge shrinks its
    output; the shipped model's ``gain`` only undoes the shipped fit's shrinkage). The prior is
    kept unless an adapted strength beats it in held-out r on every block (and the strongest
    shrinkage within :data:`PRIOR_TIE_R` of the best such mean r wins), with at least
    :data:`MIN_SHAPE_BLOCK_FRAMES` held-out voiced frames in the smallest fold.

    Returns:
        ``(model or None, figures)``: the held-out inner-lip-gap r of every strength tried
        (``inf`` = the prior), the chosen strength, its range rescale, and the held-out frame
        count.
    """
    prior = prior if prior is not None else load_mouth_shape_model()
    rows = [_shape_rows(c, prior, mouth_displacement(c.landmarks)) for c in clips]
    folds = []
    for k in range(SHAPE_FOLDS):
        held = [_block(r, k, SHAPE_FOLDS, True) for r in rows]
        fit = [_block(r, k, SHAPE_FOLDS, False) for r in rows]
        folds.append((fit, held))
    held_frames = int(min(sum(h.voiced.sum() for h in held) for _, held in folds))

    def cross_validate(alpha):
        values, pred, measured = [], [], []
        for fit, held in folds:
            model = _fit_shape(prior, fit, alpha)
            values.append([_gap_r(model, h) for h in held])
            pred += [_gaps(model, h)[h.voiced] for h in held]
            measured += [h.gap[h.voiced] for h in held]
        return np.asarray(values), _spread_ratio(np.concatenate(pred), np.concatenate(measured))

    cv = {str(a): cross_validate(a) for a in SHAPE_ALPHAS}
    base = cv[str(float("inf"))][0]
    scores = {}
    for k, (values, _) in cv.items():
        ok = np.isfinite(values) & np.isfinite(base)
        # A strength that loses to the prior on any held-out block is out: never worse
        wins_all = bool(ok.any() and np.all(values[ok] >= base[ok]))
        mean = float(np.mean(values[ok])) if ok.any() else float("nan")
        scores[k] = mean if (wins_all or k == str(float("inf"))) else -1.0
    best = _choose_alpha(scores, SHAPE_ALPHAS, held_frames, MIN_SHAPE_BLOCK_FRAMES)
    scores = {k: float(np.nanmean(v[0])) for k, v in cv.items()}
    ratio = float(np.clip(cv[str(best)][1], *RANGE_RATIO_LIMITS)) if np.isfinite(best) else 1.0
    figures = {
        "alpha": best,
        "heldout_r_gap_by_alpha": {k: round(v, 4) for k, v in scores.items()},
        "heldout_r_gap_shipped": round(scores[str(float("inf"))], 4),
        "heldout_r_gap_adapted": round(scores[str(best)], 4),
        "heldout_r_gap_blocks_shipped": [round(float(v), 4) for v in base.ravel()],
        "heldout_r_gap_blocks_adapted": [round(float(v), 4) for v in cv[str(best)][0].ravel()],
        "heldout_gap_spread_ratio_shipped": round(cv[str(float("inf"))][1], 4),
        "range_rescale": round(ratio, 4),
        "heldout_voiced_frames": held_frames,
        "adapted": bool(np.isfinite(best)),
    }
    if not np.isfinite(best):
        return None, figures
    model = _rescaled(_fit_shape(prior, rows, best), rows, ratio)
    meta = {**prior.meta, "actor_adapted": True, "actor_figures": figures}
    return dataclasses.replace(model, meta=meta), figures


def shape_gap_r(model: MouthShapeModel, clip: ActorClip) -> float:
    """Correlation of the model's inner-lip gap (from the clip's own speech) with the measured one.

    Over the clip's voiced face frames; the independent check of a mouth-shape model on footage
    it was not fitted on.
    """
    return _gap_r(model, _shape_rows(clip, model, mouth_displacement(clip.landmarks)))


def _choose_alpha(
    scores: dict, alphas: Sequence[float], held_frames: int, min_frames: int = MIN_HELDOUT_FRAMES
) -> float:
    """The strongest shrinkage within :data:`PRIOR_TIE_R` of the best held-out r (inf: none)."""
    if held_frames < min_frames or not all(np.isfinite(v) for v in scores.values()):
        return float("inf")
    top = max(scores.values())
    return max(a for a in alphas if scores[str(a)] >= top - PRIOR_TIE_R)


# --- the meter -----------------------------------------------------------------------------------


@dataclass
class MeterFrames:
    """What the meter learns from: per-frame z-scored lip gap, features and speech mask."""

    gap_z: np.ndarray
    feats: np.ndarray
    voiced: np.ndarray
    gap_raw: np.ndarray


def meter_frames(clip: ActorClip) -> MeterFrames:
    """Lip gap and spectral features of the clip's face frames."""
    from lipcore.face.landmarks import lip_gap

    feats = clip.features()[clip.frames]
    voiced = clip.voiced()[clip.frames]
    gap = lip_gap(clip.landmarks).astype(np.float64)
    return MeterFrames(zscore(gap, voiced), feats, voiced, gap)


def fit_shrunk_ridge(parts: Sequence[MeterFrames], prior: MeterModel, alpha: float) -> MeterModel:
    """Ridge on the prior's standardised features, shrunk towards the prior's weights.

    Minimises ``||X w + b - y||^2 + alpha ||w - w_prior||^2`` (``alpha = inf`` returns the
    prior). Standardising with the prior's statistics keeps ``w_prior`` meaningful.
    """
    if not np.isfinite(alpha):
        return prior
    keeps = [np.isfinite(p.gap_z) & p.voiced for p in parts]
    x = np.concatenate([(p.feats[k] - prior.feature_mean) / prior.feature_std
                        for p, k in zip(parts, keeps, strict=True)])  # fmt: skip
    y = np.concatenate([p.gap_z[k] for p, k in zip(parts, keeps, strict=True)])
    x_mean, y_mean = x.mean(axis=0), y.mean()
    xc = x - x_mean
    a = xc.T @ xc + alpha * np.eye(x.shape[1])
    w = np.linalg.solve(a, xc.T @ (y - y_mean) + alpha * prior.weights)
    bias = float(y_mean - x_mean @ w)
    return MeterModel(w, bias, prior.feature_mean, prior.feature_std, dict(prior.feature_spec))


def prediction_r(model: MeterModel, part: MeterFrames) -> float:
    """Correlation of the model's predicted opening with the measured one (voiced frames)."""
    keep = np.isfinite(part.gap_z) & part.voiced
    if keep.sum() < 10:
        return float("nan")
    return float(np.corrcoef(part.gap_z[keep], model.predict(part.feats)[keep])[0, 1])


def adapt_meter(
    clips: Sequence[ActorClip], prior: MeterModel | None = None
) -> tuple[MeterModel, dict]:
    """Fit the actor's meter: choose the shrinkage on the held-out tail, refit on everything.

    Returns:
        ``(model, figures)``: the chosen alpha, the held-out r for every alpha tried, and the
        actor's lip-gap range (closed, open and mean, in eye distances).
    """
    prior = prior if prior is not None else load_meter_model()
    fit_parts = [meter_frames(c.part(0, 1 - HOLDOUT_SHARE)) for c in clips]
    held_parts = [meter_frames(c.part(1 - HOLDOUT_SHARE, 1)) for c in clips]

    def held_r(model):
        values = [v for v in (prediction_r(model, p) for p in held_parts) if np.isfinite(v)]
        return float(np.mean(values)) if values else float("nan")

    held_frames = sum(int((np.isfinite(p.gap_z) & p.voiced).sum()) for p in held_parts)
    scores = {str(a): held_r(fit_shrunk_ridge(fit_parts, prior, a)) for a in METER_ALPHAS}
    best = _choose_alpha(scores, METER_ALPHAS, held_frames)
    whole = [meter_frames(c) for c in clips]
    model = fit_shrunk_ridge(whole, prior, best)
    gaps = np.concatenate([p.gap_raw for p in whole])
    gaps = gaps[np.isfinite(gaps)]
    figures = {
        "alpha": best,
        "heldout_r_by_alpha": scores,
        "lip_gap_closed": float(np.percentile(gaps, 5)),
        "lip_gap_open": float(np.percentile(gaps, 95)),
        "lip_gap_mean": float(gaps.mean()),
    }
    meta = {"actor_adapted": True, "shrunk_towards": "shipped meter", **figures}
    return dataclasses.replace(model, meta=meta), figures


# --- the bundle ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorBundle:
    """An opened ``.lsactor`` file.

    Attributes:
        path: The bundle.
        manifest: ``actor.json``.
        meter: The actor's meter.
        mouth_shape: The adapted mouth-shape model, None when the shipped one is better.
    """

    path: Path
    manifest: dict
    meter: MeterModel
    mouth_shape: MouthShapeModel | None

    def footage_paths(self) -> tuple[Path, ...]:
        """The bundle's footage files still present with the recorded content."""
        from lipcore.cache import file_fingerprint

        found = []
        for entry in self.manifest.get("footage", []):
            path = Path(entry["source"])
            if path.is_file() and file_fingerprint(path) == entry.get("fingerprint"):
                found.append(path)
        return tuple(found)

    def shape_model(self) -> MouthShapeModel:
        """The mouth-shape model the one-shot engine should use for this actor."""
        return self.mouth_shape if self.mouth_shape is not None else load_mouth_shape_model()


def actor_manifest(
    clips: Sequence[ActorClip],
    dropped: Sequence[tuple[str, dict]],
    meter_figures: dict,
    shape_figures: dict,
    generator: dict | None = None,
) -> dict:
    """The ``actor.json`` of a bundle made from ``clips``."""
    return {
        "format": ACTOR_FORMAT,
        "version": ACTOR_VERSION,
        "footage": [
            {
                "source": c.source,
                "fingerprint": c.fingerprint,
                "frames": [int(c.frames[0]), int(c.frames[-1])],
                "gate": c.gate,
            }
            for c in clips
        ],
        "dropped": [{"source": s, "gate": g} for s, g in dropped],
        "meter": meter_figures,
        "mouth_shape": shape_figures,
        "generator": generator,
    }


def write_actor(
    path: str | Path,
    manifest: dict,
    meter: MeterModel,
    mouth_shape: MouthShapeModel | None,
    generator_dir: Path | None = None,
) -> Path:
    """Write a bundle atomically (temp + rename)."""
    from lipcore.cache import atomic_write_bytes

    path = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("actor.json", json.dumps(manifest, indent=1))
        z.writestr("meter_ridge.json", json.dumps(meter.to_dict(), indent=1))
        if mouth_shape is not None:
            z.writestr("mouth_shape.json", json.dumps(mouth_shape.to_dict()))
        if generator_dir is not None:
            for f in sorted(Path(generator_dir).iterdir()):
                z.write(f, f"generator/{f.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def read_actor(path: str | Path) -> ActorBundle:
    """Open a bundle (memoised per file content).

    Raises:
        LipsyncError: Missing, or not a bundle of this format.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise LipsyncError("actor file not found", path, fix="run lipsync adapt") from exc
    return _read_actor(os.fspath(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_actor(path: str, _mtime_ns: int, _size: int) -> ActorBundle:
    fix = "make it with lipsync adapt VIDEO... --out ACTOR.lsactor"
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("actor.json"))
            meter = MeterModel.from_dict(json.loads(z.read("meter_ridge.json")))
            names = set(z.namelist())
            shape = (
                MouthShapeModel.from_dict(json.loads(z.read("mouth_shape.json")))
                if "mouth_shape.json" in names
                else None
            )
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, TypeError) as exc:
        raise LipsyncError(f"not an actor bundle ({exc})", path, fix=fix) from exc
    if manifest.get("format") != ACTOR_FORMAT:
        raise LipsyncError("not an actor bundle", path, fix=fix)
    if int(manifest.get("version", 0)) > ACTOR_VERSION:
        raise LipsyncError("made by a newer lipsync", path, fix="update lipsync")
    return ActorBundle(Path(path), manifest, meter, shape)


def iter_adapt_actor(
    videos: Sequence[str | Path],
    out: str | Path,
    max_minutes: float | None = None,
    budget_s: float | None = None,
    shape_prior: MouthShapeModel | None = None,
) -> Iterator[Progress]:
    """Adapt to the actor speaking in ``videos`` and write the ``.lsactor`` bundle.

    Args:
        videos: Footage of the one actor speaking, with their own (in-sync) audio.
        out: Bundle path (written atomically; a source is never overwritten).
        max_minutes: Most minutes of footage used (the first ones, in the order given);
            None uses it all.
        budget_s: Most wall-clock seconds spent measuring footage (the slow part: face
            tracking). When it runs out the clip being measured is dropped, unless it is the
            first, and the fits run on the clips measured so far (seconds). None: no limit.
        shape_prior: The mouth-shape model adapted from (default: the shipped one).

    Returns:
        The opened bundle.

    Raises:
        LipsyncError: A file cannot be read, or no clip passes the gate (with the reasons).
    """
    import time

    out = Path(out)
    for v in videos:
        if Path(v).resolve() == out.resolve():
            raise LipsyncError("the output would overwrite the footage", out, fix="pick --out")
    deadline = time.monotonic() + (float("inf") if budget_s is None else float(budget_s))
    clips, dropped, unused = [], [], []
    left_s = float("inf") if max_minutes is None else 60.0 * float(max_minutes)
    for k, video in enumerate(videos):
        if left_s <= 0 or (time.monotonic() > deadline and (clips or dropped)):
            unused = [os.fspath(v) for v in videos[k:]]
            break
        yield Progress(k, len(videos), f"measuring {Path(video).name}")
        clip = yield from _measure_within(video, deadline, first=not (clips or dropped))
        if clip is None:
            unused = [os.fspath(v) for v in videos[k:]]
            break
        last = int(min(left_s * float(clip.fps), clip.n_frames))
        if last < clip.n_frames:
            clip.n_frames = last
            keep = clip.frames < last
            clip.frames, clip.landmarks = clip.frames[keep], clip.landmarks[keep]
        left_s -= clip.n_frames / float(clip.fps)
        clip.gate = gate_clip(clip)
        (clips if clip.gate["keep"] else dropped).append(clip)
    if not clips:
        reasons = "; ".join(f"{Path(c.source).name}: {c.gate['reason']}" for c in dropped)
        raise LipsyncError(f"no usable footage ({reasons})", fix="give in-sync speech clips")
    yield Progress(len(videos), len(videos) + 2, "fitting the actor's meter")
    meter, meter_figures = adapt_meter(clips)
    yield Progress(len(videos) + 1, len(videos) + 2, "fitting the actor's mouth shapes")
    shape, shape_figures = adapt_mouth_shape(clips, shape_prior)
    if shape is None and shape_prior is not None:
        shape = shape_prior  # not adapted: the actor keeps the model it was adapted from
    manifest = actor_manifest(
        clips, [(c.source, c.gate) for c in dropped], meter_figures, shape_figures
    )
    manifest["unused_over_budget"] = unused
    write_actor(out, manifest, meter, shape)
    yield Progress(len(videos) + 2, len(videos) + 2, "written")
    return read_actor(out)


def _measure_within(video, deadline: float, first: bool) -> Iterator[Progress]:
    """:func:`iter_measure_footage`, abandoned (None) past ``deadline`` unless ``first``."""
    import time

    gen = iter_measure_footage(video)
    try:
        while True:
            progress = next(gen)
            if not first and time.monotonic() > deadline:
                return None
            yield progress
    except StopIteration as stop:
        return stop.value
    finally:
        gen.close()


__all__ = [
    "ACTOR_FORMAT",
    "ACTOR_SUFFIX",
    "ActorBundle",
    "ActorClip",
    "adapt_meter",
    "adapt_mouth_shape",
    "gate_clip",
    "iter_adapt_actor",
    "iter_measure_footage",
    "read_actor",
    "write_actor",
]
