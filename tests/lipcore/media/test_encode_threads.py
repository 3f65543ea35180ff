"""The H.264 writer encodes the same frames the same way every time: x264 runs sliced threads.

x264's default threading (several frames in flight, a lookahead thread) now and then encoded the
very same frames differently on a loaded machine, which made a chunked export differ from the
full render it must equal (tests/lipcore/render/test_chunks.py). What a user (or a reviewer) can
check in a written file is the settings x264 itself records in the stream: sliced threads, and so
no frame threads and no separate lookahead thread. The run-to-run figures are in
``bench/encode_determinism.py`` (the failure is too rare for a test to catch it).

The same recorded settings show the delivered encode's psychovisual trellis (``psy_rd``'s second
value), which keeps a re-timed mouth's fine detail through CRF 12 (see
:data:`lipcore.media.encode.X264_PSY_RD`; figures in ``bench/oneshot_quality.py``'s ``sharp``).
"""

from __future__ import annotations

import re

from lipcore.media.decode import VideoReader
from lipcore.media.encode import DRAFT_CRF, VideoWriter
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


def _encode_12_frames(clip, out, **writer_args) -> None:
    info = probe(clip).video
    with (
        VideoReader(clip, keep_planes=True) as reader,
        VideoWriter(out, info.width, info.height, info.fps, planar=True, **writer_args) as w,
    ):
        for _, frame in reader.iter_frames(0, 12):
            w.write_patched(frame, None)


def test_a_delivered_encode_keeps_fine_detail_with_the_psychovisual_trellis(
    shared_media, tmp_path
):
    """Delivery (CRF 12, the medium preset) runs the trellis with psy strength 0.15 (x264's
    default is 0, which quantised a re-timed mouth's changing detail away); a draft (the fast
    preset) has no trellis, so the strength does not apply there."""
    clip = shared_media / CLIP
    delivered, draft = tmp_path / "delivered.mp4", tmp_path / "draft.mp4"
    _encode_12_frames(clip, delivered)
    _encode_12_frames(clip, draft, crf=DRAFT_CRF)
    options = _x264_options(delivered)
    assert options["psy"] == "1" and int(options["trellis"]) >= 1
    rd, trellis = (float(v) for v in options["psy_rd"].split(":"))
    assert rd == 1.0 and trellis == 0.15
    assert _x264_options(draft)["trellis"] == "0"  # fast preset: psy trellis does nothing there
