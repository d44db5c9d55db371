#!/bin/sh
# Checks that mclip's 224x224 crops of every image of the photo corpus
# (build.sh) are byte for byte Pillow's (Debian's python3-pil 9.4: convert
# to RGB, shortest side to 224 bicubic, center crop). Exit status 1 if any
# differs.
#
#   bench/photos/check.sh [CACHE_DIR]   (needs bin/mclip: make build)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
dir="${1:-$root/.cache/photos}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Only vision/preprocessor_config.json is read: CLIP's defaults.
mkdir -p "$tmp/model/vision"
echo '{"crop_size":224,"do_center_crop":true,"do_normalize":true,"do_resize":true,"image_mean":[0.48145466,0.4578275,0.40821073],"image_std":[0.26862954,0.26130258,0.27577711],"resample":3,"size":224}' >"$tmp/model/vision/preprocessor_config.json"
"$root/bin/mclip" preprocess --model-dir "$tmp/model" --out "$tmp/crops" "$dir"/images/* >"$tmp/crops.json"
exec /usr/bin/python3 -W ignore - "$tmp/crops.json" <<'PY'
import hashlib, json, sys
from PIL import Image
bad = 0
items = json.load(open(sys.argv[1]))["images"]
for it in items:
    im = Image.open(it["path"]).convert("RGB")
    w, h = im.size
    nw, nh = (224, int(224 * h / w)) if w <= h else (int(224 * w / h), 224)
    im = im.resize((nw, nh), resample=Image.BICUBIC)
    left, top = (nw - 224) // 2, (nh - 224) // 2
    sha = hashlib.sha256(im.crop((left, top, left + 224, top + 224)).tobytes()).hexdigest()
    if sha != it["crop_sha256"]:
        bad += 1
        print("differs from Pillow:", it["path"])
print("%d images, %d differ from Pillow" % (len(items), bad))
sys.exit(1 if bad else 0)
PY
