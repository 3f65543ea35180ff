"""The one place errors and notices go: a status-bar line plus a message history list.

Like napari's ``_NotifyingMixin``: worker errors, refused edits and warnings all call
:meth:`QtNotificationArea.notify`, never a modal box in the middle of a drag.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QWidget,
)

log = logging.getLogger(__name__)

LEVELS = ("info", "warning", "error")
#: Most messages kept in the history (oldest dropped first).
HISTORY_LIMIT = 500
_COLORS = {
    "info": QColor(150, 200, 255),
    "warning": QColor(240, 190, 60),
    "error": QColor(240, 90, 80),
}
_GLYPHS = {"info": "●", "warning": "▲", "error": "✖"}


@dataclass(frozen=True)
class Notice:
    """One message shown to the user.

    Attributes:
        level: "info", "warning" or "error".
        text: The message (for :class:`lipcore.errors.LipsyncError`, its file and fix included).
        when: ``time.time()`` it was raised.
    """

    level: str
    text: str
    when: float


class QtNotificationArea(QWidget):
    """Status-bar widget with the latest message and a history list (:attr:`history`).

    Signals:
        notified(str level, str text): a message was added.
    """

    notified = Signal(str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtNotificationArea")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(6)
        self._glyph = QLabel("")
        self._label = QLabel("Ready")
        self._label.setObjectName("notificationText")
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._clear = QToolButton()
        self._clear.setText("✕")
        self._clear.setToolTip("Dismiss")
        self._clear.setAutoRaise(True)
        self._clear.clicked.connect(self._on_clear_clicked)
        self._clear.hide()
        layout.addWidget(self._glyph)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._clear)
        self.history = QListWidget()
        self.history.setObjectName("QtMessageHistory")
        self.notices: list[Notice] = []
        self._fade = QTimer(self)
        self._fade.setSingleShot(True)
        self._fade.timeout.connect(self._on_fade_timeout)

    def notify(self, text: str, level: str = "info") -> None:
        """Show ``text`` and add it to the history.

        Args:
            text: The message.
            level: "info" (fades after a few seconds), "warning" or "error" (stay until dismissed).
        """
        from editor.model.gui_wording import gui_wording

        if level not in LEVELS:
            level = "info"
        text = gui_wording(str(text))  # lipcore's CLI advice in the editor's words
        notice = Notice(level, text, time.time())
        self.notices.append(notice)
        # Bounded, so a session of thousands of renders does not grow the history forever.
        if len(self.notices) > HISTORY_LIMIT:
            del self.notices[: len(self.notices) - HISTORY_LIMIT]
        color = _COLORS[level]
        self._glyph.setText(_GLYPHS[level])
        self._glyph.setStyleSheet(f"color: {color.name()};")
        self._label.setText(notice.text)
        self._label.setToolTip(notice.text)
        self._clear.setVisible(level != "info")
        item = QListWidgetItem(
            f"{time.strftime('%H:%M:%S', time.localtime(notice.when))}  {_GLYPHS[level]}  {text}"
        )
        item.setForeground(color)
        self.history.insertItem(0, item)
        while self.history.count() > HISTORY_LIMIT:
            self.history.takeItem(self.history.count() - 1)
        if level == "info":
            self._fade.start(6000)
        else:
            self._fade.stop()
            log.log(logging.ERROR if level == "error" else logging.WARNING, "%s", text)
        self.notified.emit(level, notice.text)

    def notify_exception(self, exc: BaseException, doing: str = "") -> None:
        """Report an exception: user errors (LipsyncError) as they are, others with their type."""
        from lipcore.errors import LipsyncError

        text = str(exc) if isinstance(exc, LipsyncError) else f"{type(exc).__name__}: {exc}"
        self.notify(f"{doing}: {text}" if doing else text, "error")

    @property
    def last(self) -> Notice | None:
        """The latest notice."""
        return self.notices[-1] if self.notices else None

    def _on_clear_clicked(self) -> None:
        self._glyph.setText("")
        self._label.setText("")
        self._clear.hide()

    def _on_fade_timeout(self) -> None:
        self._label.setText("Ready")
        self._glyph.setText("")
