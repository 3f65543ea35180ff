"""lipcore: the Qt-free lip-sync engine (media, audio, faces, engines, render, sync)."""

__version__ = "0.1.0"
