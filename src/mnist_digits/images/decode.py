"""Decoding any image source safely into a PIL image, and bringing odd pixel modes to a few.

``load_image`` checks size limits from ``stat`` and from the image header before any pixel is
decoded, takes the first frame, applies EXIF orientation and turns every failure into a
one-line ``ImageError``. ``standard_mode`` maps PIL's many modes (palette, 16-bit, CMYK, ...)
onto L, LA, RGB, RGBA or F, the only ones the ink finder reads.
"""

from __future__ import annotations

import functools
import io
import os
import stat
import warnings
from pathlib import Path
from typing import TypeAlias

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_digits.core.errors import ImageError
from mnist_digits.core.limits import MAX_BYTES, MAX_PIXELS

ImageSource: TypeAlias = str | os.PathLike[str] | bytes | Image.Image | np.ndarray

MIN_SIDE = 4  # below 4x4 pixels there is no digit to read

_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "PPM", "TGA", "ICO")
_ORIENTATION = 0x0112  # EXIF tag that phones use to say "rotate me"
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"


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
        max_pixels: Refuse images with more pixels than this (checked from the header).

    Returns:
        The decoded PIL image in its own mode (may be ``src`` itself for a PIL input).

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
    with warnings.catch_warnings():
        # Our max_pixels check below decides; PIL's own warning (> 89 MP) would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data), formats=_formats())
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


def _unsupported(name: str, data: bytes) -> ImageError:
    """Explain why PIL could not identify ``data``: text/HTML or an unsupported format."""
    head = data[:512]
    if len(head.translate(None, _PRINTABLE)) <= 0.05 * len(head):
        kind = (
            "an HTML page" if b"<html" in head.lower() or b"<!doctype" in head.lower() else "text"
        )
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
    if min(width, height) < MIN_SIDE:
        raise _fail(
            f"{name} is only {width}x{height} pixels; use an image at least "
            f"{MIN_SIDE}x{MIN_SIDE} (28x28 or larger reads best)"
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
            values = np.asarray(img, dtype=np.float32)  # (H, W) 16/32-bit ints or floats
            values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
            offset, scale = _unit_range(values, "f" if mode == "F" else "i")
            return Image.fromarray(np.clip((values - offset) * scale, 0, 1).astype(np.float32))
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
