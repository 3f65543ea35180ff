"""Help > About: the versions of lipsync, Qt, PyTorch, FFmpeg and the face models, and the devices.

The facts come from :mod:`lipcore.about` (the same report as ``lipsync --version``), plus the Qt
library actually loaded; a Copy button puts the whole report on the clipboard for a bug report.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def about_text(devices: bool = True) -> str:
    """The report shown in the box: lipcore's collection plus the running Qt library."""
    from lipcore.about import Item, collect, format_report

    items = collect(devices=devices)
    at = next(i for i, item in enumerate(items) if item.name == "PySide6 (Qt)") + 1
    items.insert(at, Item("Software", "Qt library (running)", qVersion()))
    return format_report(items)


class AboutDialog(QDialog):
    """A small dialog with the report in a read-only, selectable text box.

    Args:
        parent: The main window.
        devices: Also list the compute devices (imports PyTorch, about a second).
    """

    def __init__(self, parent: QWidget | None = None, devices: bool = True):
        super().__init__(parent)
        from lipcore import __version__

        self.setObjectName("aboutDialog")
        self.setWindowTitle("About lipsync")
        title = QLabel(f"<b>lipsync {__version__}</b><br>Offline lip-sync editor")
        title.setTextFormat(Qt.TextFormat.RichText)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.report = about_text(devices=devices)
        finally:
            QApplication.restoreOverrideCursor()
        self.text = QPlainTextEdit(self.report)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMinimumSize(640, 380)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy to Clipboard")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_report)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def copy_report(self) -> None:
        """Put the report on the clipboard (for a bug report)."""
        QGuiApplication.clipboard().setText(self.report)
