"""``lipsync faces`` on a real clip: table, JSON, contact sheet, one-line errors."""

from __future__ import annotations

import json
from fractions import Fraction

import cv2
import numpy as np

from lipcore.cli import main
from lipcore.face.store import load_trackset, save_trackset
from lipcore.face.types import FaceTrack, TrackSet


def test_faces_json_and_sheet(clip, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    rc = main(["faces", str(clip("A14")), "--end-frame", "20", "--json", "--sheet", str(sheet)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frame_count"] == 225 and out["fps"] == [25, 1] and out["shot_cuts"] == []
    assert [t["id"] for t in out["tracks"]] == ["face-0"]
    track = out["tracks"][0]
    assert track["ranges"] == [[0, 19]] and track["seconds"] == 0.8
    assert 100 < track["mean_box_px"][0] < 512
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[1] == 128 and image.shape[0] > 128
    assert image[:128].std() > 10  # a real thumbnail, not a blank cell

    rc = main(["faces", str(clip("A14")), "--end-frame", "20"])  # cached now: the table
    text = capsys.readouterr().out
    assert rc == 0 and "face-0" in text and "0-19" in text and "shot cuts: none" in text


def test_faces_bad_input_is_one_line(tmp_path, capsys, shared_media):
    audio = next((shared_media / "audio").glob("B01_*"))
    assert main(["faces", str(audio)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no video stream" in err[0]
    assert main(["faces", str(tmp_path / "nope.mp4")]) == 2
    missing = tmp_path / "models"
    rc = main(["faces", str(audio), "--backend", "insightface", "--model-dir", str(missing)])
    assert rc == 2


def test_store_round_trip_and_damage(tmp_path):
    n = 5
    track = FaceTrack(
        "face-0", np.arange(3, 3 + n), np.ones((n, 4), np.float32),
        np.random.default_rng(0).random((n, 478, 2), dtype=np.float32),
        np.ones(n, np.float32), np.zeros(n, bool), embedding=np.ones(8, np.float32),
        thumbnail=np.zeros((96, 96, 3), np.uint8),
    )  # fmt: skip
    ts = TrackSet([track], 50, Fraction(30000, 1001), shot_cuts=[7], backend="mediapipe")
    path = tmp_path / "t.npz"
    save_trackset(path, ts)
    back = load_trackset(path)
    assert back is not None and back.fps == Fraction(30000, 1001) and back.shot_cuts == [7]
    np.testing.assert_array_equal(back.tracks[0].landmarks, track.landmarks)
    assert back.tracks[0].thumbnail.shape == (96, 96, 3)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert load_trackset(path) is None
    assert load_trackset(tmp_path / "absent.npz") is None
