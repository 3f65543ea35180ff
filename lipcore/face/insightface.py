"""insightface backend run through onnxruntime directly: SCRFD detection + ArcFace identity.

The ``insightface`` package itself pulls ``opencv-python`` and a protobuf that break the
mediapipe install, so its ONNX models are run here without it.  Models are looked up in the
user's insightface folder (``~/.insightface/models/<pack>/``, e.g. ``buffalo_l`` with
``det_10g.onnx`` and ``w600k_r50.onnx``) or a folder given by the user; nothing is ever
downloaded.  Model files are recognised by their inputs and outputs, not only their names:

* detector: an SCRFD export with 9 outputs (scores, box distances and 5 keypoints for strides
  8/16/32, 2 anchors per location) — any ``det_*``/``scrfd_*`` file;
* recognition: a single-output network with a 112x112 input (ArcFace: ``w600k_r50.onnx``,
  ``w600k_mbf.onnx``, ``glintr100.onnx``, ``*arcface*``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import cv2
import numpy as np

from lipcore.errors import CheckpointError
from lipcore.face.detect import merge_detections, nms, tile_grid
from lipcore.face.types import FaceDetection

#: Packs searched, in order, under ``~/.insightface/models`` when no folder is given.
KNOWN_PACKS = ("buffalo_l", "buffalo_m", "buffalo_s", "buffalo_sc", "antelopev2")

#: Parts of recognition model file names (insightface packs and common exports).
_RECOGNITION_NAME_HINTS = ("w600k", "arcface", "glint", "r50", "r100", "r34", "mbf", "rec")

#: ArcFace's canonical 5-point positions in its 112x112 input.
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
     [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)  # fmt: skip


def default_model_root() -> Path:
    """``$INSIGHTFACE_HOME/models`` or ``~/.insightface/models`` (insightface's pack folder)."""
    home = os.environ.get("INSIGHTFACE_HOME")
    return (Path(home) if home else Path.home() / ".insightface") / "models"


def _session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise CheckpointError(
            f"cannot load ONNX model ({exc.__class__.__name__}: {str(exc)[:120]})",
            path=path,
            fix="the file is damaged or not an ONNX model; put a fresh copy there",
        ) from exc


def _kind(session) -> str:
    outs = session.get_outputs()
    shape = session.get_inputs()[0].shape
    if len(outs) in (6, 9) and {o.name for o in outs} >= {"score_8", "bbox_8"} | (
        set() if len(outs) == 6 else {"kps_8"}
    ):
        return "scrfd"
    if len(outs) in (6, 9) and len(shape) == 4:
        return "scrfd"  # insightface's own exports name outputs by number
    if len(outs) == 1 and len(shape) == 4 and shape[2:] == [112, 112]:
        return "recognition"
    return "other"


def _kind_of_file(path: Path) -> str:
    """:func:`_kind` of a model file, remembered per file version (loading r50 takes ~1 s)."""
    st = path.stat()
    return _kind_cached(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _kind_cached(path: str, mtime_ns: int, size: int) -> str:
    return _kind(_session(Path(path)))


def find_models(model_dir: str | Path | None = None) -> tuple[Path, Path, Path | None]:
    """Locate the SCRFD detector and (optional) ArcFace model.

    Args:
        model_dir: A pack folder holding ``.onnx`` files, a folder of packs, or None for the
            insightface default (``~/.insightface/models``).

    Returns:
        ``(folder, detector_path, recognition_path_or_None)``.

    Raises:
        CheckpointError: No folder, or no SCRFD detector in it, naming what to put where.
    """
    root = Path(model_dir).expanduser() if model_dir is not None else default_model_root()
    if not root.is_dir():
        raise CheckpointError(
            "insightface model folder not found",
            path=root,
            fix="unpack an insightface model pack there (e.g. buffalo_l with det_10g.onnx and "
            "w600k_r50.onnx), pass --model-dir DIR, or use --backend mediapipe",
        )
    candidates = (
        [root] + [root / p for p in KNOWN_PACKS] + sorted(p for p in root.iterdir() if p.is_dir())
    )
    for folder in candidates:
        if not folder.is_dir():
            continue
        onnx_files = sorted(folder.glob("*.onnx"))
        # Name first (cheap), then by structure: loading every file would be slow on big packs.
        det_named = [p for p in onnx_files if "det" in p.name.lower() or "scrfd" in p.name.lower()]
        rec_named = [
            p for p in onnx_files
            if any(k in p.name.lower() for k in _RECOGNITION_NAME_HINTS)
        ]  # fmt: skip
        detector = next((p for p in det_named if _kind_of_file(p) == "scrfd"), None)
        if detector is None:
            continue
        recog = next((p for p in rec_named if _kind_of_file(p) == "recognition"), None)
        return folder, detector, recog
    raise CheckpointError(
        "no SCRFD face detector (.onnx) in the insightface model folder",
        path=root,
        fix="put det_10g.onnx or det_500m.onnx (and w600k_r50.onnx for identity) from an "
        "insightface pack such as buffalo_l into that folder, or use --backend mediapipe",
    )


class ScrfdDetector:
    """SCRFD face detector (boxes + 5 keypoints) decoded from its raw ONNX outputs.

    Args:
        path: The ``.onnx`` file.
        input_size: Network input (width, height); frames are letterboxed into it.
        min_confidence: Score threshold.
        nms_threshold: IoU above which overlapping boxes are suppressed.
    """

    strides = (8, 16, 32)
    num_anchors = 2

    def __init__(
        self,
        path: str | Path,
        input_size: tuple[int, int] = (640, 640),
        min_confidence: float = 0.5,
        nms_threshold: float = 0.4,
    ):
        self.path = Path(path)
        self._session = _session(self.path)
        if _kind(self._session) != "scrfd":
            raise CheckpointError(
                "not an SCRFD detector (expected 9 outputs: scores, boxes, keypoints x 3 strides)",
                path=self.path,
                fix="use an insightface det_*.onnx / scrfd_*_kps.onnx file",
            )
        self.input_size = input_size
        self.min_confidence = float(min_confidence)
        self.nms_threshold = float(nms_threshold)
        self._input_name = self._session.get_inputs()[0].name
        names = [o.name for o in self._session.get_outputs()]
        self._has_kps = len(names) == 9
        if "score_8" in names:
            order = ["score_8", "score_16", "score_32", "bbox_8", "bbox_16", "bbox_32"]
            if self._has_kps:
                order += ["kps_8", "kps_16", "kps_32"]
            self._output_names = order
        else:
            self._output_names = names  # insightface order: scores, boxes, kps per stride
        self._centres: dict[tuple[int, int, int], np.ndarray] = {}

    def _anchor_centres(self, height: int, width: int, stride: int) -> np.ndarray:
        key = (height, width, stride)
        if key not in self._centres:
            ys, xs = np.mgrid[:height, :width]
            centres = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
            # Each grid location carries num_anchors anchors in a row: repeat each centre.
            self._centres[key] = np.repeat(centres, self.num_anchors, axis=0)
        return self._centres[key]

    def detect(self, image_bgr: np.ndarray) -> list[FaceDetection]:
        """Faces in one BGR image, best first (boxes and keypoints in image pixels)."""
        in_w, in_h = self.input_size
        h, w = image_bgr.shape[:2]
        scale = min(in_w / w, in_h / h)
        new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
        canvas = np.zeros((in_h, in_w, 3), dtype=np.uint8)
        canvas[:new_h, :new_w] = cv2.resize(image_bgr, (new_w, new_h))
        blob = cv2.dnn.blobFromImage(
            canvas, 1.0 / 128, (in_w, in_h), (127.5, 127.5, 127.5), swapRB=True
        )  # (1, 3, H, W) RGB, (x - 127.5) / 128 as in insightface
        outs = self._session.run(self._output_names, {self._input_name: blob})
        outs = [o[0] if o.ndim == 3 else o for o in outs]  # drop the batch axis when exported
        boxes_all, scores_all, kps_all = [], [], []
        n = len(self.strides)
        for i, stride in enumerate(self.strides):
            scores = outs[i].reshape(-1)
            dist = outs[i + n].reshape(-1, 4) * stride
            centres = self._anchor_centres(in_h // stride, in_w // stride, stride)
            keep = np.nonzero(scores >= self.min_confidence)[0]
            if len(keep) == 0:
                continue
            c = centres[keep]
            d = dist[keep]
            boxes_all.append(np.concatenate([c - d[:, :2], c + d[:, 2:]], axis=1))
            scores_all.append(scores[keep])
            if self._has_kps:
                k = outs[i + 2 * n].reshape(-1, 5, 2)[keep] * stride
                kps_all.append(k + c[:, None, :])
        if not boxes_all:
            return []
        boxes = np.concatenate(boxes_all) / scale
        scores = np.concatenate(scores_all)
        kps = np.concatenate(kps_all) / scale if kps_all else None
        out = []
        for j in nms(boxes, scores, self.nms_threshold):
            if kps is not None:
                k5 = kps[j]
            else:  # no keypoint head: rough positions inside the box, refined later by the mesh
                x0, y0, x1, y1 = boxes[j]
                rel = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]])
                k5 = np.array([x0, y0]) + rel * np.array([x1 - x0, y1 - y0])
            out.append(
                FaceDetection(boxes[j].astype(np.float32), float(scores[j]), k5.astype(np.float32))
            )
        return out

    def close(self) -> None:
        """Drop the ONNX session."""
        self._session = None


