"""Segment chunks on real clips at NTSC rates: frame-exact splices, reuse, one library.

The clips are a real talking face (A05) re-timed by ffmpeg to 23.976 and 29.97 fps and scaled
down. What a user checks: the export made from chunks is the same video as a full render of the
same segments, frame for frame; the frames at the segment edges are the right frames (not one
early or late); untouched frames are the source's; a segment whose parameters did not change is
not rendered again, and a segment with other options reuses the face's library.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lipcore.engines.base import EngineOptions
from lipcore.media.decode import VideoReader
from lipcore.progress import drain
from lipcore.render.chunks import ChunkReader, ChunkVideo
from lipcore.render.pipeline import iter_render
from lipcore.render.request import RenderRequest, SegmentSpec
from lipcore.render.splice import iter_render_segment
from lipcore.render.warm import WarmState

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"
SPEECH = "audio/B19_en_48k_retalking2.wav"


def _retimed(shared_media: Path, out: Path, rate: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(shared_media / CLIP), "-t", "4.5",
         "-vf", "scale=288:288", "-r", rate, "-c:v", "libx264", "-crf", "16",
         "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return out


def _frames(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as r:
        return [f.copy() for _, f in r.iter_frames()]


@pytest.mark.parametrize(
    ("rate", "fps"), [("24000/1001", Fraction(24000, 1001)), ("30000/1001", Fraction(30000, 1001))]
)
def test_spliced_export_equals_a_full_render_frame_by_frame(shared_media, tmp_path, rate, fps):
    clip = _retimed(shared_media, tmp_path / "clip.mp4", rate)
    seg = SegmentSpec(31, 67)  # odd edges, not on a second boundary
    base = RenderRequest(clip, shared_media / SPEECH, tmp_path / "full.mp4", segments=(seg,))
    warm = WarmState()
    full = drain(iter_render(base, warm=warm), show=False)
    spliced = drain(
        iter_render(replace(base, output=tmp_path / "spliced.mp4"), warm=warm, chunks=tmp_path),
        show=False,
    )
    assert full.fps == spliced.fps == fps
    assert spliced.rendered_segments == 1 and full.frames_changed == spliced.frames_changed > 30

    a, b = _frames(tmp_path / "full.mp4"), _frames(tmp_path / "spliced.mp4")
    src = _frames(clip)
    assert len(a) == len(b) == len(src)
    # Same frames in, same encoder: the chunked export is the full render, bit for bit.
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))

    # The chunk holds exactly the segment's frames; spliced on the source it gives each output
    # frame, and the output frame around each edge is closest to its own expected frame.
    chunk = ChunkReader(spliced.chunks[0])
    assert chunk.frames.tolist() == list(range(seg.start_frame, seg.end_frame))
    view = ChunkVideo(spliced.chunks[0])
    expected = {j: view.read(j) for j in range(seg.start_frame - 3, seg.end_frame + 3)}
    view.close()
    for j in [
        *range(seg.start_frame - 2, seg.start_frame + 3),
        *range(seg.end_frame - 2, seg.end_frame + 2),
    ]:
        err = {k: np.abs(b[j].astype(int) - expected[k]).mean() for k in (j - 1, j, j + 1)}
        assert min(err, key=err.get) == j, (j, err)
        assert err[j] < 3.0, (j, err)  # one H.264 encode at CRF 12
    # Outside the segment the picture is the source's (one encode away).
    for j in (0, seg.start_frame - 1, seg.end_frame, len(src) - 1):
        assert np.array_equal(expected.get(j, src[j]), src[j]) or j not in expected
        assert np.abs(b[j].astype(int) - src[j]).mean() < 3.0
    # Inside, the mouth changed.
    mid = (seg.start_frame + seg.end_frame) // 2
    assert np.abs(expected[mid].astype(int) - src[mid]).max() > 40


def test_unchanged_segments_are_reused_and_one_library_serves_every_option(shared_media, tmp_path):
    from lipcore.cache import cache_root

    clip = _retimed(shared_media, tmp_path / "clip.mp4", "30000/1001")
    speech = shared_media / SPEECH
    first = SegmentSpec(10, 40)
    second = SegmentSpec(70, 100, options=EngineOptions(mouth_strength=0.6))
    request = RenderRequest(clip, speech, tmp_path / "unused.mp4", segments=(first, second))
    warm = WarmState()
    store = tmp_path / "chunks"
    libraries = cache_root() / "engines"
    before = set(libraries.iterdir()) if libraries.is_dir() else set()

    one = drain(iter_render_segment(request, 0, warm=warm, folder=store), show=False)
    assert one.rendered_segments == 1 and one.output.parent == store
    again = drain(iter_render_segment(request, 0, warm=warm, folder=store), show=False)
    assert again.rendered_segments == 0 and again.output == one.output
    # A reused chunk still says which engine "auto" chose and why, also in a new session (the
    # editor's inspector and `lipsync sync --segment` show it from the result).
    assert one.engines and again.engines == one.engines, (one.engines, again.engines)
    fresh = drain(iter_render_segment(request, 0, warm=WarmState(), folder=store), show=False)
    assert fresh.rendered_segments == 0 and fresh.engines == one.engines
    other = drain(iter_render_segment(request, 1, warm=warm, folder=store), show=False)
    assert other.rendered_segments == 1 and other.output != one.output
    # Both segments (different strengths) used one library, built at most once, kept on disk.
    assert len(set(libraries.iterdir()) - before) <= 1
    assert len({id(e) for e in warm._engines.values()}) == 1

    # A changed parameter gives a new chunk; the old one stays for undo.
    nudged = replace(request, segments=(replace(first, feather_px=20), second))
    changed = drain(iter_render_segment(nudged, 0, warm=warm, folder=store), show=False)
    assert changed.rendered_segments == 1 and changed.output != one.output
    assert one.output.exists()

    # The export renders nothing: both chunks exist.
    out = replace(request, output=tmp_path / "export.mp4")
    result = drain(iter_render(out, warm=warm, chunks=store), show=False)
    assert result.rendered_segments == 0
    assert set(result.chunks) == {one.output, other.output}


def test_a_long_segment_is_planned_window_by_window(shared_media, tmp_path, monkeypatch):
    """The engine's per-segment work is bounded: a segment longer than a window is planned in
    windows (here 20 frames), and every frame of it is still re-synced."""
    import lipcore.render.pipeline as pipeline
    from lipcore.engines.retime import MAX_LIBRARY_FRAMES

    monkeypatch.setattr(pipeline, "DRIVE_FRAMES", 20)
    clip = _retimed(shared_media, tmp_path / "clip.mp4", "30000/1001")
    seg = SegmentSpec(10, 60, engine="retime")  # the retime library is what is bounded
    request = RenderRequest(clip, shared_media / SPEECH, tmp_path / "unused.mp4", segments=(seg,))
    warm = WarmState()
    result = drain(iter_render_segment(request, 0, warm=warm, folder=tmp_path / "c"), show=False)
    assert result.frames_changed == 50
    (engine,) = set(warm._engines.values())
    assert len(engine.plan.path) == 10  # the last window: frames 50-59
    lib = engine.library
    assert len(lib) <= MAX_LIBRARY_FRAMES and lib.appearance_dist.shape == (len(lib), len(lib))
