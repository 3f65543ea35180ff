"""The Qt binding does not leak ``None`` (the 6.12 ``none_dealloc`` crash), and the editor
refuses to start on a binding that would.

The leak is one lost reference per void Qt call, so thousands of ordinary calls on real widgets
must leave ``sys.getrefcount(None)`` where it was.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from editor.binding_check import (
    check_binding,
    known_leaking_binding,
    measure_none_leak,
)

CALLS = 20000
REPO = Path(__file__).resolve().parents[2]


def test_void_qt_calls_on_real_widgets_keep_none_refcount(qtbot):
    from PySide6.QtWidgets import QLabel, QPushButton, QSlider

    label, button, slider = QLabel(), QPushButton(), QSlider()
    for w in (label, button, slider):
        qtbot.addWidget(w)
    label.show()
    before = sys.getrefcount(None)
    # In chunks, so a leaking binding fails the assertion before None's count reaches zero and
    # aborts the interpreter (6.12.0 does that within ~20k calls in a small process).
    for chunk in range(CALLS // 250):
        for i in range(250):
            label.setText(str(i % 7))  # void
            button.setEnabled(bool(i % 2))  # void
            slider.setValue(i % 100)  # void
            label.setToolTip("tip")  # void
        lost = before - sys.getrefcount(None)
        assert lost < 100, f"None lost {lost} references in {(chunk + 1) * 1000} void calls"


def test_probe_and_version_check_pass_on_the_pinned_binding(qapp):
    assert known_leaking_binding() is None
    assert measure_none_leak(5000) < 100
    check_binding(probe=True)


def test_known_leaking_releases_are_refused_only_where_none_is_mortal():
    leaking = {"shiboken6": "6.12.0", "PySide6-Essentials": "6.12.0"}
    found = known_leaking_binding(leaking, version_info=(3, 11, 7))
    assert found == "shiboken6 6.12.0 on Python 3.11"
    assert known_leaking_binding({"shiboken6": "6.12.1"}, version_info=(3, 10, 0))
    assert known_leaking_binding(leaking, version_info=(3, 12, 0)) is None, "None is immortal"
    assert known_leaking_binding({"shiboken6": "6.11.0"}, version_info=(3, 11, 7)) is None
    assert known_leaking_binding({"shiboken6": "6.9.2"}, version_info=(3, 11, 7)) is None


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal: 6.12 is safe there")
def test_editor_refuses_to_start_on_a_leaking_binding_with_the_fix(tmp_path):
    # A real start of the entry point, with the installed version reported as 6.12.0.
    script = (
        "import sys\n"
        "from importlib import metadata\n"
        "real = metadata.version\n"
        "metadata.version = lambda d: '6.12.0' if d.lower().startswith(('shiboken6', 'pyside6'))"
        " else real(d)\n"
        "from editor.__main__ import main\n"
        "sys.exit(main([]))\n"
    )
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "LIPSYNC_CONFIG_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "none_dealloc" in done.stderr and "PySide6-Essentials==6.11.0" in done.stderr
    assert "Traceback" not in done.stderr
