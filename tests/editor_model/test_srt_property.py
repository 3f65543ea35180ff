"""Property-based tests (hypothesis) for SRT import: any file is segments or a ProjectError,
and the segments of a valid file lie inside the clip, never overlap and keep the subtitle text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lipcore.errors import ProjectError

FIXTURES = [HealthCheck.function_scoped_fixture]


def _stamp(ms: int) -> str:
    t = timedelta(milliseconds=ms)
    h, rest = divmod(int(t.total_seconds() * 1000), 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


subtitle = st.tuples(
    st.integers(0, 4000), st.integers(1, 2000), st.text(alphabet="abcxyz éà", min_size=1,
                                                        max_size=12).map(str.strip).filter(bool)
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(subs=st.lists(subtitle, max_size=8))
def test_valid_subtitles_become_segments_inside_the_clip(subs, media, tmp_path):
    from editor.model import Document

    doc = Document.load(media / "template.lsproj")
    path = tmp_path / "s.srt"
    path.write_text(
        "".join(
            f"{i + 1}\n{_stamp(a)} --> {_stamp(a + d)}\n{text}\n\n"
            for i, (a, d, text) in enumerate(subs)
        ),
        encoding="utf-8",
    )
    ids = doc.segments_from_srt(path)
    segs = sorted((doc.project.segment(i) for i in ids), key=lambda s: s.start_frame)
    n = doc.project.frame_count
    for seg in segs:
        assert 0 <= seg.start_frame < seg.end_frame <= n
        assert seg.label in {text for _, _, text in subs}
    for a, b in zip(segs, segs[1:], strict=False):
        assert a.end_frame <= b.start_frame
    if ids:
        doc.undo()
        assert all(i not in {s.id for s in doc.project.segments} for i in ids)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES)
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_any_file_is_segments_or_a_project_error(text, media, tmp_path):
    from editor.model import Document

    doc = Document.load(media / "template.lsproj")
    path = tmp_path / "junk.srt"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        doc.segments_from_srt(path)
    except ProjectError as exc:
        assert "junk.srt" in str(exc)


def test_a_file_that_is_not_utf8_is_a_project_error(media, tmp_path):
    from editor.model import Document

    doc = Document.load(media / "template.lsproj")
    path = tmp_path / "latin1.srt"
    path.write_bytes("1\n00:00:00,000 --> 00:00:01,000\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(ProjectError, match="latin1.srt"):
        doc.segments_from_srt(path)
