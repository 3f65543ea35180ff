"""Draft renders of selected segments: fast, small, for review, never used by an export.

A draft is rendered with :func:`lipcore.draft.iter_draft` over the span of the segments into
``<render cache>/drafts/``, *not* into the render cache itself: the segments keep their render
state, so an export still renders (or reuses) each segment's full-quality chunk. A draft stays
current while the segments' render parameters are the ones it was made with.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editor.model.job_process import ProcessCall
from lipcore.media.encode import DRAFT_CRF
from lipcore.progress import Progress

#: Render-queue key prefix of draft jobs (segment jobs are keyed by the bare segment id).
DRAFT_PREFIX = "draft:"
#: Size of a draft relative to the clip.
DRAFT_SCALE = 0.5


@dataclass(frozen=True)
class DraftJob:
    """A planned draft render.

    Attributes:
        key: Render-queue key (``draft:`` + the first segment id).
        segment_ids: The drafted segments.
        params_hashes: Each segment's render-parameter hash when planned.
        first_frame: First clip frame of the draft.
        end_frame: Frame after its last.
        output: The draft file.
        label: Job name for the jobs panel.
        run: Zero-argument callable returning the generator a worker drains.
    """

    key: str
    segment_ids: tuple[str, ...]
    params_hashes: tuple[str, ...]
    first_frame: int
    end_frame: int
    output: Path
    label: str
    run: Callable[[], Generator[Progress, None, Any]]


def draft_job(planner: Any, segment_ids: list[str], scale: float = DRAFT_SCALE) -> DraftJob:
    """Plan a draft of ``segment_ids`` (one dub track and face, as for a render pass).

    Args:
        planner: The window's :class:`~editor.model.planner.RenderPlanner`.
        segment_ids: Segments to draft together (their span is rendered).
        scale: Draft size relative to the clip.

    Raises:
        LipsyncError: The segments cannot be rendered together (the reason names the fix).
    """
    from lipcore.draft import iter_draft

    doc = planner.document
    ids = tuple(dict.fromkeys(segment_ids))
    segs = [doc.segment(i) for i in ids]
    hashes = tuple(doc.params_hash(i) for i in ids)
    first = min(s.start_frame for s in segs)
    end = max(s.end_frame for s in segs)
    output = doc.render_cache.root / "drafts" / f"{'-'.join(hashes)[:60]}.draft.mp4"
    output.parent.mkdir(parents=True, exist_ok=True)
    request = planner.request(list(ids), output, crf=DRAFT_CRF)

    run = ProcessCall(iter_draft, (request, first, end, scale))
    label = f"Draft {first}–{end}"
    return DraftJob(DRAFT_PREFIX + ids[0], ids, hashes, first, end, output, label, run)


class DraftShelf:
    """The finished drafts of a session, by segment; a draft goes stale with its segment."""

    def __init__(self, document: Any):
        self.document = document
        self._drafts: dict[str, tuple[str, Path, int]] = {}

    def record(self, job: DraftJob) -> Path:
        """Remember a finished draft for each of its segments; returns the draft file."""
        for sid, h in zip(job.segment_ids, job.params_hashes, strict=True):
            self._drafts[sid] = (h, job.output, job.first_frame)
        return job.output

    def current(self, segment_id: str) -> tuple[Path, int] | None:
        """``(draft file, clip frame of its frame 0)`` while the segment is unchanged, or None."""
        entry = self._drafts.get(segment_id)
        if entry is None or self.document is None or not entry[1].exists():
            return None
        from editor.model.errors import EditError

        try:
            if self.document.params_hash(segment_id) != entry[0]:
                return None
        except EditError:  # the segment was deleted
            return None
        return entry[1], entry[2]
