"""A short soak of the real main window: twelve real segment renders on the 3 s A05 clip with
playback, scrubbing, undo/redo and saves in between, and nothing may keep growing.

The session and its verdict are the ones of ``bench/editor_soak.py`` (the long run), so the CI
check and the benchmark cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "editor_soak.py"


def _soak_module():
    spec = importlib.util.spec_from_file_location("editor_soak", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("editor_soak", module)
    spec.loader.exec_module(module)
    return module


def test_twelve_renders_leave_none_memory_threads_and_files_flat(
    qapp, clip_3s, dub_wav, tmp_path, monkeypatch
):
    soak = _soak_module()
    monkeypatch.setenv("LIPSYNC_CONFIG_DIR", str(tmp_path / "config"))
    lines: list[str] = []
    report = soak.run_session(
        clip_3s,
        dub_wav,
        tmp_path,
        max_renders=12,
        warmup_rounds=3,
        segment_frames=10,
        log=lines.append,
    )
    table = report.table()
    assert report.renders == 12 and report.render_failures == 0, table
    assert report.saves >= 2 and report.undo_redo == 18 and report.seeks >= 100, table
    # RSS is still settling in a run this short (allocator arenas of the worker threads): a
    # looser limit here catches a frame buffer kept per render; the 10-minute bench is the
    # real memory check.
    assert report.problems(rss_growth_mb=100) == [], table
    # The saved project holds the three segments the session made.
    from lipcore.project import load_project

    project = load_project(tmp_path / "soak.lsproj")
    assert len(project.segments) == 3


def test_the_verdict_catches_a_falling_none_count_and_growing_memory():
    soak = _soak_module()
    report = soak.SoakReport(warmup_rounds=3)
    for i in range(10):
        # What PySide6 6.12 on Python 3.11 does: thousands of None references lost per round.
        report.samples.append(soak.Sample(i, 10.0 * i, i, 100000 - 5000 * i, 800 + 10 * i, 30, 14))
    problems = report.problems()
    assert any("None refcount fell" in p for p in problems)
    assert any("RSS grew" in p for p in problems)
    assert not any("threads" in p or "open files" in p for p in problems)
