"""Times CLIP's image preprocessing with Pillow and numpy, as
transformers' CLIPImageProcessor does it: open the JPEG bytes, convert to
RGB, resize the shortest side to 224 (bicubic), centre-crop 224x224,
rescale, normalize, HWC to CHW float32.

Usage: pillow_prep.py FILE...  (prints {"ms_per_image": ..., "pillow": ...})
The files are read into memory first; one warm-up pass, then one timed pass.
"""
import io
import json
import sys
import time

import numpy as np
import PIL
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
SIZE = 224


def preprocess(data):
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    if w <= h:
        nw, nh = SIZE, int(SIZE * h / w)
    else:
        nw, nh = int(SIZE * w / h), SIZE
    im = im.resize((nw, nh), resample=Image.BICUBIC)
    left, top = (nw - SIZE) // 2, (nh - SIZE) // 2
    im = im.crop((left, top, left + SIZE, top + SIZE))
    a = np.asarray(im, dtype=np.float32) * (1 / 255.0)
    a = (a - MEAN) / STD
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def main():
    blobs = [open(p, "rb").read() for p in sys.argv[1:]]
    if not blobs:
        sys.exit("no files")
    preprocess(blobs[0])
    start = time.perf_counter()
    for b in blobs:
        preprocess(b)
    ms = (time.perf_counter() - start) * 1000 / len(blobs)
    print(json.dumps({"ms_per_image": ms, "pillow": PIL.__version__, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
