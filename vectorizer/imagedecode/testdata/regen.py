"""Generates the imagedecode/clipprep test images and their Pillow goldens.

Run through regen.sh with Debian's /usr/bin/python3 (Pillow 9.x on Debian's
libjpeg-turbo, libwebp and libtiff, numpy) and tiffcp (Debian package
libtiff-tools, for TIFF layouts Pillow cannot write), heif-enc/heif-convert
(libheif-examples) and avifenc/avifdec (libavif-bin) for HEIF and AVIF, which
Pillow 9.4 does not read: their expected pixels are the libraries' own
command-line decoders' output. Writes:

  images/<name>          the test images, every format the decoder supports
  golden/<name>.png      Pillow's decoded RGB, for lossy formats (compared
                         with a tolerance)
  golden/<name>.crop.png Pillow's 224x224 crop, for lossy formats
  golden.json            per image: Pillow's decode, crop and tensor sha256

The decode golden is Image.open(f).convert("RGB") except where mclip does
the intended thing instead of Pillow 9 (16-bit grayscale: high byte instead
of clipping to white). The preprocessing golden reimplements transformers
4.x CLIPImageProcessor (convert_rgb, resize with get_resize_output_image_size
(shortest_edge, default_to_square=False) and PIL bicubic, center_crop,
rescale in float64 then float32, normalize in float32, HWC->CHW) on
explicit (height, width), so that images 1 or 3 pixels high are not
mistaken for channels-first as transformers would.
"""
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "..", "clipprep", "testdata", "preprocessor_config.json")


def photo(w, h, seed):
    """A deterministic photo-like image: smooth colour fields, discs, grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    img[..., 0] = 128 + 100 * np.sin(x / (w / 3 + 1) + seed)
    img[..., 1] = 128 + 100 * np.cos(y / (h / 4 + 1))
    img[..., 2] = 255 * (x + y) / (w + h)
    for _ in range(12):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(2, max(3, min(w, h) / 3))
        col = rng.uniform(0, 255, 3)
        m = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[m] = img[m] * 0.3 + col * 0.7
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def gradient(w, h):
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 255 // max(w + h - 2, 1)], -1)
    return img.astype(np.uint8)


def noise(w, h, seed, c=3, hi=256):
    return np.random.default_rng(seed).integers(0, hi, (h, w, c)).astype(np.uint16 if hi > 256 else np.uint8)


# --- a PNG writer for the colour types and bit depths Pillow cannot write ---

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)


def write_png(path, samples, ctype, depth, interlace=False, palette=None, trns=None):
    h, w = samples.shape[:2]

    def rows(a):
        out = []
        for row in a:
            flat = row.reshape(-1)
            if depth == 16:
                b = flat.astype(">u2").tobytes()
            elif depth == 8:
                b = flat.astype(np.uint8).tobytes()
            else:
                bits = np.unpackbits(flat.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:].reshape(-1)
                b = np.packbits(bits).tobytes()
            # Filter type 0; the files Pillow writes cover adaptive filters.
            out.append(b"\x00" + b)
        return b"".join(out)

    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += rows(sub)
    else:
        raw = rows(samples)
    data = b"\x89PNG\r\n\x1a\n"
    data += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0))
    if palette is not None:
        data += png_chunk(b"PLTE", bytes(np.asarray(palette, np.uint8).reshape(-1)))
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    data += png_chunk(b"IDAT", zlib.compress(raw, 9))
    data += png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


# --- a PNM writer for the variants Pillow cannot write (ASCII, odd maxval) ---

def write_pnm(path, magic, samples, maxval=None, comment=True):
    """samples: (h, w) or (h, w, 3) integers; bits for P1/P4 (1 is black)."""
    h, w = samples.shape[:2]
    head = b"P%d\n" % magic
    if comment:
        head += b"# written by regen.py\n"
    head += b"%d %d\n" % (w, h)
    if magic not in (1, 4):
        head += b"%d\n" % maxval
    flat = samples.reshape(h, -1)
    if magic == 1:
        # No separators between bits on some rows, a comment mid-data.
        rows = [b"".join(b"%d" % v for v in r) if y % 2 else b" ".join(b"%d" % v for v in r)
                for y, r in enumerate(flat)]
        rows.insert(len(rows) // 2, b"# a comment in the data")
        body = b"\n".join(rows) + b"\n"
    elif magic in (2, 3):
        rows = [b" ".join(b"%d" % v for v in r) for r in flat]
        rows.insert(len(rows) // 2, b"# a comment in the data")
        body = b"\n".join(rows) + b"\n"
    elif magic == 4:
        body = np.packbits(flat.astype(np.uint8), axis=1).tobytes()
    else:
        body = flat.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    with open(path, "wb") as f:
        f.write(head + body)


def pillow_high_byte(path):
    """mclip's decode of a 16-bit grayscale image: the high byte of Pillow's
    mode "I" value, where Pillow 9's convert("RGB") clips it to 255."""
    with Image.open(path) as im:
        assert im.mode == "I", (path, im.mode)
        a = np.asarray(im).astype(np.int64)
    return np.repeat((a >> 8).astype(np.uint8)[..., None], 3, axis=2)


# --- a minimal TIFF writer (one uncompressed strip) for the layouts Pillow
# cannot write; tiffcp (libtiff-tools) recompresses and re-lays them out ---

