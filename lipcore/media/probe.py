"""Probe a media file with ffprobe: size, exact frame rate, frame count, rotation, audio layout.

Every later stage (decode, audio placement, render, encode) works from one :class:`MediaInfo`, so
the rules that turn ffprobe's loose metadata into exact numbers live here:

- ``fps`` is an exact :class:`~fractions.Fraction` taken from the stream (``30000/1001``,
  ``2997/100``), never a rounded float.
- ``frame_count`` is the number of frames on the constant-rate grid ``start + i / fps`` over the
  stream's duration; when the container has no duration the packets are counted.
- ``width``/``height`` are the *displayed* size, after the rotation metadata is applied.
- ``is_vfr`` is decided from packet timestamps, not from the header rates (which lie both ways).

A file is probed once per content: :func:`probe` and :func:`ffprobe_json` remember their answer
keyed by the resolved path, size, modification time (ns) and inode, so opening a clip, its
timecode, the render's checks and the encoder's colour tags share one ffprobe run, and a file
that is rewritten, touched or replaced is probed again.
"""

from __future__ import annotations

import json
import math
import shutil
import stat
import subprocess
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from lipcore.errors import MediaError

#: How many video packets to inspect when deciding whether a stream is variable-frame-rate.
VFR_SAMPLE_PACKETS = 600
#: A packet interval further than this fraction from the nominal one counts as "variable".
VFR_TOLERANCE = 0.25
#: How many probed files the memo remembers (a project has a clip, a few dubs and renders).
PROBE_MEMO_FILES = 128


@dataclass(frozen=True)
class VideoStreamInfo:
    """The first video stream of a file.

    Attributes:
        width: Displayed width in pixels (after rotation).
        height: Displayed height in pixels (after rotation).
        fps: Exact frame rate; for variable-rate streams the average rate (the grid frames are
            normalised to).
        frame_count: Frames on the ``start_sec + i / fps`` grid over the stream's duration.
        rotation: Clockwise rotation in degrees (0, 90, 180, 270) that turns coded frames into
            displayed ones.
        pix_fmt: FFmpeg pixel format of the coded frames (``yuv420p``, ``yuv420p10le``...).
        codec: FFmpeg codec name (``h264``, ``hevc``...).
        bit_depth: Bits per colour component of the coded frames.
        start_sec: Presentation time of the first frame on the container clock.
        is_vfr: True when packet intervals vary (phone footage, screen recordings).
        coded_width: Width of the frames as stored (before rotation).
        coded_height: Height of the frames as stored (before rotation).
        duration_sec: Duration of the video stream.
    """

    width: int
    height: int
    fps: Fraction
    frame_count: int
    rotation: int
    pix_fmt: str
    codec: str
    bit_depth: int
    start_sec: float
    is_vfr: bool
    coded_width: int = 0
    coded_height: int = 0
    duration_sec: float = 0.0


@dataclass(frozen=True)
class AudioStreamInfo:
    """The first audio stream of a file.

    Attributes:
        sample_rate: Samples per second per channel.
        channels: Number of channels.
        codec: FFmpeg codec name (``aac``, ``pcm_s16le``, ``mp3``...).
        start_sec: Presentation time of the first sample on the container clock.
        duration_sec: Duration of the audio stream.
        channel_layout: FFmpeg's layout name ("mono", "stereo", "5.1(side)"...; "" unknown),
            which says where the centre and surround channels are for a downmix.
    """

    sample_rate: int
    channels: int
    codec: str
    start_sec: float
    duration_sec: float
    channel_layout: str = ""


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds.

    Attributes:
        path: The probed file.
        duration_sec: Duration of the whole file.
        video: The first video stream, or None for audio-only files.
        audio: The first audio stream, or None for silent clips.
    """

    path: Path
    duration_sec: float
    video: VideoStreamInfo | None
    audio: AudioStreamInfo | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (fps as ``{"num", "den"}`` plus a float for display)."""
        out: dict[str, Any] = {"path": str(self.path), "duration_sec": self.duration_sec}
        if self.video is None:
            out["video"] = None
        else:
            v = self.video
            out["video"] = {
                "width": v.width,
                "height": v.height,
                "coded_width": v.coded_width,
                "coded_height": v.coded_height,
                "fps": {"num": v.fps.numerator, "den": v.fps.denominator},
                "fps_float": float(v.fps),
                "frame_count": v.frame_count,
                "rotation": v.rotation,
                "pix_fmt": v.pix_fmt,
                "codec": v.codec,
                "bit_depth": v.bit_depth,
                "start_sec": v.start_sec,
                "duration_sec": v.duration_sec,
                "is_vfr": v.is_vfr,
            }
        if self.audio is None:
            out["audio"] = None
        else:
            a = self.audio
            out["audio"] = {
                "sample_rate": a.sample_rate,
                "channels": a.channels,
                "channel_layout": a.channel_layout,
                "codec": a.codec,
                "start_sec": a.start_sec,
                "duration_sec": a.duration_sec,
            }
        return out


