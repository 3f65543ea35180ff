"""Render-queue replacement semantics, background queue pausing/dedup, render cache."""

from __future__ import annotations

from editor.model.jobs import BackgroundQueue, RenderCache, RenderQueue


def test_render_jobs_run_one_at_a_time_in_order():
    q = RenderQueue()
    a, b = q.request("seg-a", "h1"), q.request("seg-b", "h2")
    assert q.start_next() is a and a.state == "running"
    assert q.start_next() is None  # serialised: one current job
    q.finish(a)
    assert a.state == "done" and q.start_next() is b
    q.finish(b, "failed", "CUDA out of memory")
    assert b.message == "CUDA out of memory" and not q.busy


def test_new_request_replaces_waiting_job_of_same_segment_in_place():
    q, events = RenderQueue(), []
    q.listeners.append(lambda e, j: events.append((e, j.segment_id, j.params_hash)))
    q.request("seg-a", "h1")
    old_b = q.request("seg-b", "h1")
    q.request("seg-c", "h1")
    new_b = q.request("seg-b", "h2")  # slider moved again while seg-b waited
    assert [(j.segment_id, j.params_hash) for j in q.queued] == [
        ("seg-a", "h1"),
        ("seg-b", "h2"),
        ("seg-c", "h1"),
    ]
    assert old_b.state == "superseded" and new_b.state == "queued"
    assert ("replaced", "seg-b", "h1") in events
    # the same request twice is one job
    assert q.request("seg-b", "h2") is new_b and len(q.queued) == 3


def test_request_for_running_segment_supersedes_it():
    q = RenderQueue()
    running = q.request("seg-a", "h1")
    q.start_next()
    assert q.request("seg-a", "h1") is running and not running.superseded
    newer = q.request("seg-a", "h2")
    assert running.superseded and newer in q.queued
    q.finish(running, "cancelled")
    assert q.start_next() is newer


def test_cancel_segment_and_cancel_all():
    q = RenderQueue()
    a = q.request("seg-a", "h")
    b = q.request("seg-b", "h")
    c = q.request("seg-c", "h")
    q.start_next()
    assert q.cancel("seg-b") is None and b.state == "cancelled" and q.queued == (c,)
    assert q.cancel("seg-a") is a and a.superseded  # worker must abort it
    q.finish(a, "cancelled")
    q.request("seg-d", "h")
    assert q.cancel_all() is None and q.queued == () and c.state == "cancelled"


def test_background_queue_dedup_priority_and_pause():
    q, events = BackgroundQueue(), []
    q.listeners.append(lambda e, j: events.append(e))
    w = q.submit("waveform", "track-1")
    t = q.submit("thumbnails", "clip")
    assert q.submit("waveform", "track-1") is w and len(q.queued) == 2
    f = q.submit("faces", "clip", priority=5)
    assert q.queued[0] is f
    with q.paused():
        with q.paused():  # nests
            assert q.next() is None
        assert q.is_paused and q.next() is None
    assert not q.is_paused and events.count("paused") == 1 and events.count("resumed") == 1
    assert q.next() is f and q.next() is None  # one at a time
    assert q.submit("faces", "clip") is f  # running jobs are not duplicated
    q.finish(f)
    assert q.next() is w
    q.finish(w)
    q.submit("thumbnails", "clip", priority=9)
    assert t.priority == 9
    q.discard("thumbnails")
    assert q.queued == () and t.state == "cancelled"


def test_render_cache_store_lookup_prune(tmp_path):
    cache = RenderCache(tmp_path / "renders")
    assert cache.lookup("abc") is None
    produced = tmp_path / "out.mp4"
    produced.write_bytes(b"video")
    stored = cache.store("abc", produced)
    assert stored == cache.path_for("abc") and not produced.exists()
    assert cache.lookup("abc") == stored
    (tmp_path / "renders" / "empty.mp4").write_bytes(b"")
    assert cache.lookup("empty") is None  # a zero-byte file is an interrupted render
    other = tmp_path / "other.mp4"
    other.write_bytes(b"x")
    cache.store("def", other)
    assert cache.prune({"abc"}) == 2 and cache.lookup("def") is None and cache.lookup("abc")


def test_render_cache_default_root_is_in_lipsync_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LIPSYNC_CACHE_DIR", str(tmp_path / "c"))
    assert RenderCache().root == tmp_path / "c" / "v1" / "renders"
