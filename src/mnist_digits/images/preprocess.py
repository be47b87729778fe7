"""Turn any image people give us into the model's 28x28 MNIST-style input.

Every entry point shares one path:

1. ``load_image`` decodes safely: size limits are checked from ``stat`` and from the image
   header before any pixel is decoded, and every failure becomes a one-line ``ImageError``.
2. ``_extract`` finds the ink: it decides the polarity, flattens uneven paper, thresholds with
   Otsu and drops specks (tiny connected components).
3. ``_render`` crops one digit, thickens thin strokes, scales the longer side to 20 px with
   anti-aliasing and centres the intensity centre of mass at (14, 14) in 28x28, as MNIST did.

``to_mnist`` renders all ink as one digit; ``split_digits`` renders each digit of a number.

Speed, measured once with ``timeit`` (best of 3 x 200, warm) on the shared 2-core dev box
under load: a 280x280 RGBA PNG with a drawn digit goes from bytes to ``image28`` in 1.9 ms,
0.73 ms of which is PIL's PNG decoding; the same digit as an opaque RGB PNG takes 2.4 ms; a
28x28 PNG 0.65 ms (~1,400 files/s from a folder on one core); a 590x580 JPEG photo with
uneven light 12 ms (background flattening and JPEG decoding dominate).
"""

from __future__ import annotations

import functools
import io
import math
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from mnist_digits.core.errors import ImageError

__all__ = [
    "MAX_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE",
    "ImageSource",
    "Preprocessed",
    "load_image",
    "naive_resize",
    "normalize",
    "split_digits",
    "to_mnist",
]

ImageSource: TypeAlias = str | os.PathLike[str] | bytes | Image.Image | np.ndarray

MAX_BYTES = 10 * 1024 * 1024  # default upload/file size limit
MAX_PIXELS = 40_000_000  # decompression-bomb guard, checked from the header before decoding
MIN_SIDE = 4  # below 4x4 pixels there is no digit to read

_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "PPM", "TGA", "ICO")
_ORIENTATION = 0x0112  # EXIF tag that phones use to say "rotate me"
_WORK_SIDE = 1024  # larger inputs are box-reduced first: a 12 MP photo drops to ~0.8 MP
_SIDE = 28  # MNIST canvas
_BOX = 20  # MNIST fits each digit's longer side to 20 px inside the 28 px canvas
_CENTRE = 14.0  # ... and puts the intensity centre of mass at pixel (14, 14)
_MIN_CONTRAST = 0.2  # ink must differ from paper by 20 %: 4 sigma of typical 5 % photo noise
_NOISE_CUT = 5.0  # ... and exceed 5 noise sigmas: pure noise yields < 1 speck per 1 MP
_ALPHA_CUT = 0.5  # with a transparent canvas, half-opaque pixels are ink
_FLAT_BORDER = 0.1  # border 5th/95th percentiles within 10 % of its median: one paper level
_POLARITY_MARGIN = 0.1  # deviations under 10 % (noise, JPEG) do not vote on polarity
_MIN_EXTENT = 0.03  # a component spanning < 3 % of the image's shorter side is a speck ...
_MIN_AREA = 0.05  # ... unless it holds >= 5 % of the largest component's pixels
_THIN = 2.0  # strokes under 2 px wide at the 20 px scale would fade: thicken them ...
_TARGET_WIDTH = 2.5  # ... to 2.5 px, the typical MNIST stroke width
_POOL_SIDE = 40  # thickening works on a 40-79 px max-pooled copy so dilation stays cheap
_WIDE = 0.9  # single handwritten digits are rarely wider than 0.9x their height; two
# touching ones are >= 1x (the cut itself is checked in _cut_column)
_MERGE = 0.5  # components sharing >= 50 % of the narrower one's columns are one digit
_EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity: diagonal pen strokes stay connected
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"

