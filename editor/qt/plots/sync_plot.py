"""The sync-confidence lane: per-frame confidence of the source and the rendered result.

A pyqtgraph plot whose x axis is clip frames and follows the timeline's zoom and scroll. Stretches
where a curve falls below the weak threshold are shaded red so that a user sees at a glance where
the mouth does not follow the audio.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

#: Per-frame confidence below this counts as weak. The built-in meter's per-frame value is a
#: windowed correlation in -1..1 between mouth opening and speech: at or below 0 the mouth does
#: not follow the audio at all.
WEAK_THRESHOLD = 0.0

_SOURCE_PEN = pg.mkPen(QColor(150, 160, 175), width=1.2)
_RESULT_PEN = pg.mkPen(QColor(80, 220, 130), width=1.8)
_WEAK_BRUSH = pg.mkBrush(QColor(220, 60, 60, 55))


def weak_stretches(curve: np.ndarray, threshold: float = WEAK_THRESHOLD, min_len: int = 3):
    """Frame ranges ``(start, end)`` (end exclusive) where ``curve`` stays below ``threshold``.

    NaN (no face) does not count as weak: nothing to sync there.
    """
    below = np.nan_to_num(curve, nan=1.0) < threshold
    edges = np.diff(np.concatenate([[0], below.astype(np.int8), [0]]))
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0]
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e - s >= min_len]


#: Values labelled on the lane's scale (the meter's per-frame correlation, -1..+1).
SCALE_TICKS = ((1.0, "+1"), (WEAK_THRESHOLD, "0"), (-1.0, "−1"))


class QtSyncScale(QWidget):
    """The lane's y scale, drawn in the header column so the plot stays aligned with the
    timeline lanes above it: +1 / 0 / −1 at the heights the plot draws them."""

    def __init__(self, plot: pg.PlotWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtSyncScale")
        self.setFixedWidth(24)
        self._plot = plot
        self.setToolTip(
            "Per-frame sync: correlation between mouth opening and speech, −1..+1.\n"
            "Below 0 the mouth does not follow the audio (shaded red)."
        )

    def tick_positions(self) -> list[tuple[str, float]]:
        """``(label, y)`` of each tick in this widget's coordinates."""
        vb = self._plot.getPlotItem().getViewBox()
        out = []
        for value, label in SCALE_TICKS:
            scene = vb.mapViewToScene(QPointF(0.0, value))
            in_plot = self._plot.mapFromScene(scene)
            y = self.mapFromGlobal(self._plot.mapToGlobal(in_plot)).y()
            out.append((label, float(y)))
        return out

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setPen(QColor(150, 160, 175))
        font = painter.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        painter.setFont(font)
        w = self.width()
        for label, y in self.tick_positions():
            painter.drawLine(w - 5, int(y), w - 1, int(y))
            painter.drawText(0, int(y) - 7, w - 7, 14, Qt.AlignmentFlag.AlignRight, label)
        painter.end()


