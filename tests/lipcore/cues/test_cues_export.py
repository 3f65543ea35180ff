"""Cue exports: Rhubarb's exact layouts, Moho switch data, Papagayo, PNG frames; each read back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from fractions import Fraction

import cv2
import numpy as np
import pytest

from lipcore.cli import main
from lipcore.cues.export import FORMATS, ExportOptions, to_dat, to_json, to_pgo, to_tsv, to_xml
from lipcore.cues.images import export_png_sequence, frame_shapes
from lipcore.cues.make import CueConfig, CueTrack, MouthCue, mouth_cues
from lipcore.errors import LipsyncError

SR = 16000
SOUND = "/home/daniel/av/hi/hi.wav"

# Rhubarb Lip Sync's README: its own output for a recording of someone saying "Hi".
RHUBARB_HI_TSV = "0.00\tX\n0.05\tD\n0.27\tC\n0.31\tB\n0.43\tX\n0.47\tX\n"
RHUBARB_HI_XML = """<?xml version="1.0" encoding="utf-8"?>
<rhubarbResult>
  <metadata>
    <soundFile>/home/daniel/av/hi/hi.wav</soundFile>
    <duration>0.47</duration>
  </metadata>
  <mouthCues>
    <mouthCue start="0.00" end="0.05">X</mouthCue>
    <mouthCue start="0.05" end="0.27">D</mouthCue>
    <mouthCue start="0.27" end="0.31">C</mouthCue>
    <mouthCue start="0.31" end="0.43">B</mouthCue>
    <mouthCue start="0.43" end="0.47">X</mouthCue>
  </mouthCues>
</rhubarbResult>
"""
RHUBARB_HI_JSON = """{
  "metadata": {
    "soundFile": "/home/daniel/av/hi/hi.wav",
    "duration": 0.47
  },
  "mouthCues": [
    { "start": 0.00, "end": 0.05, "value": "X" },
    { "start": 0.05, "end": 0.27, "value": "D" },
    { "start": 0.27, "end": 0.31, "value": "C" },
    { "start": 0.31, "end": 0.43, "value": "B" },
    { "start": 0.43, "end": 0.47, "value": "X" }
  ]
}
"""


def _hi_track() -> CueTrack:
    edges = [0, 5, 27, 31, 43, 47]
    shapes = "XDCBX"
    cues = tuple(
        MouthCue(s, a * SR // 100, b * SR // 100)
        for s, a, b in zip(shapes, edges, edges[1:], strict=False)
    )
    return CueTrack(cues, 47 * SR // 100, Fraction(100))


def test_rhubarb_layouts_byte_for_byte():
    track, options = _hi_track(), ExportOptions(sound_path=SOUND)
    assert to_tsv(track, options) == RHUBARB_HI_TSV
    assert to_xml(track, options) == RHUBARB_HI_XML
    assert to_json(track, options) == RHUBARB_HI_JSON


def test_json_escapes_like_rhubarb():
    text = to_json(_hi_track(), ExportOptions(sound_path='/tmp/dé "q"\\x.wav'))
    assert '"soundFile": "/tmp/d\\u00e9 \\"q\\"\\\\x.wav"' in text
    assert json.loads(text)["metadata"]["soundFile"] == '/tmp/dé "q"\\x.wav'


@pytest.fixture(scope="module")
def tts_track(flite_voice):
    audio, text = flite_voice
    return mouth_cues(audio, CueConfig(fps=Fraction(24)), text=text)


def _expected(track):
    """(start_sec, end_sec, shape) of the track, to two decimals, as a parser sees it."""
    return [
        (round(c.start_sample / SR, 2), round(c.end_sample / SR, 2), c.shape) for c in track.cues
    ]


def test_rhubarb_files_parse_back(tts_track):
    options = ExportOptions(sound_path="speech.wav")
    data = json.loads(to_json(tts_track, options))
    got = [(c["start"], c["end"], c["value"]) for c in data["mouthCues"]]
    assert got == _expected(tts_track)
    assert data["metadata"]["duration"] == int(tts_track.duration_samples * 100 / SR) / 100
    root = ET.fromstring(to_xml(tts_track, options))
    got = [(float(e.get("start")), float(e.get("end")), e.text) for e in root.iter("mouthCue")]
    assert got == _expected(tts_track)
    rows = [line.split("\t") for line in to_tsv(tts_track, options).splitlines()]
    assert [(float(t), s) for t, s in rows[:-1]] == [(a, s) for a, _, s in _expected(tts_track)]
    assert rows[-1][1] == "X" and float(rows[-1][0]) == data["metadata"]["duration"]


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(25), Fraction(30), Fraction(12)])
def test_moho_dat_frames(flite_voice, fps):
    audio, text = flite_voice
    track = mouth_cues(audio, CueConfig(fps=fps), text=text)
    lines = to_dat(track).splitlines()
    assert lines[0] == "MohoSwitch1"
    rows = [(int(f), s) for f, s in (line.split(" ") for line in lines[1:])]
    want = [(1 + round(fps * c.start_sample / SR), c.shape) for c in track.cues]
    assert rows[:-1] == want
    assert rows[-1] == (1 + round(fps * track.duration_samples / SR), "X")
    frames = [f for f, _ in rows]
    assert frames == sorted(set(frames)) and frames[0] == 1


def test_blair_names(tts_track):
    rows = [line.split(" ") for line in to_dat(tts_track, ExportOptions("blair")).splitlines()[1:]]
    names = {s for _, s in rows}
    assert names <= {"AI", "E", "O", "U", "etc", "FV", "L", "MBP", "WQ", "rest"}
    assert {"MBP", "rest", "AI", "etc"} <= names
    with pytest.raises(ValueError, match="names"):
        to_tsv(tts_track, ExportOptions("disney"))


def _read_pgo(text: str) -> dict:
    """A reader that follows Papagayo-NG's own ``open`` line by line."""
    lines = iter(text.split("\n"))
    assert next(lines) == "lipsync version 1"
    doc = {"sound": next(lines).strip(), "fps": int(next(lines)), "frames": int(next(lines))}
    voices = []
    for _ in range(int(next(lines))):
        voice = {"name": next(lines).strip(), "text": next(lines).strip(), "phrases": []}
        for _ in range(int(next(lines))):
            phrase = {"text": next(lines).strip(), "start": int(next(lines))}
            phrase["end"], phrase["words"] = int(next(lines)), []
            for _ in range(int(next(lines))):
                word, start, end, n = next(lines).split()
                phonemes = [next(lines).split() for _ in range(int(n))]
                phrase["words"].append(
                    (word, int(start), int(end), [(int(f), p) for f, p in phonemes])
                )
            voice["phrases"].append(phrase)
        voices.append(voice)
    doc["voices"] = voices
    return doc


