"""A face that appears mid-shot is tracked from the frame it appears, not from the next keyframe.

The clip is real footage composed by ffmpeg: A05 on the left the whole time, A07's face shown on
the right from frame 17 on (one frame after a keyframe: with the detector every 8th frame it is
only detected on frame 24). What a user checks: the second face's track starts on frame 17, as
with the detector run on every frame, its fits on frames 17-23 agree with that detector-on-every-
frame track, and nothing is tracked there before the face is shown.
"""

from __future__ import annotations

import subprocess

import numpy as np

from lipcore.face import landmarks as L
from lipcore.face.track import TrackerSettings, track_faces

APPEARS = 17  # keyframes are 0, 8, 16, 24...


def _clip_with_a_face_appearing(clip, out):
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip("A05")), "-i", str(clip("A07")),
         "-filter_complex",
         "color=c=0x303840:s=640x360:r=25:d=3[bg];"
         "[0:v]scale=320:320,setsar=1,fps=25[a];[1:v]scale=200:200,setsar=1,fps=25[b];"
         "[bg][a]overlay=x=10:y=20:shortest=1[l];"
         f"[l][b]overlay=x=410:y=80:enable='gte(n,{APPEARS})':eof_action=endall[v]",
         "-map", "[v]", "-frames:v", "56", "-c:v", "libx264", "-crf", "18",
         "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)],
        check=True,
    )  # fmt: skip
    return out


def _right_face(tracks):
    return max(tracks.tracks, key=lambda t: float(t.boxes[-1][0]))


def test_a_face_appearing_mid_shot_is_tracked_from_its_first_frame(clip, tmp_path):
    video = _clip_with_a_face_appearing(clip, tmp_path / "appears.mp4")
    tracks = track_faces(video, TrackerSettings(), use_cache=False)
    every = track_faces(video, TrackerSettings(detect_every=1), use_cache=False)
    assert len(tracks.tracks) == len(every.tracks) == 2 and tracks.shot_cuts == []
    late, ref = _right_face(tracks), _right_face(every)
    assert ref.frames[0] == APPEARS  # the detector on every frame sees it at once
    # Detected on the next keyframe, and followed back to where it appeared.
    assert late.frames[0] == APPEARS and late.frames[(late.scores > 0).argmax()] == 24
    assert (late.scores[: 24 - APPEARS] == 0).all() and not late.interpolated.any()
    for f in range(APPEARS, 24):
        a, b = late.landmarks[late.index_of(f)], ref.landmarks[ref.index_of(f)]
        err = float(np.linalg.norm(a - b, axis=1).mean()) / float(L.eye_distance(b))
        assert err < 0.05, (f, err)
    # The face on the left is one track over the whole clip either way.
    left = min(tracks.tracks, key=lambda t: float(t.boxes[0][0]))
    np.testing.assert_array_equal(left.frames, np.arange(56))
