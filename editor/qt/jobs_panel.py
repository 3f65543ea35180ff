"""The job list: one row per render (segment or export) with its progress and a cancel button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: Finished rows kept in the list (older ones are dropped).
KEEP_FINISHED = 6


class _JobRow(QWidget):
    def __init__(self, key: str, label: str, on_cancel):
        super().__init__()
        self.setObjectName("jobRow")
        self.key = key
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        top = QHBoxLayout()
        self.preview = QLabel()
        self.preview.setFixedSize(48, 27)
        self.preview.setObjectName("jobPreview")
        self.preview.hide()
        top.addWidget(self.preview)
        self.title = QLabel(label)
        self.title.setObjectName("jobTitle")
        self.state = QLabel("queued")
        self.state.setObjectName("jobState")
        self.cancel = QToolButton()
        self.cancel.setText("✕")
        self.cancel.setToolTip("Cancel this job")
        self.cancel.setAutoRaise(True)
        self.cancel.clicked.connect(lambda: on_cancel(self.key))
        top.addWidget(self.title, 1)
        top.addWidget(self.state)
        top.addWidget(self.cancel)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(5)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        self.finished = False


class QtJobList(QWidget):
    """Rows of running, waiting and recently finished jobs.

    Signals:
        cancel_requested(str key): the user pressed a row's cancel button.
    """

    cancel_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtJobList")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(4)
        self._empty = QLabel("No render jobs. Select a segment and press R to render it.")
        self._empty.setObjectName("hint")
        self._empty.setWordWrap(True)
        self._layout.addWidget(self._empty)
        self._layout.addStretch(1)
        self.rows: dict[str, _JobRow] = {}

    def job_queued(self, key: str, label: str) -> None:
        """Add (or reset) the row of ``key`` as waiting."""
        row = self.rows.get(key)
        if row is None or row.finished:
            if row is not None:
                self._drop(key)
            row = _JobRow(key, label, self.cancel_requested.emit)
            self.rows[key] = row
            self._layout.insertWidget(0, row)
        row.title.setText(label)
        row.state.setText("queued")
        row.bar.setValue(0)
        row.cancel.setEnabled(True)
        self._empty.hide()

    def job_started(self, key: str) -> None:
        """Mark ``key`` running."""
        row = self.rows.get(key)
        if row is not None:
            row.state.setText("starting…")

    def job_progressed(self, key: str, done: int, total: int, stage: str) -> None:
        """Update the progress of ``key``."""
        row = self.rows.get(key)
        if row is None:
            return
        if total:
            row.bar.setRange(0, 1000)
            row.bar.setValue(int(1000 * done / total))
            row.state.setText(f"{stage} {100 * done // total}%".strip())
        else:
            row.bar.setRange(0, 0)  # busy indicator
            row.state.setText(stage or "working…")

    def job_preview(self, key: str, image: QImage) -> None:
        """Show a small preview frame of the render in the row of ``key``."""
        row = self.rows.get(key)
        if row is None:
            return
        pixmap = QPixmap.fromImage(image).scaled(
            row.preview.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        row.preview.setPixmap(pixmap)
        row.preview.show()

    def job_ended(self, key: str, state: str) -> None:
        """Mark ``key`` done, failed or cancelled, and trim old finished rows."""
        row = self.rows.get(key)
        if row is None:
            return
        row.finished = True
        row.bar.setRange(0, 1000)
        row.bar.setValue(1000 if state == "done" else row.bar.value())
        row.state.setText(state)
        row.state.setProperty("status", state)
        row.state.style().unpolish(row.state)
        row.state.style().polish(row.state)
        row.cancel.setEnabled(False)
        finished = [k for k, r in self.rows.items() if r.finished]
        for old in finished[:-KEEP_FINISHED]:
            self._drop(old)

    def state_of(self, key: str) -> str | None:
        """The state text of a row (for tests and the status line)."""
        row = self.rows.get(key)
        return row.state.text() if row is not None else None

    def clear_finished(self) -> None:
        """Remove the rows of finished jobs (a new project was opened)."""
        for key in [k for k, r in self.rows.items() if r.finished]:
            self._drop(key)
        if not self.rows:
            self._empty.show()

    def _drop(self, key: str) -> None:
        row = self.rows.pop(key)
        self._layout.removeWidget(row)
        row.hide()  # at once: deleteLater waits for the event loop
        row.deleteLater()
