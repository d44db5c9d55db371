"""Goldens for clipprep's three preprocessing kinds, from Python references.

Run through regen.sh with Debian 12's /usr/bin/python3: python3-pil (Pillow
9.4), python3-numpy, python3-torch (1.13) and python3-torchvision (0.14).

Inputs: generated images (gen(), integer arithmetic only, which
kinds_test.go reproduces) in odd sizes, and the imagedecode test images
whose Pillow RGB decode (of the file, or of its golden PNG for formats
Pillow cannot read or decodes lossily) equals that golden's decode_sha256,
the pixels the Go test feeds. Per (config, image) golden.json records the
crop's and the tensor's sha256:

  clip-pillow  transformers' CLIPImageProcessor: Pillow's resize(BICUBIC)
               to get_resize_output_image_size(shortest_edge), center crop
               at (size-crop)//2 (zero padding the same way), numpy rescale
               in float64, float32, normalise in float32.
  clip-fast    transformers' CLIPImageProcessorFast on torch >= 2.1, CPU:
               torchvision's resize hands the uint8 tensor to torch's
               antialiased bicubic kernel for uint8 (the AVX2 kernel and the
               generic one compute the same integers). torch_uint8_resize()
               below is that kernel written out in numpy from
               aten/src/ATen/native/cpu/UpSampleKernel.cpp
               (_compute_indices_min_size_weights_aa, the cubic aa_filter,
               _compute_index_ranges_int16_weights) and
               UpSampleKernelAVXAntialias.h (horizontal pass, then vertical,
               8-bit intermediate, int32 sums from 1 << (precision-1),
               arithmetic shift, saturation). Debian's torch 1.13 lacks
               this kernel. Then torchvision's center_crop (round half to
               even, real torchvision) and transformers' fused rescale and
               normalise (real torch ops: mean*(1/rescale_factor) as a
               float32 tensor, (x - mean)/std in float32).
               float_path records how far torch's float kernel is
               (torchvision 0.14's resize of a uint8 tensor: float32
               interpolate(bicubic, antialias=True), clamp, round): the
               number of crop samples that differ and the largest
               difference; float/<config>__<image>.png keeps that crop for
               a few images so that the Go test checks it directly. The
               float kernel keeps the intermediate image in float, the
               uint8 kernel clamps and rounds it to 8 bits, so they part by
               many levels where a bicubic overshoot is clamped (black and
               white edges). weights_check (generated images) shows that
               both differences are rounding otherwise: the same windows and
               weights in float64 against torch 1.13's float kernel, and
               the uint8 kernel against that float64 computation rounded to
               8 bits between the passes.
  open_clip    open_clip's image_transform(is_train=False) for its tags
               (resize_mode "shortest", bicubic, OpenAI mean and std):
               torchvision 0.14's Resize(size, BICUBIC) and CenterCrop on the
               PIL image, _convert_to_rgb, ToTensor, Normalize (real
               torchvision; open_clip only composes them).

The fast path's resize is computed on the whole image, or for the few
huge resizes (1x4000 to 224x896000) on the crop's rows and columns only,
with every per-axis constant (the weights precision) still taken over the
whole axis.
"""
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision.transforms import functional as TF
from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor

HERE = os.path.dirname(os.path.abspath(__file__))
DECODE = os.path.join(HERE, "..", "..", "..", "imagedecode", "testdata")

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
RESCALE = 0.00392156862745098  # what preprocessor_config.json files hold

CONFIGS = {
    "clip-pillow-384": ("clip-pillow", 384),
    "clip-fast-224": ("clip-fast", 224),
    "clip-fast-384": ("clip-fast", 384),
    "open_clip-224": ("open_clip", 224),
    "open_clip-384": ("open_clip", 384),
}

GENERATED = [
    # name, width, height, seed
    ("gen_640x480", 640, 480, 1),
    ("gen_480x640", 480, 640, 2),
    ("gen_1x4000", 1, 4000, 3),
    ("gen_4000x1", 4000, 1, 4),
    ("gen_7x5", 7, 5, 5),
    ("gen_100x60", 100, 60, 6),
    ("gen_227x224", 227, 224, 7),
    ("gen_224x229", 224, 229, 8),
    ("gen_2000x1500", 2000, 1500, 9),
    ("gen_384x384", 384, 384, 10),
    ("gen_383x1000", 383, 1000, 11),
    ("gen_3x50", 3, 50, 12),
    ("gen_1001x3", 1001, 3, 13),
    ("gen_2x2", 2, 2, 14),
]

# Crops of torch's float path kept as PNG (config, image).
FLOAT_PNG = [
    ("clip-fast-224", "gen_640x480"),
    ("clip-fast-224", "gen_2000x1500"),
    ("clip-fast-224", "gen_7x5"),
    ("clip-fast-384", "gen_480x640"),
    ("clip-fast-384", "gen_227x224"),
    ("clip-fast-224", "jpeg_444.jpg"),
]

