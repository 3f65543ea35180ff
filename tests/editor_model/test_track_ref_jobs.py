"""Render jobs send cached face tracks to the worker process by reference, not by value.

A real :class:`~editor.model.job_process.JobProcess` renders a segment of a real clip (the
shared A05 clip, 4 s at 256x256) whose tracks are in the track cache: the job carries a few
hundred bytes of track data instead of the landmarks, the worker opens the cache entry
memory-mapped (the same objects for every job), and the chunk it renders is pixel for pixel the
one the by-value path renders.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest

from editor.model.document import Document
from editor.model.job_process import JobProcess, ProcessCall
from editor.model.planner import RenderPlanner, new_render_cache
from lipcore.errors import LipsyncError
from lipcore.face.track_ref import TrackRef, from_portable, to_portable

#: Most bytes a job may spend on track data when the tracks are cached.
MAX_REF_BYTES = 1024


def _tracks_in_the_worker(tracks):
    """A job reporting what the worker got: landmark array type, object identity, the tracks."""
    yield None
    return type(tracks.tracks[0].landmarks).__name__, id(tracks), os.getpid(), tracks


def _run(proc: JobProcess, call: ProcessCall):
    gen = proc.iter_run(call)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def _patches(chunk: Path) -> dict[int, tuple]:
    from lipcore.render.chunks import ChunkReader

    reader = ChunkReader(chunk)
    return {int(f): reader.patch(int(f)) for f in reader.frames}


@pytest.fixture(scope="module")
def clip(shared_media, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trackref") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i",
         str(shared_media / "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"),
         "-t", "4", "-vf", "scale=256:256", "-c:v", "libx264", "-crf", "16", "-preset",
         "veryfast", "-g", "12", "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture
def process():
    proc = JobProcess("lipsync-test-trackref")
    yield proc
    proc.close()


def test_a_render_job_carries_cached_tracks_by_reference_and_renders_the_same_chunk(
    shared_media, clip, tmp_path, process
):
    from lipcore.face.track import track_faces

    tracks = track_faces(clip)
    assert tracks.origin is not None, "tracks read from the track cache know their entry"
    doc = Document(render_cache=new_render_cache(tmp_path / "renders"))
    doc.open_video(clip)
    dub = doc.add_audio_track(shared_media / "audio/B19_en_48k_retalking2.wav", name="Dub")
    sid = doc.add_segment(16, 56, audio_track_id=dub)  # not test_planner.py's chunk
    planner = RenderPlanner(doc)

    by_value = dataclasses.replace(tracks, origin=None)  # what every job sent before
    job_v = planner.segment_job(sid, by_value)
    job_r = planner.segment_job(sid, tracks)
    none = len(pickle.dumps(planner.segment_job(sid, None).run.for_process()))
    value_bytes = len(pickle.dumps(job_v.run.for_process())) - none
    ref_bytes = len(pickle.dumps(job_r.run.for_process())) - none
    landmarks = sum(t.landmarks.nbytes for t in tracks.tracks)
    assert isinstance(job_r.run.for_process().args[1], TrackRef)
    assert ref_bytes < MAX_REF_BYTES, f"{ref_bytes} B of track data in a job"
    assert value_bytes > landmarks, "tracks with no cache entry still go by value"

    rendered_v = _run(process, job_v.run)
    assert rendered_v.rendered_segments == 1
    chunk_v = Path(rendered_v.output)
    expected = _patches(chunk_v)
    assert any(p is not None for p in expected.values()), "the segment changed pixels"
    # The same content digest keys the chunk: the reference path must render the same key,
    # so move the by-value chunk away to have it rendered again.
    moved = chunk_v.rename(tmp_path / "by_value.lschunk")
    rendered_r = _run(process, job_r.run)
    assert rendered_r.rendered_segments == 1
    assert Path(rendered_r.output) == chunk_v, "same chunk key: the track digest is the same"
    got = _patches(Path(rendered_r.output))
    assert got.keys() == _patches(moved).keys()
    for frame, patch in expected.items():
        if patch is None:
            assert got[frame] is None
        else:
            assert got[frame][0] == patch[0] and np.array_equal(got[frame][1], patch[1]), frame


def test_the_worker_opens_the_entry_mapped_once_and_sends_tracks_back_by_reference(clip, process):
    from lipcore.face.track import track_faces

    tracks = track_faces(clip)
    kind1, id1, pid1, back = _run(process, ProcessCall(_tracks_in_the_worker, (tracks,)))
    kind2, id2, pid2, _ = _run(process, ProcessCall(_tracks_in_the_worker, (tracks,)))
    assert pid1 == pid2 == process.pid != os.getpid()
    assert kind1 == kind2 == "memmap", "the worker maps the cached landmarks"
    assert id1 == id2, "every job of the worker gets the same tracks (warm memos hit)"
    # The result came back as a reference too, opened here, mapped.
    assert back.origin == tracks.origin and isinstance(back.tracks[0].landmarks, np.memmap)
    assert [t.track_id for t in back.tracks] == [t.track_id for t in tracks.tracks]
    for a, b in zip(back.tracks, tracks.tracks, strict=True):
        assert np.array_equal(a.frames, b.frames) and np.array_equal(a.landmarks, b.landmarks)


def test_a_changed_entry_is_sent_by_value_and_a_stale_reference_is_refused(clip, tmp_path):
    from lipcore.face.store import load_trackset
    from lipcore.face.track import cache_entry

    entry = cache_entry(clip)
    copy = tmp_path / entry.name
    copy.write_bytes(entry.read_bytes())
    tracks = load_trackset(copy, mapped=True)
    ref = to_portable(tracks)
    assert isinstance(ref, TrackRef) and len(pickle.dumps(ref)) < MAX_REF_BYTES
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # the entry rewritten
    assert to_portable(tracks) is tracks, "a set whose entry changed goes by value"
    with pytest.raises(LipsyncError) as err:
        from_portable(ref)
    assert err.value.path == copy and err.value.fix


def test_two_clips_with_the_same_track_file_each_keep_their_own_source(clip, tmp_path):
    from lipcore.face.store import load_trackset
    from lipcore.face.track import cache_entry

    tracks = load_trackset(cache_entry(clip), mapped=True)
    first = dataclasses.replace(tracks, source=tmp_path / "take1.mp4")
    second = dataclasses.replace(tracks, source=tmp_path / "take2.mp4")
    got1 = from_portable(to_portable(first))
    got2 = from_portable(to_portable(second))
    assert got1.source == tmp_path / "take1.mp4", "the second clip's jobs did not rename it"
    assert got2.source == tmp_path / "take2.mp4"
    assert from_portable(to_portable(first)) is got1, "each clip's set is still memoised"
