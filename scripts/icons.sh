#!/usr/bin/env bash
# Renders icons/icon.svg to every size Tauri needs (PNG set and a Windows .ico).
# Needs rsvg-convert (Debian: librsvg2-bin) and ImageMagick (for the .ico).
set -euo pipefail
cd "$(dirname "$0")/../icons"
render() { rsvg-convert -w "$1" -h "$1" icon.svg -o "$2"; }
render 32 32x32.png
render 128 128x128.png
render 256 128x128@2x.png
render 512 icon.png
for s in 16 24 48 64 256; do render "$s" "ico-$s.png"; done
convert ico-16.png ico-24.png 32x32.png ico-48.png ico-64.png ico-256.png icon.ico
rm -f ico-*.png
echo "icons written to $(pwd)"
