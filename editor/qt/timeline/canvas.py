"""The painted part of the timeline: ruler, thumbnails, waveforms, faces, segments, playhead.

One custom-painted widget rather than a QGraphicsScene: every lane shares one frame-to-pixel
mapping, a few hundred items at most are drawn per repaint, and gestures are simple to route by
lane. Edits are not applied here: gestures end in signals the main window turns into document
calls, so the undo log sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from editor.qt.timeline.cue_lane import CUE_H, CueLane, QtCueLaneEditor
from editor.qt.timeline.lanes import STATUS_COLORS, STATUS_TEXT, FaceLane, SegmentItem, WaveLane
from editor.qt.timeline.strength_lane import QtStrengthCurveEditor

HEADER_W = 168
RULER_H = 24
THUMB_H = 46
WAVE_H = 44
FACE_H = 34
FACE_ROW_H = 20
SEGMENT_H = 34
SEGMENT_ROW_H = 28
EDGE_GRAB_PX = 6

_BG = QColor(24, 26, 30)
_LANE_BG = QColor(31, 34, 39)
_LANE_ALT = QColor(35, 38, 44)
_HEADER_BG = QColor(40, 43, 50)
_GRID = QColor(255, 255, 255, 18)
_TEXT = QColor(196, 201, 210)
_TEXT_DIM = QColor(130, 136, 146)
_PLAYHEAD = QColor(255, 80, 70)
_SELECT = QColor(255, 255, 255)
_LOOP = QColor(255, 196, 0, 40)


def _column_envelope(peaks: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``peaks`` between consecutive fractional row positions (one per column)."""
    n = len(peaks)
    starts = np.clip(np.floor(rows).astype(np.int64), 0, n - 1)
    ends = np.clip(np.floor(np.append(rows[1:], rows[-1] + 1)).astype(np.int64), 1, n)
    ends = np.maximum(ends, starts + 1)
    if (ends - starts).max() <= 1:
        return peaks[starts, 0], peaks[starts, 1]
    # reduceat reduces [starts[i], starts[i + 1]); the last reduction is cut at ends[-1].
    lo = np.minimum.reduceat(peaks[: ends[-1], 0], starts)
    hi = np.maximum.reduceat(peaks[: ends[-1], 1], starts)
    return lo, hi


@dataclass
class _Lane:
    kind: str  # "ruler" | "thumbs" | "wave" | "cues" | "faces" | "segments"
    top: float
    height: float
    key: str = ""  # wave: track id


#: What the face lane says while it has no face rows and nothing else is known.
FACES_NOT_TRACKED = "faces: not tracked yet"