def write_tiff(path, w, h, bps, spp, photometric, data, colormap=None, extrasamples=None):
    tags = [(256, 4, [w]), (257, 4, [h]), (258, 3, [bps] * spp), (259, 3, [1]), (262, 3, [photometric]),
            (273, 4, [0]), (277, 3, [spp]), (278, 4, [h]), (279, 4, [len(data)])]
    if colormap is not None:
        tags.append((320, 3, list(colormap)))
    if extrasamples is not None:
        tags.append((338, 3, list(extrasamples)))
    tags.sort()
    size = {3: 2, 4: 4}
    ifd_off = 8
    extra_off = ifd_off + 2 + 12 * len(tags) + 4
    extra = b""
    entries = b""
    for tag, typ, vals in tags:
        payload = b"".join(struct.pack("<H" if typ == 3 else "<I", v) for v in vals)
        if tag == 273:
            continue
        if len(payload) <= 4:
            entries += struct.pack("<HHI", tag, typ, len(vals)) + payload.ljust(4, b"\0")
        else:
            entries += struct.pack("<HHII", tag, typ, len(vals), extra_off + len(extra))
            extra += payload
    data_off = extra_off + len(extra)
    entries = b""
    extra = b""
    for tag, typ, vals in tags:
        if tag == 273:
            vals = [data_off]
        payload = b"".join(struct.pack("<H" if typ == 3 else "<I", v) for v in vals)
        if len(payload) <= 4:
            entries += struct.pack("<HHI", tag, typ, len(vals)) + payload.ljust(4, b"\0")
        else:
            entries += struct.pack("<HHII", tag, typ, len(vals), extra_off + len(extra))
            extra += payload
    out = b"II*\0" + struct.pack("<I", ifd_off) + struct.pack("<H", len(tags)) + entries + b"\0\0\0\0" + extra + data
    with open(path, "wb") as f:
        f.write(out)


def pack_bits(samples, bps):
    """Packs (h, w) samples of bps < 8 MSB-first into byte-aligned rows."""
    bits = np.unpackbits(samples.astype(np.uint8)[..., None], axis=-1)[..., 8 - bps:]
    return np.packbits(bits.reshape(samples.shape[0], -1), axis=1).tobytes()


def tiffcp(src, dst, *args):
    subprocess.run(["tiffcp", *args, src, dst], check=True)


def pillow_read_libtiff(path):
    """Pillow's decode through its libtiff path, for the uncompressed
    YCbCr that its raw path misreads as RGB."""
    from PIL import TiffImagePlugin
    TiffImagePlugin.READ_LIBTIFF = True
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    finally:
        TiffImagePlugin.READ_LIBTIFF = False


# --- ICO/CUR, TGA and PCX writers for what Pillow cannot write ---

