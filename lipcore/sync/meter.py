"""Built-in audio-visual sync meter: does the mouth open when the speech says it should?

No network checkpoint is needed. The meter compares two per-frame signals:

- **measured opening**: the inner-lip gap of a face track (:func:`lipcore.face.landmarks.lip_gap`,
  already divided by the eye distance), z-scored per clip so different speakers and framings
  compare;
- **predicted opening**: a ridge regression from the audio's spectral features
  (:func:`lipcore.audio.features.spectral_features`) to the z-scored lip gap. The weights were
  fitted by this project on its own in-sync clips (``training/fit_meter.py``, leave-one-clip-out
  validated) and ship as ``lipcore/data/meter_ridge.json``. The spectrum, not loudness, carries the
  vowel and the lip closures that decide how far the jaw opens (``SYNC-FACTS.md``).

**Offset.** The two signals are correlated at every lag ``k`` in ``-max_lag..max_lag``, pairing
video frame ``t`` with audio frame ``t + k``. The best lag is the offset, with the convention of
:class:`~lipcore.sync.types.SyncScore`: **positive = audio late** (the sound of a syllable arrives
``k`` frames after the mouth makes it; delay the picture or advance the audio by ``k`` to fix it).

**Confidence** (this meter's scale, :func:`lag_confidence`): how far the correlation at the best
lag stands above the best correlation at lags :data:`CONFIDENCE_EXCLUSION` or more frames away from
it. A real A/V relation gives one sharp peak; unrelated speech gives a ragged lag curve whose
highest point hardly beats its other bumps. Leave-one-clip-out on the shared in-sync clips: own
audio 0.27 on average (lowest 0.12), foreign audio 0.09 (95th percentile 0.22); above about 0.25 is
convincing, below 0.1 is no evidence of sync. As with SyncNet's LSE-C, the lag alone never proves
sync: read both.

**Per-frame curve.** The correlation at the best lag inside a centred window (+-1 s) around each
frame: NaN where the face is not found, 0 (no evidence either way) where the window holds too few
voiced frames. Only voiced frames count as evidence: in silence the predicted opening is flat, so a
correlation there would only measure noise. A mouth that moves through a long silence is marked
separately: its frames get a negative value (:data:`SILENT_MOTION_PENALTY` scaled by how much it
moves), because that is what viewers see as broken sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError, NoFaceError
from lipcore.progress import Progress, drain
from lipcore.sync.types import SyncScore
from lipcore.timebase import as_fps

METHOD = "builtin-av-correlation"
MODEL_FILE = "meter_ridge.json"
#: Half-width of the per-frame correlation window, seconds.
WINDOW_SEC = 1.0
#: Fewest voiced frames with a face for a window's correlation to count.
MIN_WINDOW_PAIRS = 12
#: Per-frame value given to frames whose mouth moves clearly during a long silence.
SILENT_MOTION_PENALTY = -0.5
#: Silence at least this long (seconds) is a pause where the mouth should rest. Shorter pauses
#: are left alone: real speakers move their lips in breaths between phrases (A04 does, 0.6 s).
LONG_SILENCE_SEC = 1.0
#: Lags at least this far from the peak compete with it in :func:`lag_confidence`.
CONFIDENCE_EXCLUSION = 4
#: Per-frame values below this are "weak" in plots and reports.
WEAK_THRESHOLD = 0.1


# -- model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeterModel:
    """Ridge regression from spectral features to the z-scored lip gap.

    Attributes:
        weights: ``(D,)`` coefficients on standardised features.
        bias: Intercept.
        feature_mean: ``(D,)`` mean of the training features.
        feature_std: ``(D,)`` standard deviation of the training features.
        feature_spec: The feature recipe the weights belong to
            (:data:`lipcore.audio.features.FEATURE_SPEC`).
        meta: Everything else stored with the model (training clips, validation figures).
    """

    weights: np.ndarray
    bias: float
    feature_mean: np.ndarray
    feature_std: np.ndarray
    feature_spec: dict
    meta: dict = field(default_factory=dict)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predicted (z-scored) mouth opening per frame, ``(N,)`` float64."""
        x = (np.asarray(features, np.float64) - self.feature_mean) / self.feature_std
        return x @ self.weights + self.bias

    def to_dict(self) -> dict:
        """JSON-serialisable form (the layout of ``meter_ridge.json``)."""
        return {
            "format": "lipsync-meter-ridge",
            "version": 1,
            "feature_spec": self.feature_spec,
            "weights": [float(v) for v in self.weights],
            "bias": float(self.bias),
            "feature_mean": [float(v) for v in self.feature_mean],
            "feature_std": [float(v) for v in self.feature_std],
            **self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict) -> MeterModel:
        """Inverse of :meth:`to_dict`."""
        core = {"format", "version", "feature_spec", "weights", "bias", "feature_mean",
                "feature_std"}  # fmt: skip
        return cls(
            weights=np.asarray(data["weights"], np.float64),
            bias=float(data["bias"]),
            feature_mean=np.asarray(data["feature_mean"], np.float64),
            feature_std=np.asarray(data["feature_std"], np.float64),
            feature_spec=dict(data["feature_spec"]),
            meta={k: v for k, v in data.items() if k not in core},
        )


