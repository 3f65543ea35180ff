"""The video viewer: current frame, face boxes, region box, original/result/split wipe, badge.

In face-box mode the hand-drawn face's parametric mouth shows as four handles (the corners, the
upper and lower lip centres) joined by a lip outline; dragging one moves that point.

The viewer only draws what it is given and reports what the user did on it, in *source* pixel
coordinates (the clip's displayed frame size), so that the main window can map a click to a face
track or a drawn box to an edit region through the document.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

#: Viewer display modes.
MODES = ("original", "result", "split")

_FACE_COLOR = QColor(120, 200, 255)
_FACE_SELECTED = QColor(255, 196, 0)
_REGION_COLOR = QColor(80, 255, 160)
_FACE_BOX_COLOR = QColor(255, 170, 40)
_MOUTH_COLOR = QColor(255, 90, 120)
_DRAG_THRESHOLD_PX = 5
#: How near (widget pixels) a press must be to a mouth handle to grab it.
_HANDLE_GRAB_PX = 9
_HANDLE_RADIUS_PX = 5


@dataclass(frozen=True)
class FaceBox:
    """A face to outline on the current frame.

    Attributes:
        track_id: Face track id.
        box: ``(x0, y0, x1, y1)`` in source pixels.
        label: Short text drawn on the box ("face-0").
    """

    track_id: str
    box: tuple[float, float, float, float]
    label: str = ""


class QtViewer(QWidget):
    """Draws the current frame with overlays and turns mouse gestures into signals.

    Signals:
        face_clicked(float x, float y): a click (no drag) at source pixel ``(x, y)``.
        region_drawn(object box): a box ``(x0, y0, x1, y1)`` dragged in region mode, or None when
            the user cleared it with a plain click in region mode.
        wipe_moved(float fraction): the split line was dragged to ``fraction`` of the width.
        face_box_drawn(object box): a box ``(x0, y0, x1, y1)`` dragged in face-box mode (the
            hand-drawn face of the current frame).
        mouth_points_moved(object points): a mouth handle was dragged in face-box mode; the
            four points ``((x, y), ...)`` (left corner, right corner, upper lip, lower lip) in
            source pixels, the moved one kept inside the face box.
    """

    face_clicked = Signal(float, float)
    region_drawn = Signal(object)
    wipe_moved = Signal(float)
    face_box_drawn = Signal(object)
    mouth_points_moved = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtViewer")
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self._original: QImage | None = None
        self._result: QImage | None = None
        self._result_note = ""
        self._source_size = QSize(0, 0)
        self._mode = "original"
        self._wipe = 0.5
        self._faces: list[FaceBox] = []
        self._selected_track: str | None = None
        self._region: tuple[float, float, float, float] | None = None
        self._region_mode = False
        self._face_box_mode = False
        self._manual_box: tuple[float, float, float, float] | None = None
        self._manual_box_keyed = False
        self._mouth: tuple[tuple[float, float], ...] | None = None
        self._handle: int | None = None  # the mouth handle being dragged
        self._show_faces = True
        self._badge: str | None = None
        #: ``(text, widget rect)`` of each label the last paint drew (what a user reads, in order)
        self.drawn_tags: list[tuple[str, QRectF]] = []
        self._message = "Open a video (File ▸ Open Video, or drop a file here)"
        self._press: QPointF | None = None
        self._drag_now: QPointF | None = None
        self._dragging_wipe = False

    # ------------------------------------------------------------------ state
    def set_source_size(self, width: int, height: int) -> None:
        """Set the clip's displayed frame size (the coordinate system of boxes and clicks)."""
        self._source_size = QSize(int(width), int(height))
        self.update()

    def set_frames(
        self, original: QImage | None, result: QImage | None = None, result_note: str = ""
    ) -> None:
        """Show ``original`` and, when rendered, the ``result`` frame at the same position.

        Args:
            original: The source frame.
            result: The rendered frame, or None where there is none.
            result_note: Why there is no result (shown in the result and split views).
        """
        self._original = original
        self._result = result
        self._result_note = result_note
        self.update()

    def set_mode(self, mode: str) -> None:
        """Show the "original", the "result", or a "split" wipe between them."""
        if mode not in MODES:
            raise ValueError(f"unknown viewer mode {mode!r}; use one of {MODES}")
        self._mode = mode
        self.update()

    @property
    def mode(self) -> str:
        """Current display mode."""
        return self._mode

    def set_wipe(self, fraction: float) -> None:
        """Put the split line at ``fraction`` (0..1) of the picture width."""
        self._wipe = min(1.0, max(0.0, fraction))
        self.update()

    def set_faces(self, faces: list[FaceBox], selected_track: str | None) -> None:
        """Outline ``faces`` on the current frame, highlighting ``selected_track``."""
        self._faces = faces
        self._selected_track = selected_track
        self.update()

    def set_show_faces(self, show: bool) -> None:
        """Show or hide the face boxes."""
        self._show_faces = show
        self.update()

    def set_region(self, region: tuple[float, float, float, float] | None) -> None:
        """Show the edit region box (source pixels), or none."""
        self._region = region
        self.update()

    def set_region_mode(self, enabled: bool) -> None:
        """When on, dragging draws the edit region instead of clicking faces."""
        self._region_mode = enabled
        drawing = enabled or self._face_box_mode
        self.setCursor(Qt.CursorShape.CrossCursor if drawing else Qt.CursorShape.ArrowCursor)

    def set_face_box_mode(self, enabled: bool) -> None:
        """When on, dragging draws the hand-drawn face box of the current frame."""
        self._face_box_mode = enabled
        self.set_region_mode(self._region_mode and not enabled)
        self.update()  # the mouth handles show only in this mode

    def set_manual_box(
        self,
        box: tuple[float, float, float, float] | None,
        keyed: bool,
        mouth: tuple[tuple[float, float], ...] | None = None,
    ) -> None:
        """Show the hand-drawn face box of the current frame (``keyed``: a key sits here).

        Args:
            box: ``(x0, y0, x1, y1)`` in source pixels, or None.
            keyed: Whether a key sits on this frame.
            mouth: The parametric mouth's four points in source pixels (left corner, right
                corner, upper lip, lower lip), shown as handles in face-box mode.
        """
        self._manual_box, self._manual_box_keyed = box, keyed
        self._mouth = tuple((float(x), float(y)) for x, y in mouth) if mouth is not None else None
        self.update()

    def mouth_handles(self) -> list[QPointF]:
        """Widget positions of the mouth handles shown now (empty when none are)."""
        if not self._face_box_mode or self._manual_box is None or self._mouth is None:
            return []
        return [self.to_widget(x, y) for x, y in self._mouth]

    def set_badge(self, text: str | None) -> None:
        """Show a small on-video badge (confidence, offset), or hide it with None."""
        self._badge = text
        self.update()

    def set_message(self, text: str | None) -> None:
        """Text shown when there is no picture."""
        self._message = text
        self.update()

    # ------------------------------------------------------------------ geometry
    def picture_rect(self) -> QRectF:
        """Where the frame is drawn in widget pixels (aspect kept, centred)."""
        sw, sh = self._source_size.width(), self._source_size.height()
        if (sw <= 0 or sh <= 0) and self._original is not None:
            sw, sh = self._original.width(), self._original.height()
        if sw <= 0 or sh <= 0:
            return QRectF()
        scale = min(self.width() / sw, self.height() / sh)
        w, h = sw * scale, sh * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_source(self, pos: QPointF) -> tuple[float, float] | None:
        """Widget position to source pixel, or None outside the picture."""
        rect = self.picture_rect()
        if rect.isEmpty() or not rect.contains(pos):
            return None
        sx = self._source_size.width() or (self._original.width() if self._original else 1)
        return (
            (pos.x() - rect.left()) * sx / rect.width(),
            (pos.y() - rect.top()) * sx / rect.width(),
        )

    def to_widget(self, x: float, y: float) -> QPointF:
        """Source pixel to widget position."""
        rect = self.picture_rect()
        sx = self._source_size.width() or (self._original.width() if self._original else 1)
        k = rect.width() / sx if sx else 1.0
        return QPointF(rect.left() + x * k, rect.top() + y * k)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(14, 15, 17))
        self.drawn_tags = []
        rect = self.picture_rect()
        if self._original is None or rect.isEmpty():
            if self._message:
                p.setPen(QColor(130, 136, 146))
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            p.end()
            return
        shown_result = self._result if self._result is not None else None
        if self._mode == "result" and shown_result is not None:
            p.drawImage(rect, shown_result)
        else:
            p.drawImage(rect, self._original)
        if self._mode == "split" and shown_result is not None:
            x_split = rect.left() + rect.width() * self._wipe
            right = QRectF(x_split, rect.top(), rect.right() - x_split, rect.height())
            src_w = shown_result.width()
            src = QRectF(
                (x_split - rect.left()) * src_w / rect.width(),
                0,
                right.width() * src_w / rect.width(),
                shown_result.height(),
            )
            p.drawImage(right, shown_result, src)
            p.setPen(QPen(QColor(255, 255, 255, 220), 2))
            p.drawLine(QPointF(x_split, rect.top()), QPointF(x_split, rect.bottom()))
            self._draw_tag(p, QPointF(x_split - 8, rect.top() + 8), "ORIGINAL", right_align=True)
            self._draw_tag(p, QPointF(x_split + 8, rect.top() + 8), "RESULT")
        elif self._mode in ("result", "split") and shown_result is None:
            note = self._result_note or "NOT RENDERED"
            self._draw_tag(p, QPointF(rect.left() + 8, rect.top() + 8), f"ORIGINAL · {note}")
        elif self._mode == "result":
            self._draw_tag(p, QPointF(rect.left() + 8, rect.top() + 8), "RESULT")
        if self._show_faces:
            for face in self._faces:
                self._draw_face(p, face)
        if self._region is not None:
            self._draw_box(p, self._region, _REGION_COLOR, Qt.PenStyle.DashLine, "edit region")
        if self._manual_box is not None:
            label = "face box (key)" if self._manual_box_keyed else "face box"
            # Labelled under the box: a manual box is usually drawn over a detected face,
            # whose label sits above the same corner
            self._draw_box(
                p, self._manual_box, _FACE_BOX_COLOR, Qt.PenStyle.SolidLine, label, below=True
            )
            self._draw_mouth(p)
        drawing = self._region_mode or self._face_box_mode
        grabbed = self._handle is not None
        if self._press is not None and self._drag_now is not None and drawing and not grabbed:
            a, b = self._press, self._drag_now
            color = _FACE_BOX_COLOR if self._face_box_mode else _REGION_COLOR
            p.setPen(QPen(color, 1.5, Qt.PenStyle.DashLine))
            p.drawRect(QRectF(a, b).normalized())
        if self._badge:
            self._draw_badge(p, rect)
        p.end()

    def _draw_box(
        self, p: QPainter, box, color: QColor, style, label: str, below: bool = False
    ) -> None:
        a = self.to_widget(box[0], box[1])
        b = self.to_widget(box[2], box[3])
        p.setPen(QPen(color, 2, style))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(a, b))
        if label:
            at = QPointF(a.x(), b.y() + 4) if below else QPointF(a.x(), a.y() - 20)
            self._draw_tag(p, at, label, color=color)

    def _dragged_mouth(self) -> list[QPointF]:
        """The handles' widget positions, the grabbed one where the drag has it now."""
        pts = self.mouth_handles()
        if self._handle is not None and self._drag_now is not None and pts:
            pts[self._handle] = self._clamp_to_box(self._drag_now)
        return pts

    def _draw_mouth(self, p: QPainter) -> None:
        pts = self._dragged_mouth()
        if not pts:
            return
        left, right, upper, lower = pts
        p.setPen(QPen(_MOUTH_COLOR, 1.5, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPolygon([left, upper, right, lower])
        for i, pt in enumerate(pts):
            p.setPen(QPen(QColor(20, 20, 20), 1.5))
            p.setBrush(QColor(255, 255, 255) if i == self._handle else _MOUTH_COLOR)
            p.drawEllipse(pt, _HANDLE_RADIUS_PX, _HANDLE_RADIUS_PX)

    def _handle_at(self, pos: QPointF) -> int | None:
        """The mouth handle under ``pos`` (the nearest within reach), or None."""
        best, best_d = None, float(_HANDLE_GRAB_PX)
        for i, pt in enumerate(self.mouth_handles()):
            d = ((pt.x() - pos.x()) ** 2 + (pt.y() - pos.y()) ** 2) ** 0.5
            if d <= best_d:
                best, best_d = i, d
        return best

    def _clamp_to_box(self, pos: QPointF) -> QPointF:
        """A widget position clamped into the face box (a mouth point stays inside it)."""
        box = self._manual_box
        if box is None:
            return pos
        a, b = self.to_widget(box[0], box[1]), self.to_widget(box[2], box[3])
        return QPointF(min(max(pos.x(), a.x()), b.x()), min(max(pos.y(), a.y()), b.y()))

    def _draw_face(self, p: QPainter, face: FaceBox) -> None:
        selected = face.track_id == self._selected_track
        color = _FACE_SELECTED if selected else _FACE_COLOR
        label = face.label or face.track_id
        if selected:
            label += "  ✓ target"
        self._draw_box(p, face.box, color, Qt.PenStyle.SolidLine, label)

    def _draw_tag(
        self,
        p: QPainter,
        at: QPointF,
        text: str,
        color: QColor | None = None,
        right_align: bool = False,
    ) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.85))
        font.setBold(True)
        p.setFont(font)
        fm = p.fontMetrics()
        w = fm.horizontalAdvance(text) + 10
        h = fm.height() + 4
        x = at.x() - w if right_align else at.x()
        box = QRectF(x, at.y(), w, h)
        self.drawn_tags.append((text, box))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 170))
        p.drawRoundedRect(box, 3, 3)
        p.setPen(color or QColor(235, 235, 235))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _draw_badge(self, p: QPainter, rect: QRectF) -> None:
        font = QFont(self.font())
        font.setFamily("monospace")
        p.setFont(font)
        fm = p.fontMetrics()
        lines = self._badge.splitlines()
        w = max(fm.horizontalAdvance(line) for line in lines) + 16
        h = fm.height() * len(lines) + 10
        box = QRectF(rect.right() - w - 10, rect.bottom() - h - 10, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 180))
        p.drawRoundedRect(box, 4, 4)
        p.setPen(QColor(230, 230, 230))
        p.drawText(box.adjusted(8, 5, -8, -5), Qt.AlignmentFlag.AlignLeft, self._badge)

    # ------------------------------------------------------------------ mouse
    def _near_wipe(self, pos: QPointF) -> bool:
        if self._mode != "split" or self._result is None:
            return False
        rect = self.picture_rect()
        return abs(pos.x() - (rect.left() + rect.width() * self._wipe)) < 8

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position()
        self._dragging_wipe = self._near_wipe(pos)
        self._handle = None if self._dragging_wipe else self._handle_at(pos)
        self._press = pos
        self._drag_now = None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        if self._press is None:
            shape = Qt.CursorShape.SplitHCursor if self._near_wipe(pos) else None
            if shape is not None:
                self.setCursor(shape)
            else:
                self.set_region_mode(self._region_mode)
            return
        if self._dragging_wipe:
            rect = self.picture_rect()
            if rect.width() > 0:
                self.set_wipe((pos.x() - rect.left()) / rect.width())
                self.wipe_moved.emit(self._wipe)
            return
        self._drag_now = pos
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return super().mouseReleaseEvent(event)
        press, pos = self._press, event.position()
        self._press, self._drag_now = None, None
        if self._dragging_wipe:
            self._dragging_wipe = False
            return
        moved = (pos - press).manhattanLength() > _DRAG_THRESHOLD_PX
        if self._handle is not None:
            handle, self._handle = self._handle, None
            if moved and self._mouth is not None:
                at = self._clamp_to_box(pos)
                rect = self.picture_rect()
                src = self.to_source(_clamp(at, rect))
                if src is not None:
                    points = list(self._mouth)
                    points[handle] = (round(src[0], 1), round(src[1], 1))
                    self.mouth_points_moved.emit(tuple(points))
            self.update()
            return
        if self._face_box_mode:
            rect = self.picture_rect()
            a = self.to_source(_clamp(press, rect))
            b = self.to_source(_clamp(pos, rect))
            if moved and a is not None and b is not None:
                box = (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
                self.face_box_drawn.emit(tuple(round(v, 1) for v in box))
        elif self._region_mode and moved:
            rect = self.picture_rect()
            a = self.to_source(_clamp(press, rect))
            b = self.to_source(_clamp(pos, rect))
            if a is not None and b is not None:
                box = (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
                self.region_drawn.emit(tuple(round(v, 1) for v in box))
        elif self._region_mode:
            self.region_drawn.emit(None)
        elif not moved:
            src = self.to_source(pos)
            if src is not None:
                self.face_clicked.emit(float(src[0]), float(src[1]))
        self.update()


def _clamp(pos: QPointF, rect: QRectF) -> QPointF:
    """Clamp a widget position into ``rect`` (a drag may end outside the picture)."""
    return QPointF(
        min(max(pos.x(), rect.left()), rect.right() - 0.01),
        min(max(pos.y(), rect.top()), rect.bottom() - 0.01),
    )
