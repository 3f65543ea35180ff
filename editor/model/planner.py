"""The render planner: the project turned into render jobs, export passes and the sound mix.

The one place (Qt-free, driven by tests) that decides what a render or an export does:

- :meth:`RenderPlanner.segment_job`: the job that re-renders one segment into its chunk (only
  the segment's frames; nothing when its chunk already exists), built from
  :meth:`lipcore.project.Project.render_request`;
- :meth:`RenderPlanner.record_segment`: a finished job's chunk into the render cache and the
  document (stale when the segment changed meanwhile);
- the chunk store's size: after a segment job has written a new chunk it prunes the store to
  :attr:`RenderPlanner.chunk_cache_bytes` (least recently used first, never a chunk of the open
  project; :func:`lipcore.render.chunks.prune_chunks`);
- :meth:`RenderPlanner.export_plan` / :func:`iter_export`: the export's passes (one per dub
  track, face and edit region), its mix of the audible tracks, and one splice pass that reuses
  every chunk already rendered;
- :meth:`RenderPlanner.mix_tracks`: the audible tracks as the one mixer
  (:func:`lipcore.render.mix.mix_tracks`) takes them, for the preview player and the export.

The main window only wires actions to these and shows results. The planner holds the session's
:class:`~lipcore.render.warm.WarmState`, so every segment of a face uses one prepared engine.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from editor.model.job_process import ProcessCall
from lipcore.errors import LipsyncError
from lipcore.media.encode import DEFAULT_CRF
from lipcore.progress import Progress
from lipcore.render.chunks import CHUNK_CACHE_BYTES, CHUNK_SUFFIX
from lipcore.render.mix import MIX_DUCK_GAIN, OUTPUT_AUDIO_RATE, MixTrack, duck_db
from lipcore.render.request import RenderRequest
from lipcore.render.warm import WarmState


def new_render_cache(root: str | Path | None = None):
    """The editor's render cache of segment chunks (``<cache>/renders/<hash>.lschunk``)."""
    from editor.model.jobs import RenderCache

    return RenderCache(root, suffix=CHUNK_SUFFIX)


@dataclass(frozen=True)
class SegmentJob:
    """A planned segment render.

    Attributes:
        segment_id: The segment.
        params_hash: Its render-parameter hash when planned.
        label: Job name for the jobs panel.
        request: The pipeline request (one segment).
        run: Zero-argument callable returning the generator a worker drains (a
            :class:`~editor.model.job_process.ProcessCall`: the editor runs it in its worker
            process).
    """

    segment_id: str
    params_hash: str
    label: str
    request: RenderRequest
    run: Callable[[], Generator[Progress, None, Any]]


@dataclass(frozen=True)
class ExportPlan:
    """A planned export.

    Attributes:
        output: The file to write.
        passes: One request per (dub track, face, edit region).
        mix: The audible tracks of the output's sound.
        total_samples: Length of the sound at 48 kHz (the picture's duration).
        clip: The clip (whose own sound a ``MixTrack(None)`` is).
        silent: True when nothing is audible (every track muted).
    """

    output: Path
    passes: tuple[RenderRequest, ...]
    mix: tuple[MixTrack, ...]
    total_samples: int
    clip: Path
    silent: bool


