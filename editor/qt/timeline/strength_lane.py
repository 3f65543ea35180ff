"""The blend-strength curve drawn over each segment block, and its key-point gestures.

:class:`QtStrengthCurveEditor` paints a line across every segment of the segment lane (bottom of
the block = 0 %, top = 100 %) with a dot per key, and edits it through an event filter on the
canvas, so the big canvas only calls :meth:`paint`:

- left-click on the line of a segment adds a key there (a segment without keys shows a flat
  100 % line along its top edge),
- dragging a key moves it (frame and strength); the edits of one drag are one undo step,
- right-click on a key, or Delete with a key picked, removes it.

Edits leave as signals; the main window turns them into document calls (and the undo log).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

#: How near (pixels) the pointer must be to a key dot or the line to grab it.
GRAB_PX = 6
_LINE = QColor(255, 236, 120)
_KEY = QColor(255, 250, 220)
_PICKED = QColor(255, 120, 60)


def _strength(keys: tuple, frame: float) -> float:
    if not keys:
        return 1.0
    return float(np.interp(frame, [k[0] for k in keys], [k[1] for k in keys]))


class QtStrengthCurveEditor(QObject):
    """Paints segments' strength curves on a :class:`QtTimelineCanvas` and reports key edits.

    Signals:
        key_added(str segment_id, int frame, float strength): click on a segment's line.
        key_moved(str segment_id, int index, int frame, float strength): a key dragged.
        key_removed(str segment_id, int index): right-click or Delete on a key.
        drag_finished(): a key drag ended (seal the undo step).
    """

    key_added = Signal(str, int, float)
    key_moved = Signal(str, int, int, float)
    key_removed = Signal(str, int)
    drag_finished = Signal()

    def __init__(self, canvas: QWidget):
        super().__init__(canvas)
        self.canvas = canvas
        #: The key picked last, ``(segment id, index)``, for Delete.
        self.picked: tuple[str, int] | None = None
        self._drag: tuple[str, int] | None = None
        canvas.installEventFilter(self)

    # ------------------------------------------------------------------ geometry
    def block_rect(self, segment_id: str) -> QRectF | None:
        """The segment's block in canvas pixels (the curve's box), or None when not shown."""
        lane = next((ln for ln in self.canvas._lanes if ln.kind == "segments"), None)
        seg = next((s for s in self.canvas.segments if s.segment_id == segment_id), None)
        if lane is None or seg is None:
            return None
        top, height = self.canvas._row_span(lane, seg.row)
        xa, xb = self.canvas.frame_to_x(seg.start_frame), self.canvas.frame_to_x(seg.end_frame)
        return QRectF(xa, top + 3, max(3.0, xb - xa), height - 6)

    def key_point(self, segment_id: str, index: int) -> QPointF:
        """Canvas position of key ``index`` (for tests and hit testing)."""
        seg = next(s for s in self.canvas.segments if s.segment_id == segment_id)
        frame, strength = seg.strength_keys[index]
        return self._point(self.block_rect(segment_id), frame, strength)

    def _point(self, r: QRectF, frame: float, strength: float) -> QPointF:
        return QPointF(self.canvas.frame_to_x(frame), r.bottom() - strength * r.height())

    def _value_at(self, r: QRectF, pos: QPointF) -> tuple[int, float]:
        frame = self.canvas.x_to_frame(pos.x())
        strength = (r.bottom() - pos.y()) / max(1.0, r.height())
        return frame, round(min(1.0, max(0.0, strength)), 2)

    def _hit(self, pos: QPointF) -> tuple[str, int | None] | None:
        """``(segment id, key index)`` under ``pos``, ``(segment id, None)`` on the line."""
        for seg in self.canvas.segments:
            r = self.block_rect(seg.segment_id)
            if r is None or not r.adjusted(-GRAB_PX, -GRAB_PX, GRAB_PX, GRAB_PX).contains(pos):
                continue
            for i in range(len(seg.strength_keys)):
                q = self.key_point(seg.segment_id, i)
                if abs(q.x() - pos.x()) <= GRAB_PX and abs(q.y() - pos.y()) <= GRAB_PX:
                    return seg.segment_id, i
            frame = self.canvas.x_to_frame(pos.x())
            line_y = self._point(r, frame, _strength(seg.strength_keys, frame)).y()
            if r.left() < pos.x() < r.right() and abs(line_y - pos.y()) <= GRAB_PX / 2:
                return seg.segment_id, None
        return None

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter) -> None:
        """Draw every segment's curve (called by the canvas after the segment blocks)."""
        for seg in self.canvas.segments:
            r = self.block_rect(seg.segment_id)
            if r is None or r.width() < 4:
                continue
            keys = seg.strength_keys
            frames = [
                seg.start_frame,
                *(k[0] for k in keys if seg.start_frame < k[0] < seg.end_frame),
                seg.end_frame,
            ]
            path = QPainterPath()
            for i, f in enumerate(frames):
                q = self._point(r, f, _strength(keys, f))
                path.moveTo(q) if i == 0 else path.lineTo(q)
            p.setPen(QPen(_LINE, 1.6 if keys else 1.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            for i, (f, v) in enumerate(keys):
                q = self._point(r, f, v)
                picked = self.picked == (seg.segment_id, i)
                p.setPen(QPen(QColor(20, 22, 26), 1))
                p.setBrush(_PICKED if picked else _KEY)
                p.drawEllipse(q, 3.5, 3.5)
                if picked:
                    p.setPen(_KEY)
                    p.drawText(q + QPointF(6, -3), f"{v:.0%}")

    # ------------------------------------------------------------------ gestures
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Claim presses on key dots and lines, drags of keys, and Delete on a picked key."""
        if obj is not self.canvas:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            seg_id, index = self._drag
            r = self.block_rect(seg_id)
            if r is not None:
                frame, strength = self._value_at(r, event.position())
                self.key_moved.emit(seg_id, index, frame, strength)
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._drag = None
            self.drag_finished.emit()
            return True
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return self._key(event, kind == QEvent.Type.KeyPress)
        return False

    def _press(self, event: Any) -> bool:
        hit = self._hit(event.position())
        if hit is None:
            return False
        seg_id, index = hit
        button = event.button()
        if index is None:
            if button != Qt.MouseButton.LeftButton:
                return False
            r = self.block_rect(seg_id)
            frame, strength = self._value_at(r, event.position())
            self.key_added.emit(seg_id, frame, strength)
            return True
        self.picked = (seg_id, index)
        self.canvas.setFocus(Qt.FocusReason.MouseFocusReason)
        if button == Qt.MouseButton.RightButton:
            self.picked = None
            self.key_removed.emit(seg_id, index)
        elif button == Qt.MouseButton.LeftButton:
            self._drag = (seg_id, index)
        self.canvas.update()
        return True

    def _key(self, event: Any, act: bool) -> bool:
        if self.picked is None or event.key() not in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            return False
        event.accept()
        if act:
            seg_id, index = self.picked
            self.picked = None
            self.key_removed.emit(seg_id, index)
        return True
