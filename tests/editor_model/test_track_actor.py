"""An actor file per dub track's face: undoable, saved with the project, passed to the render."""

from __future__ import annotations

import pytest

from editor.model.document import Document
from lipcore.actor import ACTOR_FORMAT, read_actor, write_actor
from lipcore.errors import LipsyncError
from lipcore.sync.meter import load_meter_model


def dub(doc: Document) -> str:
    return next(t.id for t in doc.project.audio_tracks if not t.is_original)


def roundtrip(doc: Document, edit, label: str):
    """Apply ``edit``; undo restores the saved state before, redo the state after."""
    from lipcore.project import dumps_project

    before = dumps_project(doc.project, None)
    edit()
    after = dumps_project(doc.project, None)
    assert after != before and doc.undo_log.undo_text == label
    doc.undo()
    assert dumps_project(doc.project, None) == before
    doc.redo()
    assert dumps_project(doc.project, None) == after


@pytest.fixture
def actor_path(tmp_path):
    manifest = {"format": ACTOR_FORMAT, "version": 2, "footage": [], "dropped": []}
    return write_actor(tmp_path / "lead.lsactor", manifest, load_meter_model(), None)


def test_track_actor_is_undoable_saved_and_rendered_with(doc, actor_path, tmp_path):
    t = dub(doc)
    seg = doc.add_segment(5, 30, audio_track_id=t)
    generic_hash = doc.project.segment_params_hash(doc.project.segment(seg))
    roundtrip(doc, lambda: doc.set_track_actor(t, actor_path), "Set actor")
    assert doc.project.track(t).actor.path == actor_path
    # A rendered segment turns stale when its face gets an actor file
    assert doc.project.segment_params_hash(doc.project.segment(seg)) != generic_hash
    request = doc.project.render_request([seg], tmp_path / "out.mp4")
    assert request.actor == actor_path
    read_actor(request.actor)  # what the pipeline opens
    path = doc.save(tmp_path / "edit.lsproj")
    again = Document.load(path)
    assert again.project.track(t).actor == doc.project.track(t).actor
    assert '"actor"' in path.read_text()
    roundtrip(doc, lambda: doc.set_track_actor(t, None), "Set actor")
    assert doc.project.track(t).actor is None
    assert doc.project.render_request([seg], tmp_path / "o.mp4").actor is None


def test_a_file_that_is_not_an_actor_is_refused(doc, tmp_path):
    bad = tmp_path / "notes.lsactor"
    bad.write_text("hello")
    with pytest.raises(LipsyncError, match="not an actor bundle"):
        doc.set_track_actor(dub(doc), bad)
    assert doc.project.track(dub(doc)).actor is None


def test_inspector_shows_and_clears_the_actor(qtbot, doc, actor_path):
    from editor.qt.inspector import QtSegmentInspector

    t = dub(doc)
    doc.set_track_actor(t, actor_path)
    inspector = QtSegmentInspector(("auto", "oneshot"))
    qtbot.addWidget(inspector)
    inspector.show_track(doc.project, t, [])
    assert inspector.actor_label.text() == "lead.lsactor"
    with qtbot.waitSignal(inspector.track_actor_edited) as sig:
        inspector.actor_clear.click()
    assert sig.args == [t, None]
    doc.set_track_actor(t, None)
    inspector.show_track(doc.project, t, [])
    assert inspector.actor_label.text() == "generic"