def default_model_path() -> Path:
    """Path of the shipped meter weights (``lipcore/data/meter_ridge.json``)."""
    return Path(str(resources.files("lipcore") / "data" / MODEL_FILE))


@lru_cache(maxsize=4)
def _load_model_cached(path: str) -> MeterModel:
    from lipcore.audio.features import FEATURE_SPEC

    p = Path(path)
    if not p.exists():
        raise LipsyncError(
            "the built-in sync meter's weights are missing",
            p,
            "reinstall lipsync, or run `python -m training.fit_meter` to fit them",
        )
    try:
        model = MeterModel.from_dict(json.loads(p.read_text()))
    except (ValueError, KeyError) as exc:
        raise LipsyncError(
            f"the meter weights cannot be read ({exc})", p, "run `python -m training.fit_meter`"
        ) from exc
    if model.feature_spec != FEATURE_SPEC:
        raise LipsyncError(
            "the meter weights were fitted on other audio features than this version computes",
            p,
            "run `python -m training.fit_meter` to refit them",
        )
    return model


def load_meter_model(path: str | Path | None = None) -> MeterModel:
    """Load meter weights (the shipped ones by default).

    Args:
        path: A ``meter_ridge.json``; None for the packaged file.

    Raises:
        LipsyncError: The file is missing, unreadable or belongs to another feature recipe.
    """
    return _load_model_cached(str(Path(path) if path is not None else default_model_path()))


# -- signal helpers ----------------------------------------------------------------------------