M32 = 0xFFFFFFFF


def gen(w, h, seed):
    """A deterministic image with gradients, hard edges and grain, from
    integer arithmetic only (kinds_test.go's genImage is the same)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.uint64)
    out = np.zeros((h, w, 3), np.uint8)
    for c in range(3):
        hh = (x * 0x9E3779B1 + y * 0x85EBCA77 + np.uint64((c + 1) * 0xC2B2AE3D) + np.uint64(seed * 0x27D4EB2F)) & M32
        hh ^= hh >> np.uint64(15)
        hh = (hh * np.uint64(0x2C1B3C6D)) & M32
        hh ^= hh >> np.uint64(12)
        g = (x * np.uint64(256) // np.uint64(w) + y * np.uint64(192) // np.uint64(h) + np.uint64(c * 85)) % np.uint64(256)
        g = g.astype(np.int64)
        flip = ((x // np.uint64(37) + y // np.uint64(29) + np.uint64(c)) % np.uint64(4)) == 0
        g = np.where(flip, 255 - g, g)
        v = g + (hh % np.uint64(33)).astype(np.int64) - 16
        out[..., c] = np.clip(v, 0, 255).astype(np.uint8)
    return out


def sha(b):
    return hashlib.sha256(b).hexdigest()


def out_size(w, h, s):
    """get_resize_output_image_size(default_to_square=False) and
    torchvision's _compute_resized_output_size for one int: (w, h)."""
    if w <= h:
        return s, int(s * h / w)
    return int(s * w / h), s


# --- torch's uint8 antialiased bicubic, from UpSampleKernel.cpp ---

A = -0.5


def aa_filter(x):
    """HelperInterpCubic::aa_filter: cubic_convolution1/2 with a = -0.5."""
    x = np.abs(x)
    c1 = ((A + 2) * x - (A + 3)) * x * x + 1
    c2 = ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return np.where(x < 1.0, c1, np.where(x < 2.0, c2, 0.0))


def float_weights(in_size, out_size):
    """_compute_indices_min_size_weights_aa for every output pixel: xmin,
    xsize, the normalised float64 weights (ksize each, zero past xsize) and
    the largest of them."""
    scale = in_size / out_size
    # interp_size 4: support = interp_size/2 * scale when downscaling.
    support = 2.0 * scale if scale >= 1.0 else 2.0
    ksize = int(math.ceil(support)) * 2 + 1
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    i = np.arange(out_size, dtype=np.float64)
    center = scale * (i + 0.5)
    xmin = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    xsize = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), in_size) - xmin
    xsize = np.clip(xsize, 0, ksize)
    j = np.arange(ksize, dtype=np.int64)
    pos = (j[None, :] + xmin[:, None]) - center[:, None] + 0.5
    w = aa_filter(pos * invscale)
    w = np.where(j[None, :] < xsize[:, None], w, 0.0)
    total = w.sum(axis=1)
    nz = total != 0.0
    w[nz] = w[nz] / total[nz, None]
    wt_max = max(float(w[nz].max()) if nz.any() else 0.0, 0.0)
    return xmin, xsize, w, wt_max


def int16_weights(in_size, out_size):
    """_compute_index_ranges_int16_weights(antialias=True): per output
    pixel xmin, xsize and int16 weights (ksize each), and the precision."""
    xmin, xsize, w, wt_max = float_weights(in_size, out_size)
    prec = 0
    while prec < 22:
        if int(0.5 + wt_max * (1 << (prec + 1))) >= (1 << 15):
            break
        prec += 1
    v = w * (1 << prec)
    k = np.where(v < 0, np.trunc(-0.5 + v), np.trunc(0.5 + v)).astype(np.int64)
    k = k.astype(np.int16).astype(np.int64)
    return xmin, xsize, k, prec


def pass_1d(src, axis, xmin, xsize, k, prec, sel):
    """One pass along axis (1 horizontal, 0 vertical) of an HxWx3 uint8
    image, for the output indices sel."""
    n = src.shape[axis]
    acc = np.full(tuple(len(sel) if a == axis else s for a, s in enumerate(src.shape)), 1 << (prec - 1), np.int64)
    for t in range(k.shape[1]):
        idx = np.minimum(xmin[sel] + t, n - 1)
        wt = np.where(t < xsize[sel], k[sel, t], 0)
        taken = np.take(src, idx, axis=axis).astype(np.int64)
        shape = [1, 1, 1]
        shape[axis] = len(sel)
        acc += taken * wt.reshape(shape)
    return np.clip(acc >> prec, 0, 255).astype(np.uint8)


