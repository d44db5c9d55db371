#!/bin/sh
# Regenerates golden.json and float/ beside this script from the Python
# references in regen.py. Needs Debian 12's /usr/bin/python3 with
# python3-pil, python3-numpy, python3-torch and python3-torchvision; the
# Go tests only read the results.
set -eu
cd "$(dirname "$0")"
exec /usr/bin/python3 regen.py "$@"
