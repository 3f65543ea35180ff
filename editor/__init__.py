"""The PySide6 lip-sync editor: Qt-free document model (editor.model) and Qt views (editor.qt)."""
