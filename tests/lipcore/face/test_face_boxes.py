"""A face pointed out by hand: keyed boxes, interpolation, and the parametric face in the box."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lipcore.errors import LipsyncError
from lipcore.face.boxes import interpolate_boxes, iter_box_track, parse_face_boxes
from lipcore.progress import drain


def test_keys_are_read_sorted_and_interpolated():
    keys = parse_face_boxes(["100,50,200,240@20", "80,40,200,240@0"])
    assert keys == [(0, 80.0, 40.0, 200.0, 240.0), (20, 100.0, 50.0, 200.0, 240.0)]
    boxes = interpolate_boxes(keys, 30)
    assert np.allclose(boxes[10], [90, 45, 290, 285])
    assert np.allclose(boxes[25], boxes[20])  # held after the last key
    assert parse_face_boxes("1,2,3,4") == [(0, 1.0, 2.0, 3.0, 4.0)]


@pytest.mark.parametrize("text", ["1,2,3", "1,2,0,4", "a,b,c,d@1", "1,2,3,4@x", "1,2,3,4 5,6,7,8"])
def test_bad_keys_say_how_to_write_them(text):
    with pytest.raises(LipsyncError) as err:
        parse_face_boxes(text)
    assert err.value.fix and "X,Y,W,H" in err.value.fix


def _cartoon(path: Path) -> tuple[int, int, int, int]:
    """A drawn robot head (square eyes, a slot mouth) no detector here takes for a face.

    Returns its box (x, y, w, h). (A drawn ellipse with round eyes and a mouth is enough for
    FaceMesh inside a given box; this one is not, see the test below.)
    """
    img = np.full((360, 360, 3), (200, 220, 235), np.uint8)
    cv2.rectangle(img, (80, 50), (280, 320), (150, 150, 160), -1)
    cv2.rectangle(img, (110, 110), (160, 150), (40, 200, 255), -1)
    cv2.rectangle(img, (200, 110), (250, 150), (40, 200, 255), -1)
    cv2.rectangle(img, (130, 240), (230, 262), (60, 60, 70), -1)
    cv2.imwrite(str(path), img)
    return 80, 50, 200, 270


def test_a_face_the_mesh_cannot_fit_gets_the_parametric_face(tmp_path):
    from lipcore.face.mesh import MeshLandmarker
    from lipcore.face.track import iter_track_faces

    png = tmp_path / "cartoon.png"
    x, y, w, h = _cartoon(png)
    # Neither the detector nor FaceMesh inside the very box finds this face
    assert drain(iter_track_faces(png), show=False).tracks == []
    with MeshLandmarker() as mesh:
        assert mesh.landmarks(cv2.imread(str(png)), np.float32([x, y, x + w, y + h])) is None
    tracks = drain(iter_box_track(png, [(0, x, y, w, h)]), show=False)
    assert tracks.backend == "face-box+template"
    lm = tracks.tracks[0].landmarks[0]
    # The template's mouth sits in the lower half of the box, between the eyes' columns
    mouth = lm[[13, 14, 61, 291]]
    assert np.all(mouth[:, 1] > y + 0.55 * h) and np.all(mouth[:, 1] < y + h)
    assert x + 0.2 * w < lm[61, 0] < lm[291, 0] < x + 0.8 * w
    assert lm[33, 1] < y + 0.5 * h  # eyes in the upper half


def test_cli_renders_a_cartoon_with_a_face_box(tmp_path, shared_media):
    png = tmp_path / "cartoon.png"
    x, y, w, h = _cartoon(png)
    speech = tmp_path / "speech.wav"
    src = next((shared_media / "audio").glob("B01_*.wav"))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "1", "-t", "1.5", "-i", str(src), str(speech)], check=True
    )
    out = tmp_path / "cartoon.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "sync", str(png), str(speech), "-o", str(out),
         "--face-box", f"{x},{y},{w},{h}", "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "engine: oneshot" in proc.stdout
    from lipcore.media.decode import VideoReader
    from lipcore.media.probe import probe

    with VideoReader(out) as r:
        frames = np.stack([f for _, f in r.iter_frames()]).astype(np.float32)
    # The still is held for the whole speech at 25 fps (the last partial frame included)
    assert len(frames) == int(np.ceil(probe(speech).audio.duration_sec * 25 - 1e-6))
    lower = frames[:, y + int(0.6 * h) : y + h, x : x + w]
    assert lower.std(axis=0).mean() > 1.0, "the mouth in the box does not move"
    upper = frames[:, : y + int(0.35 * h)]
    assert upper.std(axis=0).max() < 3.0
