"""The editable document: a :class:`~lipcore.project.Project`, its undo log, path and dirty flag.

Every edit is a method here that pushes a command (see :mod:`editor.model.commands`), so the
timeline, menus, scripts and tests share one path and one undo history (pitivi records at the
model, not the widget). Views observe the document through :attr:`Document.changed`, a plain list
of callables ``f(event_name, payload)``; the Qt layer turns them into signals.

Events (payload keys):

- ``project_changed`` ``{"id": None, "fields"}``: project fields; ``"video"`` among the fields
  means another clip was opened (also ``fps``, ``frame_count``, ``face_tracks``).
- ``track_added`` ``{"id", "index"}``, ``track_removed`` ``{"id"}``, ``track_changed``
  ``{"id", "fields"}``.
- ``segment_added`` / ``segment_removed`` / ``segment_changed``: same keys as tracks.
- ``export_changed`` ``{"id": None, "fields"}``.
- ``render_state_changed`` ``{"id", "status"}``: a segment's render status changed (rendered,
  failed, or became stale/done again because its parameters changed or were undone).
- ``dirty_changed`` ``{"dirty"}``, ``undo_changed`` ``{"can_undo", "can_redo", "undo_text",
  "redo_text"}``, ``saved`` ``{"path"}``, ``loaded`` ``{"path"}``.

Segments on one face lane never overlap: creation clamps to the free gap (or refuses with
:class:`~editor.model.errors.EditError` when there is none), trimming stops at the neighbours.
The lane of a segment is its face track; ``None`` ("auto") means the main face, which is the first
id of :attr:`Project.face_tracks` once faces are tracked.

Render results are derived data: :meth:`Document.mark_rendered` / :meth:`mark_failed` change the
segment's render state and make the document dirty but are not undo steps; after every edit,
undo and redo the render states are re-derived from the parameter hashes (and the render cache),
so undoing an option change brings back the segment's "done" state. A "done" segment whose
rendered file has disappeared (cache cleared) turns "stale".

Threading: a document belongs to the GUI thread. Workers never call it; their results come back
through signals and the GUI thread calls :meth:`Document.mark_rendered` and friends.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from types import EllipsisType
from typing import Any

from editor.model.commands import InsertItem, RemoveItem, SetFields
from editor.model.errors import EditError
from editor.model.undo import UndoLog
from lipcore.errors import ProjectError
from lipcore.project import (
    SAMPLE_RATE_HZ,
    AudioTrack,
    FaceTracksRef,
    MediaRef,
    Project,
    RelinkResult,
    RenderState,
    Segment,
    SegmentOptions,
    load_project,
    new_id,
    save_project,
)
from lipcore.render.request import DRIVES

Listener = Callable[[str, dict[str, Any]], None]
_log = logging.getLogger(__name__)

#: Segment fields :meth:`Document.set_segment_options` accepts besides :class:`SegmentOptions`.
SEGMENT_FIELDS = ("engine", "audio_track_id", "face_track_id", "label", "drive")
#: Engines the editor offers by default (the render pipeline may know more).
DEFAULT_ENGINE = "auto"


class Document:
    """A project being edited.

    Args:
        project: The project (a new empty one by default).
        path: Its ``*.lsproj`` file, or None while unsaved.
        render_cache: Optional :class:`~editor.model.jobs.RenderCache`; when given, segments
            whose current parameters were rendered before are marked "done" from the cache.

    Attributes:
        project: The edited :class:`~lipcore.project.Project` (read it freely; change it only
            through the methods).
        undo_log: The :class:`~editor.model.undo.UndoLog`.
        path: The project file, or None.
        changed: Listeners ``f(event_name, payload)``.
    """

    def __init__(
        self,
        project: Project | None = None,
        path: str | Path | None = None,
        render_cache: Any = None,
    ):
        self.project = project or Project()
        self.path = Path(os.path.abspath(path)) if path is not None else None
        self.render_cache = render_cache
        self.undo_log = UndoLog()
        self.changed: list[Listener] = []
        #: Exceptions raised by listeners (logged, not propagated); tests assert it stays empty.
        self.listener_errors: list[Exception] = []
        self._extra_dirty = False  # changes outside the undo log (render results)
        self._was_dirty = False
        self._refresh_pending = False
        self.undo_log.listeners.append(self._on_undo_log_changed)
        self._refresh_render_states(emit=False)

    # ------------------------------------------------------------------ file

    @classmethod
    def load(cls, path: str | Path, render_cache: Any = None) -> Document:
        """Open a project file.

        Args:
            path: A ``*.lsproj`` file.
            render_cache: See the class.

        Returns:
            A clean document with an empty undo history.

        Raises:
            ProjectError: The file cannot be read (see :func:`lipcore.project.load_project`).
        """
        doc = cls(load_project(path), path, render_cache=render_cache)
        doc._emit("loaded", {"path": doc.path})
        return doc

    @classmethod
    def recover(
        cls,
        backup_path: str | Path,
        project_path: str | Path | None = None,
        render_cache: Any = None,
    ) -> Document:
        """Open a crash backup (``*.autosave``) as unsaved changes to its project.

        Args:
            backup_path: The backup found by :func:`editor.model.autosave.find_recovery` or
                :func:`~editor.model.autosave.find_untitled_recoveries`.
            project_path: The project it belongs to (default: the backup's name without
                ``.autosave``; None for backups of never-saved projects).
            render_cache: See the class.

        Returns:
            A dirty document whose :attr:`path` is the project (saving replaces it).
        """
        from editor.model.autosave import AUTOSAVE_SUFFIX

        backup_path = Path(backup_path)
        if project_path is None and not backup_path.name.startswith("untitled-"):
            name = backup_path.name
            if name.endswith(AUTOSAVE_SUFFIX):
                project_path = backup_path.with_name(name[: -len(AUTOSAVE_SUFFIX)])
        doc = cls(load_project(backup_path), project_path, render_cache=render_cache)
        doc._extra_dirty = True
        doc._check_dirty()
        doc._emit("loaded", {"path": doc.path})
        return doc

    def save(self, path: str | Path | None = None) -> Path:
        """Save atomically to ``path`` (or the current path) and mark the document clean.

        Args:
            path: New location ("Save As"); media paths are re-relativised to it.

        Returns:
            The file written.

        Raises:
            ProjectError: No path was ever given, or the file cannot be written.
        """
        target = Path(os.path.abspath(path)) if path is not None else self.path
        if target is None:
            raise ProjectError(
                "the project has never been saved",
                None,
                "choose a file name (Save As)",
            )
        written = save_project(self.project, target)
        self.path = written
        self._extra_dirty = False
        self.undo_log.mark_clean()  # notifies -> dirty_changed
        self._emit("saved", {"path": written})
        return written

    @property
    def dirty(self) -> bool:
        """Whether there are changes since the last save or load."""
        return self._extra_dirty or not self.undo_log.is_clean

    @property
    def title(self) -> str:
        """Window-title name of the project ("Untitled" before the first save)."""
        return self.path.stem if self.path else "Untitled"

    # --------------------------------------------------------------- plumbing

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        # A failing view must not leave an edit half-recorded in the undo log: log and go on.
        for listener in list(self.changed):
            try:
                listener(event, payload)
            except Exception as exc:
                _log.exception("listener %r failed on %s", listener, event)
                self.listener_errors.append(exc)

    def _after_edit(self) -> None:
        # Inside a transaction (hundreds of subtitles at once) re-deriving after every command
        # would be quadratic: do it once when the transaction commits or rolls back.
        if self.undo_log.in_transaction or self.undo_log.busy:
            self._refresh_pending = True
        else:
            self._refresh_render_states(emit=True)

    def _on_undo_log_changed(self, log: UndoLog) -> None:
        if self._refresh_pending and not log.in_transaction and not log.busy:
            self._refresh_pending = False
            self._refresh_render_states(emit=True)
        self._emit(
            "undo_changed",
            {
                "can_undo": log.can_undo,
                "can_redo": log.can_redo,
                "undo_text": log.undo_text,
                "redo_text": log.redo_text,
            },
        )
        self._check_dirty()

    def _check_dirty(self) -> None:
        if self.dirty != self._was_dirty:
            self._was_dirty = self.dirty
            self._emit("dirty_changed", {"dirty": self._was_dirty})

    def _refresh_render_states(self, emit: bool) -> None:
        for seg in self.project.segments:
            new = self._derived_render_state(seg)
            if new != seg.render:
                seg.render = new
                if emit:
                    self._emit("render_state_changed", {"id": seg.id, "status": new.status})

    def _derived_render_state(self, seg: Segment) -> RenderState:
        h = self.project.segment_params_hash(seg)
        r = seg.render
        if r.status == "done" and r.params_hash == h:
            if r.output_path is None or Path(r.output_path).exists():
                return r
        if r.status == "failed" and r.params_hash == h:
            return r
        cached = self.render_cache.lookup(h) if self.render_cache is not None else None
        if cached is not None:
            return RenderState("done", str(cached), h)
        if r.status == "done" and r.params_hash == h:  # output deleted from the cache
            return dataclasses.replace(r, status="stale", message="rendered file is missing")
        if r.status == "done":
            return dataclasses.replace(r, status="stale")
        if r.status == "stale" and r.params_hash == h and r.output_path is not None:
            if Path(r.output_path).exists():
                return dataclasses.replace(r, status="done", message="")
        if r.status == "failed":
            return dataclasses.replace(r, status="stale" if r.output_path else "none")
        return r

    def _push(self, command: Any) -> None:
        self.undo_log.push(command)

    def undo(self) -> str:
        """Undo the last step; returns its label."""
        return self.undo_log.undo()

    def redo(self) -> str:
        """Redo the last undone step; returns its label."""
        return self.undo_log.redo()

    def seal(self) -> None:
        """Stop merging edits into the current undo step (call on mouse release)."""
        self.undo_log.seal()

    def transaction(self, text: str) -> Any:
        """Group several edits into one undo step: ``with doc.transaction("Label"): ...``."""
        return self.undo_log.transaction(text)

    # ---------------------------------------------------------------- lookups

    def track(self, track_id: str) -> AudioTrack:
        """The audio track ``track_id`` (EditError when unknown)."""
        try:
            return self.project.track(track_id)
        except KeyError:
            raise EditError(f"there is no audio track {track_id!r}") from None

    def segment(self, segment_id: str) -> Segment:
        """The segment ``segment_id`` (EditError when unknown)."""
        try:
            return self.project.segment(segment_id)
        except KeyError:
            raise EditError(f"there is no segment {segment_id!r}") from None

    def lane_of(self, face_track_id: str | None) -> str | None:
        """The face lane a segment with ``face_track_id`` occupies (None/"auto" = main face)."""
        if face_track_id in (None, "auto"):
            ft = self.project.face_tracks
            return ft.track_ids[0] if ft is not None and ft.track_ids else None
        return face_track_id

    def lane_segments(
        self, face_track_id: str | None, exclude: Iterable[str] = ()
    ) -> list[Segment]:
        """Segments on the lane of ``face_track_id``, sorted by start, minus ``exclude`` ids."""
        lane = self.lane_of(face_track_id)
        skip = set(exclude)
        segs = [
            s
            for s in self.project.segments
            if s.id not in skip and self.lane_of(s.face_track_id) == lane
        ]
        return sorted(segs, key=lambda s: s.start_frame)

    def free_gap(
        self, face_track_id: str | None, frame: int, exclude: Iterable[str] = ()
    ) -> tuple[int, int] | None:
        """The free ``(start, end)`` range around ``frame`` on a lane, or None when occupied."""
        lo = 0
        hi = self.project.frame_count if self.project.frame_count > 0 else 2**62
        for s in self.lane_segments(face_track_id, exclude):
            if s.start_frame <= frame < s.end_frame:
                return None
            if s.end_frame <= frame:
                lo = max(lo, s.end_frame)
            elif s.start_frame > frame:
                hi = min(hi, s.start_frame)
        return lo, hi

    def stale_segments(self) -> list[Segment]:
        """Segments whose render is missing or out of date ("none", "stale", "failed")."""
        return [s for s in self.project.sorted_segments() if s.render.status != "done"]

    def params_hash(self, segment_id: str) -> str:
        """Current render-parameter hash of a segment (what a render job must be tagged with)."""
        return self.project.segment_params_hash(self.segment(segment_id))

    def audible_tracks(self) -> list[AudioTrack]:
        """Tracks heard in preview/export: soloed ones if any is soloed, else the unmuted ones."""
        solo = [t for t in self.project.audio_tracks if t.solo and not t.muted]
        if any(t.solo for t in self.project.audio_tracks):
            return solo
        return [t for t in self.project.audio_tracks if not t.muted]

    def frames_to_samples(self, frames: int) -> int:
        """Frames of the clip as 16 kHz samples (exact, floored)."""
        return int(Fraction(frames) * SAMPLE_RATE_HZ / self.project.fps // 1)

    def samples_to_frames(self, samples: int) -> int:
        """16 kHz samples as clip frames (floored)."""
        return int(Fraction(samples) * self.project.fps / SAMPLE_RATE_HZ // 1)

    # ------------------------------------------------------------------ video

    def open_video(self, path: str | Path, still_seconds: float = 10.0) -> None:
        """Use ``path`` as the project's clip (undoable).

        Probes the file, stores its fps/size/frame count, adds an "Original" audio track when
        the clip has sound and the project has none, forgets face tracks of a previous clip, and
        trims or drops segments that fall outside the new clip. A still image (PNG, JPEG) opens
        as a clip of ``still_seconds`` at the still's frame rate (stored as ``still_fps``; the
        renderer holds the picture for the whole new speech).

        Args:
            path: A video file or a still image.
            still_seconds: Timeline length given to a still image.

        Raises:
            MediaError: The file is missing, not a video, or unreadable.
        """
        from lipcore.media.probe import is_still_image, probe, require_video

        info = probe(path)
        v = require_video(info)
        ref = MediaRef.from_file(path)
        still_fps = Fraction(v.fps) if is_still_image(info) else None
        frame_count = v.frame_count
        if still_fps is not None:
            frame_count = max(1, round(still_seconds * still_fps))
            v = dataclasses.replace(v, frame_count=frame_count)
        with self.transaction("Open clip"):
            self._push(
                SetFields(
                    self,
                    "Open clip",
                    "project",
                    None,
                    {
                        "video": ref,
                        "fps": v.fps,
                        "frame_count": v.frame_count,
                        "width": v.width,
                        "height": v.height,
                        "video_has_audio": info.audio is not None,
                        "face_tracks": None,
                        "still_fps": still_fps,
                    },
                )
            )
            if info.audio is not None and not any(
                t.is_original for t in self.project.audio_tracks
            ):
                self._push(
                    InsertItem(
                        self,
                        "Open clip",
                        "track",
                        AudioTrack(
                            id=new_id(),
                            name="Original",
                            media=None,
                            duration_samples=int(info.audio.duration_sec * SAMPLE_RATE_HZ),
                        ),
                        0,
                    )
                )
            for seg in list(self.project.segments):
                if seg.start_frame >= v.frame_count:
                    self._push(RemoveItem(self, "Open clip", "segment", seg.id))
                elif seg.end_frame > v.frame_count:
                    self._push(
                        SetFields(
                            self, "Open clip", "segment", seg.id, {"end_frame": v.frame_count}
                        )
                    )

    def set_face_tracks(self, ref: FaceTracksRef | None) -> None:
        """Record where the clip's face tracks are cached (after a tracking job; undoable)."""
        self._push(SetFields(self, "Track faces", "project", None, {"face_tracks": ref}))

    def record_face_tracks(self, ref: FaceTracksRef | None) -> bool:
        """Record the face tracks a tracking job found (derived data: not an undo step).

        Like :meth:`mark_rendered`, this makes the document dirty when the reference changes and
        re-derives the render states (segments rendered against other tracks turn stale); an
        identical reference changes nothing, so reopening a project does not dirty it.

        Args:
            ref: Where the tracks are cached and their ids, or None.

        Returns:
            True when the project's reference changed.
        """
        if ref == self.project.face_tracks:
            return False
        self.project.face_tracks = ref
        self._extra_dirty = True
        self._emit("project_changed", {"id": None, "fields": ["face_tracks"]})
        self._refresh_render_states(emit=True)
        self._check_dirty()
        return True

    # ----------------------------------------------------------------- tracks

    def add_audio_track(
        self,
        path: str | Path,
        name: str | None = None,
        offset_samples: int = 0,
        face_track_id: str | None = None,
    ) -> str:
        """Import an audio (or video-with-audio) file as a new track at the bottom.

        Args:
            path: The dub or TTS file.
            name: Track label (default: the file name without suffix).
            offset_samples: Where its first sample plays, 16 kHz samples from frame 0.
            face_track_id: The face it drives (None = main face).

        Returns:
            The new track's id.

        Raises:
            MediaError: The file is missing, unreadable or has no audio.
        """
        from lipcore.media.probe import probe, require_audio

        _check_int("offset_samples", offset_samples)
        info = probe(path)
        audio = require_audio(info)
        track = AudioTrack(
            id=new_id(),
            name=name or Path(path).stem,
            media=MediaRef.from_file(path),
            offset_samples=offset_samples,
            duration_samples=int(round(audio.duration_sec * SAMPLE_RATE_HZ)),
            face_track_id=face_track_id,
        )
        self._push(InsertItem(self, "Import audio", "track", track))
        return track.id

    def remove_audio_track(self, track_id: str) -> None:
        """Remove a track; segments it drove keep their range but lose their audio (undoable)."""
        self.track(track_id)
        with self.transaction("Remove track"):
            for seg in self.project.segments:
                if seg.audio_track_id == track_id:
                    self._push(
                        SetFields(
                            self, "Remove track", "segment", seg.id, {"audio_track_id": None}
                        )
                    )
            self._push(RemoveItem(self, "Remove track", "track", track_id))

    def set_track_offset(self, track_id: str, offset_samples: int, merge: bool = True) -> None:
        """Slide a track to ``offset_samples`` (16 kHz samples from frame 0).

        Consecutive calls for the same track merge into one undo step until :meth:`seal` or
        another edit (a drag or a series of nudges undoes at once).

        Args:
            track_id: The track.
            offset_samples: New offset.
            merge: Allow merging with the previous offset change of this track.
        """
        _check_int("offset_samples", offset_samples)
        if self.track(track_id).offset_samples == offset_samples:
            return
        self._push(
            SetFields(
                self, "Move track", "track", track_id, {"offset_samples": offset_samples}, merge
            )
        )

    def nudge_track(self, track_id: str, frames: int) -> None:
        """Move a track by whole frames (arrow keys); consecutive nudges merge into one step."""
        delta = self.frames_to_samples(abs(frames)) * (1 if frames >= 0 else -1)
        self.set_track_offset(track_id, self.track(track_id).offset_samples + delta, merge=True)

    def set_mute(self, track_id: str, muted: bool) -> None:
        """Mute or unmute a track (undoable)."""
        self.track(track_id)
        self._push(
            SetFields(
                self,
                "Mute track" if muted else "Unmute track",
                "track",
                track_id,
                {"muted": bool(muted)},
            )
        )

    def set_solo(self, track_id: str, solo: bool) -> None:
        """Solo or unsolo a track (undoable)."""
        self.track(track_id)
        self._push(
            SetFields(
                self,
                "Solo track" if solo else "Unsolo track",
                "track",
                track_id,
                {"solo": bool(solo)},
            )
        )

    def set_track_gain(self, track_id: str, gain_db: float, merge: bool = False) -> None:
        """Set a track's gain in dB (a slider drag passes ``merge=True``)."""
        self.track(track_id)
        self._push(
            SetFields(self, "Track gain", "track", track_id, {"gain_db": float(gain_db)}, merge)
        )

    def rename_track(self, track_id: str, name: str) -> None:
        """Rename a track (undoable)."""
        self.track(track_id)
        self._push(SetFields(self, "Rename track", "track", track_id, {"name": str(name)}))

    def set_track_face(self, track_id: str, face_track_id: str | None) -> None:
        """Choose the face a track drives; segments driven by it move to that face (undoable).

        Raises:
            EditError: A moved segment would overlap a segment already on that face.
        """
        self.track(track_id)
        with self.transaction("Assign face"):
            self._push(
                SetFields(self, "Assign face", "track", track_id, {"face_track_id": face_track_id})
            )
            moved = [s for s in self.project.segments if s.audio_track_id == track_id]
            for seg in moved:
                # Check against the lane as it is now, including segments moved just before.
                for other in self.lane_segments(face_track_id, exclude=[seg.id]):
                    if other.start_frame < seg.end_frame and seg.start_frame < other.end_frame:
                        raise EditError(
                            f"segment {seg.start_frame}-{seg.end_frame} would overlap segment "
                            f"{other.start_frame}-{other.end_frame} on face {face_track_id}",
                            fix="delete or trim one of them first",
                        )
                self._push(
                    SetFields(
                        self, "Assign face", "segment", seg.id, {"face_track_id": face_track_id}
                    )
                )

    def set_track_actor(self, track_id: str, path: str | Path | None) -> None:
        """Give a dub track's face an actor file from ``lipsync adapt`` (None: generic; undoable).

        Raises:
            LipsyncError: The file is missing or not an actor file (named, with the fix).
        """
        from lipcore.actor import read_actor
        from lipcore.project import MediaRef

        self.track(track_id)
        ref = None
        if path is not None:
            read_actor(path)
            ref = MediaRef.from_file(path)
        self._push(SetFields(self, "Set actor", "track", track_id, {"actor": ref}))

    # --------------------------------------------------------------- segments

    def _clamp_new(
        self,
        start: int,
        end: int,
        face_track_id: str | None,
        clamp: bool,
        exclude: Sequence[str] = (),
    ) -> tuple[int, int]:
        _check_int("start", start)
        _check_int("end", end)
        if end <= start:
            raise EditError(f"a segment needs end > start (got {start}..{end})")
        n = self.project.frame_count
        if n > 0:
            start, end = max(0, start), min(end, n)
            if end <= start:
                raise EditError(f"the range {start}..{end} is outside the clip (0..{n})")
        elif start < 0:
            raise EditError("a segment cannot start before frame 0")
        gap = self.free_gap(face_track_id, start, exclude)
        if gap is None or (not clamp and (gap[0] > start or gap[1] < end)):
            raise EditError(
                f"frames {start}-{end} overlap another segment on the same face",
                fix="trim or delete the other segment, or pick another face",
            )
        if clamp:
            start, end = max(start, gap[0]), min(end, gap[1])
        return start, end

    def add_segment(
        self,
        start: int,
        end: int,
        audio_track_id: str | None = None,
        face_track_id: str | None = None,
        engine: str = DEFAULT_ENGINE,
        options: SegmentOptions | None = None,
        label: str = "",
        clamp: bool = True,
        text: str = "",
        speaker: str = "",
    ) -> str:
        """Create a segment over ``[start, end)`` frames (undoable).

        Args:
            start: First frame.
            end: End frame (exclusive).
            audio_track_id: Driving track (default: the first non-original track, if any).
            face_track_id: Face (None = main face).
            engine: Engine name.
            options: Render options.
            label: Free text.
            clamp: Shrink the range to the free gap around ``start`` instead of refusing.
            text: The script line spoken in it.
            speaker: Who speaks it.

        Returns:
            The new segment's id.

        Raises:
            EditError: Empty range, outside the clip, or ``start`` lies inside another segment
                (or any overlap when ``clamp`` is False).
        """
        start, end = self._clamp_new(start, end, face_track_id, clamp)
        if audio_track_id is None:
            dubs = [t for t in self.project.audio_tracks if not t.is_original]
            audio_track_id = dubs[0].id if dubs else None
        elif audio_track_id not in {t.id for t in self.project.audio_tracks}:
            raise EditError(f"there is no audio track {audio_track_id!r}")
        options = options or SegmentOptions()
        _validate_options(options)
        seg = Segment(
            id=new_id(),
            start_frame=start,
            end_frame=end,
            audio_track_id=audio_track_id,
            face_track_id=face_track_id,
            engine=engine,
            options=options,
            label=label,
            text=text,
            speaker=speaker,
        )
        self._push(InsertItem(self, "Add segment", "segment", seg))
        return seg.id

    def split_segment(self, segment_id: str, frame: int) -> str:
        """Cut a segment at ``frame``; the right part becomes a new segment (undoable).

        Args:
            segment_id: The segment.
            frame: First frame of the right part; must lie strictly inside the segment.

        Returns:
            The id of the right part (the left part keeps ``segment_id``).
        """
        seg = self.segment(segment_id)
        if not seg.start_frame < frame < seg.end_frame:
            raise EditError(
                f"frame {frame} is not inside segment {seg.start_frame}-{seg.end_frame}",
                fix="move the playhead inside the segment",
            )
        right = dataclasses.replace(seg, id=new_id(), start_frame=frame, render=RenderState())
        with self.transaction("Split segment"):
            self._push(SetFields(self, "Split segment", "segment", seg.id, {"end_frame": frame}))
            self._push(InsertItem(self, "Split segment", "segment", right))
        return right.id

    def trim_segment(self, segment_id: str, start: int, end: int, merge: bool = False) -> None:
        """Move a segment's in/out points; they stop at neighbours and the clip ends (undoable).

        Args:
            segment_id: The segment.
            start: New first frame.
            end: New end frame (exclusive).
            merge: Merge with the previous trim of this segment (edge drags).
        """
        seg = self.segment(segment_id)
        _check_int("start", start)
        _check_int("end", end)
        if end <= start:
            raise EditError(f"a segment needs end > start (got {start}..{end})")
        gap = self.free_gap(seg.face_track_id, seg.start_frame, exclude=[seg.id])
        assert gap is not None  # the segment's own frames are free once it is excluded
        # The segment cannot jump over a neighbour: clamp to the gap it currently sits in.
        lo, hi = gap
        start, end = max(start, lo), min(end, hi)
        if end <= start:
            raise EditError("the trim leaves no frames", fix="drag the edge less far")
        if (start, end) == (seg.start_frame, seg.end_frame):
            return
        self._push(
            SetFields(
                self,
                "Trim segment",
                "segment",
                seg.id,
                {"start_frame": start, "end_frame": end},
                merge,
            )
        )

    def move_segment(self, segment_id: str, start: int, merge: bool = False) -> None:
        """Slide a segment to start at ``start``, keeping its length (undoable).

        It stops at its neighbours and the clip ends instead of jumping over them.

        Args:
            segment_id: The segment.
            start: Requested first frame.
            merge: Merge with the previous move of this segment (a drag).
        """
        seg = self.segment(segment_id)
        _check_int("start", start)
        lo, hi = self.free_gap(seg.face_track_id, seg.start_frame, exclude=[seg.id]) or (0, 0)
        length = seg.duration_frames
        start = min(max(start, lo), hi - length)
        if start == seg.start_frame:
            return
        self._push(
            SetFields(
                self,
                "Move segment",
                "segment",
                seg.id,
                {"start_frame": start, "end_frame": start + length},
                merge,
            )
        )

    def merge_segments(self, segment_ids: Sequence[str]) -> str:
        """Join segments of one face into one covering them all (undoable).

        The earliest segment is kept (with its options and audio track) and extended; the others
        are deleted. Segments of that face lying between them are refused.

        Returns:
            The id of the kept segment.
        """
        segs = sorted((self.segment(i) for i in set(segment_ids)), key=lambda s: s.start_frame)
        if len(segs) < 2:
            raise EditError("select at least two segments to merge")
        lanes = {self.lane_of(s.face_track_id) for s in segs}
        if len(lanes) != 1:
            raise EditError("only segments of the same face can be merged")
        first, end = segs[0], max(s.end_frame for s in segs)
        ids = {s.id for s in segs}
        for other in self.lane_segments(first.face_track_id, exclude=ids):
            if other.start_frame < end and first.start_frame < other.end_frame:
                raise EditError(
                    f"segment {other.start_frame}-{other.end_frame} lies between them",
                    fix="select it too, or delete it",
                )
        label = " ".join(s.label for s in segs if s.label)
        with self.transaction("Merge segments"):
            for s in segs[1:]:
                self._push(RemoveItem(self, "Merge segments", "segment", s.id))
            self._push(
                SetFields(
                    self, "Merge segments", "segment", first.id, {"end_frame": end, "label": label}
                )
            )
        return first.id

    def delete_segments(self, segment_ids: Sequence[str]) -> None:
        """Delete segments (one undo step)."""
        for i in segment_ids:
            self.segment(i)
        with self.transaction("Delete segment" if len(segment_ids) == 1 else "Delete segments"):
            for i in dict.fromkeys(segment_ids):
                self._push(RemoveItem(self, "Delete segment", "segment", i))

    def set_segment_options(self, segment_id: str, merge: bool = False, **changes: Any) -> None:
        """Change a segment's render options and/or engine, audio track, face or label.

        Any change of a render parameter makes a rendered segment "stale".

        Args:
            segment_id: The segment.
            merge: Merge with the previous change of the same fields (slider drags).
            **changes: :class:`~lipcore.project.SegmentOptions` fields (``feather_px``,
                ``mouth_strength``, ``reference``, ``neutral_frame``, ``audio_offset_samples``,
                ``region``) and/or ``engine``, ``audio_track_id``, ``face_track_id``, ``label``,
                ``drive`` ("audio" or "cues": what moves the mouth).

        Raises:
            EditError: Unknown option, invalid value, unknown track, or the new face lane has an
                overlapping segment.
        """
        seg = self.segment(segment_id)
        opt_names = {f.name for f in dataclasses.fields(SegmentOptions)}
        unknown = set(changes) - opt_names - set(SEGMENT_FIELDS)
        if unknown:
            raise EditError(f"unknown segment option(s): {', '.join(sorted(unknown))}")
        fields: dict[str, Any] = {k: v for k, v in changes.items() if k in SEGMENT_FIELDS}
        opt_changes = {k: v for k, v in changes.items() if k in opt_names}
        if "region" in opt_changes and opt_changes["region"] is not None:
            opt_changes["region"] = tuple(int(v) for v in opt_changes["region"])
        if opt_changes:
            options = dataclasses.replace(seg.options, **opt_changes)
            _validate_options(options)
            if options != seg.options:
                fields["options"] = options
        if "audio_track_id" in fields and fields["audio_track_id"] is not None:
            self.track(fields["audio_track_id"])
        if fields.get("drive", "audio") not in DRIVES:
            raise EditError(f"the mouth is driven by one of {DRIVES}, not {fields['drive']!r}")
        if "face_track_id" in fields:
            for other in self.lane_segments(fields["face_track_id"], exclude=[seg.id]):
                if other.start_frame < seg.end_frame and seg.start_frame < other.end_frame:
                    raise EditError(
                        f"face {fields['face_track_id']} already has a segment at frames "
                        f"{other.start_frame}-{other.end_frame}",
                        fix="trim or delete it first",
                    )
        fields = {k: v for k, v in fields.items() if getattr(seg, k) != v}
        if not fields:
            return
        self._push(SetFields(self, "Segment options", "segment", seg.id, fields, merge))

    def _set_strength_keys(self, seg: Segment, text: str, keys: Any, merge: bool) -> None:
        from lipcore.render.strength import check_keys

        try:
            keys = check_keys(keys)
        except ValueError as exc:
            raise EditError(str(exc)) from None
        if keys != seg.strength_keys:
            self._push(SetFields(self, text, "segment", seg.id, {"strength_keys": keys}, merge))

    def add_strength_key(self, segment_id: str, frame: int, strength: float) -> int:
        """Add a blend-strength key (clip frame, strength 0..1) to a segment (undoable).

        Returns:
            The new key's index in the sorted keys.

        Raises:
            EditError: A key already on that frame, or a ramp under four frames.
        """
        seg = self.segment(segment_id)
        _check_int("frame", frame)
        self._set_strength_keys(
            seg, "Add strength key", (*seg.strength_keys, (frame, float(strength))), False
        )
        return [k[0] for k in seg.strength_keys].index(frame)

    def move_strength_key(
        self, segment_id: str, index: int, frame: int, strength: float, merge: bool = True
    ) -> None:
        """Move key ``index`` to ``(frame, strength)``; a drag merges into one step until seal.

        Raises:
            EditError: The key would land on another key's frame or make a ramp under four frames.
        """
        seg = self.segment(segment_id)
        _check_int("frame", frame)
        keys = list(seg.strength_keys)
        keys[index] = (frame, float(strength))
        self._set_strength_keys(seg, "Move strength key", keys, merge)

    def delete_strength_key(self, segment_id: str, index: int) -> None:
        """Remove key ``index`` of a segment's strength curve (undoable)."""
        seg = self.segment(segment_id)
        keys = [k for i, k in enumerate(seg.strength_keys) if i != index]
        self._set_strength_keys(seg, "Delete strength key", keys, False)

    def segments_from_speech(
        self,
        audio_track_id: str,
        ranges_frames: Iterable[tuple[int, int]],
        face_track_id: str | None | EllipsisType = ...,
        pad_frames: int = 0,
        min_gap_frames: int = 0,
    ) -> list[str]:
        """Create segments over the speech of a track (one undo step).

        Args:
            audio_track_id: The dub track the speech was found in; segments are driven by it.
            ranges_frames: ``(start, end)`` timeline frames, end exclusive, already placed with
                the track's offset (e.g. from :func:`lipcore.audio.vad.speech_ranges`, converted by
                the caller; see :meth:`track_samples_to_frames`).
            face_track_id: Face of the new segments (default: the track's face).
            pad_frames: Frames added before and after each range.
            min_gap_frames: Ranges closer than this (after padding) are joined.

        Returns:
            Ids of the created segments, in time order. Parts of ranges already covered by a
            segment on that face are left alone.
        """
        track = self.track(audio_track_id)
        face = track.face_track_id if face_track_id is ... else face_track_id
        ranges = sorted(
            (int(a) - pad_frames, int(b) + pad_frames) for a, b in ranges_frames if int(b) > int(a)
        )
        joined: list[list[int]] = []
        for a, b in ranges:
            # touching or overlapping ranges always join; closer than min_gap_frames too
            if joined and a - joined[-1][1] < max(min_gap_frames, 1):
                joined[-1][1] = max(joined[-1][1], b)
            else:
                joined.append([a, b])
        n = self.project.frame_count
        ids: list[str] = []
        with self.transaction("Segments from speech"):
            for a, b in joined:
                a = max(0, a)
                b = min(b, n) if n > 0 else b
                for lo, hi in self._free_parts(face, a, b):
                    ids.append(self.add_segment(lo, hi, audio_track_id, face, clamp=False))
        return ids

    def _free_parts(self, face_track_id: str | None, a: int, b: int) -> list[tuple[int, int]]:
        parts, cur = [], a
        for s in self.lane_segments(face_track_id):
            if s.end_frame <= cur or s.start_frame >= b:
                continue
            if s.start_frame > cur:
                parts.append((cur, s.start_frame))
            cur = max(cur, s.end_frame)
        if cur < b:
            parts.append((cur, b))
        return parts

    def track_samples_to_frames(
        self, track_id: str, start_sample: int, end_sample: int
    ) -> tuple[int, int]:
        """A range in a track's own 16 kHz samples as timeline frames ``(start, end)``.

        Applies the track offset; the start is floored and the end rounded up, so the frames
        cover the whole range.
        """
        off = self.track(track_id).offset_samples
        fps = self.project.fps
        a = Fraction(start_sample + off) * fps / SAMPLE_RATE_HZ
        b = Fraction(end_sample + off) * fps / SAMPLE_RATE_HZ
        return int(a // 1), int(-(-b // 1))

    def segments_from_srt(
        self,
        path: str | Path,
        audio_track_id: str | None = None,
        face_track_id: str | None = None,
    ) -> list[str]:
        """Create one segment per subtitle of an SRT file (one undo step).

        Subtitle times are placed on the timeline as is (frame 0 = 00:00:00,000); a subtitle
        overlapping an existing segment only fills the free part.

        Args:
            path: The ``.srt`` file (UTF-8, with or without BOM).
            audio_track_id: Track driving the segments (default: first dub track).
            face_track_id: Face (None = main face).

        Returns:
            Ids of the created segments.

        Raises:
            ProjectError: The file cannot be read or parsed.
            EditError: No clip is open.
        """
        import srt

        path = Path(path)
        if self.project.video is None:
            raise EditError("open a clip before importing subtitles")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProjectError(
                f"cannot read subtitles ({exc})", path, "save them as UTF-8 .srt"
            ) from None
        try:
            subs = list(srt.parse(text))
        except srt.SRTParseError as exc:
            raise ProjectError(
                f"not a valid SRT file ({exc})",
                path,
                "check the numbering and the '-->' time lines",
            ) from None
        if audio_track_id is None:
            dubs = [t for t in self.project.audio_tracks if not t.is_original]
            audio_track_id = dubs[0].id if dubs else None
        fps, n = self.project.fps, self.project.frame_count
        ids: list[str] = []
        with self.transaction("Segments from subtitles"):
            for sub in subs:
                # timedelta -> exact microseconds -> frames (start floored, end rounded up)
                a_us = sub.start // _US
                b_us = sub.end // _US
                a = int(Fraction(a_us, 1_000_000) * fps // 1)
                b = int(-(-(Fraction(b_us, 1_000_000) * fps) // 1))
                a, b = max(0, a), min(b, n) if n > 0 else b
                if b <= a:
                    continue
                for lo, hi in self._free_parts(face_track_id, a, b):
                    ids.append(
                        self.add_segment(
                            lo,
                            hi,
                            audio_track_id,
                            face_track_id,
                            label=sub.content.replace("\n", " "),
                            clamp=False,
                        )
                    )
        return ids

    def import_script(
        self,
        path: str | Path,
        line_audio: Sequence[str | Path] = (),
        long_dub: bool = False,
        face_track_id: str | None = None,
    ) -> list[str]:
        """Segments from an SRT/WebVTT script with text and speaker, and each line's take
        placed on its slot (one undo step); see :func:`editor.model.script_import.import_script`.
        """
        from editor.model.script_import import import_script

        return import_script(self, path, line_audio, long_dub, face_track_id)

    def replace_line_take(self, segment_id: str, path: str | Path) -> str:
        """A new take for one script line; only that line goes stale (one undo step);
        see :func:`editor.model.script_import.replace_line_take`.
        """
        from editor.model.script_import import replace_line_take

        return replace_line_take(self, segment_id, path)

    def segments_from_cut(self, path: str | Path) -> list[str]:
        """Segments from an edit list (EDL, FCP XML, OTIO), one per event (one undo step);
        see :func:`editor.model.script_import.segments_from_cut`.
        """
        from editor.model.script_import import segments_from_cut

        return segments_from_cut(self, path)

    # ----------------------------------------------------------- render state

    def set_face_box(
        self, frame: int, box: tuple[float, float, float, float], face_track_id: str | None
    ) -> None:
        """Key the hand-drawn face box of a face target at ``frame`` (undoable).

        Args:
            frame: The clip frame the box was drawn on (a key there is replaced).
            box: ``(x0, y0, x1, y1)`` in source pixels.
            face_track_id: The face target (a dub track's; None = the main face).
        """
        x0, y0, x1, y1 = (float(v) for v in box)
        if x1 <= x0 or y1 <= y0 or frame < 0:
            raise ValueError(f"a face box needs an area and a frame >= 0, not {box} @ {frame}")
        from lipcore.face.boxes import has_mouth, interpolate_mouths, with_mouth

        face = face_track_id or "auto"
        old = list(self.project.face_boxes.get(face, ()))
        key: tuple = (int(frame), x0, y0, x1 - x0, y1 - y0)
        if has_mouth(old):  # a placed mouth stays where it sat in the box
            key = with_mouth(key, interpolate_mouths(old, int(frame) + 1)[int(frame)])
        keys = [k for k in old if k[0] != int(frame)] + [key]
        boxes = dict(self.project.face_boxes)
        boxes[face] = tuple(sorted(keys, key=lambda k: k[0]))
        self._push(SetFields(self, "Draw face box", "project", None, {"face_boxes": boxes}))

    def set_face_mouth(
        self, frame: int, points: Sequence[tuple[float, float]] | None, face_track_id: str | None
    ) -> None:
        """Place the parametric mouth of a hand-drawn face at ``frame`` (undoable).

        The face's box at ``frame`` (its key there, else the interpolated box) is keyed with the
        points, stored relative to the box, so they move with it and interpolate between keys.

        Args:
            frame: The clip frame.
            points: Image-left corner, image-right corner, upper and lower lip centre in source
                pixels (clipped into the box), or None to return to the mean face's mouth.
            face_track_id: The face target (None = the main face).

        Raises:
            ValueError: The face has no box, or the points are unusable (corners crossed, the
                upper lip below the lower).
        """
        import numpy as np

        from lipcore.face.boxes import box_at, mouth_of_box, with_mouth

        face = face_track_id or "auto"
        old = list(self.project.face_boxes.get(face, ()))
        if not old:
            raise ValueError("draw the face box before placing its mouth")
        box, _ = box_at(old, int(frame))
        mouth = None if points is None else mouth_of_box(np.asarray(points, np.float64), box)
        x0, y0, x1, y1 = (round(float(v), 2) for v in box)
        here = next((k for k in old if k[0] == int(frame)), None)
        base = here[:5] if here is not None else (int(frame), x0, y0, x1 - x0, y1 - y0)
        keys = [k for k in old if k[0] != int(frame)] + [with_mouth(base, mouth)]
        boxes = dict(self.project.face_boxes)
        boxes[face] = tuple(sorted(keys, key=lambda k: k[0]))
        self._push(SetFields(self, "Move mouth point", "project", None, {"face_boxes": boxes}))

    def delete_face_box(self, frame: int | None, face_track_id: str | None) -> None:
        """Delete the face box key at ``frame`` (None: every key) of a face target (undoable)."""
        face = face_track_id or "auto"
        keys = [
            k for k in self.project.face_boxes.get(face, ()) if frame is not None and k[0] != frame
        ]
        boxes = dict(self.project.face_boxes)
        if keys:
            boxes[face] = tuple(keys)
        else:
            boxes.pop(face, None)
        self._push(SetFields(self, "Delete face box", "project", None, {"face_boxes": boxes}))

    def mark_rendered(
        self,
        segment_id: str,
        output_path: str | Path,
        params_hash: str,
        engines: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Record a finished render (not an undo step; makes the document dirty).

        Args:
            segment_id: The segment.
            output_path: The rendered segment file.
            params_hash: :meth:`params_hash` the job was started with; when the segment changed
                while rendering, the result is kept but the segment is "stale".
            engines: ``(engine, why)`` of each engine that ran (the render result's); empty
                when the chunk was reused, which keeps what an earlier render recorded.
        """
        seg = self.segment(segment_id)
        ran = tuple((str(n), str(w)) for n, w in engines) or seg.render.engines
        seg.render = RenderState("done", str(output_path), params_hash, engines=ran)
        if self.render_cache is not None:
            self.render_cache.remember(params_hash, Path(output_path))
        self._refresh_one(seg)

    def mark_failed(self, segment_id: str, message: str) -> None:
        """Record a failed render with its error text (not an undo step)."""
        seg = self.segment(segment_id)
        seg.render = RenderState(
            "failed", seg.render.output_path, self.project.segment_params_hash(seg), str(message)
        )
        self._refresh_one(seg)

    def _refresh_one(self, seg: Segment) -> None:
        seg.render = self._derived_render_state(seg)
        self._extra_dirty = True
        self._emit("render_state_changed", {"id": seg.id, "status": seg.render.status})
        self._check_dirty()

    # ------------------------------------------------------------- relinking

    def relink_media(self, old_path: str | Path, new_path: str | Path) -> RelinkResult:
        """Point every use of a moved file at ``new_path`` (one undo step).

        The content fingerprint is compared: a different file is accepted but the result carries
        a warning to show the user, and segments rendered from the old content become stale.

        Raises:
            ProjectError: ``new_path`` does not exist or the project does not use ``old_path``.
        """
        old_abs = Path(os.path.abspath(old_path))
        new_ref = MediaRef.from_file(new_path)
        p = self.project
        uses: list[tuple[str, str | None, MediaRef]] = []
        if p.video is not None and p.video.path == old_abs:
            uses.append(("project", None, p.video))
        for t in p.audio_tracks:
            if t.media is not None and t.media.path == old_abs:
                uses.append(("track", t.id, t.media))
        if not uses:
            raise ProjectError(
                f"the project does not use {old_abs}",
                new_ref.path,
                "pick one of the files listed as missing",
            )
        same = uses[0][2].fingerprint == new_ref.fingerprint
        with self.transaction("Relink media"):
            for kind, obj_id, _ in uses:
                attr = "video" if kind == "project" else "media"
                self._push(
                    SetFields(
                        self, "Relink media", kind, obj_id, {attr: dataclasses.replace(new_ref)}
                    )
                )
        warning = None
        if not same:
            warning = (
                f"{new_ref.path.name} is not the same content as the missing {old_abs.name} "
                "(fingerprint differs); rendered segments that use it are marked stale"
            )
        return RelinkResult(len(uses), same, warning)

    # ------------------------------------------------------------------ export

    def set_export(self, **changes: Any) -> None:
        """Change export settings: output_path, preset, audio_mix, crf (undoable)."""
        from lipcore.project import AUDIO_MIXES, EXPORT_PRESETS

        allowed = {f.name for f in dataclasses.fields(type(self.project.export))}
        unknown = set(changes) - allowed
        if unknown:
            raise EditError(f"unknown export setting(s): {', '.join(sorted(unknown))}")
        if "preset" in changes and changes["preset"] not in EXPORT_PRESETS:
            raise EditError(f"export preset must be one of {EXPORT_PRESETS}")
        if "audio_mix" in changes and changes["audio_mix"] not in AUDIO_MIXES:
            raise EditError(f"audio mix must be one of {AUDIO_MIXES}")
        if changes.get("output_path") is not None:
            changes["output_path"] = Path(os.path.abspath(changes["output_path"]))
        changes = {k: v for k, v in changes.items() if getattr(self.project.export, k) != v}
        if changes:
            self._push(SetFields(self, "Export settings", "export", None, changes))

    # ------------------------------------------------------------- mouth cues

    def set_track_cues(self, track_id: str, cues: Any) -> None:
        """Store mouth cues on a track (from analysis; None clears them), undoable.

        Args:
            track_id: The track.
            cues: A :class:`lipcore.cues.make.CueTrack` whose samples count from the track
                file's first sample, or None.
        """
        self.track(track_id)
        text = "Mouth cues from speech" if cues is not None else "Clear mouth cues"
        self._push(SetFields(self, text, "track", track_id, {"mouth_cues": cues}))

    def _edit_cues(self, track_id: str, text: str, edit: Callable, merge: bool = False) -> None:
        cues = self.track(track_id).mouth_cues
        if cues is None:
            raise EditError("this track has no mouth cues yet: make them from its speech first")
        try:
            new = edit(cues)
        except ValueError as exc:
            raise EditError(str(exc)) from None
        if new != cues:
            self._push(SetFields(self, text, "track", track_id, {"mouth_cues": new}, merge))

    def move_cue_boundary(
        self, track_id: str, index: int, sample: int, merge: bool = True
    ) -> None:
        """Move the start of cue ``index`` to ``sample`` (track-file samples, snapped to frames).

        Consecutive moves of a boundary merge into one undo step until :meth:`seal` (a drag).
        """
        from lipcore.cues.edit import move_boundary

        _check_int("sample", sample)
        self._edit_cues(track_id, "Move cue", lambda c: move_boundary(c, index, sample), merge)

    def set_cue_shape(self, track_id: str, index: int, shape: str) -> None:
        """Give cue ``index`` the mouth shape ``shape`` ("A"-"H", "X"), undoable."""
        from lipcore.cues.edit import set_shape

        self._edit_cues(track_id, f"Mouth shape {shape}", lambda c: set_shape(c, index, shape))

    def split_cue(self, track_id: str, index: int, sample: int) -> None:
        """Split cue ``index`` at ``sample`` (track-file samples, snapped to frames), undoable."""
        from lipcore.cues.edit import split_cue

        _check_int("sample", sample)
        self._edit_cues(track_id, "Split cue", lambda c: split_cue(c, index, sample))

    def merge_cues(self, track_id: str, index: int) -> None:
        """Merge cue ``index`` with the next one (keeping its shape), undoable."""
        from lipcore.cues.edit import merge_cues

        self._edit_cues(track_id, "Merge cues", lambda c: merge_cues(c, index))


_US = timedelta(microseconds=1)


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EditError(f"{name} must be a whole number (frames or samples), got {value!r}")


def _validate_options(options: SegmentOptions) -> None:
    try:
        options.validate()
    except ValueError as exc:
        raise EditError(str(exc)) from None