def torch_uint8_resize(img, nw, nh, rows=None, cols=None):
    """Horizontal pass, then vertical, as upsample_avx_bilinear_bicubic_uint8;
    rows/cols restrict the output to a window."""
    h, w, _ = img.shape
    rows = np.arange(nh) if rows is None else rows
    cols = np.arange(nw) if cols is None else cols
    out = img
    if nw != w:
        xmin, xsize, k, prec = int16_weights(w, nw)
        out = pass_1d(out, 1, xmin, xsize, k, prec, cols)
    else:
        out = out[:, cols]
    if nh != h:
        ymin, ysize, k, prec = int16_weights(h, nh)
        out = pass_1d(out, 0, ymin, ysize, k, prec, rows)
    else:
        out = out[rows]
    return out


def float_pass(src, axis, xmin, xsize, w):
    """One pass in float64 with the same windows and weights, unrounded."""
    n = src.shape[axis]
    acc = np.zeros(tuple(len(xmin) if a == axis else s for a, s in enumerate(src.shape)))
    for t in range(w.shape[1]):
        idx = np.minimum(xmin + t, n - 1)
        wt = np.where(t < xsize, w[:, t], 0.0)
        shape = [1, 1, 1]
        shape[axis] = len(xmin)
        acc += np.take(src, idx, axis=axis).astype(np.float64) * wt.reshape(shape)
    return acc


def float_resize(img, nw, nh, round_between):
    """torch's windows and weights in float64, horizontal then vertical;
    with round_between the intermediate is clamped and rounded to 8 bits
    as the uint8 kernel's is, without it kept in float as torch's float
    kernel keeps it. The uint8 kernel's int16 weights and its rounding of
    the intermediate (half up) make it differ from the first by one level,
    now and then two where both roundings add up."""
    h, w, _ = img.shape
    out = img.astype(np.float64)
    if nw != w:
        xmin, xsize, wt, _ = float_weights(w, nw)
        out = float_pass(out, 1, xmin, xsize, wt)
        if round_between:
            out = np.clip(np.round(out), 0, 255)
    if nh != h:
        ymin, ysize, wt, _ = float_weights(h, nh)
        out = float_pass(out, 0, ymin, ysize, wt)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def diff(a, b):
    d = np.abs(a.astype(np.int64) - b.astype(np.int64))
    return {"differing": int((d > 0).sum()), "max": int(d.max())}


def tv_anchor(n, crop):
    """torchvision's center_crop: pad (crop-n)//2 before, else round()."""
    if n < crop:
        return -((crop - n) // 2)
    return int(round((n - crop) / 2.0))


def window(n, crop, anchor):
    lo, hi = max(anchor, 0), min(anchor + crop, n)
    return np.arange(lo, hi), lo - anchor


def place(win, crop, oy, ox):
    out = np.zeros((crop, crop, 3), np.uint8)
    out[oy:oy + win.shape[0], ox:ox + win.shape[1]] = win
    return out


def fast_crop(img, s):
    h, w, _ = img.shape
    nw, nh = out_size(w, h, s)
    top, left = tv_anchor(nh, s), tv_anchor(nw, s)
    ry, oy = window(nh, s, top)
    rx, ox = window(nw, s, left)
    if nw * nh <= 1 << 22:
        full = torch_uint8_resize(img, nw, nh)
        return place(full[ry][:, rx], s, oy, ox)
    return place(torch_uint8_resize(img, nw, nh, ry, rx), s, oy, ox)


def fast_float_resize(img, s):
    """torchvision 0.14: F.resize on the uint8 CHW tensor goes through
    float32 interpolate (antialias=True), clamp and round."""
    t = torch.from_numpy(np.array(img)).permute(2, 0, 1)
    h, w = img.shape[:2]
    nw, nh = out_size(w, h, s)
    r = TF.resize(t, [nh, nw], interpolation=InterpolationMode.BICUBIC, antialias=True)
    return r.permute(1, 2, 0).contiguous().numpy()


def tv_crop(resized, s):
    """torchvision's center_crop of an HxWx3 array."""
    t = torch.from_numpy(np.array(resized)).permute(2, 0, 1)
    return TF.center_crop(t, [s, s]).permute(1, 2, 0).contiguous().numpy()


def fast_tensor(crop):
    """BaseImageProcessorFast.rescale_and_normalize, fused."""
    t = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).unsqueeze(0)
    mean = torch.tensor(MEAN) * (1.0 / RESCALE)
    std = torch.tensor(STD) * (1.0 / RESCALE)
    x = t.to(dtype=torch.float32)
    x = TF.normalize(x[0], mean, std)
    return x.contiguous().numpy()


