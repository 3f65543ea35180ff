"""The blend-strength curve: the ramp rule, per-frame weights, project field, chunk key."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lipcore.errors import ProjectError
from lipcore.project import load_project, save_project
from lipcore.render.chunks import chunk_key
from lipcore.render.request import SegmentSpec
from lipcore.render.strength import MIN_RAMP_FRAMES, check_keys, segment_strength, strength_at
from tests.lipcore.test_project import (  # noqa: F401 - fixtures
    _frozen_data,
    clip_files,
    make_project,
    project_dir,
)


def test_linear_between_keys_and_held_outside():
    keys = check_keys([(20, 0.0), (10, 1.0), (30, 0.5)])
    assert keys == ((10, 1.0), (20, 0.0), (30, 0.5))
    w = strength_at(keys, [0, 10, 15, 20, 25, 30, 99])
    np.testing.assert_allclose(w, [1, 1, 0.5, 0, 0.25, 0.5, 0.5])
    assert segment_strength((), 5, 9).tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ([(10, 1.0), (13, 0.0)], "ramp from frame 10 .* is 3 frames"),
        ([(10, 1.0), (10, 1.0)], "two strength keys on frame 10"),
        ([(10, 1.5)], "within 0..1"),
        ([(-1, 0.5)], "integer >= 0"),
        ([(2.5, 0.5)], "integer >= 0"),
        ([(1, float("nan"))], "within 0..1"),
    ],
)
def test_bad_keys_are_refused(keys, match):
    with pytest.raises(ValueError, match=match):
        check_keys(keys)


def test_a_four_frame_ramp_and_a_short_flat_step_are_allowed():
    assert check_keys([(10, 1.0), (10 + MIN_RAMP_FRAMES, 0.0), (15, 0.0)])


def test_curve_round_trips_and_changes_the_params_hash(project_dir):  # noqa: F811
    p = make_project(project_dir)
    flat = p.segment_params_hash(p.segments[1])
    p.segments[1].strength_keys = ((14, 1.0), (18, 0.0), (22, 0.25))
    assert p.segment_params_hash(p.segments[1]) != flat
    path = save_project(p, project_dir / "curve.lsproj")
    q = load_project(path)
    assert q == p and q.segments[1].strength_keys == ((14, 1.0), (18, 0.0), (22, 0.25))
    assert q.segment_spec(q.segments[1]).strength_keys == ((14, 1.0), (18, 0.0), (22, 0.25))
    assert json.loads(path.read_text())["segments"][0]["strength_keys"] == []


def test_a_file_without_curves_loads_flat(tmp_path):
    data = _frozen_data()
    path = tmp_path / "old.lsproj"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert all(s.strength_keys == () for s in load_project(path).segments)


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ([[3, 1.0], [5, 0.0]], r"segments\[0\]\.strength_keys .*ramps need at least 4"),
        ([[3, "full"]], r"segments\[0\]\.strength_keys .*number 0..1"),
        ([3, 1.0], r"segments\[0\]\.strength_keys\[0\] should be \[frame, strength\]"),
        ("steep", r"segments\[0\]\.strength_keys should be list"),
    ],
)
def test_bad_curves_in_a_file_are_named(tmp_path, keys, match):
    data = _frozen_data()
    data["segments"][0]["strength_keys"] = keys
    path = tmp_path / "bad.lsproj"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match=match) as err:
        load_project(path)
    assert err.value.path == path


def test_the_curve_is_part_of_the_chunk_key_and_a_flat_one_keeps_old_keys():
    args = dict(
        video_fp="v", audio_fp="a", audio_offset_samples=0, output_frames=100, policy="cut",
        track="t",
    )  # fmt: skip
    spec = SegmentSpec(10, 40)
    curved = dataclasses.replace(spec, strength_keys=((20, 1.0), (25, 0.0)))
    assert chunk_key(spec=spec, **args) != chunk_key(spec=curved, **args)
    # a spec without the field at all (as before curves existed) keys like a flat one
    from lipcore.cache import settings_key
    from lipcore.render.chunks import CHUNK_VERSION

    seg = dataclasses.asdict(spec)
    seg.pop("audio_offset_samples")
    seg.pop("strength_keys")
    old = settings_key(
        {"v": CHUNK_VERSION, "video": "v", "audio": ["a", 0], "out": [100, "cut"], "track": "t",
         "segment": seg, "footage": [], "checkpoint": None}
    )  # fmt: skip
    assert chunk_key(spec=spec, **args) == old
