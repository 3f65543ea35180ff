"""Media I/O: probe files, decode frames on an exact grid, load audio, encode and mux outputs.

Everything here talks to FFmpeg (the ``ffprobe``/``ffmpeg`` executables and PyAV) and turns its
loose metadata into exact numbers: rational frame rates, frame counts on a constant-rate grid,
displayed sizes after rotation, and stream start times on one clock.
"""

from lipcore.media.audio import clip_audio, load_audio
from lipcore.media.decode import VideoReader, iter_frames, rotate_frame
from lipcore.media.encode import VideoWriter, write_video
from lipcore.media.probe import (
    AudioStreamInfo,
    MediaInfo,
    VideoStreamInfo,
    is_still_image,
    probe,
    require_audio,
    require_video,
)

__all__ = [
    "AudioStreamInfo",
    "MediaInfo",
    "VideoReader",
    "VideoStreamInfo",
    "VideoWriter",
    "clip_audio",
    "is_still_image",
    "iter_frames",
    "load_audio",
    "probe",
    "require_audio",
    "require_video",
    "rotate_frame",
    "write_video",
]