def dib_entry(im):
    """An icon's DIB: Pillow's BMP without its file header, height doubled,
    followed by an AND mask (rows padded to 32 bits)."""
    buf = io.BytesIO()
    im.save(buf, "BMP")
    dib = bytearray(buf.getvalue()[14:])
    w, h = im.size
    struct.pack_into("<i", dib, 8, 2 * h)
    mask_row = ((w + 31) // 32) * 4
    dib += bytes(np.random.default_rng(w * h).integers(0, 256, mask_row * h).astype(np.uint8))
    return bytes(dib)


def png_entry(im):
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def write_icon(path, entries, kind=1):
    """entries: (directory width, height, bpp, image bytes)."""
    out = struct.pack("<HHH", 0, kind, len(entries))
    off = 6 + 16 * len(entries)
    body = b""
    for w, h, bpp, data in entries:
        out += struct.pack("<BBBBHHII", w % 256, h % 256, 0, 0, 1, bpp, len(data), off + len(body))
        body += data
    with open(path, "wb") as f:
        f.write(out + body)


def tga_rle(pixels, bpp):
    """RLE packets over the whole pixel stream, so runs cross rows."""
    px = [pixels[i:i + bpp] for i in range(0, len(pixels), bpp)]
    out, i = b"", 0
    while i < len(px):
        j = i
        while j + 1 < len(px) and px[j + 1] == px[i] and j - i < 127:
            j += 1
        if j > i:
            out += bytes([0x80 | (j - i)]) + px[i]
            i = j + 1
            continue
        j = i
        while j + 1 < len(px) and px[j + 1] != px[j] and j - i < 127:
            j += 1
        out += bytes([j - i]) + b"".join(px[i:j + 1])
        i = j + 1
    return out


def write_tga(path, w, h, imagetype, depth, pixels, flags=0, cmap=None, cmap_start=0, cmap_depth=24, rle=False):
    cm = b"" if cmap is None else cmap
    n = 0 if cmap is None else len(cmap) // (cmap_depth // 8)
    head = struct.pack("<BBBHHBHHHHBB", 4, cmap is not None, imagetype | (8 if rle else 0), cmap_start, n,
                       cmap_depth if cmap is not None else 0, 0, 0, w, h, depth, flags)
    body = tga_rle(pixels, max(depth // 8, 1)) if rle else pixels
    with open(path, "wb") as f:
        f.write(head + b"mclp" + cm + body)


def pcx_rle(line):
    out, i = b"", 0
    while i < len(line):
        j = i
        while j + 1 < len(line) and line[j + 1] == line[i] and j - i < 62:
            j += 1
        n = j - i + 1
        if n > 1 or line[i] >= 0xC0:
            out += bytes([0xC0 | n, line[i]])
        else:
            out += bytes([line[i]])
        i = j + 1
    return out


def write_pcx_planes(path, idx, planes, palette):
    """A 1-bit, 2 or 4 plane PCX of palette indices (h, w)."""
    h, w = idx.shape
    stride = (w + 7) // 8
    stride += stride % 2
    head = struct.pack("<BBBBHHHHHH", 10, 5, 1, 1, 0, 0, w - 1, h - 1, 72, 72)
    head += bytes(np.asarray(palette, np.uint8).reshape(-1)[:48]).ljust(48, b"\0")
    head += b"\0" + bytes([planes]) + struct.pack("<HH", stride, 1)
    head = head.ljust(128, b"\0")
    body = b""
    for row in idx:
        line = b""
        for p in range(planes):
            bits = ((row >> p) & 1).astype(np.uint8)
            line += np.packbits(bits).tobytes().ljust(stride, b"\0")
        body += pcx_rle(line)
    with open(path, "wb") as f:
        f.write(head + body)


# --- HEIF and AVIF, beyond Pillow 9.4: made by heif-enc and avifenc, the
# expected pixels are what heif-convert and avifdec decode (Debian packages
# libheif-examples and libavif-bin) ---

# AVIF transformations avifdec leaves alone: name -> (irot, imir). MIAF:
# rotate angle*90 degrees anti-clockwise, then mirror (mode 0: top and
# bottom exchanged, 1: left and right).
AVIF_TRANSFORMS = {}


def cli_png(cmd, src, suffix):
    out = src + suffix
    subprocess.run(cmd + [src, out], check=True, stdout=subprocess.DEVNULL)
    with Image.open(out) as im:
        a = np.asarray(im.convert("RGB"))
    os.remove(out)
    return a


def cli_decode(path):
    name = os.path.basename(path)
    if name.endswith(".heic"):
        return cli_png(["heif-convert"], path, ".tmp.png")
    a = cli_png(["avifdec"], path, ".tmp.png")
    irot, imir = AVIF_TRANSFORMS.get(name, (None, None))
    if irot:
        a = np.rot90(a, irot)
    if imir == 0:
        a = a[::-1]
    elif imir == 1:
        a = a[:, ::-1]
    return np.ascontiguousarray(a)


def build_heif_avif(imgdir):
    src = os.path.join(imgdir, "heif_src.tmp.png")
    src_odd = os.path.join(imgdir, "heif_src_odd.tmp.png")
    src_alpha = os.path.join(imgdir, "heif_src_alpha.tmp.png")
    Image.fromarray(photo(64, 48, 120)).save(src)
    Image.fromarray(photo(37, 29, 121)).save(src_odd)
    Image.fromarray(np.dstack([photo(40, 30, 122), noise(40, 30, 123, c=1)]), "RGBA").save(src_alpha)
    out = lambda n: os.path.join(imgdir, n)
    heif = lambda n, s, *a: subprocess.run(["heif-enc", "-q", "80", *a, "-o", out(n), s], check=True, stdout=subprocess.DEVNULL)
    heif("heif_photo.heic", src)
    heif("heif_odd.heic", src_odd)
    heif("heif_alpha.heic", src_alpha)
    heif("heif_lossless.heic", src, "-L")

    def avif(n, s, *a, irot=None, imir=None):
        args = ["avifenc", "-s", "8", "-j", "1", *a]
        if irot is not None:
            args += ["--irot", str(irot)]
        if imir is not None:
            args += ["--imir", str(imir)]
        subprocess.run(args + [s, out(n)], check=True, stdout=subprocess.DEVNULL)
        AVIF_TRANSFORMS[n] = (irot, imir)

    avif("avif_photo.avif", src)
    avif("avif_odd_444.avif", src_odd, "-y", "444")
    avif("avif_alpha.avif", src_alpha)
    avif("avif_lossless.avif", src, "-l")
    avif("avif_irot1_imir0.avif", src_odd, irot=1, imir=0)
    avif("avif_irot3.avif", src_odd, irot=3)
    avif("avif_irot2_imir1.avif", src, irot=2, imir=1)
    for f in (src, src_odd, src_alpha):
        os.remove(f)


def write_heif_cross_check(imgdir, gdir):
    """libheif also reads AVIF and applies irot/imir itself: its decode of
    a transformed AVIF checks AVIF_TRANSFORMS' reading of the spec."""
    name = "avif_irot1_imir0.avif"
    a = cli_png(["heif-convert"], os.path.join(imgdir, name), ".tmp.png")
    Image.fromarray(a).save(os.path.join(gdir, name + ".libheif.png"))


# --- the images ---

def build(imgdir):
    """Writes every test image; returns {name: expected decode override}."""
    override = {}
    P = photo(320, 240, 1)
    small = photo(64, 48, 2)
    odd = photo(333, 517, 3)

    def save(name, im, **kw):
        im.save(os.path.join(imgdir, name), **kw)

    rgb = Image.fromarray(P)
    rgba = np.dstack([P, gradient(320, 240)[..., :1]])
    # PNG by Pillow (adaptive filters)
    save("png_rgb8.png", rgb)
    save("png_rgba8.png", Image.fromarray(rgba, "RGBA"))
    save("png_l8.png", rgb.convert("L"))
    save("png_la8.png", rgb.convert("LA"))
    save("png_p8.png", rgb.quantize(200))
    save("png_1bit.png", rgb.convert("1"))
    save("png_1x1.png", Image.fromarray(photo(1, 1, 4)))
    save("png_1x4000.png", Image.fromarray(photo(1, 4000, 5)))
    save("png_4000x1.png", Image.fromarray(photo(4000, 1, 6)))
    save("png_225x224.png", Image.fromarray(photo(225, 224, 7)))
    save("png_32x32_upscale.png", Image.fromarray(photo(32, 32, 8)))
    save("png_333x517.png", Image.fromarray(odd))
    save("png_50x3.png", Image.fromarray(photo(50, 3, 9)))
    save("png_noise_97x131.png", Image.fromarray(noise(97, 131, 10)))
    save("png_gradient_256x100.png", Image.fromarray(gradient(256, 100)))
    # PNG by hand: every colour type, bit depth, interlacing, transparency
    n = noise(37, 29, 11)
    n16 = noise(37, 29, 12, hi=65536)
    for depth in (1, 2, 4, 8, 16):
        g = noise(37, 29, 13 + depth, c=1, hi=1 << depth)
        write_png(os.path.join(imgdir, "png_gray%d.png" % depth), g, 0, depth)
        write_png(os.path.join(imgdir, "png_gray%d_interlaced.png" % depth), g, 0, depth, interlace=True)
        if depth == 16:
            override["png_gray16.png"] = np.repeat((g >> 8).astype(np.uint8), 3, axis=2)
            override["png_gray16_interlaced.png"] = override["png_gray16.png"]
    write_png(os.path.join(imgdir, "png_gray8_trns.png"), noise(37, 29, 20, c=1), 0, 8, trns=struct.pack(">H", 7))
    write_png(os.path.join(imgdir, "png_rgb16.png"), n16, 2, 16)
    write_png(os.path.join(imgdir, "png_rgb16_interlaced.png"), n16, 2, 16, interlace=True)
    write_png(os.path.join(imgdir, "png_rgb8_interlaced.png"), small, 2, 8, interlace=True)
    write_png(os.path.join(imgdir, "png_rgb8_trns.png"), n, 2, 8, trns=struct.pack(">HHH", *[int(v) for v in n[0, 0]]))
    write_png(os.path.join(imgdir, "png_ga8.png"), noise(37, 29, 21, c=2), 4, 8)
    write_png(os.path.join(imgdir, "png_ga16.png"), noise(37, 29, 22, c=2, hi=65536), 4, 16, interlace=True)
    write_png(os.path.join(imgdir, "png_rgba16.png"), noise(37, 29, 23, c=4, hi=65536), 6, 16)
    write_png(os.path.join(imgdir, "png_rgba8_interlaced.png"), noise(37, 29, 24, c=4), 6, 8, interlace=True)
    for depth in (1, 2, 4, 8):
        k = 1 << depth
        pal = np.random.default_rng(30 + depth).integers(0, 256, (k, 3))
        idx = noise(37, 29, 31 + depth, c=1, hi=k)
        trns = bytes(np.random.default_rng(40 + depth).integers(0, 256, k // 2 + 1).astype(np.uint8))
        write_png(os.path.join(imgdir, "png_pal%d_trns.png" % depth), idx, 3, depth, palette=pal, trns=trns,
                  interlace=depth == 4)
    # JPEG
    for sub, name in ((2, "420"), (1, "422"), (0, "444")):
        save("jpeg_%s.jpg" % name, rgb, quality=90, subsampling=sub)
    save("jpeg_420_progressive.jpg", rgb, quality=90, subsampling=2, progressive=True)
    save("jpeg_444_progressive.jpg", rgb, quality=75, subsampling=0, progressive=True)
    save("jpeg_gray.jpg", rgb.convert("L"), quality=90)
    save("jpeg_cmyk.jpg", rgb.convert("CMYK"), quality=90)
    save("jpeg_333x517_420.jpg", Image.fromarray(odd), quality=85, subsampling=2)
    save("jpeg_333x517_422.jpg", Image.fromarray(odd), quality=85, subsampling=1)
    save("jpeg_1x1.jpg", Image.fromarray(photo(1, 1, 4)), quality=90)
    save("jpeg_1x4000.jpg", Image.fromarray(photo(1, 4000, 5)), quality=90, progressive=True)
    save("jpeg_225x224.jpg", Image.fromarray(photo(225, 224, 7)), quality=90)
    save("jpeg_32x32_upscale.jpg", Image.fromarray(photo(32, 32, 8)), quality=90)
    for o in range(2, 9):
        ex = Image.Exif()
        ex[0x0112] = o
        save("jpeg_exif%d.jpg" % o, Image.fromarray(small), quality=90, exif=ex.tobytes())
    # GIF (first frame)
    save("gif_photo.gif", rgb.quantize(128))
    q = Image.fromarray(small).quantize(64)
    save("gif_transparent.gif", q, transparency=5)
    save("gif_gray.gif", rgb.convert("L"))
    # A first frame smaller than the screen, at an offset (patched into a
    # GIF Pillow wrote), with and without a transparent index.
    for name, kw in (("gif_partial_frame.gif", {}), ("gif_partial_frame_transparent.gif", {"transparency": 3})):
        buf = io.BytesIO()
        Image.fromarray(photo(40, 30, 54)).quantize(16).save(buf, "GIF", **kw)
        b = bytearray(buf.getvalue())
        b[6:10] = struct.pack("<HH", 57, 45)
        d = b.index(b"\x2c", 13 + 3 * (2 << (b[10] & 7)))
        b[d + 1:d + 5] = struct.pack("<HH", 11, 6)
        with open(os.path.join(imgdir, name), "wb") as f:
            f.write(bytes(b))
    frames = [Image.fromarray(photo(40, 30, s)).quantize(32) for s in (50, 51)]
    frames[0].save(os.path.join(imgdir, "gif_animated.gif"), save_all=True, append_images=frames[1:])
    # WebP
    save("webp_lossy.webp", rgb, quality=80)
    save("webp_lossy_alpha.webp", Image.fromarray(rgba, "RGBA"), quality=80)
    save("webp_lossless.webp", rgb, lossless=True)
    save("webp_lossless_alpha.webp", Image.fromarray(rgba, "RGBA"), lossless=True, exact=True)
    save("webp_333x517.webp", Image.fromarray(odd), quality=70)
    anim = [Image.fromarray(photo(48, 40, s)) for s in (52, 53)]
    anim[0].save(os.path.join(imgdir, "webp_animated.webp"), save_all=True, append_images=anim[1:], quality=80)
    # EXIF orientation outside JPEG: PNG eXIf, WebP EXIF chunk, TIFF tag.
    for name, o in (("png_exif6.png", 6), ("webp_lossless_exif8.webp", 8)):
        ex = Image.Exif()
        ex[0x0112] = o
        kw = {"lossless": True} if name.endswith(".webp") else {}
        save(name, Image.fromarray(small), exif=ex.tobytes(), **kw)
    save("tiff_exif5.tif", Image.fromarray(small), tiffinfo={0x0112: 5})
    # BMP
    save("bmp_rgb.bmp", rgb)
    save("bmp_rgba.bmp", Image.fromarray(rgba, "RGBA"))
    save("bmp_p8.bmp", rgb.quantize(100))
    save("bmp_l.bmp", rgb.convert("L"))
    save("bmp_1bit.bmp", rgb.convert("1"))
    save("bmp_333x517.bmp", Image.fromarray(odd))
    # TIFF
    save("tiff_rgb.tif", rgb)
    save("tiff_rgb_lzw.tif", rgb, compression="tiff_lzw")
    save("tiff_rgb_deflate.tif", rgb, compression="tiff_adobe_deflate")
    save("tiff_rgb_packbits.tif", rgb, compression="packbits")
    save("tiff_rgba.tif", Image.fromarray(rgba, "RGBA"))
    save("tiff_l.tif", rgb.convert("L"))
    save("tiff_p.tif", rgb.quantize(64))
    save("tiff_1bit.tif", rgb.convert("1"))
    g16 = noise(37, 29, 60, c=1, hi=65536)[..., 0]
    save("tiff_gray16.tif", Image.fromarray(g16.astype(np.uint16), "I;16"))
    override["tiff_gray16.tif"] = np.repeat((g16 >> 8).astype(np.uint8)[..., None], 3, axis=2)
    # TIFF: every compression and photometric Pillow reads through libtiff.
    tif = lambda name: os.path.join(imgdir, name)
    save("tiff_rgb_jpeg.tif", rgb, compression="jpeg", quality=90)
    save("tiff_1bit_group3.tif", rgb.convert("1"), compression="group3")
    save("tiff_1bit_group4.tif", rgb.convert("1"), compression="group4")
    save("tiff_cmyk.tif", rgb.convert("CMYK"))
    save("tiff_cmyk_lzw.tif", Image.fromarray(noise(37, 29, 61, c=4), "CMYK"), compression="tiff_lzw")
    save("tiff_la_deflate.tif", rgb.convert("LA"), compression="tiff_adobe_deflate")
    save("tiff_ycbcr.tif", rgb.convert("YCbCr"))
    save("tiff_ycbcr_lzw.tif", rgb.convert("YCbCr"), compression="tiff_lzw")
    override["tiff_ycbcr.tif"] = pillow_read_libtiff(tif("tiff_ycbcr.tif"))
    tiffcp(tif("tiff_rgb.tif"), tif("tiff_ycbcr_jpeg.tif"), "-c", "jpeg:90", "-r", "16")
    tiffcp(tif("tiff_rgb.tif"), tif("tiff_rgb_jpeg_rgb.tif"), "-c", "jpeg:r:90", "-r", "16")
    tiffcp(tif("tiff_rgb.tif"), tif("tiff_rgb_tiled_zip.tif"), "-t", "-w", "48", "-l", "32", "-c", "zip")
    tiffcp(tif("tiff_rgb.tif"), tif("tiff_rgb_separate_lzw.tif"), "-p", "separate", "-c", "lzw:2")
    tiffcp(tif("tiff_rgb.tif"), tif("tiff_rgb_bigendian_packbits.tif"), "-B", "-c", "packbits")
    tiffcp(tif("tiff_rgb.tif"), tif("tiff_rgb_zip_predictor.tif"), "-c", "zip:2", "-r", "7")
    tiffcp(tif("tiff_1bit.tif"), tif("tiff_1bit_g3_2d.tif"), "-c", "g3:2d")
    tiffcp(tif("tiff_1bit.tif"), tif("tiff_1bit_g4_lsb2msb.tif"), "-c", "g4", "-f", "lsb2msb")
    tiffcp(tif("tiff_p.tif"), tif("tiff_p_tiled_lzw.tif"), "-t", "-c", "lzw")
    tiffcp(tif("tiff_cmyk.tif"), tif("tiff_cmyk_separate.tif"), "-p", "separate")
    tiffcp(tif("tiff_l.tif"), tif("tiff_l_jpeg.tif"), "-c", "jpeg", "-r", "16")
    for bps in (2, 4):
        g = noise(37, 29, 62 + bps, c=1, hi=1 << bps)[..., 0]
        write_tiff(tif("tiff_gray%d.tif" % bps), 37, 29, bps, 1, 1, pack_bits(g, bps))
        write_tiff(tif("tiff_gray%d_miniswhite.tif" % bps), 37, 29, bps, 1, 0, pack_bits(g, bps))
        cmap = np.random.default_rng(66 + bps).integers(0, 65536, 3 << bps)
        write_tiff(tif("tiff_pal%d.tif" % bps), 37, 29, bps, 1, 3, pack_bits(g, bps), colormap=cmap)
    tiffcp(tif("tiff_gray4.tif"), tif("tiff_gray4_lzw.tif"), "-c", "lzw")
    write_tiff(tif("tiff_l_miniswhite.tif"), 37, 29, 8, 1, 0, noise(37, 29, 70, c=1).tobytes())
    write_tiff(tif("tiff_rgb16.tif"), 37, 29, 16, 3, 2, noise(37, 29, 71, hi=65536).astype("<u2").tobytes())
    tiffcp(tif("tiff_rgb16.tif"), tif("tiff_rgb16_bigendian_lzw.tif"), "-B", "-c", "lzw")
    # Associated (premultiplied) alpha: each colour at most its alpha.
    a = noise(37, 29, 72, c=1)
    pre = np.minimum(noise(37, 29, 73), a)
    write_tiff(tif("tiff_rgba_associated.tif"), 37, 29, 8, 4, 2, np.dstack([pre, a]).tobytes(), extrasamples=[1])
    write_tiff(tif("tiff_rgbx_2extra.tif"), 37, 29, 8, 5, 2, noise(37, 29, 74, c=5).tobytes(), extrasamples=[0, 0])
    # ICO: PNG entries written by Pillow; DIB entries (1, 8, 24, 32 bit) by
    # hand; the largest entry wins, then the deepest, then the last.
    icon = Image.fromarray(photo(48, 48, 90))
    icon.save(tif("ico_png.ico"), sizes=[(16, 16), (32, 32), (48, 48)])
    Image.fromarray(photo(256, 256, 91)).save(tif("ico_png_256.ico"), sizes=[(256, 256), (32, 32)])
    d32 = Image.fromarray(photo(32, 32, 92))
    write_icon(tif("ico_dib.ico"), [
        (16, 16, 8, dib_entry(Image.fromarray(photo(16, 16, 93)).quantize(50))),
        (32, 32, 24, dib_entry(d32)),
        (32, 32, 32, dib_entry(Image.fromarray(np.dstack([photo(32, 32, 94), noise(32, 32, 95, c=1)]), "RGBA"))),
        (24, 24, 1, dib_entry(Image.fromarray(photo(24, 24, 96)).convert("1"))),
    ])
    write_icon(tif("ico_dib_8bit_odd.ico"), [(37, 29, 8, dib_entry(Image.fromarray(photo(37, 29, 97)).quantize(30)))])
    write_icon(tif("ico_1bit.ico"), [(37, 29, 1, dib_entry(Image.fromarray(photo(37, 29, 98)).convert("1")))])
    write_icon(tif("ico_mixed.ico"), [(32, 32, 24, dib_entry(d32)), (40, 40, 32, png_entry(Image.fromarray(photo(40, 40, 99))))])
    # CUR: DIB entries only; the first unless a later one is wider and higher.
    write_icon(tif("cur_dib.cur"), [
        (32, 32, 24, dib_entry(d32)),
        (48, 40, 8, dib_entry(Image.fromarray(photo(48, 40, 100)).quantize(64))),
        (48, 48, 24, dib_entry(Image.fromarray(photo(48, 48, 101)))),
    ], kind=2)
    # TGA: Pillow writes 1, L, LA, P, RGB, RGBA, raw or RLE, either row
    # order; 16-bit colour, 16-bit maps, offset maps, mirroring by hand.
    small_rgba = Image.fromarray(np.dstack([small, noise(64, 48, 102, c=1)]), "RGBA")
    save("tga_rgb.tga", rgb)
    save("tga_rgb_rle.tga", rgb, compression="tga_rle")
    save("tga_rgba_rle_topdown.tga", small_rgba, compression="tga_rle", orientation=1)
    save("tga_rgba.tga", small_rgba)
    save("tga_l.tga", rgb.convert("L"))
    save("tga_l_rle.tga", rgb.convert("L"), compression="tga_rle")
    save("tga_la.tga", rgb.convert("LA"))
    save("tga_p.tga", rgb.quantize(100))
    save("tga_p_rle.tga", rgb.quantize(16), compression="tga_rle")
    save("tga_1bit.tga", rgb.convert("1"))
    c16 = noise(37, 29, 103, c=1, hi=65536)[..., 0].astype("<u2")
    write_tga(tif("tga_rgb16.tga"), 37, 29, 2, 16, c16.tobytes())
    write_tga(tif("tga_rgb16_rle_mirrored.tga"), 37, 29, 2, 16, (c16 & 0xFFE0).tobytes(), flags=0x30, rle=True)
    pidx = noise(37, 29, 104, c=1, hi=40)[..., 0] + 8
    cmap16 = noise(40, 1, 105, c=1, hi=65536)[..., 0].astype("<u2").tobytes()
    write_tga(tif("tga_p_map16_start8.tga"), 37, 29, 1, 8, pidx.astype(np.uint8).tobytes(), cmap=cmap16,
              cmap_start=8, cmap_depth=16)
    cmap24 = noise(48, 1, 106, c=3).tobytes()
    write_tga(tif("tga_p_map24_mirrored_rle.tga"), 37, 29, 1, 8, (pidx // 4 * 4).astype(np.uint8).tobytes(),
              cmap=cmap24, flags=0x10, rle=True)
    # Pillow 9.4 fails on 32-bit colour maps ("unrecognized raw mode" for
    # its BGRA palette); mclip reads them: B, G, R, A entries, alpha dropped.
    cmap32 = noise(48, 1, 106, c=4)[0]
    write_tga(tif("tga_p_map32.tga"), 37, 29, 1, 8, pidx.astype(np.uint8).tobytes(), cmap=cmap32.tobytes(),
              cmap_depth=32, flags=0x20)
    override["tga_p_map32.tga"] = cmap32[pidx][..., 2::-1]
    write_tga(tif("tga_rgb24_rle_runs.tga"), 37, 29, 2, 24, np.repeat(noise(1, 29, 107), 37, axis=1).tobytes(),
              flags=0x20, rle=True)
    # PCX: Pillow writes 1, L, P, RGB; 2 and 4 bit planes by hand.
    save("pcx_rgb.pcx", rgb)
    save("pcx_rgb_odd.pcx", Image.fromarray(photo(37, 29, 108)))
    save("pcx_l.pcx", rgb.convert("L"))
    save("pcx_p.pcx", rgb.quantize(200))
    save("pcx_1bit.pcx", rgb.convert("1"))
    save("pcx_1bit_odd.pcx", Image.fromarray(photo(37, 29, 109)).convert("1"))
    for planes in (2, 4):
        idx = noise(37, 29, 110 + planes, c=1, hi=1 << planes)[..., 0]
        write_pcx_planes(tif("pcx_%dplanes.pcx" % planes), idx, planes, noise(16, 1, 115, c=3))
    idx = noise(16, 9, 116, c=1, hi=16)[..., 0]
    write_pcx_planes(tif("pcx_4planes_w16.pcx"), idx, 4, noise(16, 1, 117, c=3))
    # PNM: Pillow writes P4, P5 (8 and 16 bit) and P6; the rest by hand.
    pn = noise(37, 29, 70)
    save("pnm_p4.pbm", rgb.convert("1"))
    save("pnm_p5.pgm", rgb.convert("L"))
    save("pnm_p6.ppm", rgb)
    save("pnm_p5_16.pgm", Image.fromarray(g16.astype(np.int32), "I"))
    pnm = lambda name, *a, **kw: write_pnm(os.path.join(imgdir, name), *a, **kw)
    pnm("pnm_p1.pbm", 1, noise(37, 29, 71, c=1, hi=2)[..., 0])
    pnm("pnm_p4_odd.pbm", 4, noise(37, 29, 72, c=1, hi=2)[..., 0])
    pnm("pnm_p2.pgm", 2, pn[..., 0], 255)
    pnm("pnm_p2_max100.pgm", 2, noise(37, 29, 73, c=1, hi=101)[..., 0], 100)
    pnm("pnm_p2_max1000.pgm", 2, noise(37, 29, 74, c=1, hi=1001)[..., 0], 1000)
    pnm("pnm_p3.ppm", 3, pn, 255)
    pnm("pnm_p3_max7.ppm", 3, noise(37, 29, 75, hi=8), 7)
    pnm("pnm_p3_max4095.ppm", 3, noise(37, 29, 76, hi=4096), 4095)
    pnm("pnm_p5_max100.pgm", 5, noise(37, 29, 77, c=1, hi=101)[..., 0], 100)
    pnm("pnm_p5_max1000.pgm", 5, noise(37, 29, 78, c=1, hi=1001)[..., 0], 1000)
    pnm("pnm_p5_max65535.pgm", 5, noise(37, 29, 79, c=1, hi=65536)[..., 0], 65535, comment=False)
    pnm("pnm_p6_max100.ppm", 6, noise(37, 29, 80, hi=101), 100)
    pnm("pnm_p6_max1000.ppm", 6, noise(37, 29, 81, hi=1001), 1000)
    pnm("pnm_p6_max65535.ppm", 6, noise(37, 29, 82, hi=65536), 65535)
    for name in ("pnm_p5_16.pgm", "pnm_p2_max1000.pgm", "pnm_p5_max1000.pgm", "pnm_p5_max65535.pgm"):
        override[name] = pillow_high_byte(os.path.join(imgdir, name))
    return override


LOSSY = ("jpeg_", "webp_lossy", "webp_333x517", "webp_animated")
EXIF = {"png_exif6.png": 6, "webp_lossless_exif8.webp": 8, "tiff_exif5.tif": 5}
EXIF.update({"jpeg_exif%d.jpg" % o: o for o in range(2, 9)})


def is_lossy(name):
    return name.startswith(LOSSY)


# --- transformers 4.x CLIPImageProcessor, on explicit (height, width) ---

def load_config():
    with open(CONFIG) as f:
        c = json.load(f)
    size = c["size"]["shortest_edge"] if isinstance(c["size"], dict) else c["size"]
    crop = c["crop_size"]
    ch, cw = (crop["height"], crop["width"]) if isinstance(crop, dict) else (crop, crop)
    return size, ch, cw, c["image_mean"], c["image_std"]


def output_size(h, w, size):
    # get_resize_output_image_size(default_to_square=False)
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)  # (height, width)


def preprocess(im, cfg):
    size, ch, cw, mean, std = cfg
    nh, nw = output_size(im.height, im.width, size)
    if (nw, nh) != im.size:
        im = im.resize((nw, nh), resample=Image.BICUBIC, reducing_gap=None)
    a = np.asarray(im)
    top, left = (nh - ch) // 2, (nw - cw) // 2
    assert top >= 0 and left >= 0, "crop larger than resized image"
    crop = np.ascontiguousarray(a[top:top + ch, left:left + cw])
    x = (crop.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    tensor = np.ascontiguousarray(x.transpose(2, 0, 1)).astype("<f4")
    return crop, tensor


def sha(b):
    return hashlib.sha256(b).hexdigest()


def regen():
    imgdir = os.path.join(HERE, "images")
    gdir = os.path.join(HERE, "golden")
    for d in (imgdir, gdir):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    override = build(imgdir)
    build_heif_avif(imgdir)
    write_heif_cross_check(imgdir, gdir)
    cfg = load_config()
    entries = []
    for name in sorted(os.listdir(imgdir)):
        if name.endswith((".heic", ".avif")):
            fmt = "heif" if name.endswith(".heic") else "avif"
            rgb = Image.fromarray(cli_decode(os.path.join(imgdir, name)), "RGB")
        else:
            with Image.open(os.path.join(imgdir, name)) as src:
                fmt = src.format.lower()
                if name in override:
                    rgb = Image.fromarray(np.ascontiguousarray(override[name]), "RGB")
                else:
                    rgb = src.convert("RGB")
        e = {"file": name, "format": fmt, "width": rgb.width, "height": rgb.height,
             "lossy": is_lossy(name), "decode_sha256": sha(rgb.tobytes())}
        if e["lossy"]:
            rgb.save(os.path.join(gdir, name + ".png"), optimize=True)
        crop, tensor = preprocess(rgb, cfg)
        e["crop_sha256"] = sha(crop.tobytes())
        e["tensor_sha256"] = sha(tensor.tobytes())
        if e["lossy"]:
            Image.fromarray(crop).save(os.path.join(gdir, name + ".crop.png"), optimize=True)
        if name in EXIF:
            with Image.open(os.path.join(imgdir, name)) as src:
                assert src.getexif().get(0x0112) == EXIF[name], name
                if fmt == "tiff":
                    # Pillow 9 transposes TIFFs on load (TiffImagePlugin.
                    # load_end); exif_transpose on the unloaded image would
                    # transpose twice. Once is what is meant.
                    t = rgb
                else:
                    t = ImageOps.exif_transpose(src).convert("RGB")
            e["exif_orientation"] = EXIF[name]
            e["exif_width"], e["exif_height"] = t.width, t.height
            t.save(os.path.join(gdir, name + ".exif.png"))
        entries.append(e)
        print(name, e["width"], e["height"], file=sys.stderr)
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump({"pillow": Image.__version__, "images": entries}, f, indent=1)
        f.write("\n")


def bench():
    """Pillow's decode+preprocess time for the Go benchmarks' sizes."""
    cfg = load_config()
    for w, h in ((640, 480), (4000, 3000)):
        buf = io.BytesIO()
        Image.fromarray(photo(w, h, 99)).save(buf, "JPEG", quality=90)
        data = buf.getvalue()
        runs = 20 if w < 1000 else 5
        times, dec = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            im = Image.open(io.BytesIO(data)).convert("RGB")
            t1 = time.perf_counter()
            preprocess(im, cfg)
            times.append(time.perf_counter() - t0)
            dec.append(t1 - t0)
        print("pillow %dx%d jpeg (%d bytes): decode %.2f ms, decode+preprocess %.2f ms (median of %d)" % (
            w, h, len(data), 1000 * sorted(dec)[runs // 2], 1000 * sorted(times)[runs // 2], runs))


if __name__ == "__main__":
    if sys.argv[1:] == ["bench"]:
        bench()
    else:
        regen()
