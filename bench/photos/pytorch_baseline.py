"""What the Python container does, timed: Pillow + CLIPImageProcessor's
preprocessing (bench/pillow_prep.py) and CLIP ViT-B/32's vision tower in
PyTorch, on the files given, in batches of 32.

The vision tower is built here in plain torch (the layers of transformers'
CLIPVisionModelWithProjection: patch embedding, class and position
embeddings, pre-LayerNorm, 12 pre-norm encoder layers with quick_gelu,
post-LayerNorm of the class token, projection) and loads its weights from
the ONNX vision model of a model directory (initializers named as
transformers names the parameters; MatMul weights stored [in, out]), so it
runs the very weights mclip runs. --check FILE compares its vectors with
`mclip embed`'s JSON for the same files (cosine).

Usage (Debian's python3 with python3-torch, python3-onnx, python3-pil;
setup/bench-packages lists them):
  /usr/bin/python3 bench/photos/pytorch_baseline.py --model-dir DIR \
      [--threads 2] [--reps 3] [--check embed.json] [--serve] FILE...
Prints {"images_per_s": [...], "median": ..., "torch": ..., "threads": ...,
"blas": ...}: one warm-up pass over the files, then --reps timed passes,
each from file bytes (in memory) to vectors.

--serve is how `make bench` runs it, interleaved with mclip: after the
warm-up (and the check) it prints one JSON line {"ready": true, ...} and
then answers each line of standard input, a list of indices into FILE...
separated by spaces, with one timed pass over those files:
{"seconds": ..., "n": ...}.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pillow_prep import preprocess  # noqa: E402

P = "vision_model."


class VisionTower(torch.nn.Module):
    def __init__(self, w, heads=12):
        super().__init__()
        self.w = {k: torch.from_numpy(v.copy()) for k, v in w.items()}
        self.heads = heads
        self.layers = 0
        while f"{P}encoder.layers.{self.layers}.layer_norm1.weight" in self.w:
            self.layers += 1

    def ln(self, x, name):
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.w[name + ".weight"], self.w[name + ".bias"], eps=1e-5)

    def lin(self, x, name, bias=True):
        y = x @ self.w[name + ".weight"]  # stored [in, out], as the ONNX MatMul
        return y + self.w[name + ".bias"] if bias else y

    def forward(self, pixels):
        w = self.w
        x = torch.nn.functional.conv2d(pixels, w[P + "embeddings.patch_embedding.weight"], stride=32)
        x = x.flatten(2).transpose(1, 2)
        cls = w[P + "embeddings.class_embedding"].expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + w[P + "embeddings.position_embedding.weight"]
        x = self.ln(x, P + "pre_layrnorm")
        b, n, d = x.shape
        hd = d // self.heads
        for i in range(self.layers):
            L = f"{P}encoder.layers.{i}."
            h = self.ln(x, L + "layer_norm1")
            q = self.lin(h, L + "self_attn.q_proj") * hd**-0.5
            k = self.lin(h, L + "self_attn.k_proj")
            v = self.lin(h, L + "self_attn.v_proj")
            q, k, v = (t.view(b, n, self.heads, hd).transpose(1, 2) for t in (q, k, v))
            a = torch.softmax(q @ k.transpose(-1, -2), dim=-1) @ v
            x = x + self.lin(a.transpose(1, 2).reshape(b, n, d), L + "self_attn.out_proj")
            h = self.lin(self.ln(x, L + "layer_norm2"), L + "mlp.fc1")
            h = h * torch.sigmoid(1.702 * h)
            x = x + self.lin(h, L + "mlp.fc2")
        pooled = self.ln(x[:, 0], P + "post_layernorm")
        return pooled @ projection(w)


def projection(w):
    for k in w:
        if k.startswith("visual_projection"):
            return w[k]
    raise KeyError("no visual_projection weight")


def heads(model_dir):
    """The attention heads, from the model directory's CLIP config.json."""
    with open(os.path.join(model_dir, "vision", "config.json")) as f:
        return json.load(f)["vision_config"]["num_attention_heads"]


def load(model_dir):
    path = os.path.join(model_dir, "vision", "onnx", "vision_model.onnx")
    m = onnx.load(path, load_external_data=True)
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer if i.name.startswith(("vision_model.", "visual_projection"))}


def encode(model, blobs, batch=32):
    out = []
    with torch.no_grad():
        for i in range(0, len(blobs), batch):
            x = torch.from_numpy(np.stack([preprocess(b) for b in blobs[i:i + batch]]))
            out.append(model(x))
    return torch.cat(out).numpy()


def blas_libraries():
    """The BLAS libraries this process mapped (Debian's torch links
    libblas.so.3, which the alternatives system points at the reference BLAS
    or at OpenBLAS)."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower():
                found.add(os.path.realpath(path))
    return sorted(found)


def check(vecs, path):
    """The smallest cosine between our vectors and mclip's; exits when they
    are not the same computation."""
    got = json.load(open(path))["images"]
    cos = []
    for v, g in zip(vecs, got):
        g = np.asarray(g["vector"], dtype=np.float64)
        cos.append(float(np.dot(v, g) / (np.linalg.norm(v) * np.linalg.norm(g))))
    if len(got) != len(vecs) or min(cos) < 0.9999:
        sys.exit(f"vectors differ from mclip's (min cosine {min(cos, default=0)}, {len(got)} against {len(vecs)}): "
                 "the tower is not the same computation")
    return min(cos)


def serve(model, blobs, info):
    print(json.dumps(dict(info, ready=True)), flush=True)
    for line in sys.stdin:
        idx = [int(i) for i in line.split()]
        if not idx:
            continue
        t = time.perf_counter()
        encode(model, [blobs[i] for i in idx])
        print(json.dumps({"seconds": time.perf_counter() - t, "n": len(idx)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--check", help="mclip embed JSON of the same files, in the same order")
    ap.add_argument("--serve", action="store_true", help="answer passes asked on standard input (see above)")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = VisionTower(load(a.model_dir), heads(a.model_dir))
    blobs = [open(p, "rb").read() for p in a.files]
    vecs = encode(model, blobs)  # warm-up
    info = {"files": len(blobs), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "blas": blas_libraries()}
    if a.check:
        info["min_cosine_to_mclip"] = check(vecs, a.check)
    if a.serve:
        serve(model, blobs, info)
        return
    rates = []
    for _ in range(a.reps):
        t = time.perf_counter()
        encode(model, blobs)
        rates.append(len(blobs) / (time.perf_counter() - t))
    print(json.dumps(dict(info, images_per_s=rates, median=statistics.median(rates))))


if __name__ == "__main__":
    main()