Box: TypeAlias = tuple[int, int, int, int]  # (top, left, bottom, right), working pixels
Piece: TypeAlias = tuple[Box, np.ndarray]  # one digit: its box and (h, w) bool ink mask


@dataclass(frozen=True)
class Preprocessed:
    """One digit ready for the model.

    Attributes:
        image28: (28, 28) uint8, white ink (high) on black (0), as MNIST.
        found: False when no digit/ink was found (empty or near-empty image).
        ink_fraction: Share of the input's pixels judged to be ink of this digit, 0..1.
        bbox: (left, top, right, bottom) of the ink in input pixels (after EXIF rotation),
            right/bottom exclusive as in ``PIL.Image.crop``; None when nothing was found.
        inverted: True when the input was dark-on-light and got inverted.
    """

    image28: np.ndarray
    found: bool
    ink_fraction: float
    bbox: tuple[int, int, int, int] | None
    inverted: bool


@dataclass(frozen=True)
class _Ink:
    """Ink found in one image, at working resolution."""

    ink: np.ndarray  # (H, W) float32 0..1: contrast to paper, keeps anti-aliased grey levels
    cut: float  # ink > cut is ink; Otsu's threshold, at least _MIN_CONTRAST
    labels: np.ndarray  # (H, W) int32: connected ink components, 0 = paper
    keep: np.ndarray  # (n + 1,) bool: keep[i] is True when component i is digit ink
    boxes: list[tuple[slice, slice]]  # n (rows, cols) slices, component i at index i - 1
    inverted: bool
    factor: int  # working pixel -> input pixels
    size: tuple[int, int]  # input (width, height)


def _fail(message: str) -> ImageError:
    """Build an ImageError whose message is guaranteed to be one line."""
    return ImageError(" ".join(message.split()))


def _one_line(exc: BaseException) -> str:
    """Summarise an exception from PIL/numpy for embedding in our own message."""
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------------------------
# Loading


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


# --------------------------------------------------------------------------------------------
# Finding the ink


