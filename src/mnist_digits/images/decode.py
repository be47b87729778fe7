"""Decoding any image source safely into a PIL image, and bringing odd pixel modes to a few.

``load_image`` checks size limits from ``stat`` and from the image header before any pixel is
decoded, refuses files whose header claims more pixels than their data can hold, decodes no
more pixels than a digit needs (a large JPEG at 1/2, 1/4 or 1/8 scale, other formats within a
pixel budget and then box-reduced), takes the first frame, applies EXIF orientation and turns
every failure into a one-line ``ImageError``. ``standard_mode`` maps PIL's many modes (palette,
16-bit, CMYK, ...) onto L, LA, RGB, RGBA or F, the only ones the ink finder reads.
"""

from __future__ import annotations

import functools
import io
import math
import os
import stat
import struct
import warnings
from pathlib import Path
from typing import TypeAlias

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from mnist_digits.core.errors import ImageError
from mnist_digits.core.limits import MAX_BYTES, MAX_PIXELS

ImageSource: TypeAlias = str | os.PathLike[str] | bytes | Image.Image | np.ndarray

# An image whose longer side is under 4 px holds no digit to read. The shorter side may be
# 1 px: a tight crop of a thin "1" is 2-3 px wide (1 in 5,000 validation digits).
MIN_SIDE = 4
# Files are decoded at no more than about 2048 px a side: the ink finder works at <= 1024 px
# (images.ink), so twice that keeps every stroke it can see and bounds the work per image.
DECODE_SIDE = 2048
# A file format other than JPEG is decoded in full before it can be reduced, so its declared
# size is held to 16 MP: a 5K screenshot (14.7 MP) or a 600 dpi scan of a postcard fits, and
# decoding it costs ~0.1 s (8-bit) to ~0.4 s (16-bit, float) of one core. JPEG is decoded
# at 1/2..1/8 scale by libjpeg itself, so its declared size is held only by ``max_pixels``.
FULL_DECODE_PIXELS = 16_000_000

# What people send: no TGA (it has no signature, so junk can pass for one), ICO, DIB or the
# rest of PIL's ~40 readers. PPM here is binary PNM only (P4-P6); plain text is refused.
_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
_ORIENTATION = 0x0112  # EXIF tag that phones use to say "rotate me"
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"
_PLAIN_PNM = (b"P1", b"P2", b"P3")  # PBM/PGM/PPM as ASCII numbers: 3-4 bytes per pixel
# Deflate never expands more than 1032:1 (a 258-byte match in two 1-bit codes), so a PNG whose
# rows need more bytes than that times its IDAT data holds fewer pixels than its header says.
_DEFLATE_MAX = 1032
# Every 8x8 block of a Huffman-coded JPEG costs at least one bit (its DC code).
_JPEG_BLOCK_BITS = 1
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


def _fail(message: str) -> ImageError:
    """Build an ImageError whose message is guaranteed to be one line."""
    return ImageError(" ".join(message.split()))