class RenderPlanner:
    """Plans renders and exports of a :class:`~editor.model.document.Document`.

    Args:
        document: The document (its project, render cache, audible tracks).
        checkpoint: Weights for neural engines (from the settings), or None.
        warm: The session's warm state (a new one by default).
        chunk_cache_bytes: Size the chunk store is pruned to after a new chunk (the setting
            ``chunk_cache_gb``); None never prunes.
    """

    def __init__(
        self,
        document: Any,
        checkpoint: str | Path | None = None,
        warm=None,
        chunk_cache_bytes: int | None = CHUNK_CACHE_BYTES,
    ):
        self.document = document
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.warm = warm if warm is not None else WarmState()
        self.chunk_cache_bytes = chunk_cache_bytes

    def referenced_renders(self) -> list[Path]:
        """The rendered chunks the open project's segments point to (never pruned)."""
        return [
            Path(s.render.output_path)
            for s in self.document.project.segments
            if s.render.output_path
        ]

    # -- segments ----------------------------------------------------------------------------

    def request(
        self,
        segment_ids: list[str],
        output: Path,
        audio_mix: str = "dub",
        crf: int = DEFAULT_CRF,
    ) -> RenderRequest:
        """The pipeline request for segments sharing one dub track, face and region.

        Raises:
            LipsyncError: No clip, a segment without a dub track, or mixed tracks/faces.
        """
        return self.document.project.render_request(
            segment_ids, output, checkpoint=self.checkpoint, audio_mix=audio_mix, crf=crf
        )

    def segment_job(self, segment_id: str, tracks: Any) -> SegmentJob:
        """The job re-rendering ``segment_id`` into its chunk.

        Args:
            segment_id: The segment.
            tracks: The clip's face tracks (None: found by the job, from the disk cache). A
                worker process is sent a reference to their cache entry, not the landmarks
                (:mod:`lipcore.face.track_ref`).

        Raises:
            LipsyncError: The segment cannot be rendered (the reason names the fix).
        """
        doc = self.document
        seg = doc.segment(segment_id)
        params_hash = doc.params_hash(segment_id)
        unused = doc.render_cache.root / f"{params_hash}.unused.mp4"
        request = self.request([segment_id], unused)
        warm = self.warm
        label = seg.label or f"Segment {seg.start_frame}–{seg.end_frame}"
        if request.face.boxes:  # a hand-drawn face: its track comes from the boxes, not detection
            tracks = None

        limit = self.chunk_cache_bytes
        # Looked up now, on the document's thread; the job prunes in the worker.
        keep = self.referenced_renders() if limit is not None else []
        linked = [doc.render_cache.root] if limit is not None else []

        run = ProcessCall(
            iter_segment_chunk,
            (request, tracks, limit, tuple(keep), tuple(linked)),
            {"warm": warm},
            session=("warm",),
        )
        return SegmentJob(segment_id, params_hash, label, request, run)

    def record_segment(self, segment_id: str, params_hash: str, result: Any) -> Path:
        """Put a finished segment render into the render cache and mark the segment rendered.

        The chunk stays in lipcore's chunk store (where an export finds it by content) and is
        linked into the render cache under the segment's parameter hash.

        Returns:
            The cached chunk.
        """
        cache = self.document.render_cache
        target = cache.path_for(params_hash)
        produced = Path(result.output)
        # Already linked (the same render recorded again, e.g. after an undo): rename() of two
        # links to one file does nothing and would leave the temporary link behind.
        if not (target.exists() and os.path.samefile(produced, target)):
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                os.link(produced, tmp)
            except OSError:
                shutil.copyfile(produced, tmp)
            try:
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        cache.remember(params_hash, target)
        if self.document.project.segments and any(
            s.id == segment_id for s in self.document.project.segments
        ):
            engines = getattr(result, "engines", None) or ()
            self.document.mark_rendered(segment_id, target, params_hash, engines)
        return target

    # -- export ------------------------------------------------------------------------------

    def mix_tracks(self, audio_mix: str = "mix") -> list[MixTrack]:
        """The audible tracks as the mixer takes them.

        Args:
            audio_mix: "mix" keeps an audible original track (ducked in exports: see
                :meth:`export_plan`), "dub" leaves the clip's own sound out.
        """
        p = self.document.project
        out = []
        for t in self.document.audible_tracks():
            if t.media is not None:
                out.append(MixTrack(t.media.path, t.offset_samples, t.gain_db))
            elif audio_mix == "mix" and p.video_has_audio:
                out.append(MixTrack(None, 0, t.gain_db))
        return out

    def exportable_segments(self) -> list[Any]:
        """Segments an export re-syncs (those driven by a dub track), in time order."""
        return [s for s in self.document.project.sorted_segments() if s.audio_track_id is not None]

    def export_plan(
        self, output: Path, audio_mix: str = "dub", crf: int = DEFAULT_CRF
    ) -> ExportPlan:
        """Group the segments into passes and build the export's sound.

        Raises:
            LipsyncError: No segment driven by a dub track, or a group that cannot render.
        """
        from lipcore.timebase import frame_to_sample

        p = self.document.project
        if p.video is None:
            raise LipsyncError("open a clip first")
        segments = self.exportable_segments()
        if not segments:
            raise LipsyncError(
                "no segment is driven by a dub track",
                fix="create a segment driven by a dub track before exporting",
            )
        groups: dict[tuple[Any, ...], list[str]] = {}
        for seg in segments:
            region = tuple(seg.options.region) if seg.options.region is not None else None
            groups.setdefault((seg.audio_track_id, seg.face_track_id, region), []).append(seg.id)
        # Every pass only drives its face; the mix is muxed once by the splice pass.
        passes = tuple(self.request(ids, output, "dub", crf) for ids in groups.values())
        mix = [t for t in self.mix_tracks(audio_mix) if t.path is not None]
        if audio_mix == "mix" and p.video_has_audio:
            originals = [t for t in p.audio_tracks if t.is_original]
            audible = self.document.audible_tracks()
            heard = [t for t in originals if t in audible]
            if not originals:
                mix.append(MixTrack(None, 0, duck_db(MIX_DUCK_GAIN)))
            elif heard:  # a muted original stays silent in "mix" too
                mix.append(MixTrack(None, 0, duck_db(MIX_DUCK_GAIN) + heard[0].gain_db))
        total = frame_to_sample(p.frame_count, p.fps, OUTPUT_AUDIO_RATE)
        return ExportPlan(Path(output), passes, tuple(mix), total, p.video.path, not mix)

    def export_job(self, plan: ExportPlan, tracks: Any) -> Callable[[], Generator]:
        """The zero-argument callable a worker runs to export ``plan``."""
        warm = self.warm
        if any(r.face.boxes for r in plan.passes):  # hand-drawn faces need their box tracks
            tracks = None
        return ProcessCall(iter_export, (plan, tracks), {"warm": warm}, session=("warm",))


