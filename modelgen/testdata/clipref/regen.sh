#!/bin/sh
# Regenerates goldens.json, the PyTorch reference of modelgen's
# TestCLIPGraphsMatchPyTorch: gen/ writes the tiny CLIP checkpoints of
# every architecture (seed 7) into a temporary directory, and reference.py
# (Debian's python3 with python3-torch 1.13 and python3-numpy) computes
# their text embeddings (both pooling rules) and image embeddings.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go run ./modelgen/testdata/clipref/gen "$tmp")
/usr/bin/python3 "$here/reference.py" "$tmp" "$here/goldens.json"
echo "wrote $here/goldens.json"
