"""Streaming, frame-accurate video decoding on an exact constant-rate grid (PyAV).

Frame ``i`` of a clip is, by definition, the picture showing at time ``start + i / fps`` where
``start`` is the video stream's start time and ``fps`` the exact rational rate from
:func:`lipcore.media.probe.probe`. Decoded pictures are placed on that grid by their presentation
timestamps (a picture covers the grid slots from its PTS, rounded to the nearest slot, up to the
next picture's), so variable-frame-rate input is duplicated/dropped onto the grid instead of being
counted in decode order, and constant-rate input maps one picture to one index.

Seeking to frame ``N`` seeks to the keyframe before ``N`` and decodes forward; nothing is decoded
from the start of the file, and nothing but the current picture is held in memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np

from lipcore.errors import MediaError
from lipcore.media.probe import MediaInfo, VideoStreamInfo, probe, require_video

#: When a frame a little ahead of the current position is asked for, decode forward up to this many
#: seconds instead of seeking (a seek lands on a keyframe and decodes forward anyway).
FORWARD_DECODE_MAX_SEC = 2.0
#: On a constant-rate stream, pictures ending this long before the declared end mean truncation.
TRUNCATION_TOLERANCE_SEC = Fraction(1, 2)
#: While fast-forwarding to a seek target, decode every picture from this long before it.
SKIP_MARGIN_SEC = Fraction(1)


def rotate_frame(frame: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a coded frame upright.

    Args:
        frame: ``(H, W, C)`` image as stored in the file.
        rotation: Clockwise degrees (0, 90, 180, 270), as in :attr:`VideoStreamInfo.rotation`.

    Returns:
        The displayed ``(H', W', C)`` image, C-contiguous.
    """
    k = (rotation // 90) % 4
    if k == 0:
        return frame
    # np.rot90 turns counter-clockwise for positive k.
    return np.ascontiguousarray(np.rot90(frame, k=-k))


class VideoReader:
    """Read a clip's frames as BGR ``uint8`` arrays on its exact frame grid.

    Use as a context manager::

        with VideoReader("clip.mp4") as reader:
            for index, frame in reader.iter_frames(100, 200):
                ...  # frame: (H, W, 3) uint8 BGR, displayed orientation

    Frames are converted from any pixel format (8/10/12-bit, 4:2:0/4:2:2/4:4:4) and rotated to the
    displayed orientation; planar YUV with the matrix of :mod:`lipcore.media.colour`, which the
    writer inverts exactly. Memory does not grow with clip length: one decoded picture is kept.

    Args:
        path: The video file.
        info: Its :class:`MediaInfo` when already probed (saves one ffprobe run).
        threads: Let FFmpeg decode with several threads (faster on long HD clips).
        keep_planes: Frames of an 8-bit 4:2:0 source shown unrotated come as
            :class:`~lipcore.media.planar.SourceFrame`, carrying their Y, U, V planes too (an
            encoder can then take untouched pixels as they are; 1.5 bytes more per pixel).

    Raises:
        MediaError: The file cannot be read or has no video stream.
    """

    def __init__(
        self,
        path: str | Path,
        info: MediaInfo | None = None,
        threads: bool = True,
        keep_planes: bool = False,
    ):
        self.path = Path(path)
        self.info: MediaInfo = info if info is not None else probe(self.path)
        self.video: VideoStreamInfo = require_video(self.info)
        self._threads = threads
        self._keep_planes = keep_planes and self.video.rotation % 360 == 0
        self._seekable = True
        self._open_container()
        self._time_base = Fraction(self._stream.time_base)
        self._start = Fraction(self.video.start_sec).limit_denominator(10**9)
        if self._stream.start_time is not None:
            # Exact start in stream ticks, not ffprobe's 6-decimal rendering of it.
            self._start = self._stream.start_time * self._time_base
        self._cursor: Iterator[tuple[int, np.ndarray]] | None = None
        self._cursor_next = -1
        self._last: tuple[int, np.ndarray] | None = None
        self._closed = False
        # Several passes (an iter_frames loop, the read() cursor) may be suspended at once; they
        # share one demuxer, so whichever resumes after another moved it re-seeks first.
        self._owner = 0
        self._passes = 0
        #: Pictures decoded so far (seek cost is visible in tests and benchmarks).
        self.decoded_pictures = 0

    def _open_container(self) -> None:
        import av

        try:
            self._container = av.open(str(self.path))
        except av.FFmpegError as exc:
            raise MediaError(
                f"cannot be opened for decoding ({exc})", self.path, "re-export the clip"
            ) from exc
        self._stream = self._container.streams.video[0]
        if self._threads:
            self._stream.thread_type = "AUTO"

    # -- context manager --------------------------------------------------------------------

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder and the file."""
        if self._closed:
            return
        self._closed = True
        if self._cursor is not None:
            self._cursor.close()  # type: ignore[attr-defined]
            self._cursor = None
        self._last = None
        self._container.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing to report to
            pass

    # -- properties --------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        """Frames on the grid (index range ``0 .. frame_count - 1``)."""
        return self.video.frame_count

    @property
    def fps(self) -> Fraction:
        """Exact frame rate of the grid."""
        return self.video.fps

    @property
    def width(self) -> int:
        """Displayed frame width in pixels."""
        return self.video.width

    @property
    def height(self) -> int:
        """Displayed frame height in pixels."""
        return self.video.height

    def frame_time_sec(self, index: int) -> Fraction:
        """Container-clock time at which grid frame ``index`` shows (``start + index / fps``)."""
        return self._start + Fraction(index) / self.fps

    # -- decoding ----------------------------------------------------------------------------

    def _slot_of(self, pts: int) -> int:
        """First grid slot a picture with this PTS covers (nearest slot, ties to the later one)."""
        exact = (pts * self._time_base - self._start) * self.fps
        return math.ceil(exact - Fraction(1, 2))

    def _seek(self, index: int, margin_sec: Fraction) -> None:
        """Position the demuxer on the keyframe at or before ``index``'s time minus a margin."""
        import av

        if self._seekable:
            target = self.frame_time_sec(index) - margin_sec
            try:
                if target <= self._start:
                    self._container.seek(0)
                else:
                    # In stream ticks, to the keyframe at or before the target.
                    offset = int(math.floor(target / self._time_base))
                    self._container.seek(
                        offset, stream=self._stream, backward=True, any_frame=False
                    )
                return
            except av.FFmpegError:
                # Raw elementary streams (.h264, .hevc) have no index and cannot seek.
                self._seekable = False
        self._rewind()

    def _rewind(self) -> None:
        """Reopen the file at its very start (the fallback when seeking cannot work)."""
        self._container.close()
        self._open_container()

    def _convert(self, av_frame) -> np.ndarray:
        from lipcore.media.colour import frame_to_bgr

        try:
            if self._keep_planes and av_frame.format.name in ("yuv420p", "yuvj420p"):
                from lipcore.media.colour import frame_planes

                return frame_planes(av_frame)
            # Planar YUV goes through the exact matrix the encoder inverts (untouched pixels
            # come back to the source's values); other formats through swscale.
            bgr = frame_to_bgr(av_frame)
            if bgr is None:
                bgr = av_frame.to_ndarray(format="bgr24")
        except Exception as exc:  # noqa: BLE001 - PyAV raises several types for odd formats
            raise MediaError(
                f"a frame in pixel format {av_frame.format.name} cannot be converted ({exc})",
                self.path,
                "re-export the clip as 8-bit yuv420p H.264",
            ) from exc
        return rotate_frame(bgr, self.video.rotation)

    def _decode_packets(self, start: int) -> Iterator:
        """Decoded pictures from the current demuxer position.

        While fast-forwarding from a keyframe to ``start``, pictures nothing refers to are not
        decoded at all (FFmpeg ``skip_frame=NONREF``): on long-GOP footage (A10: a keyframe every
        250 frames) that halves the cost of a seek. Skipping stops ``SKIP_MARGIN_SEC`` before the
        target, and never happens on variable-rate streams, where the picture showing at the
        target may be much older than it.
        """
        context = self._stream.codec_context
        skip_until = None
        if start > 0 and not self.video.is_vfr:
            skip_until = self.frame_time_sec(start) - SKIP_MARGIN_SEC
        skipping = False
        context.skip_frame = "DEFAULT"
        try:
            for packet in self._container.demux(self._stream):
                if skip_until is not None:
                    want_skip = (
                        packet.pts is not None and packet.pts * self._time_base < skip_until
                    )
                    if want_skip != skipping:
                        context.skip_frame = "NONREF" if want_skip else "DEFAULT"
                        skipping = want_skip
                    if not want_skip:
                        skip_until = None  # from here on, decode everything
                yield from self._stream.decode(packet)
        finally:
            if skipping:
                context.skip_frame = "DEFAULT"

    def _decode_from(self, start: int, stop: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield grid frames ``start .. stop - 1``; seeks first unless ``start`` is 0."""
        import av

        # Seek margins to retry with when a seek lands after the wanted frame; None = rewind.
        margins: list[Fraction | None] = [Fraction(0), Fraction(1, 2), Fraction(2), Fraction(8)]
        margins.append(None)
        for attempt, margin in enumerate(margins):
            last_try = attempt == len(margins) - 1
            if margin is None:
                self._rewind()
            else:
                self._seek(start, margin)
            pending: av.VideoFrame | None = None
            pending_slot = -1
            next_index = start
            overshoot = False
            last_pts: int | None = None
            try:
                for av_frame in self._decode_packets(start):
                    self.decoded_pictures += 1
                    pts = av_frame.pts
                    if pts is None:
                        # Rare (raw streams): step one nominal frame past the previous picture.
                        pts = (
                            0
                            if last_pts is None
                            else last_pts + int(round(1 / (self.fps * self._time_base)))
                        )
                    last_pts = pts
                    slot = self._slot_of(pts)
                    if pending is None:
                        if slot > next_index and next_index > 0 and not last_try:
                            # The seek landed after the wanted frame (open GOP, bad index):
                            # go back further and retry.
                            overshoot = True
                            break
                        pending, pending_slot = av_frame, slot
                        continue
                    # The pending picture shows until this one takes over.
                    if slot > next_index:
                        image = None
                        while next_index < min(slot, stop):
                            if image is None:
                                image = self._convert(pending)
                            yield next_index, image
                            next_index += 1
                        if next_index >= stop:
                            return
                    if slot >= pending_slot:
                        pending, pending_slot = av_frame, slot
            except av.FFmpegError as exc:
                raise MediaError(
                    f"decoding failed near frame {next_index} ({exc})",
                    self.path,
                    "the file may be damaged; re-export or re-download it",
                ) from exc
            if overshoot:
                continue
            if pending is None:
                if next_index >= stop:
                    return
                if not last_try and next_index > 0:
                    continue  # the seek landed past the last keyframe (unindexed MPEG-TS)
                raise MediaError(
                    f"no picture could be decoded at or after frame {next_index}",
                    self.path,
                    "the file may be truncated; re-export or re-download it",
                )
            # End of stream: the last picture holds until the end of the grid. On a constant-rate
            # stream a long hold means pictures are missing (a cut-off download), which must not
            # pass as a frozen tail.
            missing = min(stop, self.frame_count) - 1 - max(pending_slot, next_index - 1)
            if not self.video.is_vfr and missing > max(2, TRUNCATION_TOLERANCE_SEC * self.fps):
                raise MediaError(
                    f"pictures end at frame {max(pending_slot, next_index - 1)} but the file "
                    f"declares {self.frame_count} frames",
                    self.path,
                    "the file is probably truncated; re-export or re-download it",
                )
            image = self._convert(pending)
            while next_index < stop:
                yield next_index, image
                next_index += 1
            return

    def _pass(self, start: int, stop: int) -> Iterator[tuple[int, np.ndarray]]:
        """A decode pass that survives other passes moving the shared demuxer meanwhile."""
        self._passes += 1
        me = self._owner = self._passes
        next_index = start
        while next_index < stop:
            inner = self._decode_from(next_index, stop)
            moved = False
            try:
                for index, image in inner:
                    yield index, image
                    next_index = index + 1
                    if self._owner != me:
                        moved = True
                        self._owner = me
                        break
            finally:
                inner.close()  # type: ignore[attr-defined]
            if not moved:
                return

    def iter_frames(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for grid frames ``start .. stop - 1``.

        Args:
            start: First frame index (seeks to the keyframe before it, then decodes forward).
            stop: One past the last frame; None means the end of the clip. Clipped to
                :attr:`frame_count`.

        Yields:
            ``(index, frame)`` with ``frame`` a ``(H, W, 3)`` uint8 BGR array in displayed
            orientation. The same array object may be yielded for repeated (VFR) frames; copy it
            before modifying it in place.
        """
        self._check_open()
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        start = max(0, start)
        if start >= stop:
            return
        yield from self._pass(start, stop)

    def read(self, index: int) -> np.ndarray:
        """Return grid frame ``index`` (random access; sequential reads decode forward cheaply).

        Args:
            index: Frame index in ``0 .. frame_count - 1``.

        Returns:
            ``(H, W, 3)`` uint8 BGR frame in displayed orientation, owned by the caller.

        Raises:
            IndexError: ``index`` is outside the clip.
        """
        self._check_open()
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.frame_count - 1} of {self.path}")
        if self._last is not None and self._last[0] == index:
            return self._last[1].copy()
        ahead = index - self._cursor_next
        if self._cursor is None or ahead < 0 or ahead > FORWARD_DECODE_MAX_SEC * self.fps:
            self._drop_cursor()
            self._cursor = self._pass(index, self.frame_count)
            self._cursor_next = index
        for got, image in self._cursor:
            self._cursor_next = got + 1
            if got == index:
                # The caller owns (and may draw on) what is returned; the decoder may still hand
                # the same picture out for a repeated (VFR) slot, so the caller gets a copy.
                self._last = (got, image)
                return image.copy()
        self._drop_cursor()
        raise MediaError(f"frame {index} could not be decoded", self.path, "re-export the clip")

    def _drop_cursor(self) -> None:
        if self._cursor is not None:
            self._cursor.close()  # type: ignore[attr-defined]
        self._cursor = None
        self._cursor_next = -1

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"VideoReader for {self.path} is closed")


def iter_frames(
    path: str | Path, start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, bgr_frame)`` for frames ``start .. stop - 1`` of a clip, then close it.

    Args:
        path: The video file.
        start: First frame index.
        stop: One past the last frame index (None: to the end).

    Yields:
        ``(index, frame)`` pairs, see :meth:`VideoReader.iter_frames`.
    """
    with VideoReader(path) as reader:
        yield from reader.iter_frames(start, stop)
