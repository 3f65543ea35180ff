"""Clips shorter than the tracker's length thresholds (8 frames, 3 detections) keep their face:
a 1-frame and a 5-frame cut of a real clip find the face where the full clip's track has it."""

from __future__ import annotations

import pytest
from fault_media import ffmpeg

from lipcore.face.detect import box_iou
from lipcore.face.track import track_faces


@pytest.mark.parametrize("frames", [1, 2, 5, 7])
def test_a_clip_of_a_few_frames_finds_its_face(frames, talking_clip, tmp_path):
    short = tmp_path / f"{frames}f.mp4"
    ffmpeg("-i", str(talking_clip), "-frames:v", str(frames), "-an", "-c:v", "libx264",
           "-crf", "12", str(short))  # fmt: skip
    found = track_faces(short)
    assert len(found.tracks) == 1, found.tracks
    track = found.tracks[0]
    assert list(track.frames) == list(range(frames))
    reference = track_faces(talking_clip).tracks[0]  # the same face over 80 frames
    for row, frame in enumerate(track.frames):
        ref_row = reference.index_of(int(frame))
        iou = box_iou(track.boxes[row][None], reference.boxes[ref_row][None])[0, 0]
        assert iou > 0.7, (frame, iou)