class QtSyncPlot(QWidget):
    """Plots the source and result sync curves under the timeline lanes.

    Args:
        header_width: Width of the left label column, equal to the timeline's lane headers.
    """

    def __init__(self, header_width: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtSyncPlot")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QWidget()
        header.setObjectName("QtSyncPlotHeader")
        header.setFixedWidth(header_width)
        head_layout = QVBoxLayout(header)
        head_layout.setContentsMargins(10, 4, 6, 4)
        title = QLabel("Sync")
        title.setObjectName("laneTitle")
        self._legend = QLabel(
            "<span style='color:#96a0af'>━ source</span><br>"
            "<span style='color:#50dc82'>━ result</span><br>"
            "<span style='color:#dc3c3c'>■ weak</span>"
        )
        self._legend.setObjectName("laneLegend")
        self._method = QLabel("")
        self._method.setObjectName("laneLegend")
        self._method.setWordWrap(True)
        head_layout.addWidget(title)
        head_layout.addWidget(self._legend)
        head_layout.addWidget(self._method)
        head_layout.addStretch(1)
        self.plot = pg.PlotWidget(background=QColor(27, 29, 33))
        self.scale = QtSyncScale(self.plot)
        head_row = QHBoxLayout()
        head_row.setContentsMargins(0, 0, 0, 0)
        head_row.setSpacing(0)
        head_row.addWidget(header, 1)
        head_row.addWidget(self.scale)
        header_box = QWidget()
        header_box.setFixedWidth(header_width)
        header_box.setLayout(head_row)
        header.setFixedWidth(header_width - self.scale.width())
        layout.addWidget(header_box)

        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        if item.ctrlMenu is not None:
            # pyqtgraph creates its options menu without a parent: tie it to this widget so it
            # is deleted with it instead of lingering as a top-level window.
            item.ctrlMenu.setParent(self, item.ctrlMenu.windowFlags())
        item.hideAxis("bottom")
        item.getAxis("left").setWidth(0)
        item.hideAxis("left")
        item.setContentsMargins(0, 2, 0, 2)
        item.getViewBox().setDefaultPadding(0)
        self.plot.setYRange(-1, 1, padding=0.05)
        self.plot.addLine(
            y=WEAK_THRESHOLD, pen=pg.mkPen(QColor(220, 60, 60, 120), style=Qt.PenStyle.DashLine)
        )
        self._source_curve = self.plot.plot(pen=_SOURCE_PEN, connect="finite")
        self._result_curve = self.plot.plot(pen=_RESULT_PEN, connect="finite")
        self._weak_items: list[pg.LinearRegionItem] = []
        self._playhead = pg.InfiniteLine(
            pos=0, angle=90, pen=pg.mkPen(QColor(255, 80, 70), width=1.5)
        )
        self.plot.addItem(self._playhead)
        # What the lane cannot show and why (short segments, no evidence), over the plot.
        self.status = QLabel("", self.plot)
        self.status.setObjectName("syncStatus")
        self.status.setStyleSheet(
            "color: #d8c890; background: rgba(27, 29, 33, 190); padding: 1px 4px;"
        )
        self.status.move(4, 2)
        self.status.hide()
        layout.addWidget(self.plot, 1)
        self.setFixedHeight(92)
        self.source: np.ndarray | None = None
        self.result: np.ndarray | None = None

    def set_curves(
        self,
        source: tuple[np.ndarray, np.ndarray] | None,
        result: tuple[np.ndarray, np.ndarray] | None,
        method: str = "",
        notes: list[str] | tuple[str, ...] = (),
    ) -> None:
        """Show ``(frames, values)`` curves (values in -1..1); weak stretches of the result (or
        the source when nothing is rendered) are shaded. ``notes`` (offsets, "no evidence",
        why a segment has no curve) are written over the plot."""
        for item in self._weak_items:
            self.plot.removeItem(item)
        self._weak_items = []
        self.source = None if source is None else source[1]
        self.result = None if result is None else result[1]
        for curve, data in ((self._source_curve, source), (self._result_curve, result)):
            if data is None:
                curve.setData([], [])
            else:
                curve.setData(np.asarray(data[0], float), np.asarray(data[1], float))
        shaded = result if result is not None else source
        if shaded is not None:
            frames, values = np.asarray(shaded[0]), np.asarray(shaded[1], float)
            for a, b in weak_stretches(values):
                region = pg.LinearRegionItem(
                    values=(float(frames[a]), float(frames[b - 1]) + 1),
                    movable=False,
                    brush=_WEAK_BRUSH,
                    pen=pg.mkPen(None),
                )
                region.setZValue(-10)
                self.plot.addItem(region)
                self._weak_items.append(region)
        self._method.setText(method)
        self.status.setText("  ·  ".join(notes))
        self.status.setVisible(bool(notes))
        self.status.adjustSize()
        self.scale.update()

    def set_view(self, first_frame: float, last_frame: float) -> None:
        """Follow the timeline's visible frame range."""
        self.plot.setXRange(first_frame, last_frame, padding=0)

    def set_playhead(self, frame: int) -> None:
        """Move the playhead line."""
        self._playhead.setPos(frame)