def iter_segment_chunk(
    request: RenderRequest,
    tracks: Any,
    limit: int | None,
    keep: tuple[Path, ...],
    linked: tuple[Path, ...],
    warm: WarmState | None = None,
) -> Generator[Progress, None, Any]:
    """Render one segment's chunk, then prune the chunk store to ``limit`` bytes.

    Args:
        request: The one-segment pipeline request.
        tracks: The clip's face tracks (None: from the disk cache, or the hand-drawn boxes).
        limit: Size the chunk store is pruned to after a new chunk; None never prunes.
        keep: Chunks never pruned (the open project's).
        linked: Folders whose links count as uses of a chunk.
        warm: The session's warm state.

    Returns:
        What :func:`lipcore.render.splice.iter_render_segment` returns.
    """
    from lipcore.render.splice import iter_render_segment

    result = yield from iter_render_segment(request, 0, tracks=tracks, warm=warm)
    if limit is not None and result.rendered_segments:
        from lipcore.render.chunks import prune_chunks

        prune_chunks(limit, keep=[*keep, result.output], linked=list(linked))
    return result


def iter_export(
    plan: ExportPlan, tracks: Any, warm: WarmState | None = None
) -> Generator[Progress, None, Any]:
    """Mix the sound, render the segments that have no chunk yet, splice once, encode once.

    Args:
        plan: From :meth:`RenderPlanner.export_plan`.
        tracks: The clip's face tracks.
        warm: The session's warm state.

    Returns:
        The :class:`~lipcore.render.multi.SpeakersResult`.
    """
    from lipcore.render.mix import mixed_wav
    from lipcore.render.multi import iter_render_speakers

    # Mixing reads every dub file: done here, in the worker, not on the GUI thread, block by
    # block into a temporary WAV beside the output (a 30-minute mix is 690 MB as one array).
    # Stereo: a stereo dub (or clip sound) stays stereo in the export; mono plays on both sides.
    passes = [replace(r, output=plan.output) for r in plan.passes]
    folder = Path(plan.output).resolve().parent
    with mixed_wav(
        plan.mix, plan.total_samples, OUTPUT_AUDIO_RATE, clip=plan.clip, channels=2, folder=folder
    ) as sound:
        return (
            yield from iter_render_speakers(passes, plan.output, sound, tracks=tracks, warm=warm)
        )
