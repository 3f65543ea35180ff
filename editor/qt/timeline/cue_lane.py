"""The mouth-cue lane: one strip of shape blocks under each dub track's waveform.

:class:`QtCueLaneEditor` paints the lanes the canvas lays out and handles their gestures through an
event filter on the canvas, so the canvas only reserves the rows and calls :meth:`paint`. Gestures
end in signals (the cue tools turn them into document calls, so every edit is undoable):

- drag a boundary between two blocks (snapped to the cue frame rate by the document);
- click a block to select it, then press A-H or X for its shape, S to split it at the playhead
  (or in the middle), M to merge it with the next block;
- right-click a block for the same choices in a menu.

Cue samples count from the track file's first sample; the lane places them with the track's
offset, so sliding a dub track moves its cues with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QMenu, QWidget

from lipcore.cues.shapes import SHAPE_MEANINGS, SHAPES

CUE_H = 30
SAMPLE_RATE = 16000
BOUNDARY_GRAB_PX = 5

#: Block colours: closed mouths dark red, open ones brighter with the opening, rest grey.
SHAPE_COLORS: dict[str, QColor] = {
    "A": QColor(170, 58, 70),
    "B": QColor(88, 120, 170),
    "C": QColor(70, 150, 180),
    "D": QColor(64, 176, 140),
    "E": QColor(150, 140, 70),
    "F": QColor(176, 110, 60),
    "G": QColor(140, 90, 170),
    "H": QColor(110, 150, 90),
    "X": QColor(62, 66, 74),
}


@dataclass
class CueLane:
    """What one cue lane shows.

    Attributes:
        track_id: The dub track.
        offset_samples: The track's offset (16 kHz samples from frame 0).
        cues: Its :class:`lipcore.cues.make.CueTrack`.
        drawings: Optional mouth drawings by shape (small pictures in wide blocks).
    """

    track_id: str
    offset_samples: int
    cues: Any
    drawings: dict[str, QImage] = field(default_factory=dict)


class QtCueLaneEditor(QObject):
    """Paints the cue lanes of a :class:`QtTimelineCanvas` and turns gestures into signals.

    Signals:
        boundary_moved(str track_id, int index, int sample): the start of cue ``index`` dragged
            to ``sample`` (track-file samples).
        drag_finished(): a boundary drag ended (seal the undo step).
        shape_picked(str track_id, int index, str shape): a shape chosen by key or menu.
        split_requested(str track_id, int index, int sample): split cue ``index`` at ``sample``.
        merge_requested(str track_id, int index): merge cue ``index`` with the next.
        cue_selected(str track_id, int index): a block was clicked.
    """

    boundary_moved = Signal(str, int, int)
    drag_finished = Signal()
    shape_picked = Signal(str, int, str)
    split_requested = Signal(str, int, int)
    merge_requested = Signal(str, int)
    cue_selected = Signal(str, int)

    def __init__(self, canvas: QWidget):
        super().__init__(canvas)
        self.canvas = canvas
        self.lanes: dict[str, CueLane] = {}
        self.selected: tuple[str, int] | None = None
        self._drag: tuple[str, int] | None = None
        self.menu: QMenu | None = None
        canvas.installEventFilter(self)

    # ------------------------------------------------------------------ data in
    def set_lanes(self, lanes: list[CueLane]) -> None:
        """Replace the lanes' content (the canvas lays out one row per lane)."""
        self.lanes = {lane.track_id: lane for lane in lanes}
        if self.selected is not None:
            lane = self.lanes.get(self.selected[0])
            if lane is None or self.selected[1] >= len(lane.cues.cues):
                self.selected = None

    # ------------------------------------------------------------------ mapping
    def sample_to_x(self, lane: CueLane, sample: int) -> float:
        """Track-file sample to canvas x."""
        frame = (lane.offset_samples + sample) * self.canvas.fps / SAMPLE_RATE
        return self.canvas.frame_to_x(frame)

    def x_to_sample(self, lane: CueLane, x: float) -> int:
        """Canvas x to the nearest track-file sample."""
        start = self.canvas.visible_range()[0]
        frame = start + (x - self.canvas.frame_to_x(start)) / self.canvas.px_per_frame()
        return round(frame * SAMPLE_RATE / self.canvas.fps) - lane.offset_samples

    def cue_rect(self, track_id: str, index: int) -> QRectF:
        """Canvas rectangle of a block (for tests and the context menu)."""
        lane = self.lanes[track_id]
        body = self.canvas.lane_rect("cues", track_id)
        cue = lane.cues.cues[index]
        x0, x1 = self.sample_to_x(lane, cue.start_sample), self.sample_to_x(lane, cue.end_sample)
        return QRectF(x0, body.top() + 2, x1 - x0, body.height() - 4)

    def _hit(self, pos: QPointF) -> tuple[str, int, bool] | None:
        """(track id, cue index, on its left boundary) under ``pos`` in a cue lane."""
        for track_id, lane in self.lanes.items():
            body = self.canvas.lane_rect("cues", track_id)
            if not body.contains(pos):
                continue
            rects = [self.cue_rect(track_id, i) for i in range(len(lane.cues.cues))]
            edges = [(abs(pos.x() - r.left()), i) for i, r in enumerate(rects) if i > 0]
            near = min(edges, default=None)
            if near is not None and near[0] <= BOUNDARY_GRAB_PX:
                return track_id, near[1], True
            for i, r in enumerate(rects):
                if r.left() <= pos.x() < r.right():
                    return track_id, i, False
            return None
        return None

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter, body: QRectF, track_id: str) -> None:
        """Draw one lane's blocks into ``body`` (called by the canvas)."""
        lane = self.lanes.get(track_id)
        if lane is None:
            return
        font = QFont(self.canvas.font())
        font.setBold(True)
        p.setFont(font)
        left, right = body.left(), body.right()
        for i, cue in enumerate(lane.cues.cues):
            x0, x1 = (
                self.sample_to_x(lane, cue.start_sample),
                self.sample_to_x(lane, cue.end_sample),
            )
            if x1 < left or x0 > right:
                continue
            r = QRectF(x0, body.top() + 2, max(1.0, x1 - x0), body.height() - 4)
            p.fillRect(r, SHAPE_COLORS.get(cue.shape, SHAPE_COLORS["X"]))
            p.setPen(QPen(QColor(20, 22, 26), 1))
            p.drawLine(QPointF(x0, r.top()), QPointF(x0, r.bottom()))
            drawing = lane.drawings.get(cue.shape)
            text_rect = r
            if drawing is not None and r.width() > 2.2 * r.height():
                size = r.height() - 2
                p.drawImage(QRectF(r.left() + 2, r.top() + 1, size, size), drawing)
                text_rect = r.adjusted(size + 2, 0, 0, 0)
            if r.width() >= 9:
                p.setPen(QColor(240, 242, 246) if cue.shape != "X" else QColor(150, 156, 166))
                p.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, cue.shape)
            if self.selected == (track_id, i):
                p.setPen(QPen(QColor(255, 255, 255), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(r.adjusted(1, 1, -1, -1))

    # ------------------------------------------------------------------ gestures
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Handle presses, drags, keys and menus in cue lanes; pass everything else on."""
        if obj is not self.canvas:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            track_id, index = self._drag
            sample = self.x_to_sample(self.lanes[track_id], event.position().x())
            self.boundary_moved.emit(track_id, index, sample)
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._drag = None
            self.drag_finished.emit()
            return True
        if kind == QEvent.Type.MouseMove:
            hit = self._hit(event.position())
            cursor = Qt.CursorShape.SizeHorCursor if hit and hit[2] else None
            if cursor is not None:
                self.canvas.setCursor(cursor)
            elif self.canvas.cursor().shape() == Qt.CursorShape.SizeHorCursor:
                self.canvas.unsetCursor()
            return False
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return self._key(event, kind == QEvent.Type.KeyPress)
        return False

    def _press(self, event: Any) -> bool:
        hit = self._hit(event.position())
        if hit is None:
            if self.selected is not None and event.button() == Qt.MouseButton.LeftButton:
                self.selected = None
                self.canvas.update()
            return False
        track_id, index, on_boundary = hit
        if event.button() == Qt.MouseButton.LeftButton and on_boundary:
            self._drag = (track_id, index)
            return True
        cue_index = index
        self.selected = (track_id, cue_index)
        self.cue_selected.emit(track_id, cue_index)
        self.canvas.setFocus(Qt.FocusReason.MouseFocusReason)
        self.canvas.update()
        if event.button() == Qt.MouseButton.RightButton:
            sample = self.x_to_sample(self.lanes[track_id], event.position().x())
            self._show_menu(track_id, cue_index, sample, event.globalPosition().toPoint())
        return True

    def _key(self, event: Any, act: bool) -> bool:
        if self.selected is None or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        text = event.text().upper()
        if text not in SHAPES and text not in ("S", "M"):
            return False
        event.accept()
        if act:
            track_id, index = self.selected
            if text in SHAPES:
                self.shape_picked.emit(track_id, index, text)
            elif text == "S":
                self.split_requested.emit(track_id, index, self._split_point(track_id, index))
            else:
                self.merge_requested.emit(track_id, index)
        return True

    def _split_point(self, track_id: str, index: int) -> int:
        """The playhead when it is inside the cue, else the cue's middle."""
        lane = self.lanes[track_id]
        cue = lane.cues.cues[index]
        playhead = round(self.canvas.playhead * SAMPLE_RATE / self.canvas.fps)
        playhead -= lane.offset_samples
        if cue.start_sample < playhead < cue.end_sample:
            return playhead
        return (cue.start_sample + cue.end_sample) // 2

    def _show_menu(self, track_id: str, index: int, sample: int, global_pos: Any) -> None:
        menu = QMenu(self.canvas)
        for shape in SHAPES:
            action = menu.addAction(f"{shape}   {SHAPE_MEANINGS[shape]}")
            action.triggered.connect(
                lambda _c=False, s=shape: self.shape_picked.emit(track_id, index, s)
            )
        menu.addSeparator()
        split = menu.addAction("Split here")
        split.triggered.connect(lambda: self.split_requested.emit(track_id, index, sample))
        merge = menu.addAction("Merge with next")
        merge.setEnabled(index + 1 < len(self.lanes[track_id].cues.cues))
        merge.triggered.connect(lambda: self.merge_requested.emit(track_id, index))
        self.menu = menu  # kept for tests, which trigger its actions
        menu.popup(global_pos)
