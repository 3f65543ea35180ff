"""Mouth cues drive the one-shot engine: an animator's shapes show up in the picture.

The face is one frame of A04 (a still, as a user would give a portrait). What a user would check,
measured by FaceMesh on the engine's output pixels (independent of the engine's own plan): the
lips are shut on A (closed) frames, open on D (wide open), narrower on the rounded E/F than on
D, at rest on X; and ``lipsync sync --cues`` re-syncs a real clip that way.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from lipcore.cli import main
from lipcore.cues.export import to_json, to_tsv
from lipcore.cues.make import CueTrack, MouthCue
from lipcore.cues.read import cue_triples, read_cues
from lipcore.engines.base import CropBatch, SegmentDrive, SourceFootage
from lipcore.engines.cue_mouths import cue_displacements, load_cue_table
from lipcore.engines.oneshot import OneShotEngine
from lipcore.errors import LipsyncError
from lipcore.face.landmarks import lip_gap
from lipcore.face.track import iter_track_faces
from lipcore.progress import drain
from lipcore.render.pipeline import cue_shapes_of_frames

FPS = Fraction(25)
#: 0.2 s rest, 0.4 s closed, 0.4 s wide open, closed, rounded, puckered, rest (25 fps frames).
SHAPES = list("XXXXX" + "A" * 10 + "D" * 10 + "A" * 8 + "E" * 10 + "F" * 10 + "XXXXXXXXX")


@pytest.fixture(scope="module")
def a04(shared_media, tmp_path_factory) -> tuple[Path, SourceFootage]:
    from lipcore.render.footage import align_track, iter_source_footage

    out = tmp_path_factory.mktemp("cues") / "a04.png"
    clip = next((shared_media / "video").glob("A04_*.mp4"))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "2.2", "-i", str(clip), "-frames:v", "1", str(out)],
        check=True,
    )
    tracks = drain(iter_track_faces(out), show=False)
    alignment = align_track(tracks.tracks[0], size=256)
    return out, drain(iter_source_footage(out, alignment, None), show=False)


def _facemesh(image: np.ndarray, folder: Path, name: str) -> np.ndarray:
    """FaceMesh landmarks of one picture (written as a PNG and tracked like any still)."""
    path = folder / f"{name}.png"
    cv2.imwrite(str(path), image)
    tracks = drain(iter_track_faces(path), show=False)
    assert tracks.tracks, f"FaceMesh found no face on the {name} output"
    return tracks.tracks[0].landmarks[0]


def _cue_track(shapes: list[str]) -> CueTrack:
    step = 16000 // 25
    cues = [MouthCue(s, i * step, (i + 1) * step) for i, s in enumerate(shapes)]
    return CueTrack(tuple(cues), len(shapes) * step, FPS)


def test_cue_table_is_measured_and_ordered_like_the_shapes():
    table = load_cue_table()
    from lipcore.engines.mouth_shape import MOUTH_POINTS

    row = {p: i for i, p in enumerate(MOUTH_POINTS)}
    gap = {s: v[row[14], 1] - v[row[13], 1] for s, v in table.items()}
    width = {s: v[row[291], 0] - v[row[61], 0] for s, v in table.items()}
    assert np.all(table["X"] == 0)  # rest is the resting mouth itself
    assert gap["D"] > gap["C"] > gap["A"] and gap["D"] > gap["E"] > gap["A"]
    assert width["F"] < width["D"] and width["E"] < width["C"]  # rounded lips come in
    with pytest.raises(ValueError, match="unknown mouth shapes"):
        cue_displacements(["A", "Q"])


def test_closed_on_a_open_on_d_round_on_e_f_measured_on_the_output(a04, tmp_path):
    _, footage = a04
    engine = OneShotEngine()
    drain(engine.prepare(footage), show=False)
    n = len(SHAPES)
    drive = SegmentDrive(
        np.arange(n), np.zeros((n, 80, 16), np.float32), np.ones(n, bool), FPS,
        np.zeros(n * 640, np.float32), cue_shapes=np.array(SHAPES),
    )  # fmt: skip
    engine.begin_segment(drive)
    probe = {"A": 10, "D": 20, "E": 38, "F": 48, "X": 55}
    for shape, row in probe.items():
        assert SHAPES[row] == shape
    rows = np.array(list(probe.values()))
    crops = np.repeat(footage.crops[:1], len(rows), axis=0)
    lms = np.repeat(footage.landmarks[:1], len(rows), axis=0)
    out = engine.generate(CropBatch(rows, crops, lms))
    lm = {s: _facemesh(img, tmp_path, s) for s, img in zip(probe, out, strict=True)}
    gap = {s: float(lip_gap(v[None])[0]) for s, v in lm.items()}
    width = {s: float(v[291, 0] - v[61, 0]) for s, v in lm.items()}
    assert gap["A"] < 0.02, f"lips not shut on an A cue: {gap}"
    assert gap["X"] < 0.02, f"mouth not at rest on X: {gap}"
    assert gap["D"] > 0.09, f"mouth not open on a D cue: {gap}"
    assert gap["D"] > gap["E"] > gap["A"] and gap["D"] > gap["F"] > gap["A"]
    assert width["E"] < width["D"] - 3 and width["F"] < width["D"] - 3, width


def test_frames_take_the_cue_at_their_centre_on_the_audio_clock():
    cues = (("A", 0, 6400), ("D", 6400, 12800))  # 0-0.4 s, 0.4-0.8 s of the audio
    # The audio starts 0.2 s (5 frames) into the clip: frame 5 shows the audio's first cue
    shapes = cue_shapes_of_frames(cues, np.arange(0, 30), FPS, 3200)
    assert "".join(shapes) == "X" * 5 + "A" * 10 + "D" * 10 + "X" * 5


def test_cue_files_read_back_as_written(tmp_path):
    track = _cue_track(SHAPES)
    for suffix, text in ((".tsv", to_tsv(track)), (".json", to_json(track))):
        path = tmp_path / f"cues{suffix}"
        path.write_text(text)
        back = read_cues(path)
        assert [c[0] for c in cue_triples(back)] == ["X", "A", "D", "A", "E", "F", "X"]
        assert back.duration_samples == track.duration_samples
        assert cue_triples(back)[2] == ("D", 15 * 640, 25 * 640)
    bad = tmp_path / "bad.tsv"
    bad.write_text("zero\tA\n")
    with pytest.raises(LipsyncError, match="bad.tsv"):
        read_cues(bad)


def test_cli_sync_with_cues_on_a_real_clip(shared_media, tmp_path, capsys):
    clip, audio = tmp_path / "a04.mp4", tmp_path / "b01.wav"
    src = next((shared_media / "video").glob("A04_*.mp4"))
    speech = next((shared_media / "audio").glob("B01_*.wav"))
    run = ["ffmpeg", "-v", "error", "-y"]
    subprocess.run([*run, "-i", str(src), "-t", "2.4", "-an", str(clip)], check=True)
    subprocess.run([*run, "-i", str(speech), "-t", "2.4", str(audio)], check=True)
    cues = tmp_path / "cues.tsv"
    cues.write_text(to_tsv(_cue_track(SHAPES[:60])))
    out = tmp_path / "out.mp4"
    assert main(["sync", str(clip), str(audio), "--cues", str(cues), "-o", str(out), "-q"]) == 0
    assert "engine: oneshot" in capsys.readouterr().out
    track = drain(iter_track_faces(out), show=False).tracks[0]
    gap = dict(zip(track.frames.tolist(), lip_gap(track.landmarks).tolist(), strict=True))
    closed = np.median([gap[f] for f in range(8, 13)])
    opened = np.median([gap[f] for f in range(18, 23)])
    assert closed < 0.02 and opened > 0.08, (closed, opened)
    # A cue file the reader refuses is a one-line error (exit 2), not a traceback
    wrong = tmp_path / "cues.xml"
    wrong.write_text("<x/>")
    code = main(["sync", str(clip), str(audio), "--cues", str(wrong), "-o", str(out), "-q"])
    assert code == 2
    assert "cues.xml" in capsys.readouterr().err
    # Only the one-shot engine follows cues: asking for another is refused with the fix
    code = main(
        ["sync", str(clip), str(audio), "--cues", str(cues), "--engine", "retime", "-o", str(out)]
    )
    assert code == 2
    assert "one-shot" in capsys.readouterr().err
