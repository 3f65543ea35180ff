"""Mouth-cue edits on a dub track: analysis, boundary drags, shapes, split, merge; all undoable."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from pathlib import Path

import pytest

from editor.model.document import Document
from editor.model.errors import EditError
from lipcore.audio.align import Word
from lipcore.cues.make import CueConfig, CueTrack, MouthCue, mouth_cues
from lipcore.media.audio import load_audio
from lipcore.project import dumps_project, load_project, save_project
from lipcore.timebase import frame_to_sample

SR = 16000


def state(doc: Document) -> dict:
    """The whole project as saved, to compare states exactly."""
    return json.loads(dumps_project(doc.project, None))


def dub(doc: Document) -> str:
    return next(t.id for t in doc.project.audio_tracks if not t.is_original)


def roundtrip(doc: Document, edit, label: str) -> None:
    """Apply ``edit``; undo must restore the state before and redo the state after."""
    before = state(doc)
    edit()
    after = state(doc)
    assert after != before, "the edit changed nothing"
    assert doc.undo_log.undo_text == label
    doc.undo()
    assert state(doc) == before
    doc.redo()
    assert state(doc) == after


def _cues(shapes: str, frames: list[int]) -> CueTrack:
    edges = [frame_to_sample(k, Fraction(24), SR) for k in frames]
    cues = tuple(MouthCue(s, a, b) for s, a, b in zip(shapes, edges, edges[1:], strict=False))
    return CueTrack(cues, edges[-1], Fraction(24))


def test_cue_edits_roundtrip(doc):
    t = dub(doc)
    with pytest.raises(EditError, match="no mouth cues"):
        doc.set_cue_shape(t, 0, "A")
    roundtrip(
        doc,
        lambda: doc.set_track_cues(t, _cues("XBDX", [0, 4, 8, 14, 20])),
        "Mouth cues from speech",
    )
    cues = lambda: doc.track(t).mouth_cues.cues  # noqa: E731
    roundtrip(doc, lambda: doc.set_cue_shape(t, 1, "A"), "Mouth shape A")
    assert cues()[1].shape == "A" and cues()[1].phone == ""
    roundtrip(doc, lambda: doc.move_cue_boundary(t, 2, 3 * SR // 24 * 3), "Move cue")
    roundtrip(doc, lambda: doc.split_cue(t, 2, cues()[2].start_sample + 2 * 667), "Split cue")
    assert len(cues()) == 5 and cues()[2].shape == cues()[3].shape == "D"
    roundtrip(doc, lambda: doc.merge_cues(t, 2), "Merge cues")
    assert len(cues()) == 4
    roundtrip(doc, lambda: doc.set_track_cues(t, None), "Clear mouth cues")


def test_boundary_drag_is_one_undo_step_and_snaps(doc):
    t = dub(doc)
    doc.set_track_cues(t, _cues("XBDX", [0, 4, 8, 14, 20]))
    before = state(doc)
    for sample in range(8 * 667, 11 * 667, 300):  # a drag: many small moves
        doc.move_cue_boundary(t, 2, sample)
    doc.seal()
    moved = doc.track(t).mouth_cues.cues[2].start_sample
    assert moved in {frame_to_sample(k, Fraction(24), SR) for k in range(30)}
    assert moved > 8 * 666
    doc.undo()
    assert state(doc) == before
    # a boundary cannot pass its neighbours: each cue keeps at least one frame
    doc.move_cue_boundary(t, 2, 0)
    cues = doc.track(t).mouth_cues.cues
    assert cues[1].end_sample - cues[1].start_sample >= 666
    with pytest.raises(EditError, match="first cue"):
        doc.move_cue_boundary(t, 0, 100)
    with pytest.raises(EditError, match="unknown mouth shape"):
        doc.set_cue_shape(t, 1, "Q")
    with pytest.raises(EditError, match="nothing after it"):
        doc.merge_cues(t, 3)


def test_real_cues_save_and_load(doc, tmp_path, shared_media):
    t = dub(doc)
    audio = load_audio(shared_media / "audio" / "B01_en_hdtf_RD_Radio31_16k.wav")[: 4 * SR]
    track = mouth_cues(audio, CueConfig(fps=Fraction(25)))
    doc.set_track_cues(t, track)
    doc.set_cue_shape(t, 3, "H")
    path = save_project(doc.project, tmp_path / "cues.lsproj")
    loaded = load_project(path).track(t).mouth_cues
    assert loaded.cues == doc.track(t).mouth_cues.cues
    assert (loaded.fps, loaded.duration_samples, loaded.source) == (
        Fraction(25),
        len(audio),
        "phones",
    )
    assert Document.load(path).track(t).mouth_cues.cues[3].shape == "H"
    # aligned words are kept (for Papagayo), without their phones
    words = (Word("hello", 0, 3200, ()), Word("world", 3200, 8000, ()))
    doc.set_track_cues(t, dataclasses.replace(track, words=words, source="text"))
    again = load_project(save_project(doc.project, tmp_path / "w.lsproj")).track(t).mouth_cues
    assert [(w.text, w.start_sample, w.end_sample) for w in again.words] == [
        (w.text, w.start_sample, w.end_sample) for w in words
    ]


def test_old_files_have_no_cues_and_damaged_cues_are_named(tmp_path):
    from lipcore.errors import ProjectError

    data = Path(__file__).resolve().parents[1] / "data" / "projects"
    old = load_project(data / "v1_full.lsproj")
    assert old.audio_tracks and all(t.mouth_cues is None for t in old.audio_tracks)
    raw = json.loads(dumps_project(old, None))
    raw["audio_tracks"][0]["mouth_cues"] = {
        "fps": {"num": 24, "den": 1},
        "duration_samples": 1600,
        "source": "phones",
        "cues": [["A", 0, 800, "M"], ["Q", 800, 1600, ""]],
    }
    bad = tmp_path / "bad.lsproj"
    bad.write_text(json.dumps(raw))
    with pytest.raises(ProjectError, match=r"mouth_cues\.cues\[1\]"):
        load_project(bad)