def test_papagayo_words_and_phonemes(tts_track, flite_voice):
    _, text = flite_voice
    doc = _read_pgo(to_pgo(tts_track, ExportOptions(sound_path="tts.wav")))
    assert doc["sound"] == "tts.wav" and doc["fps"] == 24
    assert doc["frames"] == -(-tts_track.duration_samples * 24 // SR)
    words = [w for p in doc["voices"][0]["phrases"] for w in p["words"]]
    assert [w[0] for w in words] == [w.text for w in tts_track.words]
    blair = {"AI", "E", "O", "U", "etc", "FV", "L", "MBP", "WQ", "rest"}
    for i, (word, start, end, phonemes) in enumerate(words):
        assert start <= end and all(start <= f <= end for f, _ in phonemes)
        assert {p for _, p in phonemes} <= blair
        if word[0] in "pbm":
            # its closure, or one closure shared with the previous word ("bob bought")
            shared = i > 0 and words[i - 1][3][-1][1] == "MBP"
            assert phonemes[0][1] == "MBP" or shared, word
    assert all(
        a[2] <= b[1] for a, b in zip(words, words[1:], strict=False)
    )  # words do not overlap


def test_papagayo_without_text(english):
    track = mouth_cues(english[: 5 * SR], CueConfig(fps=Fraction(25)))
    doc = _read_pgo(to_pgo(track))
    words = [w for p in doc["voices"][0]["phrases"] for w in p["words"]]
    assert words and all(w[0] == "(speech)" and w[3] for w in words)


def _drawings(folder, shapes="ABCDEFGHX"):
    folder.mkdir()
    for i, shape in enumerate(shapes):
        img = np.zeros((40, 60, 4), np.uint8)
        cv2.ellipse(img, (30, 20), (25, 2 + 2 * i), 0, 0, 360, (40, 40, 200, 255), -1)
        cv2.putText(img, shape, (24, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255, 255))
        cv2.imwrite(str(folder / f"{shape}.png"), img)
    return folder


def test_png_sequence_shows_each_frames_drawing(tts_track, tmp_path):
    drawings = _drawings(tmp_path / "mouths", "ABCDEFX")  # G and H not drawn
    out = export_png_sequence(tts_track, drawings, tmp_path / "frames", size=(120, 80))
    files = sorted(out.glob("mouth_*.png"))
    shapes = frame_shapes(tts_track)
    assert len(files) == len(shapes) == -(-tts_track.duration_samples * 24 // SR)
    stand_in = {"G": "B", "H": "C"}
    for k in (0, 5, 17, 40, len(files) - 1):
        got = cv2.imread(str(files[k]), cv2.IMREAD_UNCHANGED)
        assert got.shape == (80, 120, 4)
        assert got[0, 0, 3] == 0 and got[40, 60, 3] == 255  # transparent corner, opaque mouth
        src = cv2.imread(str(drawings / f"{stand_in.get(shapes[k], shapes[k])}.png"), -1)
        want = cv2.resize(src, (120, 80), interpolation=cv2.INTER_AREA)
        assert np.array_equal(got, want)


def test_png_sequence_errors(tts_track, tmp_path):
    with pytest.raises(LipsyncError, match="E.png, F.png"):
        export_png_sequence(tts_track, _drawings(tmp_path / "few", "ABCD"), tmp_path / "o")
    full = _drawings(tmp_path / "all")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    with pytest.raises(LipsyncError, match="not empty"):
        export_png_sequence(tts_track, full, busy)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]


def test_cli_writes_every_format(shared_media, tmp_path, capsys):
    audio = shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav"
    for fmt in FORMATS:
        out = tmp_path / f"cues.{fmt}"
        assert main(["cues", str(audio), "--fps", "25", "-q", "-o", str(out)]) == 0
        assert out.stat().st_size > 100
    drawings = _drawings(tmp_path / "mouths")
    frames = tmp_path / "frames"
    args = ["cues", str(audio), "--format", "png", "--drawings", str(drawings), "-o", str(frames)]
    assert main([*args, "--fps", "12", "-q"]) == 0
    assert len(list(frames.glob("*.png"))) == -(-8 * 12 // 1)
    data = json.loads((tmp_path / "cues.json").read_text())
    assert data["metadata"]["soundFile"] == str(audio.absolute())
    assert main(["cues", str(tmp_path / "none.wav"), "-o", str(tmp_path / "x.tsv")]) == 2
    assert main(["cues", str(audio), "-o", str(tmp_path / "x.doc")]) == 2
    assert main(["cues", str(audio), "--format", "png", "-o", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "audio file not found" in err and "--format" in err and "--drawings" in err
    assert not list(tmp_path.glob(".*.tmp"))
