"""Qt views of the editor (PySide6): main window, timeline, viewer, plots, background workers."""
