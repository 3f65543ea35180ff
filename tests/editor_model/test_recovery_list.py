"""Which backups are offered at start and listed in File > Recover; declining keeps the work."""

from __future__ import annotations

import os

from editor.model.autosave import Autosaver
from editor.model.document import Document
from editor.model.recovery import dismiss, pending_untitled, project_of, recoverable


def test_untitled_backup_offered_until_dismissed_then_listed_only(doc, tmp_path):
    folder = tmp_path / "autosave"
    saver = Autosaver(doc, autosave_dir=folder)
    doc.add_segment(0, 5)
    backup = saver.write()
    [entry] = pending_untitled(folder)
    assert entry.backup == backup and entry.project_path is None and not entry.dismissed
    assert entry.title == "Untitled" and "1 segment" in entry.summary
    moved = dismiss(backup)
    assert pending_untitled(folder) == [] and moved.is_file() and not backup.exists()
    [listed] = recoverable(folder, [])
    assert listed.backup == moved and listed.dismissed and "declined" in listed.describe()
    # Recovering the declined backup gives the work back, still unsaved and untitled.
    again = Document.recover(moved, project_of(moved))
    assert again.path is None and again.dirty and len(again.project.segments) == 1
    # Once the work is saved, both forms of its backup are gone.
    saver.discard()
    assert recoverable(folder, []) == []


def test_project_backups_listed_only_when_newer_than_the_project(doc, media, tmp_path):
    project = doc.save(media / "p.lsproj")
    saver = Autosaver(doc, autosave_dir=tmp_path / "autosave")
    doc.add_segment(0, 5)
    backup = saver.write()
    assert project_of(backup) == project
    [entry] = recoverable(tmp_path / "autosave", [str(project)])
    assert entry.project_path == project and entry.title == "p"
    old = project.stat().st_mtime_ns - 10_000_000_000
    os.utime(backup, ns=(old, old))
    assert recoverable(tmp_path / "autosave", [str(project)]) == []


def test_unreadable_backup_is_listed_with_the_reason(tmp_path):
    folder = tmp_path / "autosave"
    folder.mkdir()
    (folder / "untitled-x.lsproj.autosave").write_text("{ not json")
    [entry] = pending_untitled(folder)
    assert entry.summary.startswith("unreadable")
