"""lipcore: the Qt-free lip-sync engine (media I/O, audio features, faces, engines, render, sync)."""

__version__ = "0.1.0"