def _standard_mode(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to L, LA, RGB, RGBA (uint8) or F (float 0..1)."""
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


def _extract(img: Image.Image) -> _Ink:
    """Find the digit ink in a decoded image."""
    work = _standard_mode(img)
    factor = max(1, math.ceil(max(work.size) / _WORK_SIDE))
    if factor > 1:
        work = work.reduce(factor)  # box filter: a 3 px stroke survives as grey ink mass
    ink, cut, inverted = _ink_map(work)
    labels, keep, boxes = _components(ink > cut)
    return _Ink(ink, cut, labels, keep, boxes, inverted, factor, img.size)


def _planes(img: Image.Image) -> list[np.ndarray]:
    """Colour planes of an L/RGB/F image as contiguous (H, W) float32 in 0..1.

    Separate planes, not (H, W, C): numpy reductions over a length-3 last axis run ~10x
    slower than elementwise ops on planes (3 ms vs 0.3 ms at 280x280 on the dev box).
    """
    if img.mode == "F":
        return [np.asarray(img, dtype=np.float32)]
    bands = [np.asarray(band) for band in img.split()]  # each (H, W) uint8
    if (
        len(bands) == 3
        and np.array_equal(bands[0], bands[1])
        and np.array_equal(bands[1], bands[2])
    ):
        bands = bands[:1]  # grey saved as RGB: one plane does
    return [band.astype(np.float32) * np.float32(1 / 255) for band in bands]


def _ink_map(img: Image.Image) -> tuple[np.ndarray, float, bool]:
    """Return (ink strength (H, W) float32 0..1, ink threshold, inverted) of L/LA/RGB/RGBA/F."""
    if img.mode in ("LA", "RGBA"):
        alpha = np.asarray(img.getchannel("A"))  # (H, W) uint8
        if np.count_nonzero(alpha < 128) * 2 >= alpha.size:
            # Mostly transparent: the opacity is the drawing, whatever the stroke colour
            # (white strokes on a transparent canvas would vanish on white).
            step = max(1, max(alpha.shape) // 64)  # ~4k samples are plenty for the colour
            sample = np.asarray(img.convert("L"))[::step, ::step]  # luminance, alpha ignored
            opaque = alpha[::step, ::step] >= 128
            inverted = bool(opaque.any()) and float(sample[opaque].mean()) < 128
            return alpha.astype(np.float32) * np.float32(1 / 255), _ALPHA_CUT, inverted
        weight = alpha.astype(np.float32) * np.float32(1 / 255)  # (H, W)
        colour = _planes(img.convert(img.mode[:-1]))
        planes = [p * weight + (1 - weight) for p in colour]  # composited on white
    else:
        planes = _planes(img)
    ink, inverted, noise = _paper_ink(planes)
    step = 2 if ink.size > 40_000 else 1  # a histogram of 1/4 of 78k pixels is as good
    return ink, max(_otsu(ink[::step, ::step]), _MIN_CONTRAST, _NOISE_CUT * noise), inverted


def _paper_ink(planes: list[np.ndarray]) -> tuple[np.ndarray, bool, float]:
    """Ink strength relative to the (flattened) paper, for either polarity.

    Args:
        planes: C colour planes, each (H, W) float32 in 0..1.

    Returns:
        (ink, inverted, noise): ink (H, W) float32 0..1 is the largest per-channel contrast
        to the paper, so coloured ink counts even where luminance barely changes; inverted
        is True for dark ink on light paper; noise is the ink map's noise sigma.
    """
    diffs, papers = [], []
    for plane in planes:
        paper = _paper(plane)  # scalar or (H, W)
        diffs.append(plane - paper)  # (H, W): > 0 lighter than paper
        papers.append(paper)
    # Polarity is a global vote: every 2nd row and column (1/4 of the pixels) is plenty.
    grey = sum(d[::2, ::2] for d in diffs[1:]) + diffs[0][::2, ::2]  # (H / 2, W / 2)
    grey *= np.float32(1 / len(diffs))
    lighter = float(np.clip(grey - _POLARITY_MARGIN, 0, None).sum())
    darker = float(np.clip(-grey - _POLARITY_MARGIN, 0, None).sum())
    light = lighter > darker
    # Light ink: contrast relative to the room left above the paper. Dark ink: ratio to the
    # paper's brightness, which cancels uneven light (a 50 % shadow halves both).
    inks = [
        diff / np.maximum(1 - paper, 0.1) if light else diff / -np.maximum(paper, 0.1)
        for diff, paper in zip(diffs, papers, strict=True)
    ]
    raw = functools.reduce(np.maximum, inks)  # (H, W)
    return np.clip(raw, 0.0, 1.0).astype(np.float32, copy=False), not light, _noise(raw)


def _noise(raw: np.ndarray) -> float:
    """Robust noise sigma of an (H, W) map from neighbour differences (ignores strokes).

    For Gaussian noise, median |a - b| of neighbours is 0.954 sigma; ink edges are too few
    to move the median. Every 8th row is plenty and keeps this at ~0.1 ms for 280x280.
    """
    steps = np.abs(np.diff(raw[::8], axis=1))  # (H / 8, W - 1)
    return _quantiles(steps.ravel(), (0.5,))[0] / 0.954


def _quantiles(values: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Nearest-rank quantiles of a 1-D array via one partition (np.percentile costs ~10x)."""
    ranks = [min(values.size - 1, int(q * values.size)) for q in qs]
    part = np.partition(values, ranks)
    return [float(part[r]) for r in ranks]


def _paper(plane: np.ndarray) -> np.ndarray | float:
    """Paper level of one (H, W) plane: the border median, or a smooth map if light is uneven."""
    depth = max(1, min(plane.shape) // 50)  # border 2 % of the shorter side deep
    parts = (plane[:depth], plane[-depth:], plane[:, :depth], plane[:, -depth:])
    ring = np.concatenate([part.ravel() for part in parts])  # (N,) mostly paper
    p5, p50, p95 = _quantiles(ring, (0.05, 0.5, 0.95))
    if p95 - p50 < _FLAT_BORDER and p50 - p5 < _FLAT_BORDER:
        return float(p50)  # flat canvas: one paper level
    return _background(plane)


def _background(plane: np.ndarray) -> np.ndarray:
    """Estimate slowly varying paper level (uneven light, shadows) as an (H, W) map.

    Medians over blocks of ~1/8 of the image ignore ink of either polarity while it covers
    under half a block; a 3x3 median over the block grid then repairs blocks that a thick
    stroke fills, and bilinear upsampling gives a smooth map.
    """
    height, width = plane.shape
    step = max(1, max(height, width) // 64)  # 8x8 samples per block keep the medians cheap
    sub = plane[::step, ::step]  # (h', w')
    grid_h, grid_w = -(-sub.shape[0] // 8), -(-sub.shape[1] // 8)
    pad = ((0, grid_h * 8 - sub.shape[0]), (0, grid_w * 8 - sub.shape[1]))
    sub = np.pad(sub, pad, mode="edge")  # (grid_h * 8, grid_w * 8)
    blocks = sub.reshape(grid_h, 8, grid_w, 8).transpose(0, 2, 1, 3).reshape(grid_h, grid_w, 64)
    grid = np.median(blocks, axis=2)  # (grid_h, grid_w)
    grid = ndimage.median_filter(grid, size=3, mode="nearest").astype(np.float32)
    full = Image.fromarray(grid).resize(
        (grid_w * 8 * step, grid_h * 8 * step), Image.Resampling.BILINEAR
    )  # smooth: no block edges
    return np.asarray(full)[:height, :width]


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of values in 0..1 (256 bins)."""
    hist = np.bincount((values * 255).astype(np.uint8).ravel(), minlength=256)  # (256,)
    prob = hist / hist.sum()
    weight = np.cumsum(prob)  # share of pixels at or below each bin
    mean = np.cumsum(prob * np.arange(256))
    spread = weight * (1 - weight)  # 0 where one class is empty: no split there
    between = np.divide((mean[-1] * weight - mean) ** 2, spread, where=spread > 0, out=spread * 0)
    return (int(np.argmax(between)) + 1) / 255


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[slice, slice]]]:
    """Label ink components and mark which are digit ink rather than specks.

    Returns:
        labels (H, W) int32, keep (n + 1,) bool with keep[0] False, and the n bounding slices.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    labels = np.zeros(mask.shape, dtype=np.int32)
    if rows.size == 0:
        return labels, np.zeros(1, dtype=bool), []
    # Label only the ink's bounding box: a digit on a big canvas costs a fraction of a pass.
    top, left = int(rows[0]), int(cols[0])
    inner = (slice(top, int(rows[-1]) + 1), slice(left, int(cols[-1]) + 1))
    count = ndimage.label(mask[inner], structure=_EIGHT, output=labels[inner])
    keep = np.zeros(count + 1, dtype=bool)
    boxes = [
        (slice(r.start + top, r.stop + top), slice(c.start + left, c.stop + left))
        for r, c in ndimage.find_objects(labels[inner])
    ]
    extent = np.array([max(r.stop - r.start, c.stop - c.start) for r, c in boxes])  # (n,)
    big = extent >= max(3.0, _MIN_EXTENT * min(mask.shape))
    keep[1:] = big
    if count > 1 and big.any():  # one component (a clean canvas) needs no areas
        area = np.bincount(labels[mask], minlength=count + 1)[1:]  # (n,)
        keep[1:] |= area >= _MIN_AREA * area[big].max()
    return labels, keep, boxes


# --------------------------------------------------------------------------------------------
# Rendering one digit


def _union_box(ink: _Ink, ids: list[int] | np.ndarray) -> Box:
    """Bounding box (top, left, bottom, right) of some components."""
    rows = [ink.boxes[i - 1][0] for i in ids]
    cols = [ink.boxes[i - 1][1] for i in ids]
    return (
        min(r.start for r in rows),
        min(c.start for c in cols),
        max(r.stop for r in rows),
        max(c.stop for c in cols),
    )


def _own(ink: _Ink, box: Box, ids: np.ndarray) -> np.ndarray:
    """(h, w) bool mask of components ``ids`` inside ``box``."""
    top, left, bottom, right = box
    lut = np.zeros(len(ink.keep), dtype=bool)
    lut[ids] = True
    return lut[ink.labels[top:bottom, left:right]]


def _render(ink: _Ink, piece: Piece) -> Preprocessed:
    """Crop, scale and centre one digit (its box and ink mask) into a 28x28 image."""
    (top, left, bottom, right), own = piece
    crop = ink.ink[top:bottom, left:right]  # (h, w)
    lo = ink.cut / 2  # halfway below the cut: keeps anti-aliased edges, drops paper noise
    hi = float(crop[own].mean())  # typical stroke strength maps to full white, as in MNIST
    soft = np.clip((crop - lo) * np.float32(1 / max(hi - lo, 1e-3)), 0.0, 1.0)  # (h, w)
    soft[(ink.labels[top:bottom, left:right] > 0) & ~own] = 0.0  # specks, other digits
    fit = _fit20(soft, own, _stroke_width(own))
    width, height = ink.size
    f = ink.factor
    bbox = (int(left) * f, int(top) * f, min(int(right) * f, width), min(int(bottom) * f, height))
    fraction = float(np.count_nonzero(own)) / ink.labels.size
    return Preprocessed(_place28(fit), True, fraction, bbox, ink.inverted)


def _stroke_width(own: np.ndarray) -> float:
    """Mean stroke width of a mask: 2 * area / perimeter (a stroke has two long sides)."""
    area = int(np.count_nonzero(own))
    edges = np.count_nonzero(own[1:] != own[:-1]) + np.count_nonzero(own[:, 1:] != own[:, :-1])
    edges += np.count_nonzero(own[[0, -1]]) + np.count_nonzero(own[:, [0, -1]])
    return 2.0 * area / max(int(edges), 1)


def _fit20(soft: np.ndarray, own: np.ndarray, width: float) -> np.ndarray:
    """Scale a cropped ink map so its longer side is 20 px; returns (h, w) float32, peak 1."""
    if width * _BOX / max(soft.shape) < _THIN:
        soft = _thicken(np.where(own, soft, np.float32(0)), width)
    scale = _BOX / max(soft.shape[0], soft.shape[1])
    size = (max(1, round(soft.shape[1] * scale)), max(1, round(soft.shape[0] * scale)))
    small = Image.fromarray(np.ascontiguousarray(soft, dtype=np.float32))
    # LANCZOS keeps grey levels like MNIST's anti-aliasing; reducing_gap box-reduces huge
    # crops first (1000 -> 20 px costs ~1 ms instead of ~10 ms).
    small = small.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    fit = np.clip(np.asarray(small), 0.0, 1.0)  # (h, w): Lanczos rings below 0 near strokes
    peak = float(fit.max())
    return fit / peak if peak > 0 else fit


def _thicken(soft: np.ndarray, width: float) -> np.ndarray:
    """Dilate thin strokes so they are ~2.5 px wide once the digit's longer side is 20 px.

    A 3 px pen on a 700 px digit would be 0.09 px at 20 px and vanish; MNIST strokes are
    2-3 px. Max-pooling to 40-79 px first keeps the line at full strength and makes the
    disk dilation cheap.
    """
    pool = max(1, max(soft.shape) // _POOL_SIDE)
    if pool > 1:
        soft = _max_pool(soft, pool)
    pooled_width = width / pool + (pool - 1) / pool  # pooling widens a line by < 1 cell
    ratio = _TARGET_WIDTH / _BOX
    # Solve (pooled_width + grow) / (longer + grow) == ratio: the digit grows with its strokes.
    grow = (ratio * max(soft.shape) - pooled_width) / (1 - ratio)
    diameter = round(grow) + 1
    if diameter < 2:
        return soft
    margin = diameter // 2 + 1  # room for the strokes to grow into
    padded = np.zeros((soft.shape[0] + 2 * margin, soft.shape[1] + 2 * margin), np.float32)
    padded[margin:-margin, margin:-margin] = soft
    thick = ndimage.maximum_filter(padded, footprint=_disk(diameter))  # grey dilation
    rows, cols = np.flatnonzero(thick.any(axis=1)), np.flatnonzero(thick.any(axis=0))
    return thick[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _max_pool(values: np.ndarray, pool: int) -> np.ndarray:
    """Max over pool x pool blocks of an (h, w) map; returns (ceil(h / pool), ceil(w / pool)).

    Elementwise maxima of strided slices: 10x faster than reshaping and reducing over small
    block axes (0.02 vs 0.25 ms for 210x140 with pool 5).
    """
    height, width = values.shape
    grid = np.zeros((height + -height % pool, width + -width % pool), np.float32)
    grid[:height, :width] = values  # (h', w'), multiples of pool
    rows = functools.reduce(np.maximum, [grid[i::pool] for i in range(pool)])  # (h' / p, w')
    return functools.reduce(np.maximum, [rows[:, j::pool] for j in range(pool)])


@functools.lru_cache(maxsize=64)
def _disk(diameter: int) -> np.ndarray:
    """A (d, d) bool disk footprint, so diagonal strokes thicken as much as straight ones."""
    radius = (diameter - 1) / 2
    yy, xx = np.mgrid[:diameter, :diameter]
    return (yy - radius) ** 2 + (xx - radius) ** 2 <= (radius + 0.5) ** 2


def _place28(fit: np.ndarray) -> np.ndarray:
    """Paste a (h, w) digit (h, w <= 20) into 28x28 with its centre of mass at (14, 14).

    The shift is clamped so the digit is never cut off. Returns (28, 28) uint8.
    """
    height, width = fit.shape
    total = float(fit.sum())
    if total > 0:
        cy = float(fit.sum(axis=1) @ np.arange(height)) / total
        cx = float(fit.sum(axis=0) @ np.arange(width)) / total
    else:
        cy, cx = (height - 1) / 2, (width - 1) / 2
    top = min(max(round(_CENTRE - cy), 0), _SIDE - height)
    left = min(max(round(_CENTRE - cx), 0), _SIDE - width)
    canvas = np.zeros((_SIDE, _SIDE), dtype=np.float32)
    canvas[top : top + height, left : left + width] = fit
    return (canvas * 255 + 0.5).astype(np.uint8)


def _empty(inverted: bool) -> Preprocessed:
    """Result for an image without a digit: all zeros, never a guess."""
    return Preprocessed(np.zeros((_SIDE, _SIDE), dtype=np.uint8), False, 0.0, None, inverted)


# --------------------------------------------------------------------------------------------
# Public entry points


def to_mnist(
    src: ImageSource, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> Preprocessed:
    """Turn an image of one handwritten digit into MNIST's 28x28 format.

    Args:
        src: Anything ``load_image`` accepts.
        max_bytes: File/bytes size limit, see ``load_image``.
        max_pixels: Pixel-count limit, see ``load_image``.

    Returns:
        The digit as white-on-black 28x28 uint8; ``found`` is False (and the image all
        zeros) when the image holds no ink beyond specks.

    Raises:
        ImageError: When the input cannot be read as an image.
    """
    ink = _extract(load_image(src, max_bytes=max_bytes, max_pixels=max_pixels))
    ids = np.flatnonzero(ink.keep)
    if ids.size == 0:
        return _empty(ink.inverted)
    box = _union_box(ink, ids)
    return _render(ink, (box, _own(ink, box, ids)))


def split_digits(
    src: ImageSource, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> list[Preprocessed]:
    """Split an image of a multi-digit number into its digits, left to right.

    Ink components that share most of their columns are one digit (a "5" whose bar came
    loose, a dot under a stroke). A piece wider than 0.9x its height is cut at its emptiest
    middle column where that is simple: the contact is at most ~1.5 strokes thick, or the
    piece is surely two digits wide (1.5x its height, or 1.5x the other digits). Touching
    pairs that fit neither (often a narrow "1" touching a neighbour) stay one piece. Each
    digit is then rendered exactly like ``to_mnist``.

    Args:
        src: Anything ``load_image`` accepts.
        max_bytes: File/bytes size limit, see ``load_image``.
        max_pixels: Pixel-count limit, see ``load_image``.

    Returns:
        One ``Preprocessed`` per digit, ordered by bbox left edge; [] for an empty image.

    Raises:
        ImageError: When the input cannot be read as an image.
    """
    ink = _extract(load_image(src, max_bytes=max_bytes, max_pixels=max_pixels))
    groups = _column_groups(ink)
    typical = _typical_width(groups)
    pieces = [p for group in groups for p in _split_wide(group, typical)]
    pieces.sort(key=lambda piece: piece[0][1])
    return [_render(ink, piece) for piece in pieces]


def _column_groups(ink: _Ink) -> list[Piece]:
    """Group kept components that overlap heavily in x; returns pieces left to right."""
    order = sorted(np.flatnonzero(ink.keep), key=lambda i: ink.boxes[i - 1][1].start)
    groups: list[list[int]] = []
    start = stop = 0  # column span of the current group
    for i in order:
        cols = ink.boxes[i - 1][1]
        overlap = min(stop, cols.stop) - max(start, cols.start)
        if groups and overlap >= _MERGE * min(stop - start, cols.stop - cols.start):
            groups[-1].append(int(i))
            stop = max(stop, cols.stop)
        else:
            groups.append([int(i)])
            start, stop = cols.start, cols.stop
    boxes = [_union_box(ink, g) for g in groups]
    return [(box, _own(ink, box, np.array(g))) for box, g in zip(boxes, groups, strict=True)]


def _typical_width(groups: list[Piece]) -> float:
    """Median width of the groups that look like one ordinary digit; 0 when there are none.

    Ordinary: aspect between 0.4 (narrower is a "1") and _WIDE (wider may be two digits).
    """
    widths = [r - le for (t, le, b, r), _ in groups if 0.4 * (b - t) <= r - le <= _WIDE * (b - t)]
    return float(np.median(widths)) if widths else 0.0


def _split_wide(piece: Piece, typical: float, depth: int = 3) -> list[Piece]:
    """Cut a piece much wider than tall at its emptiest middle column, recursively.

    Args:
        piece: (box, mask) of one ink group.
        typical: Width of an ordinary digit in this image (0 if unknown); a piece at least
            1.5x as wide is surely two digits, so its cut may cross thicker ink.
        depth: Recursion limit (a piece splits into at most 2**depth digits).
    """
    (top, left, bottom, right), own = piece
    if depth == 0 or right - left <= _WIDE * (bottom - top):
        return [piece]
    # Never one digit: 1.5x as wide as tall, or 1.5x as wide as this writer's other digits.
    sure = right - left >= 1.5 * (bottom - top) or 0 < 1.5 * typical <= right - left
    cut = _cut_column(own, sure)
    if cut is None:
        return [piece]
    pieces = []
    for a, b in ((0, cut), (cut, right - left)):
        part = _drop_fragments(own[:, a:b])
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        sub = (top + rows[0], left + a + cols[0], top + rows[-1] + 1, left + a + cols[-1] + 1)
        mask = part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        pieces += _split_wide((sub, mask), typical, depth - 1)
    return pieces


def _drop_fragments(part: np.ndarray) -> np.ndarray:
    """Remove bits of the neighbour digit that a straight cut leaves behind (< 15 % ink)."""
    labels, count = ndimage.label(part, structure=_EIGHT)
    if count < 2:
        return part
    area = np.bincount(labels.ravel())  # (count + 1,)
    area[0] = 0
    return (area >= 0.15 * area.max())[labels]


def _cut_column(own: np.ndarray, sure: bool) -> int | None:
    """Column where touching digits meet in an (h, w) mask, or None if no simple cut exists.

    The cut never crosses a hole (the loop of a "0", "6", "8" or "9": two thin strokes,
    easily the emptiest column otherwise) and prefers the middle. Unless the piece is
    ``sure`` to hold two digits, it must cross at most ~1.5 strokes. Both pieces must be at
    least half as tall as the whole (cutting the bar off a wide "7" leaves a flat sliver).
    """
    height, width = own.shape
    lo, hi = int(0.3 * width), int(0.7 * width) + 1  # both pieces stay digit-wide
    profile = own[:, lo:hi].sum(axis=0).astype(np.float64)  # (hi - lo,) ink per column
    holes = ndimage.binary_fill_holes(own) & ~own  # (h, w) enclosed paper
    profile[holes[:, lo:hi].any(axis=0)] = np.inf
    # 30 % off-centre costs 1.6x: a contact near the middle beats a thin stroke elsewhere.
    cost = profile * (1 + 2 * np.abs(np.arange(lo, hi) - width / 2) / width)
    cut = lo + int(np.argmin(cost))
    if np.isinf(profile[cut - lo]) or (not sure and profile[cut - lo] > 1.5 * _stroke_width(own)):
        return None
    for part in (own[:, :cut], own[:, cut:]):
        rows = np.flatnonzero(part.any(axis=1))
        if rows.size == 0 or rows[-1] - rows[0] + 1 < 0.5 * height:
            return None
    return cut


def normalize(image28: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Scale uint8 digits to the model's input: ((x / 255) - mean) / std as float32.

    Args:
        image28: (..., 28, 28) uint8, e.g. ``Preprocessed.image28`` or a stack of them.
        mean: Mean of the training pixels in 0..1 (from the checkpoint).
        std: Their standard deviation (from the checkpoint), > 0.

    Returns:
        float32 array of the same shape.

    Raises:
        ImageError: When the array is not (..., 28, 28) uint8.
        ValueError: When std is not positive.
    """
    pixels = np.asarray(image28)
    if pixels.ndim < 2 or pixels.shape[-2:] != (_SIDE, _SIDE) or pixels.dtype != np.uint8:
        raise _fail(
            f"expected (..., 28, 28) uint8 pixels, got {pixels.dtype} {pixels.shape}; "
            "pass Preprocessed.image28"
        )
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}")
    scale = np.float32(1 / (255 * std))
    return pixels.astype(np.float32) * scale - np.float32(mean / std)


def naive_resize(src: ImageSource) -> np.ndarray:
    """Baseline: grayscale and plainly resize the whole image to 28x28 (no crop/invert/centre).

    Used only by tests and benchmarks to show what the real path gains.

    Args:
        src: Anything ``load_image`` accepts.

    Returns:
        (28, 28) uint8.

    Raises:
        ImageError: When the input cannot be read as an image.
    """
    work = _standard_mode(load_image(src))
    if work.mode == "F":
        work = Image.fromarray((np.asarray(work) * 255 + 0.5).astype(np.uint8))
    gray = work.convert("L").resize((_SIDE, _SIDE), Image.Resampling.BILINEAR)
    return np.array(gray, dtype=np.uint8)
