"""Segments driven by the dub track's mouth cues: the option, its undo, the file, the chunk key.

What an animator relies on: choosing "mouth cues" for a segment is one undoable edit saved in the
project; the render request carries the cues the segment shows (on the dub's own clock); and
correcting one cue re-renders only the segment that shows it (its parameter hash and chunk key
change, the other segment's stay, and only it turns stale).
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from editor.model.document import Document
from editor.model.errors import EditError
from editor.model.planner import RenderPlanner, new_render_cache
from lipcore.cues.make import CueTrack, MouthCue
from lipcore.project import dumps_project, load_project, save_project
from lipcore.render.chunks import chunk_key

FPS = Fraction(25)
STEP = 640  # samples per frame at 25 fps


def _dub(doc: Document) -> str:
    return next(t.id for t in doc.project.audio_tracks if not t.is_original)


def _key(doc: Document, sid: str) -> str:
    """The chunk key the render of ``sid`` is stored under (fingerprints held fixed)."""
    spec = RenderPlanner(doc).segment_job(sid, tracks=None).request.segments[0]
    return chunk_key(
        video_fp="clip", audio_fp="dub", audio_offset_samples=0, output_frames=50,
        policy="cut", track="face-0", spec=spec,
    )  # fmt: skip


@pytest.fixture
def cued(media, tmp_path) -> tuple[Document, str, str]:
    """The dub gets cues (frames 0-5 X, 5-15 A, 15-25 D, 25-30 X, 30-37 E); two segments."""
    doc = Document.load(media / "template.lsproj", render_cache=new_render_cache(tmp_path / "r"))
    doc.path = None
    t = _dub(doc)
    frames = (("X", 0, 5), ("A", 5, 15), ("D", 15, 25), ("X", 25, 30), ("E", 30, 37))
    bounds = [(s, a * STEP, b * STEP) for s, a, b in frames]
    doc.set_track_cues(t, CueTrack(tuple(MouthCue(*c) for c in bounds), 37 * STEP, FPS))
    first = doc.add_segment(0, 14, audio_track_id=t, engine="oneshot")
    second = doc.add_segment(26, 36, audio_track_id=t, engine="oneshot")
    return doc, first, second


def test_drive_option_is_undoable_and_saved(cued, tmp_path):
    doc, first, _ = cued
    assert doc.segment(first).drive == "audio"
    before = json.loads(dumps_project(doc.project, None))
    doc.set_segment_options(first, drive="cues")
    assert doc.segment(first).drive == "cues"
    after = json.loads(dumps_project(doc.project, None))
    doc.undo()
    assert json.loads(dumps_project(doc.project, None)) == before
    doc.redo()
    assert json.loads(dumps_project(doc.project, None)) == after
    with pytest.raises(EditError, match="driven by"):
        doc.set_segment_options(first, drive="text")
    path = save_project(doc.project, tmp_path / "p.lsproj")
    assert load_project(path) == doc.project
    assert load_project(path).segment(first).drive == "cues"
    # Files without the field (every earlier project) read as driven by the audio
    data = json.loads(path.read_text())
    del data["segments"][0]["drive"]
    path.write_text(json.dumps(data))
    assert load_project(path).segment(first).drive == "audio"


def test_request_carries_only_the_segments_cues(cued):
    doc, first, second = cued
    for sid in (first, second):
        doc.set_segment_options(sid, drive="cues")
    spec = RenderPlanner(doc).segment_job(first, tracks=None).request.segments[0]
    assert spec.drive == "cues" and spec.engine == "oneshot"
    assert [c[0] for c in spec.cues] == ["X", "A"]  # frames 0-14 see X and A only
    assert spec.cues[1] == ("A", 5 * STEP, 15 * STEP)
    spec2 = RenderPlanner(doc).segment_job(second, tracks=None).request.segments[0]
    assert [c[0] for c in spec2.cues] == ["X", "E"]
    audio_driven = doc.add_segment(40, 48, audio_track_id=_dub(doc), engine="oneshot")
    spec3 = RenderPlanner(doc).segment_job(audio_driven, tracks=None).request.segments[0]
    assert spec3.drive == "audio" and spec3.cues == ()


def test_editing_one_cue_rerenders_only_its_segment(cued, tmp_path):
    doc, first, second = cued
    for sid in (first, second):
        doc.set_segment_options(sid, drive="cues")
        out = tmp_path / f"{sid}.lschunk"
        out.write_bytes(b"chunk")
        doc.mark_rendered(sid, out, doc.params_hash(sid))
    hashes = {s: doc.params_hash(s) for s in (first, second)}
    keys = {s: _key(doc, s) for s in (first, second)}
    doc.set_cue_shape(_dub(doc), 4, "F")  # the E that only the second segment shows
    assert doc.params_hash(first) == hashes[first] and _key(doc, first) == keys[first]
    assert doc.params_hash(second) != hashes[second] and _key(doc, second) != keys[second]
    assert doc.segment(first).render.status == "done"
    assert doc.segment(second).render.status == "stale"
    doc.undo()  # the old shape back: the old chunk is current again
    assert _key(doc, second) == keys[second]
    assert doc.segment(second).render.status == "done"
    # An audio-driven segment ignores the cues altogether
    doc.set_segment_options(second, drive="audio")
    before = doc.params_hash(second)
    doc.set_cue_shape(_dub(doc), 4, "F")
    assert doc.params_hash(second) == before
