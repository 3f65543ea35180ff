"""Project loading under a fault corpus, with property-based tests (hypothesis): whatever a
damaged or hand-edited ``.lsproj`` holds (deep nesting, NaN, infinities, absurd numbers, segments
outside the clip, wrong types anywhere), loading gives a Project or a ProjectError naming the
field, never another exception; and what loads is sane."""

from __future__ import annotations

import copy
import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from fault_media import ffmpeg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lipcore.errors import ProjectError
from lipcore.project import (
    AudioTrack,
    MediaRef,
    Project,
    Segment,
    SegmentOptions,
    load_project,
    save_project,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, dict]:
    """A saved project with a video, a dub track and two segments, and its JSON."""
    folder = tmp_path_factory.mktemp("proj")
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=32x32:rate=25:duration=1", str(folder / "v.mp4"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=0.5", str(folder / "d.wav"))
    project = Project(
        video=MediaRef.from_file(folder / "v.mp4"),
        fps=Fraction(25),
        frame_count=25,
        width=32,
        height=32,
        video_has_audio=False,
        audio_tracks=[AudioTrack("t-dub", "Dub", MediaRef.from_file(folder / "d.wav"))],
        segments=[
            Segment("s1", 0, 10, "t-dub", None, "retime", SegmentOptions(region=(1, 2, 30, 31))),
            Segment("s2", 12, 25, None, None, "retime"),
        ],
    )
    path = save_project(project, folder / "p.lsproj")
    return path, json.loads(path.read_text())


def _paths(node, prefix=()):
    """Every place in a JSON tree (dict keys and list items), depth first."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _replace(tree, path, value):
    out = copy.deepcopy(tree)
    if not path:
        return value
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _load(path: Path, data) -> Project | None:
    path.write_text(json.dumps(data, allow_nan=True))
    try:
        return load_project(path)
    except ProjectError as exc:
        assert str(path) in str(exc)
        return None


def _sane(p: Project) -> None:
    assert p.fps > 0 and float(p.fps) <= 1000
    assert 0 <= p.frame_count and 0 <= p.width <= 1 << 16 and 0 <= p.height <= 1 << 16
    for t in p.audio_tracks:
        assert math.isfinite(t.gain_db) and abs(t.offset_samples) < 1 << 53
    for s in p.segments:
        assert 0 <= s.start_frame < s.end_frame
        if p.frame_count:
            assert s.end_frame <= p.frame_count
        assert math.isfinite(s.options.mouth_strength)
        assert abs(s.options.audio_offset_samples) < 1 << 53


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_one_damaged_field_loads_sane_or_names_the_problem(data, saved, tmp_path):
    path, good = saved
    where = data.draw(st.sampled_from(list(_paths(good))), label="where")
    value = data.draw(_json, label="value")
    project = _load(tmp_path / "damaged.lsproj", _replace(good, where, value))
    if project is not None:
        _sane(project)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.integers(min_value=-(10**20), max_value=10**20),
    length=st.integers(min_value=-5, max_value=10**20),
)
def test_segments_outside_the_clip_are_refused_by_name(start, length, saved, tmp_path):
    path, good = saved
    data = copy.deepcopy(good)
    data["segments"][1]["start_frame"] = start
    data["segments"][1]["end_frame"] = start + length
    project = _load(tmp_path / "seg.lsproj", data)
    inside = 10 <= start < start + length <= 25  # after s1 (0..10), within 25 frames
    assert (project is not None) == inside
    if project is not None:
        _sane(project)


@pytest.mark.parametrize(
    "text, field",
    [
        ("[" * 100_000 + "]" * 100_000, "nested"),
        (
            '{"format": "lipsync-project", "schema_version": 2, "frame_count": 1'
            + "0" * 5000
            + "}",
            "number",
        ),
    ],
)
def test_deep_nesting_and_giant_numbers_are_project_errors(text, field, tmp_path):
    path = tmp_path / "bad.lsproj"
    path.write_text(text)
    with pytest.raises(ProjectError, match=field) as info:
        load_project(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "where, value, field",
    [
        (("audio_tracks", 0, "gain_db"), float("nan"), "audio_tracks[0].gain_db"),
        (("audio_tracks", 0, "gain_db"), float("inf"), "audio_tracks[0].gain_db"),
        (("segments", 0, "options", "mouth_strength"), float("nan"), "mouth_strength"),
        (("fps", "num"), 10**30, "fps"),
        (("width",), 10**12, "width"),
        (("audio_tracks", 0, "offset_samples"), 10**25, "audio_tracks[0].offset_samples"),
        (("segments", 1, "end_frame"), 26, "segments[1]"),
    ],
)
def test_nan_infinite_and_absurd_numbers_name_the_field(where, value, field, saved, tmp_path):
    path, good = saved
    with pytest.raises(ProjectError, match=field.replace("[", r"\[").replace("]", r"\]")):
        out = tmp_path / "n.lsproj"
        out.write_text(json.dumps(_replace(good, where, value), allow_nan=True))
        load_project(out)
