#!/bin/sh
# Regenerates the torch.onnx exports clip_{text,vision}_tiny_{quickgelu,gelu}.onnx
# that clipgraph's TestGraphsOptimizeAsTorchExport compares the built
# graphs with. Needs Debian's python3 with python3-torch (1.13) and
# python3-onnx; opset 14 exports LayerNorm as ReduceMean, Sub, Pow, ...
# which ONNX Runtime fuses back.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here" && /usr/bin/python3 export.py "$here" 14
echo "wrote $here/clip_*_tiny_*.onnx"