def ffmpeg_exe(name: str = "ffmpeg") -> str:
    """Return the path of ``ffmpeg`` or ``ffprobe``, or raise a MediaError saying how to get it.

    Args:
        name: ``"ffmpeg"`` or ``"ffprobe"``.

    Returns:
        The executable's path.
    """
    exe = shutil.which(name)
    if exe is None:
        raise MediaError(
            f"{name} was not found on PATH",
            fix="install FFmpeg (Debian/Ubuntu: apt-get install -y ffmpeg; "
            "macOS: brew install ffmpeg)",
        )
    return exe


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise MediaError("file not found", path, "check the path and that the drive is mounted")
    if path.is_dir():
        raise MediaError("is a folder, not a media file", path, "pick a video or audio file")
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise MediaError(
            f"cannot be read ({exc.strerror})", path, "check its permissions"
        ) from exc
    # Checked before opening: opening a FIFO waits for a writer, and a device has no length.
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise MediaError(
            "is a pipe, not a file: the clip is read more than once, so it must be a file",
            path,
            "save the stream to a file first, e.g. with ffmpeg -i - clip.mp4",
        )
    if not stat.S_ISREG(mode):
        raise MediaError("is a device, not a media file", path, "pick a video or audio file")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise MediaError(
            f"cannot be opened ({exc.strerror})", path, "check its permissions"
        ) from exc
    if size == 0:
        raise MediaError(
            "is empty (0 bytes)",
            path,
            "the copy or download was probably interrupted; get it again",
        )


def _fraction(text: str | None) -> Fraction | None:
    if not text or text in ("0/0", "N/A"):
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _float(text: Any) -> float | None:
    if text in (None, "N/A", ""):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _tag_duration(tags: dict[str, str]) -> float | None:
    # Matroska/WebM keep per-stream durations only as a "HH:MM:SS.nnnnnnnnn" tag.
    for key, value in tags.items():
        if key.upper() == "DURATION":
            try:
                h, m, s = value.split(":")
                return int(h) * 3600 + int(m) * 60 + float(s)
            except ValueError:
                return None
    return None


def _rotation(stream: dict[str, Any]) -> int:
    """Clockwise degrees that turn coded frames upright (display matrix or ``rotate`` tag)."""
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            # The display matrix angle is counter-clockwise; the legacy tag is clockwise.
            return int(round(-float(side["rotation"]))) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    if tag is not None:
        try:
            return int(round(float(tag))) % 360
        except ValueError:
            return 0
    return 0


