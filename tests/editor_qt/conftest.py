"""Fixtures for the Qt editor tests: offscreen Qt, a 3 s real clip, a ready main window.

``QT_QPA_PLATFORM`` is set here, at import time, before pytest-qt creates the QApplication.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def clip_3s(shared_media, tmp_path_factory) -> Path:
    """The first 3 s (75 frames, 25 fps, 590x590, AAC) of the shared clip A05."""
    src = next((shared_media / "video").glob("A05_*.mp4"))
    out = tmp_path_factory.mktemp("clips") / "a05_3s.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-crf",
            "16",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(out),
        ],
        check=True,
    )
    return out


@pytest.fixture(scope="session")
def dub_wav(shared_media) -> Path:
    """An English dub (B19, 48 kHz, 5 s) to import onto the clip."""
    return next((shared_media / "audio").glob("B19_*.wav"))


@pytest.fixture(autouse=True)
def _no_leaked_top_level_widgets(qapp):
    """Fail a test that leaves top-level widgets behind (napari's ``strict_qt``)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    before = set(map(id, qapp.topLevelWidgets()))
    yield
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        qapp.processEvents()
    leaked = [w for w in qapp.topLevelWidgets() if id(w) not in before]
    names = [f"{type(w).__name__}({w.objectName()!r})" for w in leaked]
    assert not leaked, f"leaked top-level widgets: {names}"


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    """Factory for main windows with settings and autosaves in ``tmp_path``; closed at teardown."""
    from PySide6.QtCore import Qt

    from editor.qt.main_window import QtMainWindow
    from editor.qt.unattended import unattended_window

    monkeypatch.setenv("LIPSYNC_CONFIG_DIR", str(tmp_path / "config"))
    windows = []

    def make() -> QtMainWindow:
        # No modal prompts in tests: unsaved changes are discarded, autosaves not restored.
        window = unattended_window(tmp_path / "autosave")
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        try:
            window.close()
        except RuntimeError:
            pass  # already deleted by the test


@pytest.fixture
def window(make_window):
    """One main window."""
    return make_window()


@pytest.fixture
def opened(window, clip_3s, dub_wav, qtbot):
    """A window with the clip and the dub dropped onto it (waveforms and thumbnails ready)."""
    import warnings

    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip_3s)), QUrl.fromLocalFile(str(dub_wav))])
    drop = QDropEvent(
        QPointF(400, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with warnings.catch_warnings():
        # PySide6 marks the QPoint constructor deprecated but has no QPointF one.
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            QPoint(400, 300),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
    # Qt only delivers drops during a real drag, so the handlers are called as Qt would.
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.frame_shown, timeout=20000):
        window.dropEvent(drop)
    qtbot.waitUntil(lambda: len(window._waves) == 2 and bool(window._thumbnails), timeout=60000)
    return window
