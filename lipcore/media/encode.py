"""Write rendered frames to a video file through an FFmpeg subprocess, and mux the new audio in.

Safety rules, in order of importance:

1. A source file is never overwritten: an output path equal to a source (or the audio) is refused.
2. Nothing half-written ever sits at the output path: frames go to a hidden temp file in the same
   folder, which is renamed over the output only when the encode (and the audio mux) succeeded. An
   exception, :meth:`VideoWriter.abort`, or a wrong frame count removes the temp files and leaves
   any old output untouched.
3. The output keeps the exact size and rational frame rate it was given, and the written frame
   count is verified with ffprobe before the rename.

Codecs: ``"h264"`` (libx264, 4:2:0, CRF :data:`DEFAULT_CRF` by default, ``+faststart``; odd sizes,
which 4:2:0 cannot hold, switch to 4:4:4 so the displayed size still matches) with AAC 192k audio,
or ``"prores"`` (ProRes 422 HQ, 10-bit) with 16-bit PCM audio in a ``.mov``.

Colour: frames are converted to YUV 4:4:4 by :mod:`lipcore.media.colour` with the exact inverse of
the matrix and range the decoder used for the source (FFmpeg only subsamples the chroma), and the
source's colour tags (primaries, transfer, matrix, range) are copied, so untouched pixels come back
to the source's luma and players show them as they showed the source. Frames are 8-bit: a 10-bit
source written to 10-bit ProRes keeps its look, not its extra precision (:attr:`precision_note`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np

from lipcore.errors import MediaError
from lipcore.media.colour import bgr_to_yuv444_planes, colour_of
from lipcore.media.pipe_feed import PipeFeed
from lipcore.media.planar import Patch, bgr_to_yuv420_planes, patched_planes, planes_of
from lipcore.media.probe import ffmpeg_exe, ffprobe_json, probe

#: Sample rate of muxed audio (AAC and PCM); 48 kHz is what editors and players expect.
OUTPUT_SAMPLE_RATE = 48000
#: libx264 quality of every delivered output (export, ``lipsync sync``, the pipeline). Measured
#: on 4 s of the shared clips, decoded and written back unchanged, PSNR over the whole frame:
#: A02 (the sharpest) 44.7 dB at CRF 10 (2.94 MB), 43.2 at 12 (2.42 MB), 41.8 at 14 (1.94 MB),
#: 39.3 at 18 (1.19 MB); A08, A09, A10, A14 47.9-50.5 dB at 12. CRF 12 is the highest CRF that
#: keeps the untouched picture above 40 dB on all of them with a margin.
DEFAULT_CRF = 12
#: libx264 quality of drafts and previews: fast and small; not for delivery.
DRAFT_CRF = 23
#: From this CRF up an encode is a draft and uses the fast preset (see :func:`x264_preset`).
_DRAFT_FROM_CRF = 20
#: libx264 threading: the slices of one frame in parallel, not several frames at once. x264's
#: default (frame threads with a lookahead thread) now and then encoded the very same frames
#: differently on a loaded machine: 7 of 670 encodes of one 135-frame stream (the same alternate
#: stream each time, differing from frame 58 on), so a chunked export was not always the full
#: render bit for bit. Sliced threads (their lookahead runs in step) gave one stream in 570
#: encodes under the same load, for the same CPU time and +0.6 % bytes at CRF 12
#: (``bench/encode_determinism.py``).
X264_THREAD_ARGS = ("-x264-params", "sliced-threads=1")
#: libx264 psychovisual strengths ``rd,trellis`` of delivered outputs: x264's default rate-
#: distortion strength, and the trellis strength of its own ``--tune film`` (0 by default). At
#: CRF 12 the default settings kept the untouched picture (an original re-encoded: 0.999 of the
#: mouth's Laplacian variance) but not a re-timed mouth, whose fine detail changes from frame to
#: frame and so is coded as residual, which the trellis quantised away: A02 dubbed with B20, a
#: near-lossless render (CRF 4) at 0.906 of the original's mouth detail, encoded at CRF 12 kept
#: 0.869; with trellis strength 0.15 it keeps 0.900 (0.10: 0.888; 0.25: 0.914, more than the
#: render had), for +4 % bytes, the same flicker (0.985 -> 0.988) and the same PSNR outside the
#: lower face (43.1 dB). On the 8-s quality bench alone it raised retime's flicker by 0.003-0.007
#: (A06/B01 1.107 -> 1.111; its near-lossless render reads 1.114: the default trellis had hidden
#: part of the render's own frame-to-frame change); the colour match measured on still skin
#: (:func:`lipcore.render.blend.still_skin`) then took it to 1.043. Only the trellis uses it:
#: drafts (the fast preset, no trellis) are as before.
X264_PSY_RD = "1.0,0.15"
#: The ``-x264-params`` of a delivered encode: :data:`X264_THREAD_ARGS`' threads and
#: :data:`X264_PSY_RD`.
X264_ARGS = ("-x264-params", f"{X264_THREAD_ARGS[1]}:psy-rd={X264_PSY_RD}")


def x264_preset(crf: int) -> str:
    """The libx264 preset of an encode at ``crf``: "veryfast" for drafts, else "medium".

    Args:
        crf: The constant-rate factor.

    Returns:
        The preset name.
    """
    return "veryfast" if int(crf) >= _DRAFT_FROM_CRF else "medium"


CODECS = ("h264", "prores")
_PRORES_SUFFIXES = (".mov",)
_H264_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv")
AudioSource = str | Path | tuple[np.ndarray, int] | None


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _stderr_tail(handle: IO[bytes] | None, lines: int = 3) -> str:
    if handle is None:
        return ""
    handle.seek(0)
    text = handle.read().decode(errors="replace").strip().splitlines()
    return " | ".join(text[-lines:])


def check_writable(output: str | Path) -> None:
    """Refuse an output whose folder cannot take a new file, before any work is done.

    Permissions alone do not tell (root, read-only mounts, ``/proc``, a name too long once the
    hidden temp suffix is added), so a file with the temp files' name pattern is created and
    removed.

    Raises:
        MediaError: The folder is missing or a file cannot be created there.
    """
    out = Path(output)
    if not out.parent.is_dir():
        raise MediaError(
            "cannot be written: its folder does not exist", out, "create the folder first"
        )
    probe_path = out.parent / f".{out.stem}.check-{uuid.uuid4().hex[:8]}.partial{out.suffix}"
    try:
        os.close(os.open(probe_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        probe_path.unlink()
    except OSError as exc:
        raise MediaError(
            f"cannot be written there ({exc.strerror or type(exc).__name__})",
            out,
            "pick another folder or a shorter name",
        ) from exc


def _video_colour_tags(path: Path) -> dict[str, str]:
    """Colour space, primaries, transfer, range and pixel format of the first video stream.

    Read from the file's remembered ffprobe answer (no extra ffprobe run); a field the stream
    does not carry reads ``"unknown"``, as ffprobe prints it.
    """
    streams = ffprobe_json(path).get("streams", [])
    stream = next((s for s in streams if s.get("codec_type") == "video"), {})
    fields = ("color_space", "color_primaries", "color_transfer", "color_range", "pix_fmt")
    return {key: str(stream.get(key) or "unknown") for key in fields}


class VideoWriter:
    """Encode BGR frames into a video file, optionally with an audio track, atomically.

    Use as a context manager::

        with VideoWriter("out.mp4", 1280, 720, Fraction(30000, 1001), audio="dub.wav",
                         sources=["clip.mp4"]) as writer:
            for frame in frames:
                writer.write(frame)
        # out.mp4 now exists, complete; on an exception it does not (and an old one is kept).

    Args:
        output: The file to write (``.mp4``/``.mov``/``.mkv`` for H.264; ``.mov`` for ProRes).
        width: Frame width in pixels (odd allowed).
        height: Frame height in pixels (odd allowed).
        fps: Exact frame rate (``Fraction``, ``"30000/1001"``, ``(num, den)`` or a float).
        audio: Audio to mux: a file path (its first audio stream; if the file also has video, its
            audio is placed on that video's clock), or ``(samples, sample_rate)`` with float32
            ``(n,)`` or ``(n, channels)`` samples. Its first sample plays with the first frame;
            it is padded with silence or cut to the video's duration.
        codec: ``"h264"`` or ``"prores"``.
        crf: libx264 constant-rate factor (lower is better; :data:`DEFAULT_CRF` keeps the
            untouched picture above 40 dB PSNR, :data:`DRAFT_CRF` is for drafts).
        preset: libx264 speed/size preset; None = :func:`x264_preset` of ``crf``.
        sources: Files that must never be overwritten (the source clip, its audio...); None
            entries are ignored.
        expected_frames: When given, finishing with another number of frames is an error and
            nothing is written (guards against a loop that ended early).
        color_from: A video whose colour tags the output copies; defaults to the first source
            with a video stream.
        planar: Feed the H.264 encoder 4:2:0 planes (even sizes only): frames decoded with
            their source planes (:class:`~lipcore.media.planar.SourceFrame`) and written with
            :meth:`write_patched` keep every untouched sample exactly; other frames get their
            chroma as 2x2 means. Off (or ignored for ProRes and odd sizes): 4:4:4 planes, the
            encoder resamples the chroma.

    Raises:
        MediaError: The output is a source, its folder is missing, or the codec/extension pair is
            not supported.
    """

    def __init__(
        self,
        output: str | Path,
        width: int,
        height: int,
        fps: Fraction | float | str | tuple[int, int],
        *,
        audio: AudioSource = None,
        codec: str = "h264",
        crf: int = DEFAULT_CRF,
        preset: str | None = None,
        sources: Iterable[str | Path | None] = (),
        expected_frames: int | None = None,
        color_from: str | Path | None = None,
        planar: bool = False,
    ):
        from lipcore.timebase import as_fps

        self.output = Path(output)
        self.width, self.height = int(width), int(height)
        self.fps: Fraction = as_fps(fps)
        self.codec = codec
        self.crf = int(crf)
        self.preset = preset or x264_preset(self.crf)
        self.audio = audio
        self.expected_frames = expected_frames
        self.sources = [Path(s) for s in sources if s is not None]
        self.frames_written = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._feed: PipeFeed | None = None
        self._stderr: IO[bytes] | None = None
        self._temps: list[Path] = []
        self._done = False

        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if codec not in CODECS:
            raise MediaError(
                f"unknown codec {codec!r}", self.output, f"use one of {', '.join(CODECS)}"
            )
        self._check_output()
        # Fail before minutes of rendering, not at the final mux.
        self._audio_shift_sec = self._check_audio()
        self._colour = colour_of(None, None, self.width, self.height)
        self._source_bits = 8
        self._color_args = self._colour_tags(color_from)
        odd = self.width % 2 or self.height % 2
        self.planar = bool(planar) and codec == "h264" and not odd

    @property
    def precision_note(self) -> str | None:
        """A warning when the source has more bits per sample than the 8-bit frames carry."""
        if self._source_bits <= 8:
            return None
        where = (
            "the 10-bit ProRes output holds 8-bit precision"
            if self.codec == "prores"
            else "the H.264 output is 8-bit"
        )
        return (
            f"the source is {self._source_bits}-bit; frames are processed as 8-bit, so {where} "
            "(its look is kept; fine gradients may band)"
        )

    # -- checks ------------------------------------------------------------------------------

    def _check_output(self) -> None:
        out = self.output
        protected = list(self.sources)
        if isinstance(self.audio, (str, Path)):
            protected.append(Path(self.audio))
        for src in protected:
            if _same_file(out, src):
                raise MediaError(
                    "is one of the source files and would be overwritten",
                    out,
                    "choose another output name, e.g. add '_lipsync' before the extension",
                )
        if not out.parent.is_dir():
            raise MediaError(
                "cannot be written: its folder does not exist", out, "create the folder first"
            )
        check_writable(out)
        if out.is_dir():
            raise MediaError("is a folder", out, "give a file name such as out.mp4")
        suffix = out.suffix.lower()
        allowed = _PRORES_SUFFIXES if self.codec == "prores" else _H264_SUFFIXES
        if suffix not in allowed:
            raise MediaError(
                f"cannot hold {self.codec} video "
                + (f"with a '{suffix}' extension" if suffix else "without an extension"),
                out,
                f"use {' or '.join(allowed)}",
            )

    def _check_audio(self) -> float:
        """Validate the audio; return the shift (sec) that puts it on the video clock."""
        if self.audio is None:
            return 0.0
        if isinstance(self.audio, tuple):
            samples, rate = self.audio
            samples = np.asarray(samples)
            if samples.ndim not in (1, 2) or samples.shape[0] == 0 or int(rate) <= 0:
                raise ValueError(
                    "audio must be (samples, sample_rate) with (n,) or (n, channels) samples, "
                    f"got shape {samples.shape} at {rate} Hz"
                )
            return 0.0
        path = Path(self.audio)
        info = probe(path)
        if info.audio is None:
            raise MediaError(
                "has no audio stream to mux", path, "pick an audio file (wav, mp3, m4a, flac)"
            )
        # A clip used as the audio source keeps its own A/V alignment; an audio file's first
        # sample plays with the first frame.
        if info.video is not None:
            return info.audio.start_sec - info.video.start_sec
        return 0.0

    def _colour_tags(self, color_from: str | Path | None) -> list[str]:
        candidates = [Path(color_from)] if color_from is not None else self.sources
        for path in candidates:
            try:
                info = probe(path)
            except MediaError:
                continue
            if info.video is None:
                continue
            tags = _video_colour_tags(path)
            # The matrix and range the decoder used for this source (the rule is symmetric
            # under rotation, so the displayed size gives the same answer as the coded one).
            self._colour = colour_of(
                tags.get("color_space"),
                tags.get("color_range"),
                info.video.width,
                info.video.height,
                tags.get("pix_fmt", ""),
            )
            self._source_bits = info.video.bit_depth
            args = ["-color_range", "tv" if self.codec == "prores" else self._colour.ffmpeg_range]
            for key, flag in (
                ("color_primaries", "-color_primaries"),
                ("color_transfer", "-color_trc"),
                ("color_space", "-colorspace"),
            ):
                value = tags.get(key, "unknown")
                if value not in ("unknown", "reserved", "", "N/A"):
                    args += [flag, value]
            return args
        return []

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> VideoWriter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def _temp_path(self, tag: str) -> Path:
        # Hidden, in the same folder (the final rename stays on one filesystem), same extension so
        # ffmpeg picks the same muxer.
        path = self.output.parent / f".{self.output.stem}.{tag}-{uuid.uuid4().hex[:8]}.partial"
        path = path.with_name(path.name + self.output.suffix)
        self._temps.append(path)
        return path

    def _video_args(self) -> list[str]:
        if self.codec == "prores":
            return [
                "-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le",
                "-vendor", "apl0",
            ]  # fmt: skip
        odd = self.width % 2 or self.height % 2
        # 4:2:0 needs even sizes; 4:4:4 keeps an odd size exact (players that need 4:2:0 are
        # the price; the alternative, padding, would change the displayed size).
        pix_fmt, profile = ("yuv444p", "high444") if odd else ("yuv420p", "high")
        return [
            "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf),
            "-pix_fmt", pix_fmt, "-profile:v", profile, *X264_ARGS,
        ]  # fmt: skip

    def open(self) -> None:
        """Start the encoder (called by ``with``)."""
        if self._proc is not None or self._done:
            raise RuntimeError("VideoWriter.open() called twice")
        target = self._temp_path("video" if self.audio is not None else "out")
        self._video_temp = target
        out_range = "tv" if self.codec == "prores" else self._colour.ffmpeg_range
        cmd = [
            ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p" if self.planar else "yuv444p",
            "-s", f"{self.width}x{self.height}",
            "-color_range", self._colour.ffmpeg_range,
            "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "pipe:0",
            # Explicit ranges: FFmpeg 5 otherwise converts (or not) depending on how the pixel
            # format was named. Only the chroma is resampled, except that ProRes is always
            # limited range (a full-range source is converted, as players expect).
            "-vf", f"scale=in_range={self._colour.ffmpeg_range}:out_range={out_range}",
            "-an", *self._video_args(), *self._color_args,
        ]  # fmt: skip
        if self.output.suffix.lower() in (".mp4", ".mov", ".m4v"):
            if self.audio is None:  # otherwise the audio mux pass writes the final file
                cmd += ["-movflags", "+faststart"]
            # An exact timescale for rational rates (30000/1001 -> 30000 ticks per second).
            cmd += ["-video_track_timescale", str(self._timescale())]
        cmd.append(str(target))
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr
            )
        except OSError as exc:
            self._cleanup()
            raise MediaError(f"ffmpeg could not start ({exc})", self.output) from exc
        assert self._proc.stdin is not None
        # Pipe writes block while x264 is busy: a worker thread does them, so the caller renders
        # the next frame meanwhile.
        self._feed = PipeFeed(self._proc.stdin)

    def _timescale(self) -> int:
        scale = self.fps.numerator
        while scale < 10000:  # integer rates: keep sub-frame precision for the audio edit list
            scale *= 2
        return scale

    def write(self, frame_bgr: np.ndarray) -> None:
        """Append one frame.

        Args:
            frame_bgr: ``(height, width, 3)`` uint8 BGR image.

        Raises:
            ValueError: Wrong shape or dtype.
            MediaError: The encoder stopped (disk full, killed...).
        """
        if self._proc is None or self._done:
            raise RuntimeError("VideoWriter is not open; use it in a 'with' block")
        if frame_bgr.shape != (self.height, self.width, 3) or frame_bgr.dtype != np.uint8:
            raise ValueError(
                f"frame must be ({self.height}, {self.width}, 3) uint8, "
                f"got {frame_bgr.shape} {frame_bgr.dtype}"
            )
        if self.planar:
            self._put(bgr_to_yuv420_planes(frame_bgr, self._colour))
        else:
            self._put(bgr_to_yuv444_planes(frame_bgr, self._colour))

    def write_patched(self, frame_bgr: np.ndarray, patch: Patch) -> None:
        """Append ``frame_bgr`` with ``patch`` written in (``((x0, y0, x1, y1), pixels)`` or
        None), without changing ``frame_bgr``.

        A planar writer given a frame that carries its source planes converts only the pixels
        the patch changed (see :func:`lipcore.media.planar.patched_planes`); otherwise this is
        :meth:`write` of the patched frame.

        Raises:
            ValueError: Wrong shape or dtype.
            MediaError: The encoder stopped.
        """
        planes = planes_of(frame_bgr, self._colour) if self.planar else None
        if planes is None or frame_bgr.shape != (self.height, self.width, 3):
            if patch is not None:
                (x0, y0, x1, y1), pixels = patch
                frame_bgr = np.array(frame_bgr)
                frame_bgr[y0:y1, x0:x1] = pixels
            self.write(frame_bgr)
            return
        if self._proc is None or self._done:
            raise RuntimeError("VideoWriter is not open; use it in a 'with' block")
        self._put(patched_planes(frame_bgr, planes, patch, self._colour))

    def _put(self, planes) -> None:
        """Queue one frame's planes for the encoder; a dead encoder becomes a MediaError."""
        assert self._feed is not None and self._proc is not None
        try:
            self._feed.put(planes)
        except (BrokenPipeError, OSError) as exc:
            self._proc.wait()
            reason = _stderr_tail(self._stderr)
            self.abort()
            raise MediaError(
                f"the encoder stopped after {self.frames_written} frames ({reason or exc})",
                self.output,
                "check free disk space and that the folder is writable",
            ) from exc
        self.frames_written += 1

    def abort(self) -> None:
        """Stop encoding and remove every temp file; an existing output is left as it was."""
        if self._proc is not None:
            if self._feed is not None:
                # Kill first: a feed write blocked on a full pipe then returns.
                if self._proc.poll() is None:
                    self._proc.kill()
                self._feed.stop()
                self._feed = None
            if self._proc.stdin is not None and not self._proc.stdin.closed:
                try:
                    self._proc.stdin.close()
                except OSError:
                    pass
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None
        self._done = True
        self._cleanup()

    def __del__(self) -> None:
        # A writer dropped without close() (forgotten 'with') must not leave ffmpeg or temp files.
        try:
            if not self._done and (self._proc is not None or self._temps):
                self.abort()
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing to report to
            pass

    def _cleanup(self) -> None:
        for path in self._temps:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        self._temps.clear()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self) -> Path:
        """Finish the file: flush the encoder, mux the audio, verify, rename into place.

        Returns:
            The output path.

        Raises:
            MediaError: Encoding or muxing failed, no frame was written, or the frame count is
                not what was expected; nothing is left at the output path in that case.
        """
        if self._done:
            return self.output
        if self._proc is None:
            raise RuntimeError("VideoWriter.close() before open()")
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self._done = True
        self._cleanup()
        return self.output

    def _finish(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        if self.expected_frames is not None and self.frames_written != self.expected_frames:
            raise MediaError(
                f"only {self.frames_written} of {self.expected_frames} frames were written; "
                "the output was discarded",
                self.output,
                "render again",
            )
        if self.frames_written == 0:
            raise MediaError("no frames were written; nothing was saved", self.output)
        assert self._feed is not None
        try:
            self._feed.finish()
        except OSError as exc:
            self._proc.wait()
            raise MediaError(
                f"the encoder stopped ({_stderr_tail(self._stderr) or exc})",
                self.output,
                "check free disk space and that the folder is writable",
            ) from exc
        self._feed = None
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        rc = self._proc.wait()
        self._proc = None
        if rc != 0:
            raise MediaError(
                f"encoding failed ({_stderr_tail(self._stderr) or f'ffmpeg exit {rc}'})",
                self.output,
                "check free disk space",
            )
        final = self._video_temp
        if self.audio is not None:
            final = self._temp_path("out")
            self._mux_audio(self._video_temp, final)
        info = probe(final)
        if info.video is None or info.video.frame_count != self.frames_written:
            got = info.video.frame_count if info.video else 0
            raise MediaError(
                f"the encoded file holds {got} frames instead of {self.frames_written}",
                self.output,
                "report this as a bug with the clip's frame rate",
            )
        os.replace(final, self.output)

    def _audio_input(self) -> list[str]:
        """FFmpeg input args for the audio."""
        if isinstance(self.audio, tuple):
            samples, rate = self.audio
            samples = np.asarray(samples, dtype=np.float32)
            if samples.ndim == 1:
                samples = samples[:, None]
            if samples.ndim != 2 or samples.shape[0] == 0:
                raise ValueError("audio samples must be (n,) or (n, channels) with n > 0")
            raw = self._temp_path("audio").with_suffix(".f32")
            self._temps.append(raw)
            np.asarray(samples, "<f4").tofile(raw)  # no copy of a float32 track
            return [
                "-f", "f32le", "-ar", str(int(rate)), "-ac", str(samples.shape[1]),
                "-i", str(raw),
            ]  # fmt: skip
        return ["-i", str(self.audio)]

    def _mux_audio(self, video: Path, final: Path) -> None:
        audio_args, shift_sec = self._audio_input(), self._audio_shift_sec
        total = int(round(Fraction(self.frames_written) * OUTPUT_SAMPLE_RATE / self.fps))
        shift = int(round(shift_sec * OUTPUT_SAMPLE_RATE))
        chain = [f"aresample={OUTPUT_SAMPLE_RATE}", "asetpts=N/SR/TB"]
        if shift < 0:
            chain.append(f"atrim=start_sample={-shift}")
            chain.append("asetpts=N/SR/TB")
        elif shift > 0:
            chain.append(f"adelay=delays={shift}S:all=1")
        chain += [f"apad=whole_len={total}", f"atrim=end_sample={total}"]
        audio_codec = (
            ["-c:a", "pcm_s16le"] if self.codec == "prores" else ["-c:a", "aac", "-b:a", "192k"]
        )
        cmd = [
            ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-i", str(video), *audio_args,
            "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
            "-af", ",".join(chain), *audio_codec,
        ]  # fmt: skip
        if final.suffix.lower() in (".mp4", ".mov", ".m4v"):
            cmd += ["-movflags", "+faststart"]
        cmd.append(str(final))
        proc = subprocess.run(cmd, capture_output=True, check=False)
        if proc.returncode != 0:
            reason = proc.stderr.decode(errors="replace").strip().splitlines()
            raise MediaError(
                f"muxing the audio failed ({reason[-1] if reason else 'ffmpeg error'})",
                self.output,
                "check that the audio file plays",
            )


def write_video(
    output: str | Path,
    frames,
    width: int,
    height: int,
    fps: Fraction | float | str | tuple[int, int],
    **kwargs,
) -> Path:
    """Write an iterable of BGR frames to ``output`` (see :class:`VideoWriter` for the options).

    Args:
        output: The file to write.
        frames: Iterable of ``(height, width, 3)`` uint8 frames.
        width: Frame width.
        height: Frame height.
        fps: Exact frame rate.
        **kwargs: Passed to :class:`VideoWriter` (audio, codec, crf, sources...).

    Returns:
        The output path.
    """
    with VideoWriter(output, width, height, fps, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.output