def _one_line(exc: BaseException) -> str:
    """Summarise an exception from PIL/numpy for embedding in our own message."""
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load_image(
    src: ImageSource, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """Decode an image safely: first frame, EXIF orientation applied, pixels loaded.

    Args:
        src: A path, the file's bytes, a PIL image or a numpy array (uint8/float/bool,
            HxW, HxWx1, HxWx3 or HxWx4).
        max_bytes: Refuse files or byte strings larger than this (checked before reading).
        max_pixels: Refuse images with more pixels than this (checked from the header). Files
            in formats other than JPEG are also held to ``FULL_DECODE_PIXELS``.

    Returns:
        The decoded PIL image in its own mode (may be ``src`` itself for a PIL input). A file
        larger than ``DECODE_SIDE`` a side comes back box-reduced to at most that; its
        ``info["mnist_digits.scale"]`` says by how much (file pixels per returned pixel).

    Raises:
        ImageError: With a one-line message for every unusable input.
    """
    if isinstance(src, Image.Image):
        name, img = "image", src
    elif isinstance(src, np.ndarray):
        name, img = "array", _from_array(src, max_pixels)
    else:
        name, data = _read_source(src, max_bytes)
        img = _open_header(data, name, max_pixels)
        _check_dims(img.size, name, max_pixels)
        scale = _plan_decode(img, data, name)
        return _downscale(_decode(img, name), scale)
    _check_dims(img.size, name, max_pixels)
    return _decode(img, name)


def _read_source(src: object, max_bytes: int) -> tuple[str, bytes]:
    """Return (name for messages, raw bytes) of a path or bytes source."""
    if isinstance(src, bytes | bytearray | memoryview):
        name, data = "image data", bytes(src)
        if len(data) > max_bytes:
            raise _too_big(name, len(data), max_bytes)
    elif isinstance(src, str | os.PathLike):
        name, data = _read_file(src, max_bytes)
    else:
        raise _fail(
            f"cannot read an image from a {type(src).__name__}; "
            "pass a path, bytes, a PIL image or a numpy array"
        )
    if not data:
        raise _fail(f"{name} is empty (0 bytes); choose a non-empty image file")
    return name, data


def _read_file(src: str | os.PathLike[str], max_bytes: int) -> tuple[str, bytes]:
    """Read a file after checking via stat that it exists, is a file and is small enough."""
    name = src if isinstance(src, str) else os.fsdecode(os.fspath(src))
    try:
        path = Path(name)
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _fail(f"{name} is not a file; pass the path of an image file")
        if info.st_size > max_bytes:
            raise _too_big(name, info.st_size, max_bytes)
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)  # never more than the limit, even if the file grew
    except FileNotFoundError as exc:
        raise _fail(f"{name} does not exist; check the path") from exc
    except (OSError, ValueError, TypeError) as exc:
        raise _fail(
            f"cannot read {name} ({_one_line(exc)}); check the path and permissions"
        ) from exc
    if len(data) > max_bytes:
        raise _too_big(name, len(data), max_bytes)
    return name, data


def _too_big(name: str, size: int, max_bytes: int) -> ImageError:
    """Error for an input over the byte limit."""
    return _fail(
        f"{name} is {size:,} bytes, over the {max_bytes:,}-byte limit; "
        "downscale or compress the image (PNG or JPEG) and try again"
    )


@functools.cache
def _formats() -> tuple[str, ...]:
    """The PIL decoders we allow: common raster formats only (no EPS/PDF/etc. helpers)."""
    Image.init()
    return tuple(fmt for fmt in _FORMATS if fmt in Image.OPEN)


