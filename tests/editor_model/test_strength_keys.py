"""Strength-curve edits on the document: add, move (a drag is one step), delete, all undoable."""

from __future__ import annotations

import pytest
from test_document import roundtrip

from editor.model.errors import EditError


def test_add_move_delete_roundtrip(doc):
    s = doc.add_segment(0, 40)
    i = roundtrip(doc, lambda: doc.add_strength_key(s, 10, 0.0), "Add strength key")
    assert i == 0
    doc.add_strength_key(s, 20, 1.0)
    before = doc.project.segment(s).strength_keys
    assert before == ((10, 0.0), (20, 1.0))
    roundtrip(doc, lambda: doc.delete_strength_key(s, 0), "Delete strength key")
    assert doc.project.segment(s).strength_keys == ((20, 1.0),)
    doc.undo()
    assert doc.project.segment(s).strength_keys == before
    assert doc.project.segment(s).render.status == "none"


def test_a_drag_merges_into_one_undo_step(doc):
    s = doc.add_segment(0, 40)
    doc.add_strength_key(s, 10, 1.0)
    doc.add_strength_key(s, 30, 0.0)
    doc.seal()
    for frame in (12, 14, 16):
        doc.move_strength_key(s, 0, frame, 0.9)
    doc.seal()
    assert doc.project.segment(s).strength_keys == ((16, 0.9), (30, 0.0))
    assert doc.undo() == "Move strength key"
    assert doc.project.segment(s).strength_keys == ((10, 1.0), (30, 0.0))


def test_short_ramps_are_refused_and_change_nothing(doc):
    s = doc.add_segment(0, 40)
    doc.add_strength_key(s, 10, 1.0)
    with pytest.raises(EditError, match="at least 4 frames"):
        doc.add_strength_key(s, 12, 0.0)
    with pytest.raises(EditError, match="two strength keys on frame 10"):
        doc.add_strength_key(s, 10, 0.5)
    doc.add_strength_key(s, 14, 0.0)
    with pytest.raises(EditError, match="at least 4 frames"):
        doc.move_strength_key(s, 1, 11, 0.0)
    assert doc.project.segment(s).strength_keys == ((10, 1.0), (14, 0.0))


def test_keys_are_clip_frames_so_a_split_keeps_the_curve_on_both_halves(doc):
    s = doc.add_segment(0, 40)
    doc.add_strength_key(s, 10, 1.0)
    doc.add_strength_key(s, 30, 0.0)
    right = doc.split_segment(s, 20)
    spec_l = doc.project.segment_spec(doc.project.segment(s))
    spec_r = doc.project.segment_spec(doc.project.segment(right))
    assert spec_l.strength_keys == spec_r.strength_keys == ((10, 1.0), (30, 0.0))
