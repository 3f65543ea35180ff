"""Guide-track alignment of a dub track: warp the take onto the original dialogue's timing.

The take is the dub track's audio where it lies on the clip; the guide is the same stretch of the
clip's own dialogue (or of another track). :func:`lipcore.script.guide.align_to_guide` plans the
warp on 16 kHz features, the map is scaled to 48 kHz and applied with Rubber Band, and the result
is written as a new file that the document adds as a new track at the take's place (the take's
own track is kept, so the editor can compare and mute either).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from editor.model.job_process import ProcessCall
from lipcore.errors import LipsyncError
from lipcore.progress import Progress

#: Rate the alignment is planned at (the tracks' clock).
PLAN_RATE = 16000
#: Rate of the warped take written to disk.
OUT_RATE = 48000


@dataclass(frozen=True)
class AlignedTake:
    """A warped take, ready to add as a track.

    Attributes:
        path: The warped take (48 kHz float WAV).
        name: Suggested track name.
        offset_samples: Where it plays (the take's own offset, 16 kHz samples).
        alignment: The :class:`lipcore.script.guide.GuideAlignment` (at 16 kHz), whose largest
            stretch/squeeze, mean shift and ``capped`` flag say how much was warped.
    """

    path: Path
    name: str
    offset_samples: int
    alignment: Any

    def summary(self) -> str:
        """The amount of warp in words, for a notification."""
        a = self.alignment
        text = (
            f"warped by {a.mean_shift_ms:.0f} ms on average, speech at most "
            f"{a.max_stretch:.2f}x slower and {a.max_squeeze:.2f}x faster"
        )
        return text + (
            " (cap reached: some words follow the guide less closely)" if a.capped else ""
        )


def _placed(samples: np.ndarray, offset: int, start: int, length: int) -> np.ndarray:
    """``length`` samples from clip sample ``start`` of audio that starts at ``offset``."""
    out = np.zeros(length, np.float32)
    a = start - offset
    lo, hi = max(a, 0), min(a + length, len(samples))
    if hi > lo:
        out[lo - a : hi - a] = samples[lo:hi]
    return out


def _track_audio(video: Path | None, track: Any, rate: int) -> tuple[np.ndarray, int]:
    """A track's mono samples at ``rate`` and its offset in those samples."""
    from lipcore.render.mix import load_speech

    if track.is_original:
        if video is None:
            raise LipsyncError("the project has no clip", fix="open a video first")
        return load_speech(video, rate), 0
    return load_speech(track.media.path, rate), track.offset_samples * rate // PLAN_RATE


def iter_align_track(
    doc: Any, take_id: str, guide_id: str, out_dir: str | Path, max_warp: float = 1.5
) -> Generator[Progress, None, AlignedTake]:
    """Warp track ``take_id`` onto track ``guide_id`` over the take's stretch of the clip.

    The tracks are looked up (and the choice checked) when this is called, on the caller's
    thread; the returned generator only reads files, so a worker thread may run it while the
    document goes on changing.

    Args:
        doc: The document.
        take_id: The dub track to warp.
        guide_id: The guide (the original track, or another dub).
        out_dir: Folder for the warped file.
        max_warp: Cap on the local stretch or squeeze of speech.

    Returns:
        A generator yielding progress of loading, aligning and warping and returning the
        :class:`AlignedTake` (add it with ``doc.add_audio_track``).

    Raises:
        LipsyncError: The same track twice, or the original as the take (at once); silent
            audio, lengths beyond the cap, or no Rubber Band (while the generator runs).
    """
    return align_track_job(doc, take_id, guide_id, out_dir, max_warp)()


def align_track_job(
    doc: Any, take_id: str, guide_id: str, out_dir: str | Path, max_warp: float = 1.5
) -> ProcessCall:
    """:func:`iter_align_track` as a job for a worker process (checked at once, run later).

    The editor's background queue runs it in its worker process: the alignment and the warp
    hold the GIL for seconds, which in a thread of the editor would stall its event loop.

    Raises:
        LipsyncError: As :func:`iter_align_track`, at once.
    """
    take, guide = doc.track(take_id), doc.track(guide_id)
    if take.is_original:
        raise LipsyncError("the clip's own audio is the guide, not a take", fix="pick a dub")
    if take_id == guide_id:
        raise LipsyncError("the take and the guide are the same track", fix="pick another guide")
    video = doc.project.video.path if doc.project.video is not None else None
    return ProcessCall(_iter_align, (take, guide, video, Path(out_dir), max_warp))


def _iter_align(
    take: Any, guide: Any, video: Path | None, out_dir: Path, max_warp: float
) -> Generator[Progress, None, AlignedTake]:
    from lipcore.render.multi import write_wav
    from lipcore.script.guide import align_to_guide, warp_take

    yield Progress(0, 3, "loading the take and the guide")
    take16, t_off = _track_audio(video, take, PLAN_RATE)
    guide16 = _placed(*_track_audio(video, guide, PLAN_RATE), t_off, len(take16))
    if float(np.abs(guide16).max(initial=0.0)) < 1e-4:
        raise LipsyncError(
            f"{guide.name} is silent where {take.name} plays",
            fix="slide the take over the guide's line first",
        )
    yield Progress(1, 3, "aligning to the guide")
    alignment = align_to_guide(take16, guide16, PLAN_RATE, max_warp=max_warp)
    yield Progress(2, 3, "warping the take")
    take48, _ = _track_audio(video, take, OUT_RATE)
    k = OUT_RATE // PLAN_RATE
    scaled = replace(
        alignment,
        time_map=tuple((a * k, b * k) for a, b in alignment.time_map[:-1])
        + ((len(take48), len(guide16) * k),),
    )
    warped = warp_take(take48, OUT_RATE, scaled)
    digest = hashlib.blake2b(repr(alignment.time_map).encode(), digest_size=6).hexdigest()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{Path(take.media.path).stem}.aligned-{digest}.wav"
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.wav")
    write_wav(tmp, warped, OUT_RATE)
    os.replace(tmp, path)
    yield Progress(3, 3, "aligned")
    return AlignedTake(path, f"{take.name} aligned", take.offset_samples, alignment)
