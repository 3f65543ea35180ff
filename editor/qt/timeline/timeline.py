"""The timeline panel: painted lanes on top, the sync-confidence plot below, one shared x axis."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QScrollBar, QVBoxLayout, QWidget

from editor.qt.plots.sync_plot import QtSyncPlot
from editor.qt.timeline.canvas import HEADER_W, QtTimelineCanvas


class QtTimeline(QWidget):
    """Lanes (:class:`QtTimelineCanvas`) and the sync lane (:class:`QtSyncPlot`) kept in step.

    Connect to :attr:`canvas` signals for gestures; feed data through the canvas setters and
    :meth:`QtSyncPlot.set_curves` on :attr:`sync_plot`.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtTimeline")
        self.canvas = QtTimelineCanvas()
        self.sync_plot = QtSyncPlot(HEADER_W)
        inner = QWidget()
        inner.setObjectName("QtTimelineInner")
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(0, 0, 0, 0)
        inner_layout.setSpacing(0)
        inner_layout.addWidget(self.canvas)
        inner_layout.addWidget(self.sync_plot)
        inner_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(inner)
        self.hscroll = QScrollBar(Qt.Orientation.Horizontal)
        self.hscroll.setRange(0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.hscroll)
        self.canvas.view_changed.connect(self._on_canvas_view_changed)
        self.hscroll.valueChanged.connect(self._on_hscroll_value_changed)
        self._syncing = False

    def set_playhead(self, frame: int) -> None:
        """Move the playhead in every lane."""
        self.canvas.set_playhead(frame)
        self.sync_plot.set_playhead(frame)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._on_canvas_view_changed()

    def _on_canvas_view_changed(self) -> None:
        first, last = self.canvas.visible_range()
        self.sync_plot.set_view(first, last)
        self._syncing = True
        span = int(last - first)
        self.hscroll.setRange(0, max(0, self.canvas.frame_count - span))
        self.hscroll.setPageStep(max(1, span))
        self.hscroll.setValue(int(first))
        self._syncing = False

    def _on_hscroll_value_changed(self, value: int) -> None:
        if self._syncing or not self.canvas._px_per_frame:
            return
        self.canvas._scroll_frame = float(value)
        self.canvas.update()
        self.canvas.view_changed.emit()
