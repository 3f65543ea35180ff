"""Detector backends on real frames: MediaPipe (default), SCRFD via onnxruntime, model errors."""

from __future__ import annotations

import numpy as np
import pytest

from lipcore.errors import CheckpointError
from lipcore.face.detect import box_iou, make_detector, nms, tile_grid
from lipcore.face.insightface import InsightFaceDetector, ScrfdDetector, find_models


def test_mediapipe_finds_the_frontal_face(read_frame, mp_detector):
    frame = read_frame("A01", 0)
    dets = mp_detector.detect(frame)
    assert len(dets) == 1
    d = dets[0]
    w = d.box[2] - d.box[0]
    assert 150 < w < 400 and d.score > 0.7  # a 512x512 head-and-shoulders news shot
    assert d.kps5.shape == (5, 2)
    # Eyes above the mouth corners, right eye (image left) left of the left eye.
    assert d.kps5[0, 0] < d.kps5[1, 0] and d.kps5[0, 1] < d.kps5[3, 1]


def test_tiles_find_more_faces_in_the_meeting(read_frame, mp_detector):
    # H07: five people at 1280x720; faces are ~70 px, small for the 192 px detector input.
    frame = read_frame("H07", 40)
    with make_detector("mediapipe", tile=False) as whole_frame:
        n_whole = len(whole_frame.detect(frame))
    tiled = mp_detector.detect(frame)
    assert len(tiled) >= 3 and len(tiled) >= n_whole
    boxes = np.stack([d.box for d in tiled])
    off_diag = box_iou(boxes, boxes)[~np.eye(len(boxes), dtype=bool)]
    assert off_diag.max(initial=0) < 0.3  # tiles' duplicates were merged


def test_scrfd_decodes_boxes_and_keypoints(read_frame, mp_detector, shared_media):
    det = ScrfdDetector(shared_media / "detectors" / "D06_scrfd_500m_bnkps.onnx")
    frame = read_frame("A01", 0)
    faces = det.detect(frame)
    assert len(faces) == 1 and faces[0].score > 0.5
    ref = mp_detector.detect(frame)[0]
    assert box_iou(faces[0].box[None], ref.box[None])[0, 0] > 0.4
    # Keypoints agree with MediaPipe's eyes and nose within a fifth of the eye distance.
    eye = np.linalg.norm(ref.kps5[1] - ref.kps5[0])
    assert np.all(np.linalg.norm(faces[0].kps5[:3] - ref.kps5[:3], axis=1) < 0.2 * eye)
    # Several small faces at once (H07 meeting, no tiling needed at 640 px input).
    assert len(det.detect(read_frame("H07", 40))) >= 3


def test_insightface_backend_from_a_model_folder(scrfd_dir, read_frame):
    folder, det_path, rec_path = find_models(scrfd_dir)
    assert folder == scrfd_dir and det_path.name == "det_500m.onnx" and rec_path is None
    # A folder of packs works too (insightface's ~/.insightface/models layout).
    assert find_models(scrfd_dir.parent)[1] == det_path
    with make_detector("insightface", model_dir=scrfd_dir) as det:
        assert isinstance(det, InsightFaceDetector) and not det.has_identity
        faces = det.detect(read_frame("A14", 0))
        assert len(faces) == 1
        assert det.embed(read_frame("A14", 0), faces[0].kps5) is None


def test_missing_insightface_models_name_the_folder_and_file(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(CheckpointError) as err:
        find_models(missing)
    assert str(missing) in str(err.value) and "buffalo_l" in str(err.value)
    empty = tmp_path / "empty_pack"
    empty.mkdir()
    (empty / "notes.txt").write_text("no models here")
    with pytest.raises(CheckpointError, match="det_10g.onnx"):
        make_detector("insightface", model_dir=empty)
    # The default folder comes from INSIGHTFACE_HOME / ~/.insightface and is named in the error.
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "home"))
    with pytest.raises(CheckpointError, match="home"):
        find_models(None)


def test_damaged_model_file_is_a_checkpoint_error(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "det_10g.onnx").write_bytes(b"\x08\x07 truncated download")
    with pytest.raises(CheckpointError, match="det_10g.onnx"):
        find_models(pack)


def test_nms_and_tiles():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    assert nms(boxes, np.array([0.9, 0.8, 0.7])) == [0, 2]
    tiles = list(tile_grid(720, 1280, 432))
    assert len(tiles) >= 4
    covered = np.zeros((720, 1280), bool)
    for x, y, s in tiles:
        assert x + s <= 1280 and y + s <= 720
        covered[y : y + s, x : x + s] = True
    assert covered.all()


def test_recognition_model_is_found_and_embeds_aligned_faces(pack_with_arcface, read_frame):
    _, det_path, rec_path = find_models(pack_with_arcface)
    assert rec_path is not None and rec_path.name == "w600k_r50.onnx"
    with InsightFaceDetector(pack_with_arcface) as det:
        assert det.has_identity

        def vec(prefix: str, index: int) -> np.ndarray:
            frame = read_frame(prefix, index)
            face = det.detect(frame)[0]
            return det.embed(frame, face.kps5)

        a, a_next, b = vec("A01", 10), vec("A01", 12), vec("A02", 10)
    assert a.shape == (16,) and abs(float(np.linalg.norm(a)) - 1) < 1e-5
    # Aligned crops of one face two frames apart agree more than two different people do.
    assert float(a @ a_next) > float(a @ b)
