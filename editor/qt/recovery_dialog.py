"""File > Recover…: the list of crash backups, with Recover and Delete buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class QtRecoveryDialog(QDialog):
    """Lists :class:`editor.model.recovery.Recoverable` backups; the chosen one is :attr:`chosen`.

    Args:
        entries: The backups, newest first.
        parent: Parent widget.

    Attributes:
        chosen: The entry to recover after ``exec()`` returned Accepted, else None.
        deleted: Entries the user deleted from the list.
    """

    def __init__(self, entries: list, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("QtRecoveryDialog")
        self.setWindowTitle("Recover unsaved work")
        self.resize(640, 320)
        self.entries = list(entries)
        self.chosen = None
        self.deleted: list = []
        layout = QVBoxLayout(self)
        self.hint = QLabel(
            "Autosaves left when the editor closed without saving. Recovering opens the work "
            "as unsaved changes; save it to keep it."
        )
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.list = QListWidget()
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.recover_button = QPushButton("Recover")
        self.delete_button = QPushButton("Delete")
        buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.recover_button.clicked.connect(self._on_recover_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.list.itemDoubleClicked.connect(lambda _item: self._on_recover_clicked())
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        layout.addWidget(buttons)
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        for entry in self.entries:
            item = QListWidgetItem(entry.describe())
            item.setToolTip(str(entry.backup))
            item.setData(Qt.ItemDataRole.UserRole, str(entry.backup))
            self.list.addItem(item)
        if not self.entries:
            empty = QListWidgetItem("No autosaves to recover.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)
        else:
            self.list.setCurrentRow(0)
        self._update_buttons()

    def _current(self):
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _update_buttons(self) -> None:
        has = self._current() is not None
        self.recover_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def select(self, index: int) -> None:
        """Make row ``index`` current (for scripting and tests)."""
        self.list.setCurrentRow(index)

    def _on_recover_clicked(self) -> None:
        entry = self._current()
        if entry is None:
            return
        self.chosen = entry
        self.accept()

    def _on_delete_clicked(self) -> None:
        from editor.model.recovery import delete

        entry = self._current()
        if entry is None:
            return
        delete(entry.backup)
        self.deleted.append(entry)
        self.entries.remove(entry)
        self._fill()