def _bit_depth(stream: dict[str, Any]) -> int:
    raw = stream.get("bits_per_raw_sample")
    if raw not in (None, "N/A"):
        try:
            return int(raw)
        except ValueError:
            pass
    pix_fmt = stream.get("pix_fmt") or ""
    for depth in (16, 14, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return 8


def _video_packet_times(path: Path, limit: int | None) -> tuple[list[int], Fraction, int]:
    """Presentation times (stream ticks) of up to ``limit`` video packets, and the total seen."""
    import av

    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise MediaError(f"cannot be read ({exc})", path, "is it a complete media file?") from exc
    try:
        stream = container.streams.video[0]
        time_base = Fraction(stream.time_base)
        pts: list[int] = []
        count = 0
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # flush packet at the end
            count += 1
            if packet.pts is not None:
                pts.append(packet.pts)
            if limit is not None and count >= limit:
                break
        return sorted(pts), time_base, count
    finally:
        container.close()


def _looks_vfr(pts: list[int], time_base: Fraction, fps: Fraction) -> bool:
    if len(pts) < 3:
        return False
    nominal = 1 / (fps * time_base)  # ticks per frame
    deltas = [b - a for a, b in zip(pts, pts[1:], strict=False) if b > a]
    off = sum(1 for d in deltas if abs(d - nominal) > VFR_TOLERANCE * nominal)
    # A single irregular interval is usually an edit point or the last frame, not VFR.
    return off > max(1, len(deltas) // 100)


def _looks_like_mp4(path: Path) -> bool:
    """True when the file starts with an ISO-BMFF ``ftyp`` box (a real, if broken, MP4/MOV)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    return head[4:8] in (b"ftyp", b"mdat", b"wide", b"free")


def _mp4_box_past_end(path: Path) -> tuple[str, int, int] | None:
    """The first top-level ISO-BMFF box that its header says runs past the end of the file.

    A "faststart" MP4/MOV has its index (``moov``) at the front, so a copy cut short still probes
    as complete (the index lists every frame); the ``mdat`` box's declared size gives it away.

    Returns:
        ``(box type, box end, file size)`` in bytes, or None when every box fits.
    """
    size = path.stat().st_size
    offset = 0
    with open(path, "rb") as fh:
        while offset + 8 <= size:
            fh.seek(offset)
            header = fh.read(16)
            box_size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if box_size == 1 and len(header) == 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:  # runs to the end of the file by definition
                return None
            if box_size < 8:
                return None  # not a box header we understand: leave it to ffprobe
            if offset + box_size > size:
                return kind, offset + box_size, size
            offset += box_size
    return None


def _check_not_cut_short(path: Path, info: MediaInfo) -> None:
    past = _mp4_box_past_end(path) if _looks_like_mp4(path) else None
    if past is None:
        return
    kind, end, size = past
    missing = f"{100 * (end - size) / end:.0f}% of its data is missing ('{kind}' ends at byte "
    missing += f"{end}, the file at {size})"
    listed = (
        f"its index lists {info.video.frame_count} frames"
        if info.video
        else "its index is complete"
    )
    readable = _readable_video_packets(path) if info.video else None
    got = f", only {readable} of them are in the file" if readable is not None else ""
    raise MediaError(
        f"is truncated: {listed}{got}; {missing}",
        path,
        "the copy or download was cut off; get a complete copy or re-export it",
    )


def _readable_video_packets(path: Path) -> int | None:
    proc = subprocess.run(
        [ffmpeg_exe("ffprobe"), "-v", "quiet", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    text = proc.stdout.strip()
    return int(text) if text.isdigit() else None


def _run_ffprobe(path: Path) -> str:
    cmd = [
        ffmpeg_exe("ffprobe"),
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "unknown error"
        if reason.startswith(str(path)):
            reason = reason[len(str(path)) :].lstrip(": ")
        if "moov atom not found" in proc.stderr and _looks_like_mp4(path):
            raise MediaError(
                "is incomplete: its index (moov atom) is missing",
                path,
                "the recording or download was cut off; get a complete copy or re-export it",
            )
        raise MediaError(
            f"is not a readable video or audio file ({reason})",
            path,
            "check that it is a complete media file (mp4, mov, mkv, wav, mp3...), or re-export it",
        )
    return proc.stdout or "{}"


#: (resolved path, size, mtime_ns, inode) -> {"json": ffprobe's text, "info": MediaInfo}.
_memo: OrderedDict[tuple[str, int, int, int], dict[str, Any]] = OrderedDict()
_memo_lock = threading.Lock()


def _content_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _remembered(key: tuple[str, int, int, int], what: str) -> Any:
    with _memo_lock:
        entry = _memo.get(key)
        if entry is None or what not in entry:
            return None
        _memo.move_to_end(key)
        return entry[what]


def _remember(key: tuple[str, int, int, int], what: str, value: Any) -> None:
    with _memo_lock:
        _memo.setdefault(key, {})[what] = value
        _memo.move_to_end(key)
        while len(_memo) > PROBE_MEMO_FILES:
            _memo.popitem(last=False)


def ffprobe_json(path: str | Path) -> dict[str, Any]:
    """ffprobe's ``-show_format -show_streams`` answer for a file, run once per file content.

    The answer is remembered under the file's resolved path, size, modification time and inode
    (the stat is taken before ffprobe runs, so a file changing meanwhile is probed again next
    time). Each call returns a fresh dict, which the caller may change.

    Args:
        path: Video or audio file.

    Returns:
        The parsed JSON: ``{"streams": [...], "format": {...}}``.

    Raises:
        MediaError: The file is missing, empty, unreadable or not media.
    """
    path = Path(path)
    _check_readable(path)
    key = _content_key(path)
    text = _remembered(key, "json")
    if text is None:
        text = _run_ffprobe(path)
        _remember(key, "json", text)
    return json.loads(text)


def probe(path: str | Path) -> MediaInfo:
    """Describe a media file: exact frame rate, displayed size, frame count and stream clocks.

    Args:
        path: Video or audio file.

    Returns:
        A :class:`MediaInfo` with the first video and first audio stream (either may be None).

    Raises:
        MediaError: The file is missing, empty, unreadable, not media, or has no playable stream.
    """
    path = Path(path)
    _check_readable(path)
    key = _content_key(path)
    known = _remembered(key, "info")
    if known is not None:
        return replace(known, path=path)
    info = _probe(path)
    _remember(key, "info", info)
    return info


def _probe(path: Path) -> MediaInfo:
    data = ffprobe_json(path)
    streams = data.get("streams", [])
    fmt = data.get("format", {})
    format_start = _float(fmt.get("start_time")) or 0.0
    format_duration = _float(fmt.get("duration"))

    vstream = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    astream = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if vstream is None and astream is None:
        raise MediaError(
            "holds no video or audio stream",
            path,
            "pick a video (mp4, mov, mkv) or audio (wav, mp3, m4a, flac) file",
        )

    video = _video_info(path, vstream, format_start, format_duration) if vstream else None
    audio = _audio_info(astream, format_start, format_duration) if astream else None

    duration = format_duration
    if duration is None:
        duration = (
            max(
                (video.duration_sec if video else 0.0) + (video.start_sec if video else 0.0),
                (audio.duration_sec + audio.start_sec) if audio else 0.0,
            )
            - format_start
        )
    if (video is None or video.frame_count == 0) and (audio is None or audio.duration_sec <= 0):
        raise MediaError(
            "has zero length (no frames and no samples)",
            path,
            "the file is probably truncated; export or download it again",
        )
    info = MediaInfo(path=path, duration_sec=float(duration), video=video, audio=audio)
    _check_not_cut_short(path, info)
    return info


def _video_info(
    path: Path, s: dict[str, Any], format_start: float, format_duration: float | None
) -> VideoStreamInfo:
    codec = s.get("codec_name") or "unknown"
    coded_w, coded_h = int(s.get("width") or 0), int(s.get("height") or 0)
    if coded_w <= 0 or coded_h <= 0:
        raise MediaError(
            f"its video stream ({codec}) has no frame size and cannot be decoded",
            path,
            "re-export the video with a common codec such as H.264",
        )
    rotation = _rotation(s)
    if rotation % 90:
        rotation = 0  # arbitrary angles are not a thing players honour either
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)

    start_sec = _float(s.get("start_time"))
    if start_sec is None:
        start_sec = format_start
    duration = _float(s.get("duration")) or _tag_duration(s.get("tags") or {})
    if duration is None and format_duration is not None:
        duration = format_duration - (start_sec - format_start)

    avg = _fraction(s.get("avg_frame_rate"))
    real = _fraction(s.get("r_frame_rate"))
    fps = avg or real
    nb_frames = s.get("nb_frames")
    nb_frames = (
        int(nb_frames) if nb_frames not in (None, "N/A") and str(nb_frames).isdigit() else None
    )

    # Packets are cheap to read (no decoding); needed for VFR detection and files without metadata.
    count_all = duration is None or fps is None
    pts, time_base, n_packets = _video_packet_times(
        path, None if count_all else VFR_SAMPLE_PACKETS
    )
    if fps is None:
        if len(pts) >= 2:
            fps = Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base)
        else:
            fps = Fraction(25)
        fps = fps.limit_denominator(1001)
    is_vfr = _looks_vfr(pts, time_base, fps)
    if is_vfr:
        # The average rate of a VFR stream is a ratio of arbitrary tick counts; snap it to a
        # rational an editor can use (29.97 -> 30000/1001, 30.0003 -> 30).
        from lipcore.timebase import as_fps

        fps = as_fps(float(fps))
        if abs(float(fps) - round(float(fps))) < 0.01:
            fps = Fraction(round(float(fps)))

    if duration is not None and duration > 0:
        exact = Fraction(duration) * fps
        frame_count = int(round(exact))
        # Header durations are rounded to microseconds; trust nb_frames when it agrees.
        if not is_vfr and nb_frames is not None and abs(nb_frames - exact) <= 1:
            frame_count = nb_frames
        # Matroska has no nb_frames and pads its DURATION tag to the muxed audio (3.021 s for
        # 75 frames at 25 fps); when every packet was counted, the count is the truth.
        elif not is_vfr and nb_frames is None and n_packets < VFR_SAMPLE_PACKETS:
            if abs(n_packets - exact) <= 1:
                frame_count = n_packets
    elif count_all and n_packets:
        frame_count = n_packets
        duration = float(Fraction(n_packets) / fps)
    else:
        frame_count = nb_frames or 0
        duration = float(Fraction(frame_count) / fps)

    pix_fmt = s.get("pix_fmt") or "unknown"
    return VideoStreamInfo(
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        rotation=rotation,
        pix_fmt=pix_fmt,
        codec=codec,
        bit_depth=_bit_depth(s),
        start_sec=float(start_sec),
        is_vfr=is_vfr,
        coded_width=coded_w,
        coded_height=coded_h,
        duration_sec=float(duration),
    )


def _audio_info(
    s: dict[str, Any], format_start: float, format_duration: float | None
) -> AudioStreamInfo:
    start_sec = _float(s.get("start_time"))
    if start_sec is None:
        start_sec = format_start
    duration = _float(s.get("duration")) or _tag_duration(s.get("tags") or {})
    if duration is None:
        duration = (format_duration - (start_sec - format_start)) if format_duration else 0.0
    return AudioStreamInfo(
        sample_rate=int(s.get("sample_rate") or 0),
        channels=int(s.get("channels") or 0),
        codec=s.get("codec_name") or "unknown",
        start_sec=float(start_sec),
        duration_sec=float(duration),
        channel_layout=str(s.get("channel_layout") or ""),
    )


def require_video(info: MediaInfo) -> VideoStreamInfo:
    """Return the video stream, or raise a MediaError for audio-only files.

    Args:
        info: A probed file.

    Returns:
        Its :class:`VideoStreamInfo`.
    """
    if info.video is None:
        raise MediaError(
            "has no video stream (audio only)",
            info.path,
            "pick a video clip with a visible face; use this file as the new speech instead",
        )
    return info.video


#: Codecs FFmpeg uses for single pictures (png, jpeg, webp, bmp, tiff, ...).
STILL_IMAGE_CODECS = frozenset({"png", "mjpeg", "jpegls", "webp", "bmp", "tiff", "gif", "qoi"})


def is_still_image(info: MediaInfo) -> bool:
    """Whether the file is one still picture (a portrait, a painting), opened as a 1-frame clip.

    FFmpeg opens a PNG or JPEG as a video stream of one frame (at 25 fps); the renderer holds that
    frame for the whole new audio.

    Args:
        info: A probed file.

    Returns:
        True for a single image without audio.
    """
    v = info.video
    return (
        v is not None
        and info.audio is None
        and v.frame_count == 1
        and (v.codec in STILL_IMAGE_CODECS)
    )


def require_audio(info: MediaInfo) -> AudioStreamInfo:
    """Return the audio stream, or raise a MediaError for silent (video-only) files.

    Args:
        info: A probed file.

    Returns:
        Its :class:`AudioStreamInfo`.
    """
    if info.audio is None:
        raise MediaError(
            "has no audio stream",
            info.path,
            "pick a file with sound, or give the speech as a separate audio file",
        )
    return info.audio
