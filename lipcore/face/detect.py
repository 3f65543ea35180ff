"""Face detector backends: MediaPipe (default, offline from the wheel) and insightface (SCRFD).

A detector turns one BGR frame into a list of :class:`~lipcore.face.types.FaceDetection` with
boxes, scores and five keypoints.  Landmarks are added afterwards by
:class:`lipcore.face.mesh.MeshLandmarker` whatever the backend, so every track uses the same
478-point topology.

Small faces (a five-person meeting at 1280x720, a full-body shot) are below what the detectors'
192/640-pixel inputs can resolve when the whole frame is squeezed into them, so both backends can
also run on overlapping tiles and merge the results with non-maximum suppression.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from lipcore.face.types import FaceDetection

BACKENDS = ("mediapipe", "insightface")


class FaceDetector(Protocol):
    """What the tracker needs from a backend."""

    name: str

    def detect(self, frame_bgr: np.ndarray, tile: bool | None = None) -> list[FaceDetection]:
        """Faces in one frame, best first (``tile`` overrides the detector's tiling setting)."""
        ...

    def embed(self, frame_bgr: np.ndarray, kps5: np.ndarray) -> np.ndarray | None:
        """Identity vector of the face with these keypoints, or None when not supported."""
        ...

    def close(self) -> None:
        """Release the backend's models."""
        ...


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``a`` ``(N, 4)`` and ``b`` ``(M, 4)`` -> ``(N, M)``."""
    a = np.asarray(a, dtype=np.float32).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def box_overlap_min(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over the *smaller* box's area, ``(N, M)``.

    Catches a tile's partial box of a face that the full frame found whole, which IoU misses.
    """
    a = np.asarray(a, dtype=np.float32).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return np.where(smaller > 0, inter / np.maximum(smaller, 1e-9), 0.0).astype(np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.4) -> list[int]:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    order = list(np.argsort(-np.asarray(scores)))
    keep: list[int] = []
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    while order:
        i = order.pop(0)
        keep.append(i)
        if not order:
            break
        ious = box_iou(boxes[i : i + 1], boxes[order])[0]
        order = [j for j, v in zip(order, ious, strict=False) if v <= iou_threshold]
    return keep


def merge_detections(dets: list[FaceDetection], overlap: float = 0.5) -> list[FaceDetection]:
    """Merge duplicates from the full frame and overlapping tiles (best score kept)."""
    if not dets:
        return []
    dets = sorted(dets, key=lambda d: -d.score)
    boxes = np.stack([d.box for d in dets])
    over = box_overlap_min(boxes, boxes)
    kept: list[int] = []
    for i in range(len(dets)):
        if all(over[i, k] <= overlap for k in kept):
            kept.append(i)
    return [dets[i] for i in kept]


def tile_grid(height: int, width: int, tile_side: int, overlap: float = 0.25) -> Iterator[tuple]:
    """Square tiles ``(x0, y0, side)`` covering the frame, overlapping by at least ``overlap``."""
    side = int(min(tile_side, height, width))
    step = side * (1 - overlap)
    nx = int(np.ceil(max(width - side, 0) / step)) + 1
    ny = int(np.ceil(max(height - side, 0) / step)) + 1
    xs = np.linspace(0, width - side, nx).round().astype(int) if nx > 1 else [0]
    ys = np.linspace(0, height - side, ny).round().astype(int) if ny > 1 else [0]
    for y in ys:
        for x in xs:
            yield int(x), int(y), side


def mouth_corners_from_centre(kps: np.ndarray) -> np.ndarray:
    """Five keypoints from eyes, nose and a mouth *centre* (MediaPipe's detector gives no corners).

    The corners are put on either side of the mouth centre, parallel to the eye line, at 0.4 of the
    eye distance: close enough for alignment until the mesh gives the real corners.
    """
    right_eye, left_eye, nose, mouth = kps[0], kps[1], kps[2], kps[3]
    half = (left_eye - right_eye) * 0.4
    return np.stack([right_eye, left_eye, nose, mouth - half, mouth + half]).astype(np.float32)


class MediaPipeDetector:
    """MediaPipe BlazeFace detection (short- and full-range models shipped in the wheel).

    Args:
        min_confidence: Detection threshold.
        tile: Also run on overlapping tiles (for small faces in wide frames).
        tile_min_side_px: Frames whose shorter side is below this are not tiled (faces in them
            are already large relative to the 192-pixel model input).
    """

    name = "mediapipe"

    def __init__(
        self, min_confidence: float = 0.5, tile: bool = True, tile_min_side_px: int = 300
    ):
        from lipcore.face.mesh import _quiet_mediapipe, quiet_native_stderr

        _quiet_mediapipe()
        import mediapipe as mp

        self.min_confidence = float(min_confidence)
        self.tile = bool(tile)
        self.tile_min_side_px = int(tile_min_side_px)
        fd = mp.solutions.face_detection
        # Full range (model 1) finds faces down to ~5 % of the frame; short range (model 0) is
        # better on big close-ups, where full range sometimes misses a face filling the frame.
        with quiet_native_stderr():
            self._full = fd.FaceDetection(
                min_detection_confidence=min_confidence, model_selection=1
            )
            self._short = fd.FaceDetection(
                min_detection_confidence=min_confidence, model_selection=0
            )
            blank = np.zeros((64, 64, 3), np.uint8)
            self._full.process(blank)  # warm-up: the native start-up chatter happens here
            self._short.process(blank)

    def _run(self, model, image_bgr: np.ndarray, ox: float, oy: float) -> list[FaceDetection]:
        h, w = image_bgr.shape[:2]
        result = model.process(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
        out = []
        for det in result.detections or []:
            rel = det.location_data.relative_bounding_box
            box = np.array(
                [rel.xmin * w + ox, rel.ymin * h + oy,
                 (rel.xmin + rel.width) * w + ox, (rel.ymin + rel.height) * h + oy],
                dtype=np.float32,
            )  # fmt: skip
            # MediaPipe keypoints: right eye, left eye, nose tip, mouth centre, two ear tragions.
            kps = np.array(
                [(k.x * w + ox, k.y * h + oy) for k in det.location_data.relative_keypoints[:4]],
                dtype=np.float32,
            )
            out.append(FaceDetection(box, float(det.score[0]), mouth_corners_from_centre(kps)))
        return out

    def detect(self, frame_bgr: np.ndarray, tile: bool | None = None) -> list[FaceDetection]:
        """Faces in one BGR frame (full frame with both models, plus tiles), best first.

        Args:
            frame_bgr: ``(H, W, 3)`` uint8 frame.
            tile: Also run on tiles; None = the detector's ``tile`` setting.
        """
        dets = self._run(self._full, frame_bgr, 0, 0)
        h, w = frame_bgr.shape[:2]
        if not dets or max(d.box[2] - d.box[0] for d in dets) > 0.3 * min(h, w):
            dets += self._run(self._short, frame_bgr, 0, 0)
        if (self.tile if tile is None else tile) and min(h, w) >= self.tile_min_side_px:
            # Tiles of 0.6 x the shorter side: faces become ~1.7x larger relative to the model's
            # input; measured on H07 (5 people, 1280x720) +60 % faces found per frame.
            for x, y, side in tile_grid(h, w, int(0.6 * min(h, w))):
                dets += self._run(self._full, frame_bgr[y : y + side, x : x + side], x, y)
        return merge_detections(dets)

    def embed(self, frame_bgr: np.ndarray, kps5: np.ndarray) -> np.ndarray | None:
        """MediaPipe has no identity model."""
        return None

    def close(self) -> None:
        """Release both MediaPipe graphs."""
        for attr in ("_full", "_short"):
            model = getattr(self, attr, None)
            if model is not None:
                model.close()
                setattr(self, attr, None)

    def __enter__(self) -> MediaPipeDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_detector(
    backend: str = "mediapipe",
    model_dir: str | Path | None = None,
    min_confidence: float = 0.5,
    tile: bool = True,
) -> FaceDetector:
    """Build the detector named ``backend``.

    Args:
        backend: "mediapipe" (default, offline) or "insightface" (SCRFD + optional ArcFace).
        model_dir: insightface model folder (defaults to ``~/.insightface/models/<pack>``).
        min_confidence: Detection threshold.
        tile: Also detect on overlapping tiles to find small faces.

    Returns:
        A detector; call ``close()`` when done.

    Raises:
        ValueError: Unknown backend.
        CheckpointError: insightface models missing.
    """
    if backend == "mediapipe":
        return MediaPipeDetector(min_confidence=min_confidence, tile=tile)
    if backend == "insightface":
        from lipcore.face.insightface import InsightFaceDetector

        return InsightFaceDetector(model_dir=model_dir, min_confidence=min_confidence, tile=tile)
    raise ValueError(f"unknown face backend {backend!r} (choose from {', '.join(BACKENDS)})")
