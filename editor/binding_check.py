"""Refuse to start on a Qt binding known to corrupt the interpreter (the ``none_dealloc`` crash).

PySide6/shiboken6 6.12.x on Python 3.11 drops one reference to ``None`` on every Qt call that
returns nothing. ``None``'s count falls by thousands per second of ordinary use, and when it
reaches zero CPython aborts with "Fatal Python error: none_dealloc: deallocating None", taking
unsaved work with it. From Python 3.12 on ``None`` is immortal (PEP 683), so the same binding is
harmless there. pyproject.toml pins a release without the leak (6.11.0); this module catches an
environment that installed another one anyway.

Two checks, both cheap:

- :func:`known_leaking_binding`: the installed versions (read from package metadata, no Qt
  import) against the releases known to leak.
- :func:`measure_none_leak`: calls a void Qt method a few thousand times on a real widget and
  counts the ``None`` references lost, which also catches a leaking release not yet listed.
"""

from __future__ import annotations

import sys
from importlib import metadata

#: (major, minor) release lines of PySide6/shiboken6 that leak ``None`` on Python < 3.12.
LEAKING_SERIES = ((6, 12),)
#: Release the project pins (pyproject.toml ``[editor]``); named in the refusal message.
PINNED_RELEASE = "6.11.0"
FIX_TEXT = (
    f'reinstall the pinned binding: pip install "PySide6-Essentials=={PINNED_RELEASE}" '
    f'"PySide6-Addons=={PINNED_RELEASE}" "shiboken6=={PINNED_RELEASE}" '
    "(or run the editor on Python 3.12 or newer)"
)


class BindingError(RuntimeError):
    """The Qt binding would crash the editor; the message names the fix."""


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _installed(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def none_is_immortal(version_info: tuple[int, ...] | None = None) -> bool:
    """Whether this Python never frees ``None`` (3.12+, PEP 683), so a leak cannot crash it."""
    return tuple(version_info or sys.version_info)[:2] >= (3, 12)


def known_leaking_binding(
    versions: dict[str, str | None] | None = None,
    version_info: tuple[int, ...] | None = None,
) -> str | None:
    """Name the installed binding package known to leak ``None`` on this Python, if any.

    Args:
        versions: Distribution name -> version (default: read from the installed metadata of
            ``shiboken6``, ``PySide6-Essentials`` and ``PySide6``).
        version_info: Python version (default ``sys.version_info``).

    Returns:
        A text such as "shiboken6 6.12.0 on Python 3.11", or None when the binding is safe.
    """
    if none_is_immortal(version_info):
        return None
    if versions is None:
        versions = {d: _installed(d) for d in ("shiboken6", "PySide6-Essentials", "PySide6")}
    py = ".".join(str(v) for v in tuple(version_info or sys.version_info)[:2])
    for dist, version in versions.items():
        if version and _version_tuple(version)[:2] in LEAKING_SERIES:
            return f"{dist} {version} on Python {py}"
    return None


def measure_none_leak(calls: int = 2000) -> int:
    """References to ``None`` lost over ``calls`` void Qt calls on a real widget.

    Needs a ``QApplication``. The calls alternate ``QLabel.setText`` and
    ``QWidget.setToolTip``, both returning nothing. A sound binding loses 0; the leaking one
    loses one per call. Other threads can move the count by a few, so callers compare against
    a fraction of ``calls``.

    Args:
        calls: Number of void calls to make.

    Returns:
        How far ``sys.getrefcount(None)`` fell (negative when it rose).
    """
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    try:
        before = sys.getrefcount(None)
        for i in range(calls):
            if i % 2:
                label.setText("x")
            else:
                label.setToolTip("y")
        after = sys.getrefcount(None)
    finally:
        label.deleteLater()
    return before - after


def check_binding(probe: bool = True, calls: int = 2000) -> None:
    """Raise :class:`BindingError` when the Qt binding would crash the editor.

    Args:
        probe: Also measure the leak on a real widget (needs a ``QApplication``).
        calls: Void calls made by the probe.

    Raises:
        BindingError: A known-leaking release is installed, or the probe lost references.
    """
    known = known_leaking_binding()
    if known:
        raise BindingError(
            f"the Qt binding {known} loses a reference to None on every Qt call and crashes "
            f"the editor within minutes (Fatal Python error: none_dealloc); {FIX_TEXT}"
        )
    if probe and not none_is_immortal():
        lost = measure_none_leak(calls)
        if lost > calls // 2:
            raise BindingError(
                f"the Qt binding lost {lost} references to None in {calls} calls and would "
                f"crash the editor (Fatal Python error: none_dealloc); {FIX_TEXT}"
            )
