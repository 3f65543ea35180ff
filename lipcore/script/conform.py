"""Carry out a timing plan: the final dub, the final picture, and the lips re-synced to them.

:func:`stretch_take` speeds a take up with its pitch kept through Rubber Band (``pyrubberband``
driving Debian's ``rubberband`` command, the time-stretcher audio editors ship; phase-vocoder
alternatives smear consonants). :func:`conform_audio` places every take on its output sample,
:func:`iter_conform_picture` writes the output picture from the plan's frame map (held or
blended frames where the picture is slowed, a held frame where it is padded), and
:func:`iter_script_render` runs the lip re-sync over each line on the final picture and audio
through the public render API.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError
from lipcore.progress import Progress
from lipcore.script.lines import TAKE_RATE_HZ, LineTake
from lipcore.script.strategies import TimingPlan


def stretch_take(samples: np.ndarray, speed: float) -> np.ndarray:
    """The take played ``speed`` times faster, pitch kept (Rubber Band).

    Args:
        samples: ``(n,)`` float32 at :data:`TAKE_RATE_HZ`.
        speed: Tempo factor (> 1 = faster, shorter).

    Returns:
        ``(round(n / speed),)`` float32.

    Raises:
        LipsyncError: The ``rubberband`` program is not installed.
    """
    if abs(speed - 1.0) < 1e-6 or samples.size == 0:
        return samples.astype(np.float32)
    if shutil.which("rubberband") is None:
        raise LipsyncError(
            "speeding a line up needs the Rubber Band time-stretcher",
            fix="install it: apt-get install rubberband-cli (or brew install rubberband)",
        )
    import pyrubberband

    out = pyrubberband.time_stretch(
        samples.astype(np.float32), TAKE_RATE_HZ, speed, rbargs={"--fine": ""}
    )
    want = round(len(samples) / speed)
    out = np.asarray(out, dtype=np.float32).reshape(-1)[:want]
    return np.pad(out, (0, want - len(out)))


def conform_audio(plan: TimingPlan, takes: Mapping[int, LineTake]) -> np.ndarray:
    """The final dub: each (sped-up) take placed on its output sample, silence elsewhere.

    Args:
        plan: The timing plan.
        takes: ``{line index: take}``.

    Returns:
        ``(S,)`` float32 at :data:`TAKE_RATE_HZ`, as long as the output picture.
    """
    total = int(plan.output_frames * TAKE_RATE_HZ / plan.fps)
    out = np.zeros(total, dtype=np.float32)
    for t in plan.lines:
        y = stretch_take(takes[t.index].samples, t.speed)
        a = t.out_take_start_sample
        n = max(0, min(len(y), total - a))
        out[a : a + n] += y[:n]
    return np.clip(out, -1.0, 1.0)


def iter_conform_picture(
    video: str | Path, plan: TimingPlan, output: str | Path, audio: np.ndarray | None = None
) -> Generator[Progress, None, Path]:
    """Write the output picture of ``plan`` (frames held, blended or padded as planned).

    Args:
        video: The source clip.
        plan: The timing plan (its map must be non-decreasing, as :func:`plan_timing` makes it).
        output: Target video (H.264 ``.mp4`` at near-lossless quality, or ``.mov`` ProRes).
        audio: Samples at :data:`TAKE_RATE_HZ` to mux, or None.

    Yields:
        Progress per 25 frames.

    Returns:
        ``output``.
    """
    from lipcore.media.decode import VideoReader
    from lipcore.media.encode import VideoWriter

    output = Path(output)
    codec = "prores" if output.suffix.lower() == ".mov" else "h264"
    with VideoReader(video) as reader:
        n_src = reader.frame_count
        frames = reader.iter_frames(0, n_src)
        cache: dict[int, np.ndarray] = {}
        next_src = 0

        def frame(i: int) -> np.ndarray:
            nonlocal next_src
            i = min(max(i, 0), n_src - 1)
            while next_src <= i:
                j, img = next(frames)
                cache[j] = img
                next_src = j + 1
            for old in [k for k in cache if k < i - 1]:
                del cache[old]
            return cache[i]

        with VideoWriter(
            output,
            reader.width,
            reader.height,
            plan.fps,
            audio=(audio, TAKE_RATE_HZ) if audio is not None else None,
            codec=codec,
            sources=[video],
            expected_frames=plan.output_frames,
            color_from=video,
        ) as writer:
            for k, pos in enumerate(plan.picture_map):
                lo = int(np.floor(pos))
                frac = float(pos - lo)
                img = frame(lo)
                if frac > 1e-6 and lo + 1 < n_src:
                    nxt = frame(lo + 1)
                    img = (img.astype(np.float32) * (1 - frac) + nxt * frac + 0.5).astype(np.uint8)
                writer.write(img)
                if k % 25 == 0:
                    yield Progress(k, plan.output_frames, "conforming picture")
    return output


@dataclass(frozen=True)
class ScriptRender:
    """Outcome of :func:`iter_script_render`.

    Attributes:
        output: The lip-synced video.
        plan: The timing plan it follows.
        dub: The final dub (written next to the output as ``<stem>.dub.wav``).
        frames_changed: Frames the lip re-sync changed.
    """

    output: Path
    plan: TimingPlan
    dub: Path
    frames_changed: int


def iter_script_render(
    video: str | Path,
    plan: TimingPlan,
    takes: Mapping[int, LineTake],
    output: str | Path,
) -> Generator[Progress, None, ScriptRender]:
    """Conform picture and dub to ``plan``, then re-sync the lips over every line.

    Args:
        video: The source clip (never overwritten).
        plan: From :func:`lipcore.script.strategies.plan_timing`.
        takes: ``{line index: take}``.
        output: The final video (.mp4 or .mov).

    Yields:
        Progress of the conform and of the render.

    Returns:
        A :class:`ScriptRender`.
    """
    import soundfile as sf

    from lipcore.render.pipeline import iter_render
    from lipcore.render.request import RenderRequest, SegmentSpec

    output = Path(output)
    dub = conform_audio(plan, takes)
    dub_path = output.with_name(f"{output.stem}.dub.wav")
    sf.write(str(dub_path), dub, TAKE_RATE_HZ, subtype="PCM_16")
    with tempfile.TemporaryDirectory(prefix="lipsync-conform-", dir=output.parent) as tmp:
        identity = np.array_equal(plan.picture_map, np.arange(plan.output_frames))
        picture = Path(video)
        if not identity:
            picture = yield from iter_conform_picture(video, plan, Path(tmp) / "picture.mp4")
        segments = tuple(
            SegmentSpec(*t.out_take_frames) for t in plan.lines if t.out_slot_frames > 0
        )
        # A conformed picture has no sound of its own: the engine learns the actor's mouth
        # from the source clip instead.
        footage = () if identity else (Path(video),)
        result = yield from iter_render(
            RenderRequest(
                video=picture, audio=dub_path, output=output, segments=segments, footage=footage
            )
        )
    return ScriptRender(output, plan, dub_path, result.frames_changed)