def open_clip_pipeline(img, s):
    pil = Image.fromarray(img, "RGB")
    resize = Compose([Resize(s, interpolation=InterpolationMode.BICUBIC), CenterCrop(s)])
    cropped = resize(pil).convert("RGB")
    tensor = Compose([ToTensor(), Normalize(mean=MEAN, std=STD)])(cropped)
    return np.asarray(cropped), tensor.contiguous().numpy()


def pillow_pipeline(img, s):
    """CLIPImageProcessor on explicit (height, width)."""
    h, w = img.shape[:2]
    nw, nh = out_size(w, h, s)
    r = np.asarray(Image.fromarray(img, "RGB").resize((nw, nh), Image.BICUBIC))
    top, left = (nh - s) // 2, (nw - s) // 2
    out = np.zeros((s, s, 3), np.uint8)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + s, nh), min(left + s, nw)
    out[y0 - top:y1 - top, x0 - left:x1 - left] = r[y0:y1, x0:x1]
    x = (out.astype(np.float64) * RESCALE).astype(np.float32)
    x = (x - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return out, x.transpose(2, 0, 1).copy()


def inputs():
    """(name, pixels, record) for every input."""
    for name, w, h, seed in GENERATED:
        px = gen(w, h, seed)
        yield name, px, {"name": name, "generate": {"width": w, "height": h, "seed": seed}, "decode_sha256": sha(px.tobytes())}
    with open(os.path.join(DECODE, "golden.json")) as f:
        golden = json.load(f)["images"]
    for g in golden:
        for rel in (os.path.join("images", g["file"]), os.path.join("golden", g["file"] + ".png")):
            try:
                with Image.open(os.path.join(DECODE, rel)) as im:
                    px = np.asarray(im.convert("RGB"))
            except Exception:
                continue
            if sha(px.tobytes()) == g["decode_sha256"]:
                yield g["file"], px, {"name": g["file"], "file": rel, "decode_sha256": g["decode_sha256"]}
                break


def main():
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow {Image.__version__}, numpy {np.__version__}", file=sys.stderr)
    os.makedirs(os.path.join(HERE, "float"), exist_ok=True)
    records, cases = [], []
    total_diff, total_samples, worst = 0, 0, 0
    for name, px, rec in inputs():
        print(name, file=sys.stderr, flush=True)
        records.append(rec)
        h, w = px.shape[:2]
        for cname, (kind, s) in CONFIGS.items():
            case = {"config": cname, "image": name}
            if kind == "clip-pillow":
                crop, tensor = pillow_pipeline(px, s)
            elif kind == "open_clip":
                crop, tensor = open_clip_pipeline(px, s)
            else:
                crop = fast_crop(px, s)
                tensor = fast_tensor(crop)
                nw, nh = out_size(w, h, s)
                if nw * nh <= 1 << 22:
                    tf = fast_float_resize(px, s)
                    fc = tv_crop(tf, s)
                    case["float_path"] = diff(fc, crop)
                    total_diff += case["float_path"]["differing"]
                    total_samples += fc.size
                    worst = max(worst, case["float_path"]["max"])
                    if "generate" in rec:
                        # The windows and weights against torch's own float
                        # kernel (within 1), and the uint8 kernel against
                        # the same float computation rounded to 8 bits
                        # between the passes (within 2): rounding only.
                        case["weights_check"] = {
                            "float64_vs_torch_float": diff(float_resize(px, nw, nh, False), tf),
                            "uint8_vs_float64_rounded_between": diff(tv_crop(float_resize(px, nw, nh, True), s), crop),
                        }
                        print(name, cname, case["float_path"], case["weights_check"], file=sys.stderr)
                        wc = case["weights_check"]
                        assert wc["float64_vs_torch_float"]["max"] <= 1 and wc["uint8_vs_float64_rounded_between"]["max"] <= 2, case
                    if (cname, name) in FLOAT_PNG:
                        png = f"{cname}__{name}.png"
                        Image.fromarray(fc, "RGB").save(os.path.join(HERE, "float", png))
                        case["float_crop"] = os.path.join("float", png)
            assert crop.shape == (s, s, 3) and tensor.shape == (3, s, s) and tensor.dtype == np.float32
            case["crop_sha256"] = sha(np.ascontiguousarray(crop).tobytes())
            case["tensor_sha256"] = sha(np.ascontiguousarray(tensor).astype("<f4").tobytes())
            cases.append(case)
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump({"configs": {k: {"kind": v[0], "size": v[1]} for k, v in CONFIGS.items()}, "inputs": records, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"{len(records)} inputs, {len(cases)} cases; torch's float path differs from the uint8 path in "
          f"{total_diff} of {total_samples} crop samples ({100 * total_diff / max(total_samples, 1):.3f}%), by at most {worst}", file=sys.stderr)


if __name__ == "__main__":
    main()