def _open_header(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open lazily: PIL reads only the header here, so size checks run before decoding."""
    if data[:2] in _PLAIN_PNM and data[2:3].isspace():
        raise _fail(
            f"{name} is a plain-text PBM/PGM/PPM image ({data[:2].decode()}), which is not "
            "supported: it spends 3-4 bytes on every pixel; save it as PNG"
        )
    with warnings.catch_warnings():
        # Our max_pixels check below decides; PIL's own warning (> 89 MP) would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=_formats())
        except Image.DecompressionBombError as exc:
            raise _fail(
                f"{name} declares far too many pixels (a decompression bomb?); "
                f"use an image under {max_pixels:,} pixels"
            ) from exc
        except UnidentifiedImageError as exc:
            raise _unsupported(name, data) from exc
        except Exception as exc:  # PIL plugins raise OSError/SyntaxError/ValueError on junk
            raise _fail(
                f"{name} has a broken image header ({_one_line(exc)}); re-save it as PNG or JPEG"
            ) from exc
    if img.format == "PPM" and data[:2] not in (b"P4", b"P5", b"P6"):  # e.g. PFM floats
        raise _unsupported(name, data)
    return img


def _plan_decode(img: Image.Image, data: bytes, name: str) -> int:
    """Check that the data can hold the declared pixels and that decoding them is affordable.

    A large JPEG is set to decode at 1/2, 1/4 or 1/8 scale (libjpeg scales in the DCT, so the
    full-size pixels never exist). Returns the scale chosen (1 for other formats).
    """
    width, height = img.size
    if isinstance(img, JpegImagePlugin.JpegImageFile):  # also MPO, the JPEG phones write
        blocks = math.ceil(width / 8) * math.ceil(height / 8)
        if len(data) * 8 < _JPEG_BLOCK_BITS * blocks:
            raise _lying(name, width, height, len(data))
        scale = next(s for s in (1, 2, 4, 8) if max(width, height) <= DECODE_SIDE * s or s == 8)
        if scale > 1:
            img.draft(None, (width // scale, height // scale))
        return scale
    if width * height > FULL_DECODE_PIXELS:
        raise _fail(
            f"{name} is {width}x{height} = {width * height:,} pixels, over the "
            f"{FULL_DECODE_PIXELS:,}-pixel limit for {img.format} images; downscale it "
            "(a digit needs well under a megapixel) or send it as JPEG"
        )
    if img.format == "PNG" and not _png_holds(data, width, height):
        raise _lying(name, width, height, len(data))
    return 1


def _png_holds(data: bytes, width: int, height: int) -> bool:
    """Whether a PNG's IDAT chunks are large enough to inflate to the rows its IHDR declares."""
    bits = data[24] * _PNG_CHANNELS.get(data[25], 4) if len(data) > 25 else 8
    rows = height * (1 + math.ceil(width * bits / 8))  # each row: a filter byte, then pixels
    pos, idat = 8, 0
    for _ in range(10_000):  # chunks; a PNG with more is left to the decoder to judge
        if pos + 8 > len(data):
            break
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += min(length, len(data) - pos - 8)
        elif kind == b"IEND":
            break
        pos += 12 + length
    else:
        return True
    return rows <= _DEFLATE_MAX * idat + 1024


def _lying(name: str, width: int, height: int, size: int) -> ImageError:
    """Error for a file whose header declares more pixels than its bytes can encode."""
    return _fail(
        f"{name} is truncated or its header lies: {size:,} bytes cannot hold the "
        f"{width}x{height} pixels it declares; re-save or re-upload the image"
    )


def _downscale(img: Image.Image, scale: int) -> Image.Image:
    """Box-reduce a decoded file to at most ``DECODE_SIDE`` a side (modes that average)."""
    factor = math.ceil(max(img.size) / DECODE_SIDE)
    if factor > 1:
        if img.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
            # 16-bit as 32-bit ints (the same range); palette, 1-bit, CMYK, ... as colours
            img = img.convert("I") if img.mode.startswith("I;16") else standard_mode(img)
        img = img.reduce(factor)
    if scale * factor > 1:
        img.info["mnist_digits.scale"] = scale * factor
    return img


def _unsupported(name: str, data: bytes) -> ImageError:
    """Explain why PIL could not identify ``data``: text/HTML or an unsupported format."""
    head = data[:512]
    lower = head.lower()
    if len(head.translate(None, _PRINTABLE)) <= 0.05 * len(head):
        if b"<svg" in lower and b"<html" not in lower:
            return _fail(
                f"{name} is an SVG drawing (vector graphics), which is not read; "
                "export or screenshot it as PNG"
            )
        kind = "an HTML page" if b"<html" in lower or b"<!doctype" in lower else "text"
        return _fail(
            f"{name} is {kind}, not an image (saved from a web page?); "
            "save or download the picture itself"
        )
    return _fail(
        f"{name} is not in a supported image format; use PNG, JPEG, GIF, BMP, TIFF or WebP"
    )


def _check_dims(size: tuple[int, int], name: str, max_pixels: int) -> None:
    """Refuse decompression bombs and images too small to hold a digit."""
    width, height = size
    if width * height > max_pixels:
        raise _fail(
            f"{name} is {width}x{height} = {width * height:,} pixels, over the "
            f"{max_pixels:,}-pixel limit; downscale it and try again"
        )
    if max(width, height) < MIN_SIDE:
        raise _fail(
            f"{name} is only {width}x{height} pixels; use an image at least "
            f"{MIN_SIDE} pixels on its longer side (28x28 or larger reads best)"
        )


def _decode(img: Image.Image, name: str) -> Image.Image:
    """Load the first frame and apply EXIF orientation, turning decoder errors into ImageError."""
    try:
        if img.tell() != 0:
            img.seek(0)  # animations: the first frame is the picture people see first
        img.load()
        if img.getexif().get(_ORIENTATION, 1) != 1:
            img = ImageOps.exif_transpose(img)
    except Exception as exc:  # truncated/corrupt data: OSError, SyntaxError, EOFError, ...
        raise _fail(
            f"{name} is truncated or corrupt ({_one_line(exc)}); re-save or re-upload the image"
        ) from exc
    return img


def _from_array(arr: np.ndarray, max_pixels: int) -> Image.Image:
    """Validate an HxW, HxWx1, HxWx3 or HxWx4 array and wrap it as an L/RGB/RGBA image."""
    pixels = arr[..., 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise _fail(
            f"an array of shape {arr.shape} is not an image; pass HxW, HxWx3 or HxWx4 pixels"
        )
    if pixels.dtype.kind not in "buif":
        raise _fail(f"an array of dtype {arr.dtype} is not an image; pass uint8 or float pixels")
    _check_dims((pixels.shape[1], pixels.shape[0]), "array", max_pixels)
    if pixels.dtype != np.uint8:
        values = pixels.astype(np.float32)  # (H, W[, C])
        if not np.isfinite(values).all():
            raise _fail("the array has NaN or infinite pixels; replace them before passing it")
        offset, scale = _unit_range(values, pixels.dtype.kind)
        pixels = np.clip((values - offset) * (255.0 * scale) + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels))


def _unit_range(values: np.ndarray, kind: str) -> tuple[float, float]:
    """Guess (offset, scale) mapping pixel values to 0..1 from their dtype kind and range."""
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0 and (kind == "b" or (hi <= 1 and kind == "f") or (hi == 1 and kind in "ui")):
        return 0.0, 1.0  # 0..1 floats, bool or 0/1 integer masks
    if lo >= 0 and hi <= 255:
        return 0.0, 1 / 255
    if lo >= 0 and hi <= 65535 and kind in "ui":
        return 0.0, 1 / 65535  # 16-bit
    return lo, (1.0 / (hi - lo) if hi > lo else 0.0)  # unknown range: stretch


def _high_bit(img: Image.Image) -> Image.Image:
    """A 16/32-bit integer or float image as F in 0..1; with NaN/inf pixels, as LA.

    Float TIFFs mark "no data" with NaN; such pixels are read as transparent, so the ink is
    whatever the finite pixels show (before, NaN became black and hid dark ink).
    """
    values = np.asarray(img, dtype=np.float32)  # (H, W)
    finite = np.isfinite(values)  # (H, W)
    whole = bool(finite.all())
    known = values if whole else values[finite]
    kind = "f" if img.mode == "F" else "i"
    offset, scale = _unit_range(known, kind) if known.size else (0.0, 0.0)
    with np.errstate(invalid="ignore"):
        grey = np.clip((values - offset) * scale, 0, 1).astype(np.float32)  # (H, W)
    if whole:
        return Image.fromarray(grey)
    alpha = finite.astype(np.uint8) * 255
    return Image.fromarray(
        np.dstack([np.where(finite, grey * 255 + 0.5, 0), alpha]).astype(np.uint8)
    )


def standard_mode(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to L, LA, RGB, RGBA (uint8) or F (float 0..1).

    Args:
        img: A decoded image in any mode, e.g. from ``load_image``.

    Returns:
        ``img`` itself when it is already L/LA/RGB/RGBA, else a converted copy: 16/32-bit
        integer and float images are scaled to 0..1 floats (F), transparent palettes keep
        their alpha (RGBA), everything else becomes RGB.

    Raises:
        ImageError: When PIL cannot convert the mode.
    """
    mode = img.mode
    try:
        if mode in ("L", "LA", "RGB", "RGBA"):
            return img
        if mode == "F" or mode.startswith("I"):
            return _high_bit(img)
        if mode == "1":
            return img.convert("L")
        if mode == "La":
            return img.convert("LA")
        if mode == "PA" or mode == "RGBa" or (mode == "P" and "transparency" in img.info):
            return img.convert("RGBA")
        return img.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV, RGBX, ...
    except Exception as exc:
        raise _fail(
            f"pixel mode {mode} is not supported ({_one_line(exc)}); save the image as RGB"
        ) from exc
