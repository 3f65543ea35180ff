"""The editor's main window: viewer, timeline, inspector, jobs, menus; wired to the Document.

Everything the user changes goes through :class:`editor.model.document.Document` methods (one
undo history for timeline gestures, menus and inspector edits). Long work runs in
:mod:`editor.qt.workers` queues and comes back through signals; derived data (thumbnails,
waveforms, face tracks, sync curves) lives here in memory and in the lipcore cache, never in the
project file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QImage,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QScrollArea,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.model.job_process import ProcessCall, shared_process
from editor.model.planner import RenderPlanner
from editor.qt.dialogs import EXPORT_PRESETS, QtExportDialog, QtSpeechDialog
from editor.qt.document_watcher import QtDocumentWatcher
from editor.qt.inspector import QtSegmentInspector
from editor.qt.jobs_panel import QtJobList
from editor.qt.notifications import QtNotificationArea
from editor.qt.timeline.lanes import FaceLane, SegmentItem, WaveLane
from editor.qt.timeline.timeline import QtTimeline
from editor.qt.viewer.frames import QtFrameServer, bgr_to_qimage
from editor.qt.viewer.playback import QtPlayback
from editor.qt.viewer.viewer import FaceBox, QtViewer
from editor.qt.workers import (
    QtBackgroundQueue,
    QtRenderQueue,
    await_all_workers,
    ensure_thread_pool,
)
from lipcore.render.warm import WarmState

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mxf"}
#: Still images open as a clip (a portrait, a painting, a CGI render): the picture is held.
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus"}
EXPORT_KEY = "export"
_FRAME_CACHE_SIZE = 96
_DUB_COLORS = [
    QColor(90, 180, 250),
    QColor(240, 150, 80),
    QColor(180, 130, 250),
    QColor(90, 220, 190),
]


def icon(name: str) -> QIcon:
    """An icon from resources/icons (SVG), or an empty icon when missing."""
    path = RESOURCES / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


class QtMainWindow(QMainWindow):
    """The lip-sync editor window.

    Args:
        settings: Editor preferences (:class:`editor.settings.Settings`); loaded when None.
        autosave_dir: Folder for backups of unsaved projects (default: the model's default).
        save_settings_on_change: Write settings (recent projects) to disk when they change.

    Signals (for tests and scripting; all emitted on the GUI thread):
        frame_shown(int frame): the viewer now shows ``frame`` of the clip.
        faces_tracked(object trackset), waveform_ready(str track_id), thumbnails_ready(),
        segment_rendered(str segment_id, object path), render_failed(str segment_id, str text),
        render_cancelled(str segment_id), export_finished(object path), export_failed(str),
        sync_curve_ready(str which): "source" or a segment id.
    """

    frame_shown = Signal(int)
    faces_tracked = Signal(object)
    waveform_ready = Signal(str)
    thumbnails_ready = Signal()
    segment_rendered = Signal(str, object)
    render_failed = Signal(str, str)
    render_cancelled = Signal(str)
    export_finished = Signal(object)
    export_failed = Signal(str)
    sync_curve_ready = Signal(str)

    def __init__(
        self,
        settings: Any = None,
        autosave_dir: Path | None = None,
        save_settings_on_change: bool = True,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        from editor.settings import load_settings

        ensure_thread_pool()
        self.setObjectName("QtMainWindow")
        self.setAcceptDrops(True)
        self.resize(1440, 900)
        self.settings = settings if settings is not None else load_settings()
        self._save_settings_on_change = save_settings_on_change
        self._autosave_dir = autosave_dir

        # -- derived data (never in the project)
        self.trackset: Any = None
        self._waves: dict[str, tuple[np.ndarray, float]] = {}
        self._thumbnails: list[tuple[int, QImage]] = []
        self._frames: OrderedDict[tuple[str, int], QImage] = OrderedDict()
        self._sync_source: Any = None  # SyncScore of the source clip vs the dub
        self._sync_results: dict[str, Any] = {}  # segment id -> SyncScore of its render
        self._sync_notes: dict[str, str] = {}  # segment id -> why its render has no curve
        self._job_state: dict[str, tuple[str, float]] = {}  # segment id -> (status, progress)
        self._selected: list[str] = []
        self._target_face: str | None = None
        self._export_dialog: QProgressDialog | None = None
        self._closing = False
        # Prepared engines (footage libraries) of this session, shared by every render.
        self._warm = WarmState()

        # -- workers
        # Heavy lipcore jobs run in worker processes: their native code cannot stall the GUI.
        self.render_queue = QtRenderQueue(self, shared_process("render"))
        self.background = QtBackgroundQueue(self, shared_process("background"))
        self.frame_server = QtFrameServer(self, shared_process("frames"))
        self.playback = QtPlayback(self)
        # Dropped or picked clips and dubs are probed off the GUI thread (ffprobe takes seconds).
        from editor.qt.media_intake import MediaIntake

        self.intake = MediaIntake(self)

        # -- widgets
        self.viewer = QtViewer()
        self.timeline = QtTimeline()
        self.notifications = QtNotificationArea()
        self.jobs = QtJobList()
        from lipcore.engines.registry import ENGINE_NAMES

        self.inspector = QtSegmentInspector(tuple(ENGINE_NAMES))
        self._build_layout()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()

        self.watcher = QtDocumentWatcher(self)
        self.watcher.document_changed.connect(self._on_watcher_document_changed)
        self.watcher.can_undo_changed.connect(self.undo_action.setEnabled)
        self.watcher.can_redo_changed.connect(self.redo_action.setEnabled)
        self.watcher.undo_text_changed.connect(self._on_watcher_undo_text_changed)
        self.watcher.redo_text_changed.connect(self._on_watcher_redo_text_changed)
        self.watcher.dirty_changed.connect(lambda _dirty: self._update_title())
        self._connect_signals()
        from editor.qt.cue_tools import QtCueTools

        self.cue_tools = QtCueTools(self)  # Cues menu, cue lanes, mouth-shape panel
        from editor.qt.strength_tools import connect_strength_editor

        connect_strength_editor(self)  # strength-curve gestures -> document edits
        from editor.qt.draft_tools import QtDraftTools

        self.draft_tools = QtDraftTools(self)  # Render > Render Draft, drafts on the lane
        from editor.qt.guide_tools import QtGuideTools

        self.guide_tools = QtGuideTools(self)  # Edit > Align Dub to Guide

        self.autosaver: Any = None
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(1000)
        self._autosave_timer.timeout.connect(self._on_autosave_timer_timeout)
        self._autosave_timer.start()
        self.set_document(self._new_document())

    # ================================================================== building
    def _build_layout(self) -> None:
        transport = self._build_transport()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        top_layout.addWidget(self.viewer, 1)
        top_layout.addWidget(transport)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(top)
        splitter.addWidget(self.timeline)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([520, 360])
        self.setCentralWidget(splitter)

        inspector_scroll = QScrollArea()
        inspector_scroll.setWidgetResizable(True)
        inspector_scroll.setWidget(self.inspector)
        inspector_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        inspector_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inspector_scroll.setMinimumWidth(390)
        self.inspector_dock = QDockWidget("Inspector", self)
        self.inspector_dock.setObjectName("inspectorDock")
        self.inspector_dock.setWidget(inspector_scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        jobs_scroll = QScrollArea()
        jobs_scroll.setWidgetResizable(True)
        jobs_scroll.setWidget(self.jobs)
        jobs_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.jobs_dock = QDockWidget("Render jobs", self)
        self.jobs_dock.setObjectName("jobsDock")
        self.jobs_dock.setWidget(jobs_scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.jobs_dock)
        self.messages_dock = QDockWidget("Messages", self)
        self.messages_dock.setObjectName("messagesDock")
        self.messages_dock.setWidget(self.notifications.history)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.messages_dock)
        self.tabifyDockWidget(self.jobs_dock, self.messages_dock)
        self.jobs_dock.raise_()
        self.resizeDocks([self.inspector_dock], [340], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.inspector_dock, self.jobs_dock], [560, 220], Qt.Orientation.Vertical
        )
        self.statusBar().addWidget(self.notifications, 1)
        self.autosave_label = QLabel("")
        self.autosave_label.setObjectName("autosaveLabel")
        self.statusBar().addPermanentWidget(self.autosave_label)

    def _build_transport(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("transportBar")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setSpacing(4)
        self.timecode_label = QLabel("00:00:00:00")
        self.timecode_label.setObjectName("timecode")
        self._transport_buttons: dict[str, QToolButton] = {}
        layout.addWidget(self.timecode_label)
        layout.addStretch(1)
        for name, tip in (
            ("go-start", "Go to start (Home)"),
            ("step-back", "Previous frame (←)"),
            ("play", "Play / pause (Space)"),
            ("step-forward", "Next frame (→)"),
            ("go-end", "Go to end (End)"),
            ("loop", "Loop the selected segment (Ctrl+L)"),
        ):
            button = QToolButton()
            button.setObjectName(f"transport-{name}")
            button.setIcon(icon(name))
            button.setIconSize(QSize(20, 20))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            layout.addWidget(button)
            self._transport_buttons[name] = button
        self._transport_buttons["loop"].setCheckable(True)
        layout.addStretch(1)
        self.mode_buttons: dict[str, QToolButton] = {}
        for mode, text in (("original", "Original"), ("result", "Result"), ("split", "Split")):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setObjectName("modeButton")
            button.setToolTip(f"Show the {text.lower()} ({'123'[len(self.mode_buttons)]})")
            layout.addWidget(button)
            self.mode_buttons[mode] = button
        self.mode_buttons["original"].setChecked(True)
        self.inout_label = QLabel("")
        self.inout_label.setObjectName("inoutLabel")
        layout.addSpacing(12)
        layout.addWidget(self.inout_label)
        return bar

    def _action(
        self,
        text: str,
        slot,
        shortcut: str | QKeySequence | None = None,
        icon_name: str = "",
        checkable: bool = False,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if icon_name:
            action.setIcon(icon(icon_name))
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.open_video_action = a("&Open Video…", self._on_open_video_triggered, "Ctrl+O", "open")
        self.import_audio_action = a(
            "&Import Audio…", self._on_import_audio_triggered, "Ctrl+Shift+I", "audio"
        )
        self.open_project_action = a(
            "Open &Project…", self._on_open_project_triggered, "Ctrl+Shift+O"
        )
        self.save_action = a(
            "&Save Project", self._on_save_triggered, QKeySequence.StandardKey.Save, "save"
        )
        self.save_as_action = a(
            "Save Project &As…", self._on_save_as_triggered, QKeySequence.StandardKey.SaveAs
        )
        self.export_action = a("&Export Video…", self._on_export_triggered, "Ctrl+E", "export")
        self.relink_action = a(
            "Re&link Missing Media…",
            self._on_relink_triggered,
            tip="Point the project at media files that were moved or renamed",
        )
        self.recover_action = a(
            "Re&cover Unsaved Work…",
            self._on_recover_triggered,
            tip="Open an autosave left when the editor closed without saving",
        )
        self.quit_action = a("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.preferences_action = a(
            "&Preferences…",
            self._on_preferences_triggered,
            "Ctrl+,",
            tip="Checkpoints, device, cache folder, autosave",
        )
        self.undo_action = a(
            "&Undo", self._on_undo_triggered, QKeySequence.StandardKey.Undo, "undo"
        )
        self.redo_action = a(
            "&Redo", self._on_redo_triggered, QKeySequence.StandardKey.Redo, "redo"
        )
        # Toolbar buttons keep short labels; the menu shows "Undo Trim segment".
        self.undo_action.setIconText("Undo")
        self.redo_action.setIconText("Redo")
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.split_action = a("&Split at Playhead", self._on_split_triggered, "S", "split")
        self.delete_action = a(
            "&Delete Segments", self._on_delete_triggered, QKeySequence.StandardKey.Delete
        )
        self.merge_action = a("&Merge Segments", self._on_merge_triggered, "M")
        self.segment_inout_action = a(
            "Segment from &In/Out",
            self._on_segment_inout_triggered,
            "Ctrl+I",
            tip="Create a segment between the in (I) and out (O) points",
        )
        self.speech_action = a("Segments from S&peech…", self._on_speech_triggered, "Ctrl+Alt+S")
        self.srt_action = a("Segments from S&ubtitles (SRT)…", self._on_srt_triggered)
        self.script_action = a(
            "Import Script with Line Audio…",
            self._on_script_triggered,
            tip="Segments with text and speaker from an SRT/WebVTT script, and each line's take "
            "(0001.wav ...) placed on its slot",
        )
        self.cut_action = a("Segments from Cut (EDL/XML/OTIO)…", self._on_cut_triggered)
        self.nudge_left_action = a("Nudge Dub Left", lambda: self._nudge_dub(-1), "Alt+Left")
        self.nudge_right_action = a("Nudge Dub Right", lambda: self._nudge_dub(1), "Alt+Right")
        self.render_selected_action = a(
            "Render &Selected", self._on_render_selected_triggered, "R", "render"
        )
        self.render_stale_action = a("Render S&tale", self._on_render_stale_triggered, "Shift+R")
        self.render_all_action = a("Render &All", self._on_render_all_triggered, "Ctrl+Shift+R")
        self.cancel_action = a(
            "&Cancel All Renders", self._on_cancel_triggered, "Ctrl+.", "cancel"
        )
        self.play_action = a("Play / Pause", self.playback.toggle, "Space")
        self.j_action = a("Shuttle Back", lambda: self.playback.shuttle("j"), "J")
        self.k_action = a("Pause", lambda: self.playback.shuttle("k"), "K")
        self.l_action = a("Shuttle Forward", lambda: self.playback.shuttle("l"), "L")
        self.step_back_action = a("Previous Frame", lambda: self.playback.step(-1), "Left")
        self.step_fwd_action = a("Next Frame", lambda: self.playback.step(1), "Right")
        self.step_back10_action = a(
            "Back 10 Frames", lambda: self.playback.step(-10), "Shift+Left"
        )
        self.step_fwd10_action = a(
            "Forward 10 Frames", lambda: self.playback.step(10), "Shift+Right"
        )
        self.home_action = a("Go to Start", lambda: self.playback.seek(0), "Home")
        self.end_action = a("Go to End", lambda: self.playback.seek(10**9), "End")
        self.in_action = a("Mark In", self._on_mark_in_triggered, "I")
        self.out_action = a("Mark Out", self._on_mark_out_triggered, "O")
        self.loop_action = a("&Loop Segment", self._on_loop_toggled, "Ctrl+L", checkable=True)
        self.mode_group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for key, (mode, text) in enumerate(
            (("original", "&Original"), ("result", "&Result"), ("split", "S&plit Wipe")), start=1
        ):
            act = a(text, lambda _c=False, m=mode: self.set_view_mode(m), str(key), checkable=True)
            self.mode_group.addAction(act)
            self.mode_actions[mode] = act
        self.mode_actions["original"].setChecked(True)
        self.faces_action = a("Show &Face Boxes", self._on_faces_toggled, "F", checkable=True)
        self.faces_action.setChecked(True)
        self.badge_action = a("Show Sync &Badge", self._refresh_badge, "Ctrl+B", checkable=True)
        self.badge_action.setChecked(True)
        self.region_action = a(
            "Draw Face &Area",
            self._on_region_toggled,
            "B",
            "region",
            checkable=True,
            tip="Drag a box around the face to re-sync: the segment picks a face inside the box "
            "(for several faces on screen; the edit itself follows that face). Click to clear",
        )
        self.face_box_action = a(
            "Draw Face &Box",
            self._on_face_box_toggled,
            "Shift+B",
            checkable=True,
            tip="For a face the detector cannot fit (cartoon, CGI): drag its box on this frame; "
            "boxes drawn on other frames add keys, interpolated between; drag the four mouth "
            "handles (corners, upper and lower lip) to place the mouth the render opens",
        )
        self.delete_face_box_action = a(
            "Delete Face Box Key",
            self._on_delete_face_box,
            tip="Delete the face box key on this frame (on a frame without a key: the whole box)",
        )
        self.zoom_in_action = a("Zoom &In", lambda: self.timeline.canvas.zoom(1.5), "=")
        self.zoom_out_action = a("Zoom &Out", lambda: self.timeline.canvas.zoom(1 / 1.5), "-")
        self.zoom_fit_action = a("Zoom to &Fit", self.timeline.canvas.zoom_to_fit, "Shift+Z")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_video_action)
        file_menu.addAction(self.import_audio_action)
        file_menu.addSeparator()
        file_menu.addAction(self.open_project_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        file_menu.addAction(self.recover_action)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.relink_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit = bar.addMenu("&Edit")
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addSeparator()
        edit.addAction(self.split_action)
        edit.addAction(self.merge_action)
        edit.addAction(self.delete_action)
        edit.addAction(self.segment_inout_action)
        edit.addSeparator()
        edit.addAction(self.speech_action)
        edit.addAction(self.srt_action)
        edit.addAction(self.script_action)
        edit.addAction(self.cut_action)
        edit.addSeparator()
        edit.addAction(self.nudge_left_action)
        edit.addAction(self.nudge_right_action)
        edit.addSeparator()
        edit.addAction(self.preferences_action)
        view = bar.addMenu("&View")
        for act in self.mode_actions.values():
            view.addAction(act)
        view.addSeparator()
        view.addAction(self.faces_action)
        view.addAction(self.badge_action)
        view.addAction(self.region_action)
        view.addAction(self.face_box_action)
        view.addAction(self.delete_face_box_action)
        view.addSeparator()
        view.addAction(self.zoom_in_action)
        view.addAction(self.zoom_out_action)
        view.addAction(self.zoom_fit_action)
        view.addSeparator()
        for dock in (self.inspector_dock, self.jobs_dock, self.messages_dock):
            view.addAction(dock.toggleViewAction())
        play = bar.addMenu("&Playback")
        for act in (
            self.play_action,
            self.j_action,
            self.k_action,
            self.l_action,
            self.step_back_action,
            self.step_fwd_action,
            self.step_back10_action,
            self.step_fwd10_action,
            self.home_action,
            self.end_action,
            self.in_action,
            self.out_action,
            self.loop_action,
        ):
            play.addAction(act)
        render = bar.addMenu("&Render")
        render.addAction(self.render_selected_action)
        render.addAction(self.render_stale_action)
        render.addAction(self.render_all_action)
        render.addSeparator()
        render.addAction(self.cancel_action)
        help_menu = bar.addMenu("&Help")
        self.about_action = help_menu.addAction("&About lipsync…", self._show_about)

    def _show_about(self) -> None:
        from editor.qt.about import AboutDialog

        dialog = AboutDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._about_dialog = dialog  # reachable from tests; deleted on close
        dialog.open()

    def _build_toolbar(self) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.open_video_action, self.import_audio_action, self.save_action):
            tb.addAction(act)
        tb.addSeparator()
        for act in (self.undo_action, self.redo_action):
            tb.addAction(act)
        tb.addSeparator()
        tb.addAction(self.split_action)
        tb.addAction(self.region_action)
        tb.addAction(self.face_box_action)
        tb.addSeparator()
        tb.addAction(self.render_selected_action)
        tb.addAction(self.cancel_action)
        tb.addSeparator()
        tb.addAction(self.export_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)

    def _connect_signals(self) -> None:
        b = self._transport_buttons
        b["go-start"].clicked.connect(lambda: self.playback.seek(0))
        b["step-back"].clicked.connect(lambda: self.playback.step(-1))
        b["play"].clicked.connect(self.playback.toggle)
        b["step-forward"].clicked.connect(lambda: self.playback.step(1))
        b["go-end"].clicked.connect(lambda: self.playback.seek(10**9))
        b["loop"].clicked.connect(
            lambda on: self.loop_action.setChecked(on) or self._on_loop_toggled()
        )
        for mode, button in self.mode_buttons.items():
            button.clicked.connect(lambda _c=False, m=mode: self.set_view_mode(m))
        self.playback.position_changed.connect(self._on_playback_position_changed)
        self.playback.playing_changed.connect(self._on_playback_playing_changed)
        self.frame_server.frame_decoded.connect(self._on_frame_server_frame_decoded)
        self.frame_server.decode_failed.connect(
            lambda key, frame, text: self.notifications.notify(
                f"cannot show frame {frame}: {text}", "warning"
            )
        )
        self.viewer.face_clicked.connect(self._on_viewer_face_clicked)
        self.viewer.region_drawn.connect(self._on_viewer_region_drawn)
        self.viewer.face_box_drawn.connect(self._on_viewer_face_box_drawn)
        self.viewer.mouth_points_moved.connect(self._on_viewer_mouth_points_moved)
        c = self.timeline.canvas
        c.playhead_moved.connect(self.playback.seek)
        c.scrub_started.connect(self._on_canvas_scrub_started)
        c.scrub_finished.connect(self._on_canvas_scrub_finished)
        c.segment_drawn.connect(self._on_canvas_segment_drawn)
        c.segment_clicked.connect(self._on_canvas_segment_clicked)
        c.segment_trimmed.connect(self._on_canvas_segment_trimmed)
        c.track_slid.connect(self._on_canvas_track_slid)
        c.track_mute_toggled.connect(self._on_canvas_track_mute_toggled)
        c.track_solo_toggled.connect(self._on_canvas_track_solo_toggled)
        c.face_track_clicked.connect(self.pick_face)
        i = self.inspector
        i.segment_edited.connect(self._on_inspector_segment_edited)
        i.edit_finished.connect(lambda: self.document.seal())
        i.render_requested.connect(lambda sid: self.render_segments([sid]))
        i.cancel_requested.connect(self.render_queue.cancel)
        i.track_offset_edited.connect(self._on_inspector_track_offset_edited)
        i.track_nudged.connect(self._on_inspector_track_nudged)
        i.track_face_edited.connect(self._on_inspector_track_face_edited)
        i.track_actor_edited.connect(
            lambda track_id, path: self._edit(self.document.set_track_actor, track_id, path)
        )
        i.track_mute_edited.connect(lambda tid, on: self._edit(self.document.set_mute, tid, on))
        i.track_solo_edited.connect(lambda tid, on: self._edit(self.document.set_solo, tid, on))
        self.jobs.cancel_requested.connect(self.render_queue.cancel)
        rq = self.render_queue
        rq.job_queued.connect(self._on_render_queue_job_queued)
        rq.job_started.connect(self._on_render_queue_job_started)
        rq.job_progressed.connect(self._on_render_queue_job_progressed)
        rq.job_finished.connect(self._on_render_queue_job_finished)
        rq.job_failed.connect(self._on_render_queue_job_failed)
        rq.job_cancelled.connect(self._on_render_queue_job_cancelled)
        rq.busy_changed.connect(self._on_render_queue_busy_changed)
        self.background.job_finished.connect(self._on_background_job_finished)
        self.background.job_failed.connect(self._on_background_job_failed)
        self._intake_cursor = False
        self.intake.busy_changed.connect(self._on_intake_busy)

    # ================================================================== document
    def _new_document(self, project: Any = None, path: Path | None = None) -> Any:
        from editor.model.document import Document
        from editor.model.planner import new_render_cache

        return Document(project, path, render_cache=new_render_cache())

    def set_document(self, doc: Any) -> None:
        """Show ``doc``: resets derived data, selection and views, starts background analysis."""
        from editor.model.autosave import Autosaver

        if getattr(self, "autosaver", None) is not None:
            self.autosaver.detach()
        self.render_queue.cancel_all()
        self.background.discard()
        self.jobs.clear_finished()  # the last project's "done" rows mean nothing here
        self.document = doc
        self.planner = RenderPlanner(
            doc,
            self.settings.wav2lip_checkpoint,
            warm=self._warm,
            chunk_cache_bytes=int(self.settings.chunk_cache_gb) << 30,
        )
        if getattr(self, "draft_tools", None) is not None:
            self.draft_tools.set_document(doc)  # drafts belong to their document
        self.autosaver = Autosaver(
            doc, autosave_dir=self._autosave_dir, enabled=bool(self.settings.autosave)
        )
        self.trackset = None
        self._waves.clear()
        self._thumbnails = []
        self._frames.clear()
        self._sync_source = None
        self._sync_results.clear()
        self._sync_notes.clear()
        self._job_state.clear()
        self._selected = []
        self._target_face = None
        # Restored from an autosave: the file on disk is older until the user saves.
        self._recovered = False
        self.watcher.watch(doc)
        self._on_clip_changed()
        self._update_title()
        for seg in doc.project.segments:  # result curves come back with a reopened project
            if seg.render.status == "done" and seg.render.output_path:
                self._schedule_result_sync(seg.id)

    def _edit(self, method, *args, **kwargs) -> Any:
        """Call a document method; refused edits go to the notification area."""
        from lipcore.errors import LipsyncError

        try:
            return method(*args, **kwargs)
        except LipsyncError as exc:
            self.notifications.notify(str(exc), "warning")
        except (KeyError, ValueError) as exc:
            self.notifications.notify(str(exc), "warning")
        return None

    def _on_watcher_document_changed(self, event: str, payload: Any) -> None:
        if event == "project_changed" and "video" in payload.get("fields", ()):
            self._on_clip_changed()
            return
        if event in ("track_added", "track_removed", "track_changed", "project_changed"):
            self._refresh_waves()
            self._start_track_jobs()
            offset_moved = "offset_samples" in payload.get("fields", ())
            if event in ("track_added", "track_removed") or offset_moved:
                self._schedule_source_sync()  # a dub imported after the faces: curve at once
            self._schedule_audio_mix()
        if event == "project_changed" and "face_boxes" in payload.get("fields", ()):
            self._refresh_viewer_faces()  # an undone box or mouth point shows where it is now
        if event in (
            "segment_added",
            "segment_removed",
            "segment_changed",
            "render_state_changed",
            "track_added",
            "track_removed",
            "track_changed",
            "loaded",
        ):
            self._selected = [s for s in self._selected if self._has_segment(s)]
            self._refresh_segments()
            self._refresh_inspector()
            if event == "render_state_changed":
                self._show_frame(self.playback.position)
        if event == "saved":
            self._recovered = False
        if event in ("saved", "loaded"):
            self._update_title()
        self._update_actions()

    def _on_watcher_undo_text_changed(self, text: str) -> None:
        self.undo_action.setText(f"&Undo {text}".strip())
        self.undo_action.setIconText("Undo")
        self.undo_action.setToolTip(f"Undo {text}".strip() + " (Ctrl+Z)")

    def _on_watcher_redo_text_changed(self, text: str) -> None:
        self.redo_action.setText(f"&Redo {text}".strip())
        self.redo_action.setIconText("Redo")
        self.redo_action.setToolTip(f"Redo {text}".strip() + " (Ctrl+Shift+Z)")

    def _has_segment(self, segment_id: str) -> bool:
        return any(s.id == segment_id for s in self.document.project.segments)

    def _on_clip_changed(self) -> None:
        p = self.document.project
        self._frames.clear()
        self.trackset = None
        self._thumbnails = []
        self._sync_source = None
        if p.video is None:
            self.viewer.set_frames(None)
            self.viewer.set_message("Open a video (File ▸ Open Video, or drop a file here)")
            self.timeline.canvas.set_clip(0, 25)
            self.playback.set_clip(0, 25)
        elif not p.video.exists():
            # Offline media: say so once, instead of "decoding…" forever and one error per job.
            self.viewer.set_frames(None)
            self.viewer.set_message(
                f"Media offline: {p.video.path.name} is not at {p.video.path.parent}\n"
                "File ▸ Relink Missing Media… to point at its new location"
            )
            self.timeline.canvas.set_clip(p.frame_count, float(p.fps))
            self.timeline.canvas.timecode_text = self._playhead_timecode
            self.playback.set_clip(p.frame_count, float(p.fps))
        else:
            self.viewer.set_message("decoding…")
            self.viewer.set_source_size(p.width, p.height)
            self.timeline.canvas.set_clip(p.frame_count, float(p.fps))
            self.timeline.canvas.timecode_text = self._playhead_timecode
            self.playback.set_clip(p.frame_count, float(p.fps))
            self._start_clip_jobs()
            self._show_frame(0)
        self.timeline.canvas.set_thumbnails([])
        self.timeline.canvas.set_faces([])
        self._refresh_waves()
        self._start_track_jobs()
        self._refresh_segments()
        self._refresh_inspector()
        self._refresh_sync_plot()
        self._schedule_audio_mix()
        self._update_actions()

    def _missing_media(self) -> list[Path]:
        """Media paths of the project that are not on disk (moved, renamed, unmounted)."""
        return [r.path for r in self.document.project.media_refs() if not r.exists()]

    def _update_actions(self) -> None:
        """Enable only what can act: clip edits need a clip, Cancel needs a running job.

        Segment actions stay enabled once a clip is open, so pressing them without a
        selection explains what to select instead of doing nothing silently.
        """
        p = self.document.project
        has_clip = p.video is not None and p.video.exists()
        has_dub = any(not t.is_original for t in p.audio_tracks)
        for action in (
            self.export_action,
            self.split_action,
            self.merge_action,
            self.delete_action,
            self.segment_inout_action,
            self.srt_action,
            self.script_action,
            self.cut_action,
            self.render_selected_action,
            self.render_stale_action,
            self.render_all_action,
            self.region_action,
            self.face_box_action,
            self.delete_face_box_action,
        ):
            action.setEnabled(has_clip)
        for action in (self.speech_action, self.nudge_left_action, self.nudge_right_action):
            action.setEnabled(has_clip and has_dub)
        self.cancel_action.setEnabled(self.render_queue.busy)
        self.relink_action.setEnabled(bool(self._missing_media()))

    # ================================================================== background jobs
    def _start_clip_jobs(self) -> None:
        from editor.qt.derived import iter_thumbnails

        video = self.document.project.video.path
        fp = self.document.project.video.fingerprint
        from lipcore.face.track import iter_track_faces

        self._warm_renderer()
        self.background.submit("thumbnails", fp, ProcessCall(iter_thumbnails, (video,)), 3)
        self.background.submit("faces", fp, ProcessCall(iter_track_faces, (video,)), 2)

    def _warm_renderer(self) -> None:
        """Pay the first re-render's one-time imports and kernels now, in the render process.

        Done in the worker process that will render (:meth:`JobProcess.warm_up`), so the first
        edit of a session costs what every later one does; where jobs run in threads, the
        background queue runs the same preload in this process.
        """
        from lipcore.render.preload import preload_render

        warm = ProcessCall(preload_render)
        process = self.render_queue.process
        if process is None:
            self.background.submit("preload", "render", warm, 5)
        else:
            process.warm_up(warm)  # a render already running has warmed it

    def _start_track_jobs(self) -> None:
        from editor.qt.derived import iter_waveform

        p = self.document.project
        for track in p.audio_tracks:
            if track.id in self._waves:
                continue
            if track.is_original:
                if p.video is None:
                    continue
                path, is_clip = p.video.path, True
            else:
                path, is_clip = track.media.path, False
            if not path.is_file():
                continue  # offline: reported once by open_project, relinking restarts this
            self.background.submit(
                "waveform", track.id, ProcessCall(iter_waveform, (path, is_clip)), priority=4
            )

    def _schedule_source_sync(self) -> None:
        """Score the source clip against the first dub track (after faces are known)."""
        p = self.document.project
        dub = next((t for t in p.audio_tracks if not t.is_original), None)
        if dub is None and self._sync_source is not None:
            self._sync_source = None  # its dub was removed
            self._refresh_sync_plot()
        if p.video is None or dub is None or self.trackset is None or not self.trackset.tracks:
            return
        if p.still_fps is not None:
            return  # a still image: its one picture's mouth cannot follow any speech
        key = f"{p.video.fingerprint}:{dub.media.fingerprint}:{dub.offset_samples}"
        from lipcore.sync.dub_score import iter_score_dub

        video, audio, offset = p.video.path, dub.media.path, dub.offset_samples
        face = self._target_face or "auto"
        expert = self._expert_checkpoint()
        self.background.submit(
            "sync-source",
            f"{key}:{expert}",
            ProcessCall(iter_score_dub, (video, audio, offset, face), {"expert": expert}),
            1,
        )

    def _schedule_audio_mix(self) -> None:
        """Rebuild the preview mix of the audible tracks (only where sound can be heard)."""
        from editor.qt.derived import iter_preview_mix
        from lipcore.cache import cache_path, settings_key

        p = self.document.project
        if p.video is None or not self.playback.has_audio_device:
            return
        tracks = [
            (None if t.path is None else str(t.path), t.offset_samples, t.gain_db)
            for t in self.planner.mix_tracks("mix")
        ]
        key = settings_key([p.video.fingerprint, tracks, p.frame_count])
        out = cache_path("preview-mix", key, suffix=".wav")
        if out.exists():
            self.playback.set_audio(out)
            return
        clip, n, fps = p.video.path, p.frame_count, float(p.fps)
        self.background.submit(
            "mix", key, ProcessCall(iter_preview_mix, (clip, tracks, n, fps, out)), priority=5
        )

    def _expert_checkpoint(self) -> str | None:
        """The sync expert the lane scores with (Preferences), or None for the built-in meter."""
        path = (self.settings.expert_checkpoint or "").strip()
        return path or None

    def _schedule_result_sync(self, segment_id: str) -> None:
        from editor.model.sync_lane import segment_max_lag, too_short_reason
        from lipcore.sync.dub_score import iter_score_dub

        p = self.document.project
        with contextlib.suppress(Exception):
            seg = p.segment(segment_id)
            self._sync_notes.pop(segment_id, None)
            reason = too_short_reason(seg.end_frame - seg.start_frame)
            if reason is not None:
                self._sync_results.pop(segment_id, None)
                self._sync_notes[segment_id] = reason
                self._refresh_sync_plot()
                return
            track = p.track(seg.audio_track_id)
            out = Path(seg.render.output_path)
            offset = track.offset_samples + seg.options.audio_offset_samples
            frames = (seg.start_frame, seg.end_frame)
            lag = segment_max_lag(seg.end_frame - seg.start_frame)
            expert = self._expert_checkpoint()
            self.background.submit(
                "sync-result",
                f"{segment_id}:{seg.render.params_hash}:{expert}",
                ProcessCall(
                    iter_score_dub,
                    (out, track.media.path, offset, "auto", frames, True, lag, expert),
                ),
                1,
            )

    def _on_background_job_finished(self, kind: str, key: str, result: Any) -> None:
        p = self.document.project
        if kind == "thumbnails":
            if p.video is None or key != p.video.fingerprint:
                return
            self._thumbnails = [(f, bgr_to_qimage(img)) for f, img in result]
            self.timeline.canvas.set_thumbnails(self._thumbnails)
            self.thumbnails_ready.emit()
        elif kind == "waveform":
            self._waves[key] = result
            self._refresh_waves()
            self.waveform_ready.emit(key)
        elif kind == "faces":
            if p.video is None or key != p.video.fingerprint:
                return
            self.trackset = result
            self._record_face_tracks(result)
            self._refresh_faces()
            self._refresh_segments()
            self._show_frame(self.playback.position)
            n = len(result.tracks)
            self.notifications.notify(
                f"Found {n} face track{'s' if n != 1 else ''}"
                + ("; click a face in the viewer to choose who is re-synced" if n > 1 else ""),
            )
            self.faces_tracked.emit(result)
            self._schedule_source_sync()
        elif kind == "mix":
            self.playback.set_audio(result)
        elif kind == "sync-source":
            self._sync_source = result
            self._refresh_sync_plot()
            self.sync_curve_ready.emit("source")
        elif kind == "sync-result":
            segment_id = key.split(":")[0]
            self._sync_results[segment_id] = result
            self._refresh_sync_plot()
            self.sync_curve_ready.emit(segment_id)

    def _record_face_tracks(self, trackset: Any) -> None:
        """Put the found track ids into the project (derived data: dirty, but no undo step)."""
        from lipcore.project import FaceTracksRef

        p = self.document.project
        if p.video is None:
            return
        # The clip's content and the tracker that ran identify the tracks: the same clip
        # tracked again gives the same reference, so reopening a project does not dirty it.
        ref = FaceTracksRef(
            cache_key=f"{p.video.fingerprint}:{trackset.backend}",
            backend=trackset.backend,
            track_ids=[t.track_id for t in trackset.tracks],
        )
        self.document.record_face_tracks(ref)

    def _on_background_job_failed(self, kind: str, key: str, exc: Any) -> None:
        what = {
            "thumbnails": "Thumbnails",
            "waveform": "Waveform",
            "faces": "Face tracking",
            "sync-source": "Sync meter (source)",
            "mix": "Preview audio",
            "sync-result": "Sync meter (result)",
            "guide-align": "Guide alignment",
        }.get(kind, kind)
        level = "warning" if kind.startswith("sync") else "error"
        from lipcore.errors import LipsyncError

        text = str(exc) if isinstance(exc, LipsyncError) else f"{type(exc).__name__}: {exc}"
        self.notifications.notify(f"{what} failed: {text}", level)
        if kind == "sync-result":  # the lane says why this render has no curve
            self._sync_notes[key.split(":")[0]] = f"no curve ({text})"
            self._refresh_sync_plot()

    # ================================================================== views refresh
    def _update_title(self) -> None:
        doc = self.document
        clip = doc.project.video.path.name if doc.project.video else "no clip"
        self.setWindowIcon(icon("app"))
        mark = " •" if self.has_unsaved_changes else ""
        self.setWindowTitle(f"{doc.title}{mark} — {clip} — Lipsync Editor")

    @property
    def has_unsaved_changes(self) -> bool:
        """Edits not in the project file: document edits, or content restored from an autosave."""
        return self.document.dirty or self._recovered

    def _refresh_waves(self) -> None:
        p = self.document.project
        lanes = []
        fps = p.fps
        dub_index = 0
        for track in p.audio_tracks:
            peaks, pps = self._waves.get(track.id, (None, 200.0))
            length = int(track.duration_samples * fps / 16000) if track.duration_samples else 0
            if track.is_original:
                color = QColor(150, 160, 175)
                length = p.frame_count
                offset = 0
            else:
                color = _DUB_COLORS[dub_index % len(_DUB_COLORS)]
                dub_index += 1
                offset = int(track.offset_samples * fps / 16000 // 1)
            if peaks is not None:
                length = max(length, int(len(peaks) / pps * float(fps)))
            lanes.append(
                WaveLane(
                    track.id,
                    track.name,
                    peaks,
                    pps,
                    offset,
                    length,
                    track.muted,
                    track.solo,
                    movable=not track.is_original,
                    color=color,
                )
            )
        self.timeline.canvas.set_waves(lanes)
        self.cue_tools.refresh_lanes()

    def _refresh_faces(self) -> None:
        lanes = []
        if self.trackset is not None:
            target = self._current_face()
            main = self.trackset.tracks[0].track_id if self.trackset.tracks else None
            for t in self.trackset.tracks:
                thumb = bgr_to_qimage(t.thumbnail) if t.thumbnail is not None else None
                selected = t.track_id == (target or main)
                lanes.append(FaceLane(t.track_id, t.ranges(), thumb, selected))
        if self.trackset is not None and not self.trackset.tracks:
            note = "no face found: point it out with View ▸ Draw Face Box (Shift+B)"
            self.timeline.canvas.set_faces(lanes, note)
        else:
            self.timeline.canvas.set_faces(lanes)
        self._refresh_viewer_faces()

    def _current_face(self) -> str | None:
        """The face of the selected segment, else the face picked for new segments."""
        if self._selected and self._has_segment(self._selected[0]):
            face = self.document.project.segment(self._selected[0]).face_track_id
            if face is not None:
                return face
        return self._target_face

    def _faces_at(self, frame: int) -> list:
        """The tracked faces on ``frame``: a still is tracked on its one picture, shown on all."""
        if self.document.project.still_fps is not None:
            frame = 0
        return self.trackset.at_frame(frame)

    def _refresh_viewer_faces(self) -> None:
        faces = []
        frame = self.playback.position
        if self.trackset is not None:
            for track, row in self._faces_at(frame):
                x0, y0, x1, y1 = (float(v) for v in track.boxes[row])
                faces.append(FaceBox(track.track_id, (x0, y0, x1, y1)))
        main = self.trackset.tracks[0].track_id if self.trackset and self.trackset.tracks else None
        self.viewer.set_faces(faces, self._current_face() or main)
        region = None
        if self._selected and self._has_segment(self._selected[0]):
            region = self.document.project.segment(self._selected[0]).options.region
        self.viewer.set_region(region)
        keys = self.document.project.boxes_for(self._box_face())
        box, keyed, mouth = None, False, None
        if keys:
            from lipcore.face.boxes import box_at

            at, points = box_at(list(keys), frame)
            box, mouth = tuple(float(v) for v in at), tuple(map(tuple, points.tolist()))
            keyed = any(k[0] == frame for k in keys)
        self.viewer.set_manual_box(box, keyed, mouth)

    def _segment_status(self, seg: Any) -> tuple[str, float]:
        state = self._job_state.get(seg.id)
        if state is not None:
            return state
        return seg.render.status, 0.0

    def _segment_rows(self) -> list[str]:
        """Rows of the segment lane: one per tracked face when the clip has several."""
        if self.trackset is None or len(self.trackset.tracks) < 2:
            return [""]
        # Rows for the faces in use only (main face, picked face, faces with segments), so a
        # crowd scene does not fill the lane with empty rows.
        used = {self.trackset.tracks[0].track_id, self._target_face}
        used |= {s.face_track_id for s in self.document.project.segments}
        return [t.track_id for t in self.trackset.tracks if t.track_id in used]

    def _draft_mark(self, segment_id: str) -> str:
        tools = getattr(self, "draft_tools", None)
        return " · draft" if tools is not None and tools.shelf.current(segment_id) else ""

    def _refresh_segments(self) -> None:
        items = []
        rows = self._segment_rows()
        main = rows[0] or None
        for seg in self.document.project.sorted_segments():
            status, progress = self._segment_status(seg)
            face = seg.face_track_id or main
            row = rows.index(face) if face in rows else 0
            items.append(
                SegmentItem(
                    seg.id,
                    seg.start_frame,
                    seg.end_frame,
                    status,
                    progress,
                    _segment_text(self.document, seg) + self._draft_mark(seg.id),
                    row,
                    seg.strength_keys,
                )
            )
        self.timeline.canvas.set_segments(items, set(self._selected), rows)
        self._refresh_loop()

    def _refresh_inspector(self) -> None:
        p = self.document.project
        face_ids = [t.track_id for t in self.trackset.tracks] if self.trackset else []
        seg = None
        if len(self._selected) == 1 and self._has_segment(self._selected[0]):
            seg = p.segment(self._selected[0])
        if seg is not None:
            status, progress = self._segment_status(seg)
            self.inspector.show_segment(p, seg, face_ids, status, progress)
        else:
            self.inspector.show_segment(p, None, face_ids)
        track_id = self.inspector.track_id
        if seg is not None and seg.audio_track_id is not None:
            track_id = seg.audio_track_id
        self.inspector.show_track(p, track_id, face_ids)
        self._refresh_viewer_faces()

    def _refresh_sync_plot(self) -> None:
        from editor.model.sync_lane import evidence_of

        n = self.document.project.frame_count
        source = None
        method = ""
        notes: list[str] = []
        if self._sync_source is not None:
            s = self._sync_source
            judged = evidence_of(s, "source")
            values = np.asarray(s.per_frame, float)
            if not judged.has_evidence:  # a curve at a meaningless lag would mislead
                values = np.full(len(values), np.nan)
            source = (np.asarray(s.frames), values)
            method = s.method
            notes.append(judged.text)
        result = None
        if self._sync_results and n > 0:
            values = np.full(n, np.nan)
            weak = 0
            for seg_id, score in self._sync_results.items():
                if not self._has_segment(seg_id):
                    continue
                if not evidence_of(score, "result").has_evidence:
                    weak += 1
                    continue
                frames = np.asarray(score.frames)
                ok = (frames >= 0) & (frames < n)
                values[frames[ok]] = np.asarray(score.per_frame, float)[ok]
                method = score.method
            if weak:
                notes.append(f"{weak} result(s): no evidence (best lag at the search limit)")
            result = (np.arange(n), values)
        for seg_id, note in self._sync_notes.items():
            if self._has_segment(seg_id):
                seg = self.document.segment(seg_id)
                notes.append(f"segment {seg.start_frame}–{seg.end_frame}: {note}")
        self.timeline.sync_plot.set_curves(source, result, method, notes)
        self._refresh_badge()

    def _refresh_badge(self) -> None:
        if not self.badge_action.isChecked():
            self.viewer.set_badge(None)
            return
        frame = self.playback.position
        lines = []
        for name, score in (
            ("source", self._sync_source),
            *(("result", s) for s in self._sync_results.values()),
        ):
            if score is None:
                continue
            frames = np.asarray(score.frames)
            idx = np.nonzero(frames == frame)[0]
            if len(idx) == 0:
                continue
            from editor.model.sync_lane import evidence_of

            judged = evidence_of(score, name)
            value = float(np.asarray(score.per_frame)[idx[0]])
            value_text = "  —" if np.isnan(value) or not judged.has_evidence else f"{value:+.2f}"
            offset_text = (
                f"offset {score.offset_frames:+d} f" if judged.has_evidence else "no evidence"
            )
            lines.append(f"{name:<6} sync {value_text}  {offset_text}")
        self.viewer.set_badge("\n".join(lines) if lines else None)

    def _refresh_loop(self) -> None:
        loop = None
        if self.loop_action.isChecked():
            pb = self.playback
            if pb.in_point is not None and pb.out_point is not None:
                loop = (pb.in_point, pb.out_point)
            elif self._selected and self._has_segment(self._selected[0]):
                seg = self.document.project.segment(self._selected[0])
                loop = (seg.start_frame, seg.end_frame)
        self.playback.set_loop(loop)
        self.timeline.canvas.set_loop_range(loop)
        self._transport_buttons["loop"].setChecked(self.loop_action.isChecked())

    # ================================================================== frames
    def _result_source(self, frame: int) -> Path | None:
        for seg in self.document.project.segments:
            if seg.start_frame <= frame < seg.end_frame and seg.render.status in ("done", "stale"):
                if seg.render.output_path and Path(seg.render.output_path).exists():
                    return Path(seg.render.output_path)
        return None

    def _show_frame(self, frame: int) -> None:
        p = self.document.project
        if p.video is None or not p.video.exists():
            return
        original = self._frames.get(("original", frame))
        if original is None:
            self.frame_server.request("original", p.video.path, frame)
        result_path = self._result_source(frame) if self.viewer.mode != "original" else None
        result = None
        if result_path is not None:
            result = self._frames.get((str(result_path), frame))
            if result is None:
                self.frame_server.request("result", result_path, frame)
        if result_path is not None and result is None:
            pass  # wait for the rendered frame too, so result/split views never flicker
        elif original is not None:
            note = ""
            if result_path is None:
                inside = any(s.start_frame <= frame < s.end_frame for s in p.segments)
                note = "SEGMENT NOT RENDERED" if inside else "UNCHANGED (NO SEGMENT HERE)"
            self.viewer.set_frames(original, result, note)
            self.frame_shown.emit(frame)
        self._refresh_viewer_faces()
        self._refresh_badge()

    def _on_frame_server_frame_decoded(self, key: str, frame: int, np_bgr: Any) -> None:
        image = bgr_to_qimage(np_bgr)
        cache_key = "original" if key == "original" else str(self._result_source(frame))
        self._frames[(cache_key, frame)] = image
        while len(self._frames) > _FRAME_CACHE_SIZE:
            self._frames.popitem(last=False)
        if frame == self.playback.position:
            self._show_frame(frame)

    def _on_playback_position_changed(self, frame: int) -> None:
        self.timeline.set_playhead(frame)
        self.inspector.set_playhead(frame)
        p = self.document.project
        from editor.model.timecode import clip_timecode

        self.timecode_label.setText(clip_timecode(p, frame) + f"   ·   frame {frame}")
        self._show_frame(frame)

    def _playhead_timecode(self, frame: int) -> str:
        from editor.model.timecode import clip_timecode

        return clip_timecode(self.document.project, frame)

    def _on_playback_playing_changed(self, playing: bool) -> None:
        self._transport_buttons["play"].setIcon(icon("pause" if playing else "play"))

    def set_view_mode(self, mode: str) -> None:
        """Show the original, the rendered result, or a split wipe of both."""
        self.viewer.set_mode(mode)
        self.mode_actions[mode].setChecked(True)
        for m, button in self.mode_buttons.items():
            button.setChecked(m == mode)
        self._show_frame(self.playback.position)

    # ================================================================== viewer gestures
    def pick_face(self, track_id: str) -> None:
        """Make ``track_id`` the face to re-sync: for the selected segments and new ones."""
        self._target_face = track_id
        if self._selected:
            from lipcore.errors import LipsyncError

            try:
                with self.document.transaction("Pick face"):
                    for sid in self._selected:
                        self.document.set_segment_options(sid, face_track_id=track_id)
            except LipsyncError as exc:
                self.notifications.notify(str(exc), "warning")
                return
        self.notifications.notify(f"Re-sync target: {track_id}")
        self._refresh_faces()
        self._refresh_segments()
        self._refresh_inspector()

    def _on_viewer_face_clicked(self, x: float, y: float) -> None:
        if self.trackset is None:
            self.notifications.notify("Faces are still being tracked; try again in a moment")
            return
        hits = []
        for track, row in self._faces_at(self.playback.position):
            x0, y0, x1, y1 = (float(v) for v in track.boxes[row])
            if x0 <= x <= x1 and y0 <= y <= y1:
                hits.append(((x1 - x0) * (y1 - y0), track.track_id))
        if not hits:
            self.notifications.notify("No tracked face there; click inside a face box", "warning")
            return
        self.pick_face(min(hits)[1])

    def _on_viewer_region_drawn(self, box: Any) -> None:
        if not self._selected:
            self.notifications.notify(
                "Select a segment first: the region belongs to a segment", "warning"
            )
            return
        with self.document.transaction("Set face area"):
            for sid in self._selected:
                self._edit(self.document.set_segment_options, sid, region=box)

    def _box_face(self) -> str | None:
        """The face target hand-drawn boxes belong to: the selected segment's (else the main)."""
        if self._selected and self._has_segment(self._selected[0]):
            return self.document.project.segment(self._selected[0]).face_track_id
        return None

    def _on_viewer_face_box_drawn(self, box: Any) -> None:
        frame = self.playback.position
        self._edit(self.document.set_face_box, frame, box, self._box_face())
        self._refresh_viewer_faces()

    def _on_viewer_mouth_points_moved(self, points: Any) -> None:
        frame = self.playback.position
        self._edit(self.document.set_face_mouth, frame, points, self._box_face())
        self._refresh_viewer_faces()

    def _on_face_box_toggled(self) -> None:
        on = self.face_box_action.isChecked()
        if on and self.region_action.isChecked():
            self.region_action.setChecked(False)
        self.viewer.set_face_box_mode(on)

    def _on_delete_face_box(self) -> None:
        face, frame = self._box_face(), self.playback.position
        keys = self.document.project.boxes_for(face)
        if not keys:
            self.notifications.notify("No face box is drawn for this face", "info")
            return
        keyed = any(k[0] == frame for k in keys)
        self._edit(self.document.delete_face_box, frame if keyed else None, face)
        self._refresh_viewer_faces()

    def _on_region_toggled(self) -> None:
        if self.region_action.isChecked() and self.face_box_action.isChecked():
            self.face_box_action.setChecked(False)
            self.viewer.set_face_box_mode(False)
        self.viewer.set_region_mode(self.region_action.isChecked())

    def _on_faces_toggled(self) -> None:
        self.viewer.set_show_faces(self.faces_action.isChecked())

    # ================================================================== timeline gestures
    def _on_canvas_scrub_started(self) -> None:
        self.playback.pause()
        self.background.pause()

    def _on_canvas_scrub_finished(self) -> None:
        self.background.resume()

    def _on_canvas_segment_drawn(self, start: int, end: int) -> None:
        rows = self._segment_rows()
        face = self._target_face
        if len(rows) > 1 and self.sender() is self.timeline.canvas:
            # Drawn in a face's row of the segment lane: the segment re-syncs that face.
            face = rows[min(self.timeline.canvas.drawn_row, len(rows) - 1)]
        seg_id = self._edit(
            self.document.add_segment,
            start,
            end,
            face_track_id=face,
            engine=self.settings.default_engine,
        )
        if seg_id:
            self.select_segments([seg_id])

    def _on_canvas_segment_clicked(self, segment_id: str, additive: bool) -> None:
        if additive:
            sel = [s for s in self._selected if s != segment_id]
            if segment_id not in self._selected:
                sel.append(segment_id)
            self.select_segments(sel)
        else:
            self.select_segments([segment_id])

    def select_segments(self, segment_ids: list[str]) -> None:
        """Select segments (the inspector shows the first one)."""
        self._selected = [s for s in segment_ids if self._has_segment(s)]
        self._refresh_segments()
        self._refresh_inspector()
        self._refresh_faces()

    @property
    def selected_segments(self) -> list[str]:
        """Ids of the selected segments."""
        return list(self._selected)

    def _on_canvas_segment_trimmed(self, segment_id: str, start: int, end: int) -> None:
        self._edit(self.document.trim_segment, segment_id, start, end)
        self.document.seal()

    def _on_canvas_track_slid(self, track_id: str, offset_frames: int) -> None:
        samples = self.document.frames_to_samples(offset_frames)
        self._edit(self.document.set_track_offset, track_id, samples, False)
        self.document.seal()

    def _on_canvas_track_mute_toggled(self, track_id: str) -> None:
        self._edit(self.document.set_mute, track_id, not self.document.track(track_id).muted)

    def _on_canvas_track_solo_toggled(self, track_id: str) -> None:
        self._edit(self.document.set_solo, track_id, not self.document.track(track_id).solo)

    # ================================================================== inspector edits
    def _on_inspector_segment_edited(self, segment_id: str, changes: dict, merge: bool) -> None:
        self._edit(self.document.set_segment_options, segment_id, merge, **changes)
        if "face_track_id" in changes:
            self._target_face = changes["face_track_id"]
            self._refresh_faces()

    def _on_inspector_track_offset_edited(self, track_id: str, frames: int) -> None:
        self._edit(
            self.document.set_track_offset, track_id, self.document.frames_to_samples(frames)
        )

    def _on_inspector_track_nudged(self, track_id: str, frames: int) -> None:
        self._edit(self.document.nudge_track, track_id, frames)

    def _on_inspector_track_face_edited(self, track_id: str, face: Any) -> None:
        self._edit(self.document.set_track_face, track_id, face)

    def _nudge_dub(self, frames: int) -> None:
        track_id = self.inspector.track_id
        if track_id is None:
            self.notifications.notify("Import a dub track first (File ▸ Import Audio)", "warning")
            return
        self._edit(self.document.nudge_track, track_id, frames)

    # ================================================================== edit menu
    def _on_undo_triggered(self) -> None:
        if self.document.undo_log.can_undo:
            self.notifications.notify(f"Undid {self.document.undo()}")

    def _on_redo_triggered(self) -> None:
        if self.document.undo_log.can_redo:
            self.notifications.notify(f"Redid {self.document.redo()}")

    def _on_split_triggered(self) -> None:
        frame = self.playback.position
        candidates = [
            s
            for s in self.document.project.segments
            if s.start_frame < frame < s.end_frame
            and (not self._selected or s.id in self._selected)
        ]
        if not candidates:
            self.notifications.notify("Put the playhead inside a segment to split it", "warning")
            return
        new_id = self._edit(self.document.split_segment, candidates[0].id, frame)
        if new_id:
            self.select_segments([new_id])

    def _on_delete_triggered(self) -> None:
        if self._selected:
            self._edit(self.document.delete_segments, list(self._selected))
            self.select_segments([])

    def _on_merge_triggered(self) -> None:
        kept = self._edit(self.document.merge_segments, list(self._selected))
        if kept:
            self.select_segments([kept])

    def _on_mark_in_triggered(self) -> None:
        self.playback.set_in()
        self._update_inout()

    def _on_mark_out_triggered(self) -> None:
        self.playback.set_out()
        self._update_inout()

    def _update_inout(self) -> None:
        pb = self.playback
        a = "—" if pb.in_point is None else str(pb.in_point)
        b = "—" if pb.out_point is None else str(pb.out_point)
        self.inout_label.setText(f"In {a}  ·  Out {b}")
        self._refresh_loop()

    def _on_segment_inout_triggered(self) -> None:
        pb = self.playback
        if pb.in_point is None or pb.out_point is None:
            self.notifications.notify("Mark an in point (I) and an out point (O) first", "warning")
            return
        self._on_canvas_segment_drawn(pb.in_point, pb.out_point)

    def _on_speech_triggered(self) -> None:
        dubs = [(t.id, t.name) for t in self.document.project.audio_tracks if not t.is_original]
        if not dubs:
            self.notifications.notify("Import a dub track first (File ▸ Import Audio)", "warning")
            return
        dialog = QtSpeechDialog(dubs, self)
        if dialog.exec():
            self.segments_from_speech(
                dialog.track_combo.currentData(), dialog.pad_spin.value(), dialog.gap_spin.value()
            )

    def segments_from_speech(
        self, track_id: str, pad_sec: float = 0.15, gap_sec: float = 0.4
    ) -> list[str]:
        """Create segments where the dub track ``track_id`` has speech (one undo step)."""
        from lipcore.audio.vad import speech_ranges
        from lipcore.media.audio import load_audio

        track = self.document.track(track_id)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            audio = load_audio(track.media.path, 16000)
            ranges = speech_ranges(audio, 16000, pad_sec=pad_sec, min_gap_sec=gap_sec)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.notifications.notify_exception(exc, "Voice activity")
            return []
        finally:
            QApplication.restoreOverrideCursor()
        frames = [self.document.track_samples_to_frames(track_id, a, b) for a, b in ranges]
        ids = self._edit(self.document.segments_from_speech, track_id, frames) or []
        self.notifications.notify(f"Created {len(ids)} segment(s) from speech in {track.name}")
        self.select_segments(ids[:1])
        return ids

    def _on_srt_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Subtitles", "", "Subtitles (*.srt)")
        if path:
            ids = self._edit(self.document.segments_from_srt, path) or []
            self.notifications.notify(f"Created {len(ids)} segment(s) from {Path(path).name}")

    def _on_script_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Script", "", "Subtitles (*.srt *.vtt)")
        if not path:
            return
        folder = QFileDialog.getExistingDirectory(self, "Line audio (0001.wav …), or cancel")
        ids = self._edit(self.document.import_script, path, [folder] if folder else []) or []
        self.notifications.notify(f"Created {len(ids)} segment(s) from {Path(path).name}")

    def _on_cut_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Cut", "", "Edit lists (*.edl *.xml *.otio)")
        if path:
            ids = self._edit(self.document.segments_from_cut, path) or []
            self.notifications.notify(f"Created {len(ids)} segment(s) from {Path(path).name}")

    # ================================================================== file menu
    def _on_open_video_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open video",
            "",
            "Video or still image ("
            + " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
            + ")",
        )
        if path:
            self.intake.request([Path(path)], lambda: self.open_video(path))

    def open_video(self, path: str | Path) -> bool:
        """Use ``path`` as the project's clip (undoable).

        With a clip already open, asks first (:meth:`_ask_new_project`): start a new project
        with this clip, replace the clip under the current segments, or cancel. Swapping it
        silently would leave the old segments, waveforms and face choices on another picture.
        """
        import os

        if self.document.project.video is not None:
            answer = self._ask_new_project(Path(path))
            if answer == "cancel":
                return False
            if answer == "new":
                if not self._confirm_discard():
                    return False
                self.set_document(self._new_document())
        self._edit(self.document.open_video, path)
        video = self.document.project.video
        ok = video is not None and video.path == Path(os.path.abspath(path))
        if ok:
            self.notifications.notify(f"Opened {Path(path).name}")
        return bool(ok)

    def _on_import_audio_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import audio",
            "",
            "Audio (" + " ".join(f"*{s}" for s in sorted(AUDIO_SUFFIXES)) + ")",
        )
        if path:
            self.intake.request([Path(path)], lambda: self.import_audio(path))

    def import_audio(self, path: str | Path) -> str | None:
        """Add ``path`` as a dub track at offset 0 (undoable); returns the track id."""
        track_id = self._edit(self.document.add_audio_track, path)
        if track_id:
            self.notifications.notify(f"Imported {Path(path).name} as a dub track")
        return track_id

    def _on_open_project_triggered(self) -> None:
        if not self._confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open project", "", "Lipsync project (*.lsproj)"
        )
        if path:
            self.open_project(path)

    def open_project(self, path: str | Path) -> bool:
        """Open a project file, offering to restore a newer autosave backup."""
        from editor.model.autosave import find_recovery
        from lipcore.errors import LipsyncError
        from lipcore.project import load_project

        path = Path(path)
        try:
            recovery = find_recovery(path)
            if recovery is not None and self._ask_restore(recovery):
                doc = self._new_document(load_project(recovery), path)
                restored = True
            else:
                if recovery is not None:  # declined: not offered again (File > Recover has it)
                    from editor.model.recovery import dismiss

                    with contextlib.suppress(OSError):
                        dismiss(recovery)
                from editor.model.document import Document
                from editor.model.planner import new_render_cache

                doc = Document.load(path, render_cache=new_render_cache())
                restored = False
        except LipsyncError as exc:
            self.notifications.notify(str(exc), "error")
            return False
        self.set_document(doc)
        self._recovered = restored
        self._update_title()
        self._remember_recent(path)
        missing = self._missing_media()
        if missing:
            self.notifications.notify(
                "Missing media: "
                + ", ".join(str(m) for m in missing)
                + " (move the files back, or File ▸ Relink Missing Media…)",
                "error",
            )
            self.relink_missing()
        elif restored:
            self.notifications.notify(
                f"Restored unsaved changes of {path.name} from the autosave", "warning"
            )
        else:
            self.notifications.notify(f"Opened project {path.name}")
        return True

    def _on_relink_triggered(self) -> None:
        if not self._missing_media():
            self.notifications.notify("Every media file of the project is where it should be")
            return
        self.relink_missing()

    def relink_missing(self) -> int:
        """Ask where each missing media file went and relink it (undoable).

        Returns:
            How many files were relinked.
        """
        relinked = 0
        for old in self._missing_media():
            new = self._ask_relink_path(old)
            if new is None:
                continue
            result = self._edit(self.document.relink_media, old, new)
            if result is None:
                continue
            relinked += 1
            if result.warning:
                self.notifications.notify(result.warning, "warning")
            else:
                self.notifications.notify(f"Relinked {old.name} to {new}")
        # Audio-only relinks do not change the clip: restart what was skipped while offline.
        self._refresh_waves()
        self._start_track_jobs()
        self._update_actions()
        return relinked

    def _ask_relink_path(self, missing: Path) -> Path | None:
        """Where did ``missing`` go? (tests replace this method)."""
        suffix = missing.suffix.lower()
        path, _ = QFileDialog.getOpenFileName(
            self,
            f"Locate {missing.name} (was in {missing.parent})",
            str(missing.parent if missing.parent.is_dir() else Path.home()),
            f"{missing.name} (*{suffix});;All files (*)",
        )
        return Path(path) if path else None

    def _ask_new_project(self, path: Path) -> str:
        """ "new", "replace" or "cancel" when a clip is opened over an open one (tests replace
        this method)."""
        box = QMessageBox(self)
        box.setObjectName("newProjectBox")
        box.setWindowTitle("Open video")
        box.setText(f"Start a new project with {path.name}?")
        box.setInformativeText(
            f"{self.document.title} already has a clip. A new project starts empty; "
            "replacing keeps the segments and dub tracks on the new clip."
        )
        new = box.addButton("New Project", QMessageBox.ButtonRole.AcceptRole)
        replace = box.addButton("Replace Clip", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(new)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        return "new" if clicked is new else "replace" if clicked is replace else "cancel"

    def _on_preferences_triggered(self) -> None:
        from editor.qt.preferences import QtPreferencesDialog, apply_preferences
        from editor.settings import save_settings
        from lipcore.errors import LipsyncError

        dialog = QtPreferencesDialog(self.settings, self)
        self._preferences_dialog = dialog
        try:
            accepted = dialog.exec() == QtPreferencesDialog.DialogCode.Accepted
            changed = list(dialog.changed)
        finally:
            self._preferences_dialog = None
            dialog.deleteLater()
        if not accepted:
            return
        try:
            save_settings(self.settings)
        except LipsyncError as exc:
            self.notifications.notify(str(exc), "error")
        if self.autosaver is not None:
            self.autosaver.enabled = bool(self.settings.autosave)
        self.planner.chunk_cache_bytes = int(self.settings.chunk_cache_gb) << 30
        notes = apply_preferences(self.settings, changed)
        if "expert_checkpoint" in changed:
            self._rescore_sync_lane()
            notes.append(
                "Sync lane: scored with "
                + ("the sync expert" if self._expert_checkpoint() else "the built-in meter")
            )
        self.notifications.notify("Preferences saved" + (": " + "; ".join(notes) if notes else ""))

    def _rescore_sync_lane(self) -> None:
        """Score the source and every rendered segment again (the meter or expert changed)."""
        self._sync_source = None
        self._sync_results.clear()
        self._refresh_sync_plot()
        self._schedule_source_sync()
        for seg in self.document.project.segments:
            if seg.render.status == "done" and seg.render.output_path:
                self._schedule_result_sync(seg.id)

    # ------------------------------------------------------------------ crash recovery
    def offer_recovery(self) -> bool:
        """At start: offer the newest autosave of a never-saved project left by a crash.

        A declined backup is dismissed (kept, listed in File > Recover, not offered again).

        Returns:
            Whether a backup was recovered.
        """
        from editor.model.recovery import dismiss, pending_untitled

        own = self.autosaver.path if self.autosaver is not None else None
        pending = [r for r in pending_untitled(self._autosave_dir) if r.backup != own]
        if not pending:
            return False
        entry = pending[0]
        if self._ask_recover_untitled(entry, len(pending) - 1):
            return self.recover_backup(entry.backup)
        try:
            dismiss(entry.backup)
        except OSError as exc:
            self.notifications.notify_exception(exc, "Dismissing the autosave")
        self.notifications.notify(
            "The autosave is kept: File ▸ Recover Unsaved Work… still opens it"
        )
        return False

    def _ask_recover_untitled(self, entry: Any, others: int) -> bool:
        """Startup prompt for an untitled project's autosave (tests replace this method)."""
        more = f"\n\n{others} older autosave(s) are listed in File ▸ Recover." if others else ""
        answer = QMessageBox.question(
            self,
            "Recover unsaved work?",
            "The editor closed without saving a project that was never saved:\n"
            f"{entry.describe()}\n\nRecover it?{more}",
        )
        return answer == QMessageBox.StandardButton.Yes

    def recover_backup(self, backup: str | Path) -> bool:
        """Open an autosave as unsaved changes (of its project, or of a new untitled one)."""
        from editor.model.document import Document
        from editor.model.jobs import RenderCache
        from editor.model.recovery import project_of
        from lipcore.errors import LipsyncError

        backup = Path(backup)
        try:
            doc = Document.recover(backup, project_of(backup), render_cache=RenderCache())
        except LipsyncError as exc:
            self.notifications.notify(str(exc), "error")
            return False
        self.set_document(doc)
        self._recovered = True
        self._update_title()
        if self._missing_media():
            self.relink_missing()
        self.notifications.notify(
            f"Recovered unsaved work of {doc.title} from {backup.name}: save it to keep it",
            "warning",
        )
        return True

    def _on_recover_triggered(self) -> None:
        from editor.model.recovery import recoverable
        from editor.qt.recovery_dialog import QtRecoveryDialog

        own = self.autosaver.path if self.autosaver is not None else None
        entries = [
            e
            for e in recoverable(self._autosave_dir, self.settings.recent_projects)
            if e.backup != own
        ]
        dialog = QtRecoveryDialog(entries, self)
        self._recovery_dialog = dialog
        try:
            accepted = dialog.exec() == QtRecoveryDialog.DialogCode.Accepted
            chosen = dialog.chosen
        finally:
            self._recovery_dialog = None
            dialog.deleteLater()
        if accepted and chosen is not None and self._confirm_discard():
            self.recover_backup(chosen.backup)

    def _ask_restore(self, recovery: Path) -> bool:
        """Crash recovery prompt (tests replace this method)."""
        answer = QMessageBox.question(
            self,
            "Recover unsaved changes?",
            f"An autosave newer than the project was found:\n{recovery}\n\n"
            "The editor may have closed without saving. Restore those changes?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_save_triggered(self) -> None:
        if self.document.path is None:
            self._on_save_as_triggered()
        else:
            self.save_project()

    def _on_save_as_triggered(self) -> None:
        start = str(self.document.path or Path.home() / "untitled.lsproj")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save project", start, "Lipsync project (*.lsproj)"
        )
        if path:
            self.save_project(Path(path).with_suffix(".lsproj"))

    def save_project(self, path: str | Path | None = None) -> Path | None:
        """Save to ``path`` (or the current file); returns the file written."""
        written = self._edit(self.document.save, path)
        if written:
            self._remember_recent(written)
            self.notifications.notify(f"Saved {Path(written).name}")
            self._update_title()
        return written

    def _remember_recent(self, path: Path) -> None:
        self.settings.add_recent(path)
        if self._save_settings_on_change:
            from editor.settings import save_settings

            with contextlib.suppress(Exception):
                save_settings(self.settings)

    def _on_recent_menu_about_to_show(self) -> None:
        from editor.model.autosave import existing_recent

        self.recent_menu.clear()
        recent = existing_recent(self.settings.recent_projects)
        if not recent:
            act = self.recent_menu.addAction("No recent projects")
            act.setEnabled(False)
        for path in recent:
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.triggered.connect(
                lambda _c=False, p=path: self._confirm_discard() and self.open_project(p)
            )

    def _confirm_discard(self) -> bool:
        if not self.has_unsaved_changes:
            return True
        answer = self._ask_save_changes()
        if answer == "save":
            self._on_save_triggered()
            return not self.has_unsaved_changes
        if answer == "discard" and self.autosaver is not None:
            # "Don't save" throws the changes away: their backup must not come back as a crash.
            self.autosaver.discard()
        return answer == "discard"

    def _ask_save_changes(self) -> str:
        """ "save", "discard" or "cancel" (tests replace this method)."""
        box = QMessageBox(self)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to {self.document.title}?")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        answer = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(answer, "cancel")

    # ================================================================== drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        self.open_paths_in_background(paths)
        event.acceptProposedAction()

    def open_paths_in_background(self, paths: list[Path]) -> None:
        """:meth:`open_paths` once the files are probed in a worker thread (the GUI stays live)."""
        self.intake.request(paths, lambda: self.open_paths(paths))

    def _on_intake_busy(self, busy: bool, names: str) -> None:
        """Show that files are being opened: a busy cursor, and the name where the clip shows."""
        if busy and not self._intake_cursor:
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self._intake_cursor = True
        elif not busy and self._intake_cursor:
            QApplication.restoreOverrideCursor()
            self._intake_cursor = False
        if self.document.project.video is None:
            self.viewer.set_message(
                f"Opening {names}…"
                if busy
                else "Open a video (File ▸ Open Video, or drop a file here)"
            )

    def open_paths(self, paths: list[Path]) -> None:
        """Open dropped or command-line files: projects, then clips, then audio as dub tracks."""
        for path in paths:
            suffix = path.suffix.lower()
            if suffix == ".lsproj":
                if self._confirm_discard():
                    self.open_project(path)
            elif suffix in IMAGE_SUFFIXES or (
                suffix in VIDEO_SUFFIXES and self.document.project.video is None
            ):
                self.open_video(path)
            elif suffix in AUDIO_SUFFIXES or suffix in VIDEO_SUFFIXES:
                self.import_audio(path)
            else:
                self.notifications.notify(
                    f"{path.name}: not a video, audio or project file", "warning"
                )

    # ================================================================== rendering
    def render_segments(self, segment_ids: list[str], force: bool = True) -> int:
        """Queue renders of ``segment_ids``; returns how many were queued.

        Args:
            segment_ids: Segments to render.
            force: Re-render segments that are already done (else they are skipped).
        """
        from lipcore.errors import LipsyncError

        queued = 0
        for sid in segment_ids:
            if not self._has_segment(sid):
                continue
            if not force and self.document.segment(sid).render.status == "done":
                continue
            try:
                job = self.planner.segment_job(sid, self.trackset)
            except LipsyncError as exc:
                self.document.mark_failed(sid, str(exc))
                self.notifications.notify(str(exc), "error")
                continue
            self.render_queue.request(sid, job.params_hash, job.run, job.label)
            queued += 1
        return queued

    def _on_render_selected_triggered(self) -> None:
        if not self._selected:
            self.notifications.notify("Select segments on the timeline first", "warning")
            return
        self.render_segments(self._selected)

    def _on_render_stale_triggered(self) -> None:
        ids = [s.id for s in self.document.stale_segments()]
        if not ids:
            self.notifications.notify("Every segment is up to date")
        self.render_segments(ids, force=False)

    def _on_render_all_triggered(self) -> None:
        self.render_segments([s.id for s in self.document.project.sorted_segments()])

    def _on_cancel_triggered(self) -> None:
        self.render_queue.cancel_all()

    def _job_label(self, key: str, job: Any) -> str:
        return self.render_queue.label_of(job) if key != EXPORT_KEY else "Export"

    def _on_render_queue_job_queued(self, key: str, job: Any) -> None:
        self.jobs.job_queued(key, self._job_label(key, job))
        if key != EXPORT_KEY:
            self._job_state[key] = ("queued", 0.0)
            self._refresh_segments()
            self._refresh_inspector()

    def _on_render_queue_job_started(self, key: str, job: Any) -> None:
        self.jobs.job_started(key)
        if key != EXPORT_KEY:
            self._job_state[key] = ("rendering", 0.0)
            self._refresh_segments()
            self._refresh_inspector()

    def _on_render_queue_job_progressed(self, key: str, progress: Any) -> None:
        done, total = getattr(progress, "done", 0), getattr(progress, "total", 0)
        stage = getattr(progress, "stage", "")
        self.jobs.job_progressed(key, done, total, stage)
        fraction = done / total if total else 0.0
        if key == EXPORT_KEY:
            if self._export_dialog is not None:
                self._export_dialog.setLabelText(f"Exporting: {stage}")
                self._export_dialog.setValue(int(1000 * fraction))
            return
        if stage != "rendering":
            fraction *= 0.3  # preparation stages fill the first part of the bar
        else:
            fraction = 0.3 + 0.7 * fraction
        self._job_state[key] = ("rendering", fraction)
        self.timeline.canvas.set_segments(
            [
                dataclasses.replace(item, progress=fraction) if item.segment_id == key else item
                for item in self.timeline.canvas.segments
            ],
            set(self._selected),
        )
        if self.inspector.segment_id == key:
            self.inspector.set_status("rendering", fraction)
        frame = getattr(progress, "preview_frame", None)
        if frame is not None:
            # A preview is some frame of the render, not the playhead's: it goes to the job row.
            self.jobs.job_preview(key, bgr_to_qimage(frame))

    def _on_render_queue_job_finished(self, key: str, job: Any, result: Any) -> None:
        self.jobs.job_ended(key, "done")
        if key == EXPORT_KEY:
            self._finish_export(result)
            return
        self._job_state.pop(key, None)
        if key.startswith("draft:"):
            return  # a draft is for review only: editor.qt.draft_tools keeps it, export does not
        try:
            stored = self.planner.record_segment(key, job.params_hash, result)
        except OSError as exc:
            self.notifications.notify_exception(exc, "Storing the render")
            return
        if self._has_segment(key):
            for warning in getattr(result, "warnings", []) or []:
                self.notifications.notify(warning, "warning")
            self._frames = OrderedDict(
                (k, v) for k, v in self._frames.items() if k[0] == "original"
            )
            self.frame_server.forget(stored)
            self._schedule_result_sync(key)
        self.notifications.notify(f"Rendered {self.render_queue.label_of(job)}")
        self.segment_rendered.emit(key, stored)

    def _on_render_queue_job_failed(self, key: str, job: Any, exc: Any) -> None:
        self.jobs.job_ended(key, "failed")
        from lipcore.errors import LipsyncError

        text = str(exc) if isinstance(exc, LipsyncError) else f"{type(exc).__name__}: {exc}"
        if key == EXPORT_KEY:
            self._close_export_dialog()
            self.notifications.notify(f"Export failed: {text}", "error")
            self.export_failed.emit(text)
            return
        self._job_state.pop(key, None)
        if self._has_segment(key):
            self.document.mark_failed(key, text)
        self.notifications.notify(f"Render failed: {text}", "error")
        self.render_failed.emit(key, text)

    def _on_render_queue_job_cancelled(self, key: str, job: Any) -> None:
        if (
            self.render_queue.model.current is not None
            and self.render_queue.model.current.segment_id == key
        ):
            return  # a newer request for the same key is already running
        if any(j.segment_id == key for j in self.render_queue.model.queued):
            return  # replaced by a newer request
        self.jobs.job_ended(key, "cancelled")
        if key == EXPORT_KEY:
            self._close_export_dialog()
            self.notifications.notify("Export cancelled")
            self.export_failed.emit("cancelled")
            return
        self._job_state.pop(key, None)
        self._refresh_segments()
        self._refresh_inspector()
        self.notifications.notify(f"Cancelled {self._job_label(key, job)}")
        self.render_cancelled.emit(key)

    def _on_render_queue_busy_changed(self, busy: bool) -> None:
        # Renders get the CPU: thumbnails, waveforms and tracking wait (pitivi's paused()).
        if busy:
            self.background.pause()
        else:
            self.background.resume()
        self._update_actions()

    # ================================================================== export
    def _on_export_triggered(self) -> None:
        p = self.document.project
        if p.video is None:
            self.notifications.notify("Open a clip first", "warning")
            return
        default = p.export.output_path or p.video.path.with_name(
            p.video.path.stem + "_lipsync.mp4"
        )
        dialog = QtExportDialog(
            Path(default), p.export.preset, p.export.audio_mix, p.export.crf, self
        )
        if dialog.exec():
            self.export(dialog.output_path, dialog.preset, dialog.audio_mix, dialog.crf)

    def export(
        self,
        output: str | Path,
        preset: str = "mp4_h264_aac",
        audio_mix: str = "dub",
        crf: int = 12,
        show_dialog: bool = True,
    ) -> bool:
        """Render the finished video: every segment, each face with its own dub track.

        The planner (:mod:`editor.model.planner`) groups the segments by (dub track, face, edit
        region) and builds the mix of the audible tracks (mute, solo, gain and offset applied);
        the job renders only segments without a chunk and splices everything in one pass.

        Args:
            output: Target file (its suffix follows the preset).
            preset: "mp4_h264_aac" or "mov_prores_pcm".
            audio_mix: "dub" (the dub tracks only) or "mix" (the dubs over the ducked original).
            crf: x264 quality for MP4.
            show_dialog: Show a progress dialog with a cancel button.

        Returns:
            True when the export was queued.
        """
        from lipcore.cache import settings_key
        from lipcore.errors import LipsyncError

        output = Path(output).with_suffix(EXPORT_PRESETS[preset][1])
        if not self.planner.exportable_segments():
            self.notifications.notify(
                "Create a segment driven by a dub track before exporting", "warning"
            )
            return False
        try:
            plan = self.planner.export_plan(output, audio_mix, crf)
        except LipsyncError as exc:
            self.notifications.notify(str(exc), "error")
            return False
        self._edit(
            self.document.set_export,
            output_path=output,
            preset=preset,
            audio_mix=audio_mix,
            crf=crf,
        )
        if plan.silent:
            self.notifications.notify(
                "Every dub track is muted: the export will be silent", "warning"
            )
        run = self.planner.export_job(plan, self.trackset)
        key = settings_key([str(output), preset, audio_mix, crf, time.time()])
        self.render_queue.request(EXPORT_KEY, key, run, "Export")
        if show_dialog:
            dialog = QProgressDialog("Exporting…", "Cancel", 0, 1000, self)
            dialog.setWindowTitle("Export")
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            dialog.setMinimumDuration(0)
            dialog.canceled.connect(lambda: self.render_queue.cancel(EXPORT_KEY))
            self._export_dialog = dialog
            dialog.show()
        return True

    def _close_export_dialog(self) -> None:
        if self._export_dialog is not None:
            dialog, self._export_dialog = self._export_dialog, None
            with contextlib.suppress(RuntimeError):
                dialog.canceled.disconnect()
            dialog.close()
            dialog.deleteLater()

    def _finish_export(self, result: Any) -> None:
        self._close_export_dialog()
        self.notifications.notify(f"Exported {result.output}")
        for warning in getattr(result, "warnings", []) or []:
            self.notifications.notify(warning, "warning")
        self.export_finished.emit(result.output)

    # ================================================================== misc
    def _on_loop_toggled(self) -> None:
        self._refresh_loop()

    def _on_autosave_timer_timeout(self) -> None:
        if self.autosaver is None:
            return
        try:
            written = self.autosaver.tick()
        except Exception as exc:  # noqa: BLE001 - a failing backup must not stop the editor
            self.notifications.notify_exception(exc, "Autosave")
            return
        if written is not None:
            self.autosave_label.setText(f"Autosaved {time.strftime('%H:%M:%S')}")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not getattr(self, "_docks_sized", False):
            # Dock sizes only stick once the window has its real size.
            self._docks_sized = True
            self.resizeDocks([self.inspector_dock], [400], Qt.Orientation.Horizontal)
            self.resizeDocks(
                [self.inspector_dock, self.jobs_dock], [620, 160], Qt.Orientation.Vertical
            )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._closing and not self._confirm_discard():
            event.ignore()
            return
        self._closing = True
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop playback, cancel jobs, wait for worker threads and release decoders."""
        self.playback.pause()
        self._autosave_timer.stop()
        self.render_queue.shutdown()
        self.background.shutdown()
        self.intake.shutdown()
        if self._intake_cursor:
            QApplication.restoreOverrideCursor()
            self._intake_cursor = False
        await_all_workers(30000)
        self.frame_server.close()
        self._close_export_dialog()
        if self.autosaver is not None:
            if not self.has_unsaved_changes:
                self.autosaver.discard()
            self.autosaver.detach()


def _segment_text(doc: Any, seg: Any) -> str:
    """A segment's lane label: its line or label, and how far a line's take overflows it."""
    from editor.model.script_import import take_overflow_ms

    text = seg.label or f"{seg.engine} · {seg.duration_frames} f"
    over_ms = take_overflow_ms(doc, seg.id)
    return f"▲ take +{over_ms / 1000:.2f} s over · {text}" if over_ms > 0 else text
