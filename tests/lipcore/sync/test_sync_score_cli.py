"""``lipsync score`` on a real clip, and the per-frame plot."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from lipcore.cli import main
from lipcore.sync.plot import plot_score, weak_ranges
from lipcore.sync.types import SyncScore


@pytest.fixture(scope="module")
def a04(shared_media):
    return next((shared_media / "video").glob("A04_*.mp4"))


def test_score_json_and_plot(a04, tmp_path, capsys):
    png = tmp_path / "curve.png"
    rc = main(["score", str(a04), "--frames", "0:125", "--json", "--plot", str(png), "-q"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "builtin-av-correlation"
    assert abs(data["offset_frames"]) <= 2 and data["confidence"] > 0.2
    assert len(data["per_frame"]) == len(data["frames"]) == 125
    image = cv2.imread(str(png))
    assert image is not None and image.shape[1] >= 800


def test_score_text_with_foreign_audio(a04, shared_media, capsys):
    speech = shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav"
    rc = main(["score", str(a04), "--frames", "0:125", "--audio", str(speech), "-q"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "builtin-av-correlation" in out and "positive = audio late" in out
    confidence = float(out.split("confidence")[1].split()[0])
    assert confidence < 0.2


def test_score_bad_inputs_exit_2_with_one_line(a04, tmp_path, capsys):
    assert main(["score", str(tmp_path / "missing.mp4")]) == 2
    assert "missing.mp4" in capsys.readouterr().err
    assert main(["score", str(a04), "--checkpoint", str(tmp_path / "nope.pth"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "nope.pth" in err and len(err.strip().splitlines()) == 1


def test_weak_ranges_and_plot_of_a_synthetic_score(tmp_path):
    values = np.array([0.5, 0.05, 0.02, 0.4, np.nan, np.nan, -0.3, 0.6], np.float32)
    frames = np.arange(100, 108)
    assert weak_ranges(values, frames, 0.1) == [(101, 102), (106, 106)]
    score = SyncScore("builtin-av-correlation", 2, 0.3, values, frames,
                      lag_curve=np.linspace(-0.1, 0.3, 31).astype(np.float32))  # fmt: skip
    out = plot_score(score, tmp_path / "p.png", fps=25, title="synthetic")
    image = cv2.imread(str(out))
    assert image.shape == (360, 1000, 3)
    # shaded weak stretches are drawn in a red tint somewhere in the plot
    b, g, r = (image[..., i].astype(int) for i in range(3))
    assert ((r > 230) & (g < 225) & (b < 225) & (g > 180)).sum() > 100
