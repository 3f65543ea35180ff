"""Autosave debounce arithmetic, backup files, crash recovery lookup, recent projects."""

from __future__ import annotations

import os

from editor.model.autosave import (
    Autosaver,
    AutosaveSchedule,
    existing_recent,
    find_recovery,
    find_untitled_recoveries,
    push_recent,
)
from editor.model.document import Document
from lipcore.project import load_project


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_debounce_10s_plus_5_per_change_capped_at_60():
    s = AutosaveSchedule()
    assert not s.pending and not s.is_due(1e9)
    assert s.changed(100.0) == 110.0
    assert s.changed(101.0) == 115.0
    assert s.changed(102.0) == 120.0
    for t in range(103, 140):
        due = s.changed(float(t))
    assert due == 160.0  # capped 60 s after the first change
    assert not s.is_due(159.9) and s.is_due(160.0)
    s.reset()
    assert s.changed(200.0) == 210.0  # a new burst starts from 10 s again


def test_autosaver_writes_backup_next_to_saved_project(doc, media):
    clock = Clock()
    doc.save(media / "proj.lsproj")
    saver = Autosaver(doc, clock=clock)
    s = doc.add_segment(0, 10)
    clock.now += 5
    doc.trim_segment(s, 0, 12)  # second change: due at first + 15
    clock.now += 9.9
    assert saver.tick() is None
    clock.now += 0.2
    backup = saver.tick()
    assert backup == media / "proj.lsproj.autosave"
    restored = load_project(backup)
    assert restored.segment(s).end_frame == 12
    assert restored.video.path == doc.project.video.path  # relative paths resolve alike
    assert find_recovery(media / "proj.lsproj") == backup
    recovered = Document.recover(backup)
    assert recovered.path == media / "proj.lsproj" and recovered.dirty
    assert recovered.project == load_project(backup)
    assert saver.tick(clock.now + 100) is None  # nothing new to write
    # a real save removes the backup: nothing to recover
    doc.save()
    assert not backup.exists() and find_recovery(media / "proj.lsproj") is None


def test_recovery_ignores_backup_older_than_project(doc, media):
    path = doc.save(media / "p.lsproj")
    backup = media / "p.lsproj.autosave"
    backup.write_text("{}")
    old = path.stat().st_mtime_ns - 10_000_000_000
    os.utime(backup, ns=(old, old))
    assert find_recovery(path) is None


def test_unsaved_project_backup_goes_to_cache_dir_with_absolute_paths(doc, tmp_path):
    clock = Clock()
    saver = Autosaver(doc, clock=clock, autosave_dir=tmp_path / "autosave")
    doc.add_segment(0, 5)
    backup = saver.tick(clock.now + 10)
    assert backup == tmp_path / "autosave" / f"untitled-{doc.project.id}.lsproj.autosave"
    assert find_untitled_recoveries(tmp_path / "autosave") == [backup]
    assert '"path": "/' in backup.read_text() or ":/" in backup.read_text()
    assert load_project(backup).video.path == doc.project.video.path
    recovered = Document.recover(backup)
    assert recovered.path is None and recovered.dirty and recovered.project.segments
    saver.discard()
    assert find_untitled_recoveries(tmp_path / "autosave") == []


def test_disabled_autosave_and_clean_document_write_nothing(doc, tmp_path):
    clock = Clock()
    folder = tmp_path / "autosave"
    saver = Autosaver(doc, clock=clock, autosave_dir=folder, enabled=False)
    doc.add_segment(0, 5)
    assert saver.tick(clock.now + 100) is None
    saver.enabled = True
    doc.undo()  # back to the clean state, but a change was seen
    assert not doc.dirty
    assert saver.tick(clock.now + 100) is None and not folder.exists()
    saver.detach()
    doc.redo()
    assert not saver.schedule.pending


def test_recent_projects_list(tmp_path):
    a, b, c = (str(tmp_path / f"{n}.lsproj") for n in "abc")
    recent = push_recent([], a)
    recent = push_recent(recent, b)
    recent = push_recent(recent, a)
    assert recent == [a, b]
    recent = push_recent(recent, c, limit=2)
    assert recent == [c, a]
    (tmp_path / "a.lsproj").write_text("{}")
    assert existing_recent(recent) == [a]
