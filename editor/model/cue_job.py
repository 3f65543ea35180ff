"""The mouth-cue job of a dub track: load its file and make its cues, in a worker process.

A module-level generator with picklable arguments, so the editor's background queue runs it
as a :class:`~editor.model.job_process.ProcessCall` in its worker process (the phone
recogniser and the cue maker hold the GIL for seconds; in a thread of the editor they would
stall its event loop). Called directly it runs wherever it is iterated.
"""

from __future__ import annotations

from collections.abc import Generator
from fractions import Fraction
from pathlib import Path
from typing import Any


def iter_file_cues(
    path: str | Path, fps: Fraction, text: str | None, recogniser: str
) -> Generator[Any, None, Any]:
    """Load the dub track's file at ``path`` and make its mouth cues.

    Args:
        path: The dub track's audio file.
        fps: Frame rate the cues snap to.
        text: Dialogue text to follow (English), or None.
        recogniser: Without text: "phones" or "words".

    Returns:
        What :func:`lipcore.cues.make.iter_mouth_cues` returns (the track's cues).
    """
    from lipcore.cues.make import CueConfig, iter_mouth_cues
    from lipcore.media.audio import load_audio

    audio = load_audio(path)
    return (yield from iter_mouth_cues(audio, CueConfig(fps=fps), text, recogniser))
