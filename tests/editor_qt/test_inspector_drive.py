"""The inspector's "Mouth driven by" choice: speech or the dub track's mouth cues, undoable."""

from __future__ import annotations


def test_mouth_driven_by_cues_from_the_inspector(window, clip_3s, dub_wav, qtbot):
    w = window
    doc = w.document
    doc.open_video(clip_3s)
    dub = doc.add_audio_track(dub_wav, name="Dub")
    sid = doc.add_segment(5, 30, audio_track_id=dub, engine="auto")
    w.select_segments([sid])
    combo = w.inspector.drive_combo
    assert combo.isEnabled() and combo.currentData() == "audio"
    assert combo.currentText() == "speech"
    combo.setCurrentIndex(combo.findData("cues"))
    assert doc.segment(sid).drive == "cues"
    w.undo_action.trigger()
    assert doc.segment(sid).drive == "audio"
    qtbot.waitUntil(lambda: combo.currentData() == "audio")
    w.redo_action.trigger()
    assert doc.segment(sid).drive == "cues"
    qtbot.waitUntil(lambda: combo.currentText() == "mouth cues")
    # Speech-only engines cannot follow cues: the choice is offered for one-shot/auto only
    doc.set_segment_options(sid, drive="audio")
    w.inspector.engine_combo.setCurrentText("retime")
    assert doc.segment(sid).engine == "retime"
    qtbot.waitUntil(lambda: not combo.isEnabled())
