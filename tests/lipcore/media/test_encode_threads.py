"""The H.264 writer encodes the same frames the same way every time: x264 runs sliced threads.

x264's default threading (several frames in flight, a lookahead thread) now and then encoded the
very same frames differently on a loaded machine, which made a chunked export differ from the
full render it must equal (tests/lipcore/render/test_chunks.py). What a user (or a reviewer) can
check in a written file is the settings x264 itself records in the stream: sliced threads, and so
no frame threads and no separate lookahead thread. The run-to-run figures are in
``bench/encode_determinism.py`` (the failure is too rare for a test to catch it).
"""

from __future__ import annotations

import re

from lipcore.media.decode import VideoReader
from lipcore.media.encode import VideoWriter
from lipcore.media.probe import probe

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"


def _x264_options(path) -> dict[str, str]:
    """The ``key=value`` settings x264 wrote into the stream's first SEI."""
    data = path.read_bytes()
    at = data.find(b"x264 - core")
    assert at >= 0, "no x264 settings in the stream"
    text = data[at : data.index(b"\x00", at)].decode("ascii", "replace")
    return dict(re.findall(r"(\w+)=([^ ]+)", text.split("options:", 1)[1]))


def test_the_writer_encodes_with_sliced_threads_only(shared_media, tmp_path):
    clip = shared_media / CLIP
    info = probe(clip).video
    out = tmp_path / "out.mp4"
    # The render's own path: decoded frames that keep their planes, through the planar writer.
    with (
        VideoReader(clip, keep_planes=True) as reader,
        VideoWriter(out, info.width, info.height, info.fps, planar=True) as writer,
    ):
        for _, frame in reader.iter_frames(0, 12):
            writer.write_patched(frame, None)
    options = _x264_options(out)
    # One frame at a time, its slices in parallel (and its lookahead in step with the encode).
    assert options["sliced_threads"] == "1" and int(options["threads"]) >= 1
    with VideoReader(out) as back:
        assert back.frame_count == 12
