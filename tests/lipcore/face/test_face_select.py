"""Choosing the face to re-sync: auto (main face), id, point, region, clear errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lipcore.errors import NoFaceError
from lipcore.face.select import choose_track
from lipcore.face.types import FaceTrack, TrackSet
from lipcore.render.request import FaceChoice


def make_track(track_id: str, first: int, n: int, box: tuple[float, float, float, float]):
    frames = np.arange(first, first + n)
    boxes = np.tile(np.array(box, np.float32), (n, 1))
    return FaceTrack(
        track_id, frames, boxes, np.zeros((n, 478, 2), np.float32),
        np.ones(n, np.float32), np.zeros(n, bool),
    )  # fmt: skip


@pytest.fixture()
def trackset():
    tracks = [
        make_track("face-0", 0, 100, (100, 100, 200, 200)),  # main: most frames
        make_track("face-1", 0, 60, (400, 100, 600, 300)),  # larger, shorter
        make_track("face-2", 50, 60, (420, 120, 480, 180)),  # small face inside face-1's box
    ]
    return TrackSet(tracks, 120, Fraction(25), source=Path("meeting.mp4"))


def test_auto_is_the_longest_then_largest(trackset):
    assert choose_track(trackset, FaceChoice()).track_id == "face-0"
    assert choose_track(trackset).track_id == "face-0"
    small, big = make_track("a", 0, 10, (0, 0, 10, 10)), make_track("b", 0, 10, (0, 0, 50, 50))
    tie = TrackSet([small, big], 10, Fraction(25))
    assert choose_track(tie).track_id == "b"


def test_by_id_point_and_region(trackset):
    assert choose_track(trackset, FaceChoice(track_id="face-1")).track_id == "face-1"
    # A click inside two overlapping boxes picks the smaller (front) face.
    assert choose_track(trackset, FaceChoice(point=(55, 450, 150))).track_id == "face-2"
    assert choose_track(trackset, FaceChoice(point=(10, 450, 150))).track_id == "face-1"
    region = FaceChoice(region=(350, 0, 700, 400))
    assert choose_track(trackset, region).track_id == "face-1"


def test_errors_name_the_clip_and_the_way_out(trackset):
    with pytest.raises(NoFaceError, match="meeting.mp4.*face-9.*face-0, face-1, face-2"):
        choose_track(trackset, FaceChoice(track_id="face-9"))
    with pytest.raises(NoFaceError, match="no face at"):
        choose_track(trackset, FaceChoice(point=(5, 10, 10)))
    with pytest.raises(NoFaceError, match="region"):
        choose_track(trackset, FaceChoice(region=(900, 900, 1000, 1000)))
    empty = TrackSet([], 50, Fraction(25), source=Path("/clips/empty.mp4"))
    with pytest.raises(NoFaceError, match="empty.mp4: no face"):
        choose_track(empty)
