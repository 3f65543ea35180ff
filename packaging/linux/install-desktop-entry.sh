#!/usr/bin/env bash
# Add the bundle to the desktop's application menu for this user: copies the .desktop file
# (pointing at this folder's lipsync-editor) and the SVG icon into ~/.local/share.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
cp "$here/lipsync-editor.svg" "$icons/lipsync-editor.svg"
sed "s|^Exec=lipsync-editor|Exec=\"$here/lipsync-editor\"|" "$here/lipsync-editor.desktop" \
    > "$apps/lipsync-editor.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "installed $apps/lipsync-editor.desktop"
