#!/usr/bin/env bash
# Build the Linux one-folder desktop bundle: dist/lipsync-editor/ (editor + `lipsync` command,
# .desktop file, icon). Uses the project's .venv (PYTHON=... to pick another interpreter) and
# installs the pinned PyInstaller into it when missing. Prints the bundle's size and build time.
#
#   packaging/build_bundle.sh            # then: dist/lipsync-editor/lipsync-editor
#                                        #       dist/lipsync-editor/lipsync --version
set -euo pipefail
cd "$(dirname "$0")/.."
PYINSTALLER_VERSION=6.22.3
py="${PYTHON:-.venv/bin/python}"
if ! "$py" -c "import PyInstaller, sys; sys.exit(PyInstaller.__version__ != '$PYINSTALLER_VERSION')" 2>/dev/null; then
    echo "build: installing pyinstaller==$PYINSTALLER_VERSION"
    "$py" -m pip install -q --disable-pip-version-check "pyinstaller==$PYINSTALLER_VERSION"
fi
start=$(date +%s)
"$py" -m PyInstaller packaging/lipsync-linux.spec --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyi
bundle=dist/lipsync-editor
ln -sf lipsync-editor "$bundle/lipsync"
cp packaging/linux/lipsync-editor.desktop "$bundle/"
cp resources/icons/app.svg "$bundle/lipsync-editor.svg"
cp packaging/linux/install-desktop-entry.sh "$bundle/"
echo "build: $bundle ($(du -sh "$bundle" | cut -f1), $(( $(date +%s) - start )) s)"