def align_face(frame_bgr: np.ndarray, kps5: np.ndarray, side_px: int = 112) -> np.ndarray:
    """Similarity-warp a face so its 5 keypoints land on the ArcFace template (``side_px``)."""
    dst = ARCFACE_TEMPLATE * (side_px / 112.0)
    mat, _ = cv2.estimateAffinePartial2D(np.asarray(kps5, np.float32), dst, method=cv2.LMEDS)
    if mat is None:  # degenerate keypoints: fall back to a plain least-squares fit
        mat = cv2.estimateAffinePartial2D(np.asarray(kps5, np.float32), dst)[0]
    return cv2.warpAffine(frame_bgr, mat, (side_px, side_px), borderValue=0)


class ArcFaceEmbedder:
    """ArcFace identity vectors (L2-normalised) from a 112x112 recognition ONNX model.

    Args:
        path: The recognition ``.onnx`` file (e.g. ``w600k_r50.onnx``).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._session = _session(self.path)
        self._input_name = self._session.get_inputs()[0].name

    def embed(self, frame_bgr: np.ndarray, kps5: np.ndarray) -> np.ndarray:
        """Identity vector of the face with keypoints ``kps5`` in ``frame_bgr``."""
        face = align_face(frame_bgr, kps5)
        # insightface's w600k/glint models take RGB scaled to [-1, 1].
        blob = cv2.dnn.blobFromImage(face, 1.0 / 127.5, (112, 112), (127.5,) * 3, swapRB=True)
        vec = self._session.run(None, {self._input_name: blob})[0].reshape(-1).astype(np.float32)
        return vec / max(float(np.linalg.norm(vec)), 1e-9)

    def close(self) -> None:
        """Drop the ONNX session."""
        self._session = None


class InsightFaceDetector:
    """SCRFD boxes (+ ArcFace identity when the pack has a recognition model).

    Args:
        model_dir: Pack folder, folder of packs, or None for ``~/.insightface/models``.
        min_confidence: Detection threshold.
        tile: Also run on tiles when the frame is much larger than the 640-pixel input.
    """

    name = "insightface"

    def __init__(
        self,
        model_dir: str | Path | None = None,
        min_confidence: float = 0.5,
        tile: bool = True,
    ):
        self.folder, det_path, rec_path = find_models(model_dir)
        self._det = ScrfdDetector(det_path, min_confidence=min_confidence)
        self._rec = ArcFaceEmbedder(rec_path) if rec_path is not None else None
        self.tile = bool(tile)
        self.model_files = [det_path] + ([rec_path] if rec_path else [])

    @property
    def has_identity(self) -> bool:
        """Whether an ArcFace model was found."""
        return self._rec is not None

    def detect(self, frame_bgr: np.ndarray, tile: bool | None = None) -> list[FaceDetection]:
        """Faces in one BGR frame, best first (``tile`` overrides the tiling setting)."""
        dets = self._det.detect(frame_bgr)
        h, w = frame_bgr.shape[:2]
        # SCRFD sees 640 px; only frames well above that lose small faces to the downscale.
        if (self.tile if tile is None else tile) and max(h, w) > 960:
            for x, y, side in tile_grid(h, w, 640):
                for d in self._det.detect(frame_bgr[y : y + side, x : x + side]):
                    off = np.array([x, y], dtype=np.float32)
                    dets.append(FaceDetection(d.box + np.tile(off, 2), d.score, d.kps5 + off))
        return merge_detections(dets)

    def embed(self, frame_bgr: np.ndarray, kps5: np.ndarray) -> np.ndarray | None:
        """ArcFace vector of the face, or None without a recognition model."""
        return None if self._rec is None else self._rec.embed(frame_bgr, kps5)

    def close(self) -> None:
        """Drop the ONNX sessions."""
        self._det.close()
        if self._rec is not None:
            self._rec.close()

    def __enter__(self) -> InsightFaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
