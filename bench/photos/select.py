"""Selects the photo corpus from extracted Debian packages (see build.sh).

Usage: select.py PKG_DIR OUT_DIR. Groups every JPEG, PNG and WebP of at
least 0.01 megapixels by format, Pillow mode and size class (< 1 MP, 1-4 MP,
> 4 MP), takes up to PER_GROUP of each (evenly spread over the group sorted
by path, identical files once), copies them into OUT_DIR/images and writes
OUT_DIR/corpus.json, which the benchmark reads.
"""
import hashlib
import json
import os
import shutil
import sys

from PIL import Image

PER_GROUP = 3
EXTS = (".jpg", ".jpeg", ".png", ".webp")


def size_class(pixels):
    if pixels < 1_000_000:
        return "<1MP"
    if pixels <= 4_000_000:
        return "1-4MP"
    return ">4MP"


def main(pkg_dir, out_dir):
    seen, groups = set(), {}
    for root, _, files in sorted(os.walk(pkg_dir)):
        for f in sorted(files):
            path = os.path.join(root, f)
            if not f.lower().endswith(EXTS) or os.path.islink(path):
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                with Image.open(path) as im:
                    fmt, mode, (w, h) = im.format, im.mode, im.size
            except Exception:  # not an image Pillow reads: not in the corpus
                continue
            if w * h < 10_000 or fmt not in ("JPEG", "PNG", "WEBP"):
                continue
            rel = os.path.relpath(path, pkg_dir)
            entry = {"package": rel.split(os.sep)[0], "source": "/" + rel.split(os.sep, 1)[1],
                     "format": fmt.lower(), "mode": mode, "width": w, "height": h,
                     "class": size_class(w * h), "bytes": len(data), "sha256": digest}
            groups.setdefault((entry["format"], mode, entry["class"]), []).append((path, entry))
    images = os.path.join(out_dir, "images")
    shutil.rmtree(images, ignore_errors=True)
    os.makedirs(images)
    corpus = []
    for key in sorted(groups):
        members = groups[key]
        step = max(1, len(members) // PER_GROUP)
        for path, entry in members[::step][:PER_GROUP]:
            name = "%02d-%s-%s-%dx%d%s" % (len(corpus), entry["format"], entry["mode"], entry["width"],
                                           entry["height"], os.path.splitext(path)[1].lower())
            shutil.copyfile(path, os.path.join(images, name))
            entry["file"] = "images/" + name
            corpus.append(entry)
    with open(os.path.join(out_dir, "corpus.json"), "w") as fh:
        json.dump({"images": corpus}, fh, indent=1)
    for e in corpus:
        print("%-40s %6.2f MP %s" % (e["file"], e["width"] * e["height"] / 1e6, e["source"]))
    print("%d images in %s" % (len(corpus), out_dir))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