class QtTimelineCanvas(QWidget):
    """Draws the lanes and turns mouse gestures into edit requests.

    Signals:
        playhead_moved(int frame): the user clicked or dragged on the ruler (scrub).
        scrub_started(), scrub_finished(): a ruler drag began / ended.
        segment_drawn(int start_frame, int end_frame): a drag on empty segment lane.
        segment_clicked(str segment_id, bool additive): click on a segment (ctrl = add).
        segment_trimmed(str segment_id, int start_frame, int end_frame): an edge was dragged.
        track_slid(str track_id, int offset_frames): a dub clip was dragged to a new offset.
        track_mute_toggled(str track_id), track_solo_toggled(str track_id): header buttons.
        face_track_clicked(str track_id): click on a face in the face lane.
        view_changed(): zoom or scroll changed (the sync plot follows).
    """

    playhead_moved = Signal(int)
    scrub_started = Signal()
    scrub_finished = Signal()
    segment_drawn = Signal(int, int)
    segment_clicked = Signal(str, bool)
    segment_trimmed = Signal(str, int, int)
    track_slid = Signal(str, int)
    track_mute_toggled = Signal(str)
    track_solo_toggled = Signal(str)
    face_track_clicked = Signal(str)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtTimelineCanvas")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.frame_count = 0
        self.fps = 25.0
        #: Formats a frame as the clip's SMPTE timecode (set by the window); None = clip time.
        self.timecode_text: Callable[[int], str] | None = None
        self.playhead = 0
        self.loop_range: tuple[int, int] | None = None
        self.thumbnails: list[tuple[int, QImage]] = []
        self.waves: list[WaveLane] = []
        self.faces: list[FaceLane] = []
        self.faces_note = FACES_NOT_TRACKED  # what the face lane says when it has none
        self.segments: list[SegmentItem] = []
        self.selected: set[str] = set()
        #: Names of the segment lane's rows (face ids); one unnamed row by default.
        self.segment_rows: list[str] = [""]
        #: Row where the last segment_drawn gesture happened.
        self.drawn_row = 0
        self._px_per_frame = 0.0  # 0 = fit to width
        self._scroll_frame = 0.0
        self._drag: dict | None = None
        self._lanes: list[_Lane] = []
        self._static_cache: QPixmap | None = None
        self._static_cache_key: tuple | None = None
        #: Mouth-cue lanes under dub waveforms: painted and edited by this helper.
        self.cue_editor = QtCueLaneEditor(self)
        #: Blend-strength curves over the segment blocks: painted and edited by this helper.
        self.strength_editor = QtStrengthCurveEditor(self)
        self._layout_lanes()

    # ------------------------------------------------------------------ data in
    def set_clip(self, frame_count: int, fps: float) -> None:
        """Set the clip length and rate; resets zoom to fit."""
        self.frame_count = max(0, int(frame_count))
        self.fps = float(fps) or 25.0
        self._px_per_frame = 0.0
        self._scroll_frame = 0.0
        self.update()
        self.view_changed.emit()

    def set_waves(self, waves: list[WaveLane]) -> None:
        """Replace the audio lanes."""
        self.waves = waves
        self._layout_lanes()

    def set_cue_lanes(self, lanes: list[CueLane]) -> None:
        """Replace the mouth-cue lanes (one under each dub track's waveform that has cues)."""
        self.cue_editor.set_lanes(lanes)
        self._layout_lanes()

    def set_faces(self, faces: list[FaceLane], empty_note: str = FACES_NOT_TRACKED) -> None:
        """Replace the face lane content (one row per face track; ``empty_note`` if none)."""
        resize = len(faces) != len(self.faces)
        self.faces = faces
        self.faces_note = empty_note
        if resize:
            self._layout_lanes()
        self.update()

    def set_segments(
        self, segments: list[SegmentItem], selected: set[str], rows: list[str] | None = None
    ) -> None:
        """Replace the segments, the selection and (optionally) the rows (one per face)."""
        self.segments = segments
        self.selected = set(selected)
        if rows is not None and rows != self.segment_rows:
            self.segment_rows = rows or [""]
            self._layout_lanes()
        self.update()

    def set_thumbnails(self, thumbnails: list[tuple[int, QImage]]) -> None:
        """Replace the video thumbnails (``(frame, image)`` pairs, any spacing)."""
        self.thumbnails = sorted(thumbnails, key=lambda t: t[0])
        self.update()

    def set_playhead(self, frame: int) -> None:
        """Move the playhead (keeps it in view while playing)."""
        self.playhead = int(frame)
        x = self.frame_to_x(frame)
        if self._px_per_frame and (x < HEADER_W or x > self.width() - 10):
            self._scroll_frame = max(0.0, frame - 0.1 * self._visible_frames())
            self.view_changed.emit()
        self.update()

    def set_loop_range(self, loop: tuple[int, int] | None) -> None:
        """Shade the looped range, or none."""
        self.loop_range = loop
        self.update()

    # ------------------------------------------------------------------ mapping
    def px_per_frame(self) -> float:
        """Current zoom in pixels per frame."""
        if self._px_per_frame:
            return self._px_per_frame
        usable = max(50, self.width() - HEADER_W - 12)
        return usable / max(1, self.frame_count)

    def _visible_frames(self) -> float:
        return (self.width() - HEADER_W) / self.px_per_frame()

    def visible_range(self) -> tuple[float, float]:
        """First and last frame in view (floats)."""
        start = self._scroll_frame if self._px_per_frame else 0.0
        return start, start + self._visible_frames()

    def frame_to_x(self, frame: float) -> float:
        """Frame to widget x."""
        start = self._scroll_frame if self._px_per_frame else 0.0
        return HEADER_W + (frame - start) * self.px_per_frame()

    def x_to_frame(self, x: float) -> int:
        """Widget x to the nearest frame boundary, clamped to the clip."""
        start = self._scroll_frame if self._px_per_frame else 0.0
        frame = round(start + (x - HEADER_W) / self.px_per_frame())
        return int(min(max(frame, 0), self.frame_count))

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom by ``factor`` around ``anchor_x`` (widget x; default the playhead)."""
        if self.frame_count <= 0:
            return
        anchor_x = self.frame_to_x(self.playhead) if anchor_x is None else anchor_x
        anchor_frame = self.visible_range()[0] + (anchor_x - HEADER_W) / self.px_per_frame()
        fit = max(50, self.width() - HEADER_W - 12) / max(1, self.frame_count)
        new = min(max(self.px_per_frame() * factor, fit), 40.0)
        self._px_per_frame = 0.0 if new <= fit * 1.0001 else new
        if self._px_per_frame:
            self._scroll_frame = max(0.0, anchor_frame - (anchor_x - HEADER_W) / new)
        else:
            self._scroll_frame = 0.0
        self.update()
        self.view_changed.emit()

    def zoom_to_fit(self) -> None:
        """Show the whole clip."""
        self._px_per_frame = 0.0
        self._scroll_frame = 0.0
        self.update()
        self.view_changed.emit()

    def lane_rect(self, kind: str, key: str = "") -> QRectF:
        """Rectangle of a lane (for tests and the sync plot's alignment)."""
        for lane in self._lanes:
            if lane.kind == kind and (not key or lane.key == key):
                return QRectF(HEADER_W, lane.top, self.width() - HEADER_W, lane.height)
        return QRectF()

    # ------------------------------------------------------------------ layout
    def _layout_lanes(self) -> None:
        lanes = [_Lane("ruler", 0, RULER_H), _Lane("thumbs", RULER_H, THUMB_H)]
        y = RULER_H + THUMB_H
        for wave in self.waves:
            lanes.append(_Lane("wave", y, WAVE_H, wave.track_id))
            y += WAVE_H
            if wave.track_id in self.cue_editor.lanes:
                lanes.append(_Lane("cues", y, CUE_H, wave.track_id))
                y += CUE_H
        face_h = max(FACE_H, FACE_ROW_H * len(self.faces) + 4)
        lanes.append(_Lane("faces", y, face_h))
        y += face_h
        seg_h = (
            SEGMENT_H if len(self.segment_rows) <= 1 else SEGMENT_ROW_H * len(self.segment_rows)
        )
        lanes.append(_Lane("segments", y, seg_h))
        y += seg_h
        self._lanes = lanes
        self.setFixedHeight(int(y) + 1)
        self.update()

    def _lane_at(self, y: float) -> _Lane | None:
        for lane in self._lanes:
            if lane.top <= y < lane.top + lane.height:
                return lane
        return None

    # ------------------------------------------------------------------ painting
    #: Lanes that change only with the data and the view, drawn once into a pixmap.
    _STATIC_LANES = ("ruler", "thumbs", "wave", "faces")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        # The static layers (lane bodies, grid, ruler, thumbnails, waveforms, faces, headers)
        # are a few hundred painter calls; a render's progress and the playhead repaint several
        # times a second, and each call waits for the GIL when a worker runs Python, so they
        # come from a pixmap redrawn only when their inputs change.
        key = self._static_key()
        if key is None or key != self._static_cache_key or self._static_cache is None:
            self._static_cache = self._paint_static_pixmap() if key is not None else None
            self._static_cache_key = key
        p = QPainter(self)
        if self._static_cache is not None:
            p.drawPixmap(0, 0, self._static_cache)
        else:
            self._paint_static(p)
        if self.frame_count > 0:
            p.save()
            p.setClipRect(QRectF(HEADER_W, 0, self.width() - HEADER_W, self.height()))
            if self.loop_range is not None:
                x0, x1 = (self.frame_to_x(f) for f in self.loop_range)
                p.fillRect(QRectF(x0, RULER_H, x1 - x0, self.height() - RULER_H), _LOOP)
            for lane in self._lanes:
                if lane.kind not in self._STATIC_LANES:
                    getattr(self, f"_paint_{lane.kind}")(p, lane)
            self._paint_playhead(p)
            p.restore()
        self._paint_ruler_timecode(p)
        p.end()

    def _static_key(self) -> tuple | None:
        """Everything the static layers depend on; None while a dub is slid (drawn live)."""
        if (self._drag or {}).get("kind") == "slide":
            return None
        waves = tuple(
            (w.track_id, w.name, id(w.peaks), w.peaks_per_sec, w.offset_frames,
             w.length_frames, w.muted, w.solo, QColor(w.color).rgba())
            for w in self.waves
        )  # fmt: skip
        faces = tuple(
            (f.track_id, tuple(f.ranges), id(f.thumbnail), f.selected) for f in self.faces
        )
        return (
            self.width(),
            self.height(),
            self.devicePixelRatioF(),
            self.px_per_frame(),
            self.visible_range()[0],
            self.frame_count,
            self.fps,
            id(self.thumbnails),
            len(self.thumbnails),
            waves,
            faces,
            tuple((lane.kind, lane.top, lane.height, lane.key) for lane in self._lanes),
            tuple(self.segment_rows),
            self.font().key(),
        )

    def _paint_static_pixmap(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(_BG)
        p = QPainter(pixmap)
        p.setFont(self.font())
        self._paint_static(p)
        p.end()
        return pixmap

    def _paint_static(self, p: QPainter) -> None:
        p.fillRect(self.rect(), _BG)
        for i, lane in enumerate(self._lanes):
            body = QRectF(HEADER_W, lane.top, self.width() - HEADER_W, lane.height)
            p.fillRect(body, _LANE_ALT if i % 2 else _LANE_BG)
        if self.frame_count > 0:
            p.save()
            p.setClipRect(QRectF(HEADER_W, 0, self.width() - HEADER_W, self.height()))
            self._paint_grid(p)
            for lane in self._lanes:
                if lane.kind in self._STATIC_LANES:
                    getattr(self, f"_paint_{lane.kind}")(p, lane)
            p.restore()
        self._paint_headers(p)

    def _tick_step_frames(self) -> int:
        fps = max(1, round(self.fps))
        ppf = self.px_per_frame()
        for step in (
            1,
            2,
            5,
            10,
            fps // 2 or 1,
            fps,
            2 * fps,
            5 * fps,
            10 * fps,
            30 * fps,
            60 * fps,
        ):
            if step * ppf >= 70:
                return step
        return 300 * fps

    def _paint_grid(self, p: QPainter) -> None:
        step = self._tick_step_frames()
        start, end = self.visible_range()
        first = int(start // step) * step
        p.setPen(QPen(_GRID, 1))
        for f in range(first, int(end) + step, step):
            x = self.frame_to_x(f)
            p.drawLine(QPointF(x, RULER_H), QPointF(x, self.height()))

    def _paint_ruler(self, p: QPainter, lane: _Lane) -> None:
        p.fillRect(QRectF(HEADER_W, 0, self.width(), RULER_H), QColor(44, 47, 54))
        step = self._tick_step_frames()
        start, end = self.visible_range()
        first = int(start // step) * step
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
        p.setFont(font)
        fps = max(1, round(self.fps))
        for f in range(first, int(end) + step, step):
            x = self.frame_to_x(f)
            p.setPen(_TEXT_DIM)
            p.drawLine(QPointF(x, RULER_H - 8), QPointF(x, RULER_H))
            sec, ff = divmod(f, fps)
            text = f"{sec // 60:d}:{sec % 60:02d}" + (f".{ff:02d}" if step < fps else "")
            p.setPen(_TEXT)
            p.drawText(QPointF(x + 3, RULER_H - 10), text)
        minor = max(1, step // 5)
        p.setPen(QColor(255, 255, 255, 50))
        for f in range(first, int(end) + step, minor):
            x = self.frame_to_x(f)
            p.drawLine(QPointF(x, RULER_H - 4), QPointF(x, RULER_H))

    def _paint_thumbs(self, p: QPainter, lane: _Lane) -> None:
        if not self.thumbnails:
            return
        h = lane.height - 4
        first_img = self.thumbnails[0][1]
        w = h * first_img.width() / max(1, first_img.height())
        x = HEADER_W
        frames = np.array([f for f, _ in self.thumbnails])
        while x < self.width():
            frame = self.x_to_frame(x + w / 2)
            i = int(np.clip(np.searchsorted(frames, frame, side="right") - 1, 0, len(frames) - 1))
            p.drawImage(QRectF(x, lane.top + 2, w, h), self.thumbnails[i][1])
            x += w + 1

    def _paint_wave(self, p: QPainter, lane: _Lane) -> None:
        wave = next((w for w in self.waves if w.track_id == lane.key), None)
        if wave is None:
            return
        x0 = self.frame_to_x(wave.offset_frames)
        x1 = self.frame_to_x(wave.offset_frames + wave.length_frames)
        clip_rect = QRectF(x0, lane.top + 3, x1 - x0, lane.height - 6)
        drag = self._drag or {}
        if drag.get("kind") == "slide" and drag.get("key") == wave.track_id:
            clip_rect.translate(drag["dx"], 0)
            x0 += drag["dx"]
        dim = wave.muted or (any(w.solo for w in self.waves) and not wave.solo)
        base = QColor(wave.color)
        base.setAlpha(60 if dim else 255)
        fill = QColor(wave.color)
        fill.setAlpha(28 if dim else 48)
        p.setPen(QPen(QColor(base.red(), base.green(), base.blue(), 90), 1))
        p.setBrush(fill)
        p.drawRoundedRect(clip_rect, 3, 3)
        if wave.peaks is None or len(wave.peaks) == 0:
            p.setPen(_TEXT_DIM)
            p.drawText(clip_rect, Qt.AlignmentFlag.AlignCenter, "analysing audio…")
            return
        # One min/max pair per visible pixel column of the clip.
        left = max(clip_rect.left(), HEADER_W)
        right = min(clip_rect.right(), self.width())
        if right <= left:
            return
        cols = np.arange(int(left), int(right))
        mid = lane.top + lane.height / 2
        amp = (lane.height - 10) / 2
        lo_full, hi_full = _column_envelope(
            wave.peaks, (cols - x0) * wave.peaks_per_sec / self.fps / self.px_per_frame()
        )
        top = [QPointF(float(c), mid - float(h) * amp) for c, h in zip(cols, hi_full, strict=True)]
        bottom = [
            QPointF(float(c), mid - float(v) * amp) for c, v in zip(cols, lo_full, strict=True)
        ]
        poly = QPolygonF(top + bottom[::-1])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(base)
        p.drawPolygon(poly)

    def _paint_cues(self, p: QPainter, lane: _Lane) -> None:
        body = QRectF(HEADER_W, lane.top, self.width() - HEADER_W, lane.height)
        self.cue_editor.paint(p, body, lane.key)

    def _paint_faces(self, p: QPainter, lane: _Lane) -> None:
        if not self.faces:
            p.setPen(_TEXT_DIM)
            p.drawText(
                QRectF(HEADER_W + 8, lane.top, 640, lane.height),
                Qt.AlignmentFlag.AlignVCenter,
                self.faces_note,
            )
            return
        n = len(self.faces)
        row_h = (lane.height - 4) / n
        palette = [QColor(120, 200, 255), QColor(200, 140, 255), QColor(120, 230, 170)]
        for i, face in enumerate(self.faces):
            y = lane.top + 2 + i * row_h
            color = QColor(255, 196, 0) if face.selected else palette[i % len(palette)]
            for first, last in face.ranges:
                xa, xb = self.frame_to_x(first), self.frame_to_x(last + 1)
                r = QRectF(xa, y + 1, max(2.0, xb - xa), row_h - 2)
                c = QColor(color)
                c.setAlpha(110 if face.selected else 60)
                p.setPen(QPen(color, 1))
                p.setBrush(c)
                p.drawRoundedRect(r, 2, 2)
                side = r.height() - 2
                if face.thumbnail is not None and r.width() > side + 40:
                    p.drawImage(QRectF(r.left() + 1, r.top() + 1, side, side), face.thumbnail)
                    p.setPen(_TEXT)
                    p.drawText(
                        r.adjusted(side + 6, 0, 0, 0),
                        Qt.AlignmentFlag.AlignVCenter,
                        face.track_id + ("  (target)" if face.selected else ""),
                    )

    def _paint_segments(self, p: QPainter, lane: _Lane) -> None:
        drag = self._drag or {}
        for seg in self.segments:
            start, end = seg.start_frame, seg.end_frame
            if drag.get("kind") == "trim" and drag.get("key") == seg.segment_id:
                start, end = drag["start"], drag["end"]
            xa, xb = self.frame_to_x(start), self.frame_to_x(end)
            top, height = self._row_span(lane, seg.row)
            r = QRectF(xa, top + 3, max(3.0, xb - xa), height - 6)
            color = STATUS_COLORS.get(seg.status, STATUS_COLORS["none"])
            fill = QColor(color)
            fill.setAlpha(150)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(fill)
            p.drawRoundedRect(r, 3, 3)
            if seg.status == "rendering" and seg.progress > 0:
                done = QRectF(r.left(), r.bottom() - 4, r.width() * seg.progress, 4)
                p.fillRect(done, QColor(255, 255, 255, 200))
            selected = seg.segment_id in self.selected
            p.setPen(QPen(_SELECT if selected else color.lighter(130), 2 if selected else 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(r, 3, 3)
            if r.width() > 40:
                p.setPen(QColor(250, 250, 250))
                label = seg.label or seg.segment_id
                p.drawText(r.adjusted(6, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, label)
        if drag.get("kind") == "create":
            a, b = sorted((drag["start"], drag["end"]))
            xa, xb = self.frame_to_x(a), self.frame_to_x(b)
            top, height = self._row_span(lane, drag.get("row", 0))
            r = QRectF(xa, top + 3, xb - xa, height - 6)
            p.setPen(QPen(_SELECT, 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(255, 255, 255, 30))
            p.drawRect(r)
        self.strength_editor.paint(p)

    def _row_span(self, lane: _Lane, row: int) -> tuple[float, float]:
        """Top and height of a row of the segment lane."""
        n = max(1, len(self.segment_rows))
        h = lane.height / n
        return lane.top + h * min(max(row, 0), n - 1), h

    def _row_at(self, lane: _Lane, y: float) -> int:
        n = max(1, len(self.segment_rows))
        return int(min(max((y - lane.top) // (lane.height / n), 0), n - 1))

    def _paint_playhead(self, p: QPainter) -> None:
        x = self.frame_to_x(self.playhead)
        p.setPen(QPen(_PLAYHEAD, 1.5))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        path = QPainterPath()
        path.moveTo(x - 6, 0)
        path.lineTo(x + 6, 0)
        path.lineTo(x, 8)
        path.closeSubpath()
        p.fillPath(path, _PLAYHEAD)

    def _paint_headers(self, p: QPainter) -> None:
        p.fillRect(QRectF(0, 0, HEADER_W, self.height()), _HEADER_BG)
        p.setPen(QPen(QColor(0, 0, 0, 120), 1))
        p.drawLine(QPointF(HEADER_W - 0.5, 0), QPointF(HEADER_W - 0.5, self.height()))
        names = {
            "ruler": "",
            "thumbs": "Video",
            "cues": "   Mouth cues",
            "faces": "Faces",
            "segments": "Segments",
        }
        for lane in self._lanes:
            p.setPen(QPen(QColor(0, 0, 0, 90), 1))
            p.drawLine(QPointF(0, lane.top), QPointF(self.width(), lane.top))
            text_rect = QRectF(10, lane.top, HEADER_W - 20, lane.height)
            if lane.kind == "wave":
                wave = next(w for w in self.waves if w.track_id == lane.key)
                p.setPen(wave.color)
                p.fillRect(QRectF(0, lane.top + 1, 3, lane.height - 2), wave.color)
                p.setPen(_TEXT)
                fm = p.fontMetrics()
                name = fm.elidedText(wave.name, Qt.TextElideMode.ElideRight, HEADER_W - 66)
                p.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, name)
                for label, rect, on in (
                    ("M", self._mute_rect(lane), wave.muted),
                    ("S", self._solo_rect(lane), wave.solo),
                ):
                    color = QColor(230, 90, 80) if label == "M" else QColor(240, 190, 40)
                    p.setPen(QPen(color if on else QColor(90, 95, 105), 1))
                    p.setBrush(color if on else QColor(52, 56, 64))
                    p.drawRoundedRect(rect, 3, 3)
                    p.setPen(QColor(20, 20, 20) if on else _TEXT_DIM)
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
            elif lane.kind == "segments" and len(self.segment_rows) > 1:
                p.setPen(_TEXT)
                p.drawText(
                    QRectF(10, lane.top, HEADER_W - 20, 18),
                    Qt.AlignmentFlag.AlignVCenter,
                    "Segments",
                )
                p.setPen(_TEXT_DIM)
                for row, name in enumerate(self.segment_rows):
                    top, height = self._row_span(lane, row)
                    p.drawText(
                        QRectF(10, top, HEADER_W - 16, height),
                        Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                        name,
                    )
            elif lane.kind == "ruler":
                pass  # the playhead's timecode: _paint_ruler_timecode, on every repaint
            else:
                p.setPen(_TEXT)
                p.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, names[lane.kind])

    def _paint_ruler_timecode(self, p: QPainter) -> None:
        for lane in self._lanes:
            if lane.kind == "ruler":
                p.setPen(_TEXT_DIM)
                text_rect = QRectF(10, lane.top, HEADER_W - 20, lane.height)
                p.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, self._timecode())

    def _timecode(self) -> str:
        if self.timecode_text is not None:
            return self.timecode_text(self.playhead)
        fps = max(1, round(self.fps))
        sec, ff = divmod(self.playhead, fps)
        return f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}:{ff:02d}"

    def _mute_rect(self, lane: _Lane) -> QRectF:
        return QRectF(HEADER_W - 50, lane.top + (lane.height - 18) / 2, 20, 18)

    def _solo_rect(self, lane: _Lane) -> QRectF:
        return QRectF(HEADER_W - 26, lane.top + (lane.height - 18) / 2, 20, 18)

    # ------------------------------------------------------------------ mouse
    def _segment_at(self, x: float, row: int = 0) -> tuple[SegmentItem | None, str]:
        """Segment under ``x`` in ``row`` and which part: "start" / "end" edge or "body"."""
        for seg in sorted(
            self.segments, key=lambda s: s.segment_id in self.selected, reverse=True
        ):
            if seg.row != row and len(self.segment_rows) > 1:
                continue
            xa, xb = self.frame_to_x(seg.start_frame), self.frame_to_x(seg.end_frame)
            if abs(x - xa) <= EDGE_GRAB_PX:
                return seg, "start"
            if abs(x - xb) <= EDGE_GRAB_PX:
                return seg, "end"
            if xa < x < xb:
                return seg, "body"
        return None, ""

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton or self.frame_count <= 0:
            return super().mousePressEvent(event)
        pos = event.position()
        lane = self._lane_at(pos.y())
        if lane is None:
            return
        if pos.x() < HEADER_W:
            if lane.kind == "wave":
                if self._mute_rect(lane).contains(pos):
                    self.track_mute_toggled.emit(lane.key)
                elif self._solo_rect(lane).contains(pos):
                    self.track_solo_toggled.emit(lane.key)
            return
        frame = self.x_to_frame(pos.x())
        additive = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if lane.kind in ("ruler", "thumbs"):
            self._drag = {"kind": "scrub"}
            self.scrub_started.emit()
            self.playhead_moved.emit(min(frame, self.frame_count - 1))
        elif lane.kind == "segments":
            row = self._row_at(lane, pos.y())
            seg, part = self._segment_at(pos.x(), row)
            if seg is None:
                self._drag = {"kind": "create", "start": frame, "end": frame, "row": row}
            else:
                self.segment_clicked.emit(seg.segment_id, additive)
                if part in ("start", "end"):
                    self._drag = {
                        "kind": "trim",
                        "key": seg.segment_id,
                        "edge": part,
                        "start": seg.start_frame,
                        "end": seg.end_frame,
                    }
        elif lane.kind == "wave":
            wave = next(w for w in self.waves if w.track_id == lane.key)
            xa = self.frame_to_x(wave.offset_frames)
            xb = self.frame_to_x(wave.offset_frames + wave.length_frames)
            if wave.movable and xa <= pos.x() <= xb:
                self._drag = {"kind": "slide", "key": wave.track_id, "x0": pos.x(), "dx": 0.0}
                self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif lane.kind == "faces" and self.faces:
            row_h = (lane.height - 4) / len(self.faces)
            i = int((pos.y() - lane.top - 2) // row_h)
            if 0 <= i < len(self.faces):
                face = self.faces[i]
                if any(a <= frame <= b + 1 for a, b in face.ranges):
                    self.face_track_clicked.emit(face.track_id)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        drag = self._drag
        if drag is None:
            lane = self._lane_at(pos.y())
            cursor = Qt.CursorShape.ArrowCursor
            tip = ""
            if lane is not None and lane.kind == "segments" and pos.x() > HEADER_W:
                seg, part = self._segment_at(pos.x(), self._row_at(lane, pos.y()))
                if part in ("start", "end"):
                    cursor = Qt.CursorShape.SizeHorCursor
                if seg is not None:
                    tip = (
                        f"{seg.label or seg.segment_id}\nframes {seg.start_frame}–"
                        f"{seg.end_frame}\nrender: {STATUS_TEXT.get(seg.status, seg.status)}"
                    )
            elif lane is not None and lane.kind == "segments":
                tip = "Segment colours:\n" + "\n".join(STATUS_TEXT.values())
            elif lane is not None and lane.kind == "wave" and pos.x() > HEADER_W:
                wave = next(w for w in self.waves if w.track_id == lane.key)
                if wave.movable:
                    cursor = Qt.CursorShape.OpenHandCursor
                    tip = "Drag to slide the dub; Alt+←/→ nudges by one frame"
            self.setToolTip(tip)
            self.setCursor(cursor)
            return
        frame = self.x_to_frame(pos.x())
        if drag["kind"] == "scrub":
            self.playhead_moved.emit(min(frame, self.frame_count - 1))
        elif drag["kind"] == "create":
            drag["end"] = frame
        elif drag["kind"] == "trim":
            if drag["edge"] == "start":
                drag["start"] = min(frame, drag["end"] - 1)
            else:
                drag["end"] = max(frame, drag["start"] + 1)
        elif drag["kind"] == "slide":
            drag["dx"] = pos.x() - drag["x0"]
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        drag, self._drag = self._drag, None
        if drag is None or event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        if drag["kind"] == "scrub":
            self.scrub_finished.emit()
        elif drag["kind"] == "create":
            a, b = sorted((drag["start"], drag["end"]))
            if b - a >= 2:
                self.drawn_row = drag.get("row", 0)
                self.segment_drawn.emit(a, b)
        elif drag["kind"] == "trim":
            self.segment_trimmed.emit(drag["key"], drag["start"], drag["end"])
        elif drag["kind"] == "slide":
            shift = round(drag["dx"] / self.px_per_frame())
            wave = next(w for w in self.waves if w.track_id == drag["key"])
            if shift:
                self.track_slid.emit(wave.track_id, wave.offset_frames + shift)
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.25 if delta > 0 else 0.8, event.position().x())
        elif self._px_per_frame:
            self._scroll_frame = max(
                0.0,
                min(
                    self.frame_count - self._visible_frames() * 0.5,
                    self._scroll_frame - delta / 120 * self._visible_frames() * 0.1,
                ),
            )
            self.update()
            self.view_changed.emit()
        event.accept()