def zscore(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Z-score ``values`` using the statistics of ``mask`` (finite values by default).

    NaN stays NaN; a constant signal gives zeros.
    """
    v = np.asarray(values, np.float64)
    m = np.isfinite(v) if mask is None else (mask & np.isfinite(v))
    if m.sum() < 2:
        return np.where(np.isfinite(v), 0.0, np.nan)
    mu, sd = v[m].mean(), v[m].std()
    return (v - mu) / sd if sd > 1e-9 else np.where(np.isfinite(v), 0.0, np.nan)


def _lagged_pairs(n: int, lag: int) -> tuple[slice, slice]:
    """Slices pairing video frame ``t`` with audio frame ``t + lag`` inside ``0..n-1``."""
    if lag >= 0:
        return slice(0, n - lag), slice(lag, n)
    return slice(-lag, n), slice(0, n + lag)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3:
        return float("nan")
    x = x - x.mean()
    y = y - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / den) if den > 1e-12 else 0.0


def lag_correlations(
    gap_z: np.ndarray, predicted: np.ndarray, evidence: np.ndarray, max_lag: int
) -> np.ndarray:
    """Pearson r between measured and predicted opening at each lag ``-max_lag..max_lag``.

    Args:
        gap_z: ``(N,)`` measured opening (NaN where no face).
        predicted: ``(N,)`` predicted opening from the audio.
        evidence: ``(N,)`` bool, audio frames that count (voiced).
        max_lag: Largest lag in frames.

    Returns:
        ``(2 * max_lag + 1,)`` r per lag (NaN where fewer than 3 pairs).
    """
    n = len(gap_z)
    out = np.full(2 * max_lag + 1, np.nan)
    face = np.isfinite(gap_z)
    for i, lag in enumerate(range(-max_lag, max_lag + 1)):
        sv, sa = _lagged_pairs(n, lag)
        keep = face[sv] & evidence[sa]
        out[i] = _pearson(gap_z[sv][keep], predicted[sa][keep])
    return out


def lag_confidence(lag_curve: np.ndarray, exclusion: int | None = None) -> float:
    """The meter's confidence: peak correlation minus the best one ``exclusion``+ lags away.

    Args:
        lag_curve: ``(2K+1,)`` correlation per lag (NaN allowed).
        exclusion: Lags closer than this to the peak are its shoulders, not competitors
            (default :data:`CONFIDENCE_EXCLUSION`).

    Returns:
        A value in [0, 2]; 0 when the curve has no finite values.
    """
    lc = np.asarray(lag_curve, np.float64)
    if not np.isfinite(lc).any():
        return 0.0
    exclusion = CONFIDENCE_EXCLUSION if exclusion is None else exclusion
    best = int(np.nanargmax(lc))
    far = np.abs(np.arange(len(lc)) - best) >= exclusion
    rivals = lc[far & np.isfinite(lc)]
    rival = float(rivals.max()) if len(rivals) else 0.0
    return float(max(0.0, lc[best] - rival))


def windowed_correlation(
    x: np.ndarray, y: np.ndarray, keep: np.ndarray, half_window: int, min_pairs: int
) -> np.ndarray:
    """Pearson r of ``x`` and ``y`` over the kept samples of a centred window around each index.

    Args:
        x: ``(N,)`` first signal.
        y: ``(N,)`` second signal.
        keep: ``(N,)`` bool, samples that count.
        half_window: Window half-width in samples (window = ``2 * half_window + 1``).
        min_pairs: Fewest kept samples for a value; otherwise NaN.

    Returns:
        ``(N,)`` float64 correlation per index.
    """
    n = len(x)
    k = keep & np.isfinite(x) & np.isfinite(y)
    xs, ys = np.where(k, x, 0.0), np.where(k, y, 0.0)

    def csum(v: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(v)])

    sums = [csum(k.astype(np.float64)), csum(xs), csum(ys), csum(xs * xs), csum(ys * ys),
            csum(xs * ys)]  # fmt: skip
    idx = np.arange(n)
    lo, hi = np.maximum(idx - half_window, 0), np.minimum(idx + half_window + 1, n)
    c, sx, sy, sxx, syy, sxy = (s[hi] - s[lo] for s in sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / c
        vx = sxx - sx * sx / c
        vy = syy - sy * sy / c
        r = cov / np.sqrt(vx * vy)
    r[(c < min_pairs) | ~np.isfinite(r)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _long_silences(voiced: np.ndarray, min_len: int) -> np.ndarray:
    """Frames inside unvoiced runs of at least ``min_len`` frames."""
    out = np.zeros_like(voiced, dtype=bool)
    edges = np.diff(np.concatenate([[0], (~voiced).astype(np.int8), [0]]))
    for s, e in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
        if e - s >= min_len:
            out[s:e] = True
    return out


def _silent_motion(gap: np.ndarray, voiced: np.ndarray, fps: Fraction) -> np.ndarray:
    """How much the mouth moves in long silences, per frame, in units of its speech-time spread.

    Returns ``(N,)`` float64: 0 outside long silences; inside, the local (+-0.25 s) standard
    deviation of the raw lip gap divided by its standard deviation over voiced frames.
    """
    n = len(gap)
    out = np.zeros(n)
    silent = _long_silences(voiced, max(1, int(round(LONG_SILENCE_SEC * float(fps)))))
    face = np.isfinite(gap)
    ref = gap[face & voiced]
    if not silent.any() or len(ref) < 10 or ref.std() < 1e-9:
        return out
    half = max(1, int(round(0.25 * float(fps))))
    for t in np.nonzero(silent & face)[0]:
        lo, hi = max(0, t - half), min(n, t + half + 1)
        seg = gap[lo:hi][face[lo:hi] & silent[lo:hi]]
        if len(seg) >= 3:
            out[t] = seg.std() / ref.std()
    return out


# -- scoring -----------------------------------------------------------------------------------


def score_av(
    lip_gap: np.ndarray,
    features_or_audio: np.ndarray,
    fps,
    max_lag: int = 15,
    voiced: np.ndarray | None = None,
    frames: Sequence[int] | np.ndarray | None = None,
    model: MeterModel | None = None,
) -> SyncScore:
    """Score how well a measured mouth opening follows an audio track.

    Args:
        lip_gap: ``(N,)`` lip gap per frame (:func:`lipcore.face.landmarks.lip_gap`), NaN where the
            face is not known.
        features_or_audio: Either ``(N, 72)`` spectral features of the same frames, or ``(S,)``
            16 kHz mono audio whose sample 0 plays with the first of these frames.
        fps: Video frame rate.
        max_lag: Largest offset searched, in frames (each way).
        voiced: ``(N,)`` bool speech mask; computed from the audio when audio is given; with
            features and no mask, frames whose bands all sit at the silence floor are unvoiced.
        frames: Frame indices of the ``N`` rows (for :attr:`SyncScore.frames`); default ``0..N-1``.
        model: Meter weights; default the shipped ones.

    Returns:
        A :class:`SyncScore` with ``method="builtin-av-correlation"``, the best offset (positive =
        audio late), the confidence described in the module docstring, the per-frame curve and
        the lag curve.

    Raises:
        NoFaceError: Fewer than 3 frames have both a face and speech.
    """
    from lipcore.audio.features import FEATURE_DIM, spectral_features

    fps = as_fps(fps)
    model = model if model is not None else load_meter_model()
    gap = np.asarray(lip_gap, np.float64)
    n = len(gap)
    data = np.asarray(features_or_audio)
    if data.ndim == 1:
        feats = spectral_features(data, fps, n)
        if voiced is None:
            from lipcore.audio.vad import voiced_frames

            voiced = voiced_frames(data, fps, n)
    elif data.ndim == 2 and data.shape == (n, FEATURE_DIM):
        feats = data
        if voiced is None:
            # current-frame bands are the middle block; all at the -40 dB floor = silence
            mid = feats[:, FEATURE_DIM // 3 : 2 * FEATURE_DIM // 3]
            voiced = mid.max(axis=1) > -35.0
    else:
        raise ValueError(
            f"features_or_audio must be (S,) audio or ({n}, {FEATURE_DIM}) features, "
            f"got {data.shape}"
        )
    voiced = np.asarray(voiced, bool)
    frame_ids = np.arange(n) if frames is None else np.asarray(frames, np.int64)

    face = np.isfinite(gap)
    if (face & voiced).sum() < 3:
        raise NoFaceError(
            f"only {(face & voiced).sum()} frames have both a visible face and speech",
            fix="score a range where the face is visible while someone speaks",
        )
    gap_z = zscore(gap, face & voiced)
    predicted = model.predict(feats)

    lag_curve = lag_correlations(gap_z, predicted, voiced, max_lag)
    finite = np.isfinite(lag_curve)
    best_i = int(np.nanargmax(np.where(finite, lag_curve, -np.inf)))
    offset = best_i - max_lag
    confidence = lag_confidence(lag_curve)

    # per-frame: windowed r at the best lag, placed on the video frame
    pred_at = np.full(n, np.nan)
    ev_at = np.zeros(n, bool)
    sv, sa = _lagged_pairs(n, offset)
    pred_at[sv] = predicted[sa]
    ev_at[sv] = voiced[sa]
    half = max(1, int(round(WINDOW_SEC * float(fps))))
    per_frame = windowed_correlation(gap_z, pred_at, ev_at, half, MIN_WINDOW_PAIRS)
    per_frame = np.where(np.isnan(per_frame), 0.0, per_frame)
    motion = _silent_motion(gap, ev_at, fps)
    moving = motion > 0.5
    per_frame[moving] = np.minimum(
        per_frame[moving], SILENT_MOTION_PENALTY * np.minimum(motion[moving], 2.0)
    )
    per_frame[~face] = np.nan
    return SyncScore(
        method=METHOD,
        offset_frames=int(offset),
        confidence=confidence,
        per_frame=per_frame.astype(np.float32),
        frames=frame_ids,
        lag_curve=lag_curve.astype(np.float32),
    )


# -- measuring the mouth on a clip -------------------------------------------------------------


@dataclass
class LipGapSeries:
    """Measured mouth opening of one face over a frame range.

    Attributes:
        frames: ``(N,)`` frame indices.
        gap: ``(N,)`` float32 lip gap (NaN where the face is not known).
        track_id: The face track measured.
        fps: Clip frame rate.
    """

    frames: np.ndarray
    gap: np.ndarray
    track_id: str
    fps: Fraction


def iter_lip_gap_single_face(
    video: str | Path, frames: tuple[int, int] | None = None
) -> Iterator[Progress]:
    """Lip gap of the one main face, tracked frame to frame without the full face tracker.

    A quick path for single-speaker clips (fitting the meter, benchmarks): MediaPipe's full-range
    face detector finds the face when it is not known, then FaceMesh follows it in a crop around
    the previous frame's landmarks. Results are cached on disk by clip content and range.

    Args:
        video: The clip.
        frames: ``(start, stop)`` frame range, stop exclusive; None = the whole clip.

    Yields:
        :class:`Progress` per frame.

    Returns:
        A :class:`LipGapSeries` with ``track_id="single-face"``.
    """
    import cv2

    from lipcore.cache import cache_path, file_fingerprint, store_entry
    from lipcore.face.landmarks import landmarks_box, lip_gap
    from lipcore.face.mesh import MeshLandmarker, _quiet_mediapipe
    from lipcore.media.decode import VideoReader

    video = Path(video)
    with VideoReader(video) as reader:
        fps = reader.video.fps
        total = reader.video.frame_count
        start, stop = frames if frames is not None else (0, total)
        stop = min(stop, total)
        key = cache_path("lipgap", file_fingerprint(video), f"{start}-{stop}", "single-v1")
        if key.exists():
            with np.load(key) as z:
                return LipGapSeries(z["frames"], z["gap"], "single-face", fps)
        _quiet_mediapipe()
        import mediapipe as mp

        ids = np.arange(start, stop)
        gap = np.full(len(ids), np.nan, np.float32)
        detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=0.5
        )
        box = None
        try:
            with MeshLandmarker() as mesh:
                for row, (_, image) in enumerate(reader.iter_frames(start, stop)):
                    if box is None:
                        h, w = image.shape[:2]
                        scale = 640.0 / max(h, w)
                        small = cv2.resize(image, None, fx=scale, fy=scale) if scale < 1 else image
                        s = min(scale, 1.0)
                        found = detector.process(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
                        if found.detections:
                            best = max(found.detections, key=lambda d: d.score[0])
                            rb = best.location_data.relative_bounding_box
                            sh, sw = small.shape[:2]
                            x0, y0 = rb.xmin * sw / s, rb.ymin * sh / s
                            box = np.array(
                                [x0, y0, x0 + rb.width * sw / s, y0 + rb.height * sh / s],
                                np.float32,
                            )
                    if box is not None:
                        pts = mesh.landmarks(image, box)
                        if pts is None:
                            box = None
                        else:
                            gap[row] = lip_gap(pts)
                            box = landmarks_box(pts)
                    yield Progress(row + 1, len(ids), "measuring the mouth")
        finally:
            detector.close()
    import io

    buf = io.BytesIO()
    np.savez(buf, frames=ids, gap=gap)
    store_entry(key, buf.getvalue())  # a full cache only costs the re-measurement next time
    return LipGapSeries(ids, gap, "single-face", fps)


def main_track(trackset):
    """The face to score when none is named: the selector's choice, else the longest track."""
    try:
        from lipcore.face.select import choose_track
    except ModuleNotFoundError as exc:
        if exc.name != "lipcore.face.select":
            raise
        return trackset.tracks[0]  # tracks are ordered by screen time
    chosen = choose_track(trackset)
    return trackset.get(chosen) if isinstance(chosen, str) else chosen


def iter_scored_track(
    video: str | Path, track: str = "auto", frames: tuple[int, int] | None = None
) -> Iterator[Progress]:
    """Track the faces of a frame range and pick the one to score (generator).

    Args:
        video: The clip.
        track: Track id ("face-0"...) or "auto" for the main face.
        frames: ``(start, stop)`` frame range, stop exclusive; None = the whole clip.

    Yields:
        :class:`Progress` of the face tracking.

    Returns:
        ``(trackset, track)``: the range's :class:`~lipcore.face.types.TrackSet` and the chosen
        :class:`~lipcore.face.types.FaceTrack`.

    Raises:
        NoFaceError: No face in the range, or the requested track does not exist.
    """
    from lipcore.face.track import TrackerSettings, iter_track_faces

    video = Path(video)
    settings = TrackerSettings()
    if frames is not None:
        # Track only the scored range (the tracker caches per range and settings).
        settings = TrackerSettings(start_frame=int(frames[0]), end_frame=int(frames[1]))
    trackset = yield from iter_track_faces(video, settings)
    if not trackset.tracks:
        raise NoFaceError(
            "no face was found in the clip", video, "pick a clip with a visible face"
        )
    if track == "auto":
        return trackset, main_track(trackset)
    try:
        return trackset, trackset.get(track)
    except KeyError as exc:
        raise NoFaceError(str(exc.args[0]), video, "run `lipsync faces` to list ids") from exc


def iter_lip_gap(
    video: str | Path, track: str = "auto", frames: tuple[int, int] | None = None
) -> Iterator[Progress]:
    """Measure the lip gap of one face track over a frame range (generator, returns the series).

    Face tracks come from :func:`lipcore.face.track.track_faces` (cached on disk by the tracker).

    Args:
        video: The clip.
        track: Track id ("face-0"...), "auto" for the main face, or "single-face" for the quick
            tracker-free path of :func:`iter_lip_gap_single_face`.
        frames: ``(start, stop)`` frame range, stop exclusive; None = the whole clip.

    Yields:
        :class:`Progress` of the face tracking.

    Returns:
        A :class:`LipGapSeries`.

    Raises:
        NoFaceError: No face in the clip, or the requested track does not exist.
    """
    from lipcore.face.landmarks import lip_gap

    video = Path(video)
    if track == "single-face":
        return (yield from iter_lip_gap_single_face(video, frames))
    trackset, chosen = yield from iter_scored_track(video, track, frames)
    start, stop = frames if frames is not None else (0, trackset.frame_count)
    stop = min(stop, trackset.frame_count)
    ids = np.arange(start, stop)
    gap = np.full(len(ids), np.nan, np.float32)
    rows = np.searchsorted(chosen.frames, ids)
    rows = np.clip(rows, 0, max(len(chosen.frames) - 1, 0))
    have = (len(chosen.frames) > 0) & (chosen.frames[rows] == ids)
    if have.any():
        gap[have] = lip_gap(chosen.landmarks[rows[have]])
    return LipGapSeries(ids, gap, chosen.track_id, as_fps(trackset.fps))


def measure_lip_gap(
    video: str | Path, track: str = "auto", frames: tuple[int, int] | None = None,
    show_progress: bool = False,
) -> LipGapSeries:  # fmt: skip
    """Blocking wrapper of :func:`iter_lip_gap` (optionally with a progress bar)."""
    return drain(iter_lip_gap(video, track, frames), show=show_progress, desc="faces")


def score_video(
    video: str | Path,
    audio: np.ndarray | str | Path | None = None,
    track: str = "auto",
    frames: tuple[int, int] | None = None,
    max_lag: int = 15,
    show_progress: bool = False,
) -> SyncScore:
    """Score a clip's lip sync with the built-in meter.

    Args:
        video: The clip.
        audio: None for the clip's own audio; a path to an audio file (its first sample plays with
            frame 0); or ``(S,)`` 16 kHz samples on the video clock.
        track: Face track id, or "auto" for the main face.
        frames: ``(start, stop)`` range to score; None = the whole clip.
        max_lag: Largest offset searched, in frames.
        show_progress: Draw a progress bar while faces are tracked.

    Returns:
        The :class:`SyncScore` of the range.

    Raises:
        MediaError: The clip or audio cannot be read (or the clip has no audio and none is given).
        NoFaceError: No usable face, or no speech while the face is visible.
    """
    from lipcore.media.audio import clip_audio, load_audio

    series = measure_lip_gap(video, track, frames, show_progress)
    if audio is None:
        samples = clip_audio(video)
    elif isinstance(audio, (str, Path)):
        samples = load_audio(audio, 16000)
    else:
        samples = np.asarray(audio, np.float32)
    fps = series.fps
    from lipcore.timebase import frame_to_sample

    start = int(series.frames[0]) if len(series.frames) else 0
    first = frame_to_sample(start, fps, 16000)
    return score_av(series.gap, samples[first:], fps, max_lag=max_lag, frames=series.frames)
