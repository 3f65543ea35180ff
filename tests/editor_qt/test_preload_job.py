"""Opening a clip starts the render preload in the background, before anything is rendered."""

from __future__ import annotations

import pytest


@pytest.fixture
def preload_runs(monkeypatch):
    """Record each run of the render preload (the real one still runs)."""
    import lipcore.render.preload as preload

    runs: list[int] = []
    real = preload.preload_render

    def spy():
        steps = yield from real()
        runs.append(steps)
        return steps

    monkeypatch.setattr(preload, "preload_render", spy)
    return runs


def test_opening_a_clip_preloads_the_renderer_in_the_background(preload_runs, opened, qtbot):
    from lipcore.render.preload import STEPS

    qtbot.waitUntil(lambda: len(preload_runs) > 0, timeout=120000)
    assert preload_runs == [len(STEPS)]  # once, to the end, with no render asked for
    assert opened.render_queue.busy is False
