#!/bin/sh
# Regenerates distilbert_tiny.onnx, the torch.onnx export that modelgen's
# TestTextGraphOptimizesAsTorchExport compares the generated text graph
# with. Needs Debian's python3 with python3-torch (1.13) and python3-onnx;
# opset 14 exports LayerNorm as ReduceMean, Sub, Pow, ... which ONNX
# Runtime fuses back; opset 17 exports LayerNormalization: both optimize to
# the same nodes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 "$here/export.py" "$here/distilbert_tiny.onnx" 14
echo "wrote $here/distilbert_tiny.onnx"
