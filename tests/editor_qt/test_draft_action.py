"""Render > Render Draft on a real clip: a half-size review file, marked, never used by export."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMenu

from lipcore.media.probe import probe


@pytest.mark.slow
def test_render_draft_of_the_selected_segment(opened, qtbot):
    w = opened
    doc = w.document
    # The face tracks join the project (and every segment's parameters) when their background
    # job ends; a draft made before that would rightly turn stale then.
    qtbot.waitUntil(
        lambda: w.trackset is not None and doc.project.face_tracks is not None, timeout=120000
    )
    seg_id = doc.add_segment(20, 45)
    w.select_segments([seg_id])
    tools = w.draft_tools
    menus = [m for m in w.render_selected_action.associatedObjects() if isinstance(m, QMenu)]
    assert any(tools.action in m.actions() for m in menus)  # in the Render menu
    with qtbot.waitSignal(tools.draft_rendered, timeout=240000) as got:
        tools.action.trigger()
    path = got.args[1]
    video = probe(path).video
    assert (video.width, video.frame_count) == (294, 25)  # half of 590, frames 20-45 only
    # marked as a draft on the lane; the segment itself is not rendered, so export renders it
    item = next(s for s in w.timeline.canvas.segments if s.segment_id == seg_id)
    assert item.label.endswith("· draft")
    assert doc.segment(seg_id).render.status != "done"
    assert doc.render_cache.lookup(doc.params_hash(seg_id)) is None
    # editing the segment makes the draft stale
    doc.add_strength_key(seg_id, 30, 0.0)
    assert tools.shelf.current(seg_id) is None
