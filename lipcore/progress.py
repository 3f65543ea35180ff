"""Progress records yielded by long operations, and the draining helper that shows a tqdm bar."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One step of a long operation.

    Attributes:
        done: Units finished so far.
        total: Units in all (0 when unknown).
        stage: Short label of the current stage ("detecting faces", "rendering").
        preview_frame: Optional BGR uint8 frame to show the user.
        chunk_sync: Optional sync confidence of the chunk just finished.
    """

    done: int
    total: int
    stage: str = ""
    preview_frame: np.ndarray | None = None
    chunk_sync: float | None = None


class Job(Generic[T]):
    """Wraps a generator yielding :class:`Progress` and returning a result of type ``T``.

    Iterate it to drive the work (cancel = stop iterating and call :meth:`close`); after the
    iteration finishes, :attr:`result` holds the generator's return value.
    """

    def __init__(self, gen: Iterator[Progress]):
        self._gen = gen
        self.result: T | None = None

    def __iter__(self) -> Iterator[Progress]:
        self.result = yield from self._gen  # type: ignore[misc]

    def close(self) -> None:
        """Stop the work early; the generator's ``finally`` blocks clean up."""
        close = getattr(self._gen, "close", None)
        if close is not None:
            close()


def drain(gen: Iterator[Progress], show: bool = True, desc: str = "") -> Any:
    """Run a progress generator to the end, showing a tqdm bar, and return its result.

    Args:
        gen: A generator yielding :class:`Progress` and returning the result.
        show: Whether to draw a progress bar on stderr.
        desc: Label in front of the bar (the stage label is shown after it).

    Returns:
        Whatever the generator returned.
    """
    from tqdm import tqdm

    job: Job[Any] = Job(gen)
    bar = tqdm(total=0, desc=desc, unit="f", disable=not show, leave=False, dynamic_ncols=True)
    stage = None
    try:
        for step in job:
            if step.stage != stage:
                stage = step.stage
                bar.set_description(f"{desc} {stage}".strip())
            if step.total and bar.total != step.total:
                bar.reset(total=step.total)
            bar.n = step.done
            bar.refresh()
    finally:
        bar.close()
        job.close()
    return job.result
