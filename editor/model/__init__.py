"""Qt-free document model of the editor: project, undo log, job-queue state, autosave.

Nothing here imports Qt; the views in ``editor.qt`` observe it through plain callbacks.

API summary (units: frames are ints on ``project.fps``; samples are ints at 16 kHz =
``lipcore.project.SAMPLE_RATE_HZ``; segment ranges are ``[start_frame, end_frame)``)::

    from editor.model.document import Document
    doc = Document()                       # or Document.load(path, render_cache=None)
    Document.recover(backup_path, project_path=None)   # crash backup -> dirty doc of its project
    doc.project                            # lipcore.project.Project (read freely, never mutate)
    doc.path, doc.dirty, doc.title         # Path | None, bool, str
    doc.changed.append(fn)                 # fn(event_name: str, payload: dict); exceptions
                                           # are logged into doc.listener_errors, not raised
    doc.save(path=None) -> Path            # atomic; "Save As" when path given
    doc.undo() / doc.redo() -> str         # labels; doc.undo_log.can_undo / .undo_text ...
    doc.seal()                             # end merging (mouse release after a drag)
    with doc.transaction("Label"): ...     # several edits = one undo step

    # clip and tracks
    doc.open_video(path)                   # probes; adds an "Original" track if the clip has sound
    doc.set_face_tracks(FaceTracksRef | None)   # undoable
    doc.record_face_tracks(FaceTracksRef | None) -> bool   # after tracking: not an undo step
    doc.add_audio_track(path, name=None, offset_samples=0, face_track_id=None) -> track_id
    doc.remove_audio_track(track_id)
    doc.set_track_offset(track_id, offset_samples, merge=True)   # consecutive calls merge
    doc.nudge_track(track_id, frames)      # +-frames, merges with previous nudges
    doc.set_mute(track_id, bool); doc.set_solo(track_id, bool)
    doc.set_track_gain(track_id, gain_db, merge=False); doc.rename_track(track_id, name)
    doc.set_track_face(track_id, face_track_id)   # its segments follow to that face
    doc.audible_tracks() -> list[AudioTrack]       # mute/solo resolved

    # segments (never overlap on one face lane; None face = main face)
    doc.add_segment(start, end, audio_track_id=None, face_track_id=None, engine="retime",
                    options=None, label="", clamp=True) -> segment_id
    doc.split_segment(segment_id, frame) -> right_id
    doc.trim_segment(segment_id, start, end, merge=False)   # stops at neighbours
    doc.move_segment(segment_id, start, merge=False)        # keeps length, stops at neighbours
    doc.merge_segments(ids) -> kept_id
    doc.delete_segments(ids)
    doc.set_segment_options(segment_id, merge=False, **changes)
        # feather_px, mouth_strength, reference, neutral_frame, audio_offset_samples, region,
        # engine, audio_track_id, face_track_id, label; render params -> segment becomes "stale"
    doc.segments_from_speech(audio_track_id, ranges_frames, face_track_id=<track's face>,
                             pad_frames=0, min_gap_frames=0) -> ids
    doc.track_samples_to_frames(track_id, start_sample, end_sample) -> (start, end)
    doc.segments_from_srt(path, audio_track_id=None, face_track_id=None) -> ids
    doc.free_gap(face_track_id, frame) -> (lo, hi) | None; doc.lane_segments(face_track_id)

    # rendering (results are derived data: not undo steps, but they make the doc dirty)
    doc.params_hash(segment_id) -> str     # tag a render job with it
    doc.project.segment_spec(segment)      # -> SegmentSpec (segment's own audio nudge only)
    doc.project.render_request(ids, output, checkpoint=None)   # -> RenderRequest (clip, track
        # file or the clip for "Original", track offset, face, specs, export mix/crf)
    doc.mark_rendered(segment_id, output_path, params_hash)
    doc.mark_failed(segment_id, message)
    doc.stale_segments() -> list[Segment]  # status "none" | "stale" | "failed"
    doc.relink_media(old_path, new_path) -> RelinkResult   # .warning when content differs
    doc.set_export(output_path=..., preset=..., audio_mix=..., crf=...)

    Events: project_changed, track_added/removed/changed, segment_added/removed/changed,
    export_changed ({"id", "fields"} or {"id", "index"}), render_state_changed {"id", "status"},
    dirty_changed {"dirty"}, undo_changed {"can_undo", "can_redo", "undo_text", "redo_text"},
    saved {"path"}, loaded {"path"}.  Refused edits raise editor.model.errors.EditError.

    # editor.model.undo: UndoLog(limit=500), Command.do/undo/merge, CompoundCommand
    #   log.push(cmd), log.transaction(text), log.undo()/redo(), can_undo, can_redo, undo_text,
    #   redo_text, is_clean, mark_clean(), seal(), clear(), listeners: [fn(log)]
    # editor.model.jobs:
    #   RenderQueue: request(segment_id, params_hash) -> RenderJob (replaces a waiting job of
    #     the same segment; flags a running one .superseded), start_next() -> RenderJob | None,
    #     finish(job, "done"|"failed"|"cancelled", message=""), cancel(segment_id) -> running
    #     job to abort | None, cancel_all(), current, queued, busy, listeners: [fn(event, job)]
    #   BackgroundQueue(max_running=1): submit(kind, key, payload=None, priority=0), next(),
    #     finish(job, state="done"), discard(kind=None), with q.paused(): ..., is_paused
    #   RenderCache(root=None): path_for(hash), lookup(hash) -> Path | None,
    #     store(hash, produced_file) -> Path, remember(hash, path), prune(keep_hashes)
    # editor.model.planner: RenderPlanner(doc, checkpoint=None, warm=None): segment_job(id,
    #     tracks) -> SegmentJob(.run() renders the segment's chunk), record_segment(id, hash,
    #     result), mix_tracks(audio_mix), exportable_segments(), export_plan(output, audio_mix,
    #     crf) -> ExportPlan, export_job(plan, tracks);  iter_export(plan, tracks, warm);
    #     new_render_cache()
    # editor.model.autosave:
    #   Autosaver(doc, clock=time.monotonic, autosave_dir=None, enabled=True): tick(now=None)
    #     -> Path | None, write(), discard(), path, detach();  AutosaveSchedule (10 s, +5 s per
    #     change, cap 60 s);  find_recovery(project_path) -> Path | None;
    #     find_untitled_recoveries(dir=None);  push_recent(list, path, limit=10)
    # editor.model.recovery: pending_untitled(dir=None) (offered at start), recoverable(dir,
    #     recent) (File > Recover), dismiss(backup) (declined: kept, not offered again), delete
    # editor.model.gui_wording: gui_wording(text): lipcore's CLI advice in the editor's words
    # editor.model.sync_lane: evidence_of(score, name) (edge lag = no evidence),
    #     too_short_reason(frames), segment_max_lag(frames)
    # editor.settings: Settings dataclass, load_settings(path=None), save_settings(s, path=None),
    #   settings_fields() -> [FieldInfo(name, label, help, kind, default, choices, env_var)]
    # lipcore.project: Project, MediaRef, AudioTrack, Segment, SegmentOptions, RenderState,
    #   FaceTracksRef, ExportSettings, load_project, save_project(project, path,
    #   relative_paths=True), find_missing_media -> [MissingMedia(ref, role, owner_id)],
    #   relink(project, old, new_path) -> RelinkResult, relink_folder, SCHEMA_VERSION,
    #   SAMPLE_RATE_HZ, new_id()
"""

from editor.model.document import Document
from editor.model.errors import EditError
from editor.model.undo import Command, CompoundCommand, UndoLog

__all__ = ["Command", "CompoundCommand", "Document", "EditError", "UndoLog"]
