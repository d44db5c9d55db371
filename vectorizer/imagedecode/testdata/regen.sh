#!/bin/sh
# Regenerates the test images and the Pillow goldens beside this script.
# Needs Debian's python3 with Pillow 9.x (python3-pil) and numpy, and
# tiffcp (libtiff-tools), heif-enc/heif-convert (libheif-examples) and
# avifenc/avifdec (libavif-bin); the Go
# tests only read the results. "regen.sh bench" prints Pillow's timings for
# the benchmarks instead.
set -eu
cd "$(dirname "$0")"
exec /usr/bin/python3 regen.py "$@"
