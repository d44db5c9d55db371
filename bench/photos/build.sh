#!/bin/sh
# Builds the real-photo corpus of the benchmark's "photos" section from
# Debian packages (wallpapers and backgrounds: JPEG, PNG with palette, gray,
# RGB and RGBA, WebP up to 4096x4096; 0.01 to 16.8 megapixels) into a cache
# directory, default ROOT/.cache/photos. Nothing it writes is committed.
# Needs apt-get (the packages are downloaded, not installed) and Debian's
# python3 with Pillow (python3-pil), which only reads the images' headers.
#
#   bench/photos/build.sh [CACHE_DIR]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../.cache/photos}"
mkdir -p "$out/debs"
out="$(cd "$out" && pwd)"
pkgs="gnome-backgrounds desktop-base plasma-workspace-wallpapers ukui-wallpapers"
cd "$out/debs"
for p in $pkgs; do
	ls "$p"_*.deb >/dev/null 2>&1 || apt-get download "$p" || { apt-get update -qq && apt-get download "$p"; }
done
rm -rf "$out/pkg"
mkdir -p "$out/pkg"
for d in "$out"/debs/*.deb; do
	name="$(basename "$d" | cut -d_ -f1)"
	dpkg-deb -x "$d" "$out/pkg/$name"
done
exec /usr/bin/python3 "$here/select.py" "$out/pkg" "$out"
