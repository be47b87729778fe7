"""Photographed digits with more in the picture than paper: a box drawn round the digit, the
table beside the page, the desk all round a note or in the corners past a turned page, the
lines of ruled and squared paper.

Each made a whole image unreadable before ``images.frames``, ``images.page`` and
``images.lines``; the tests read
them through ``predict`` and in the browser. Deterministic per seed, 320 px photos (blur,
noise, JPEG).
"""

from __future__ import annotations

import io
import math

import imagegen
import numpy as np
from PIL import Image, ImageFilter

_SIDE = 320
_PAPER = np.array([238.0, 236.0, 226.0])
_INK = np.array([30.0, 30.0, 90.0])
_TABLE = np.array([62.0, 44.0, 34.0])  # a dark wooden table beside the page


def _digit(digit: int, rng: np.random.Generator, height: float) -> np.ndarray:
    """Coverage (320, 320) 0..1 of a pen-drawn digit near the middle."""
    centre = (_SIDE / 2 + float(rng.uniform(-12, 12)), _SIDE / 2 + float(rng.uniform(-12, 12)))
    big = imagegen.draw_digit(
        digit, size=(_SIDE, _SIDE), pen=float(rng.uniform(0.06, 0.11)) * height, height=height,
        centre=centre, angle=float(rng.uniform(-8, 8)), aspect=float(rng.uniform(0.5, 0.7)),
    )  # fmt: skip
    return imagegen._finish(big)


def _photo(pixels: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """(H, W, 3) 0..255 through a slight blur, noise and a JPEG round trip."""
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.8)
    )
    noisy = np.asarray(img, dtype=np.float64) + rng.normal(0, 4, pixels.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=75)
    return Image.open(io.BytesIO(buf.getvalue()))


def boxed_digit(digit: int, seed: int) -> Image.Image:
    """A digit written inside a box drawn 24 px in from the photo's edges (a form's cell)."""
    rng = np.random.default_rng(seed)
    cov = _digit(digit, rng, float(rng.uniform(0.45, 0.6)) * _SIDE)
    pen, lo, hi = 5, 24, _SIDE - 24
    for sl in (
        (slice(lo, lo + pen), slice(lo, hi)),
        (slice(hi - pen, hi), slice(lo, hi)),
        (slice(lo, hi), slice(lo, lo + pen)),
        (slice(lo, hi), slice(hi - pen, hi)),
    ):
        cov[sl] = 1.0  # fmt: skip
    return _photo(_PAPER * (1 - cov[..., None]) + _INK * cov[..., None], rng)


def page_edge_digit(digit: int, seed: int, side: str = "left") -> Image.Image:
    """A digit on a page photographed with 10 % of the table showing at one side.

    Args:
        digit: 0-9.
        seed: RNG seed.
        side: "left", or "bottom" (an 8th of the image: the paper's light map then bends
            along the table and most of these are still not read; see images.frames).
    """
    rng = np.random.default_rng(seed)
    cov = _digit(digit, rng, float(rng.uniform(0.45, 0.65)) * _SIDE)
    pixels = _PAPER * (1 - cov[..., None]) + _INK * cov[..., None]
    if side == "left":
        pixels[:, : _SIDE // 10] = _TABLE
    else:
        pixels[-_SIDE // 8 :] = _TABLE
    return _photo(pixels, rng)


def note_on_desk(
    digit: int, seed: int, *, desk: float = 60.0, angle: float = 0.0, yellow: bool = False
) -> Image.Image:
    """A note 60-80 % of the photo's side on a desk that shows all round it.

    Args:
        digit: 0-9.
        seed: RNG seed.
        desk: The desk's grey level (darker than the note: the note looks like light ink).
        angle: The note turned this many degrees.
        yellow: A yellow note (250, 235, 110): on a light desk it is darker in blue, so its
            writing and the note are one piece of ink.
    """
    rng = np.random.default_rng(seed)
    # Turned, a note's corners reach (cos + sin) x its side across: kept within 95 % of the
    # photo, so the desk still shows all round it.
    turn = abs(math.radians(angle))
    fit = 0.95 * _SIDE / (math.cos(turn) + math.sin(turn))
    side = int(min(rng.uniform(0.6, 0.8) * _SIDE, fit))
    cov = _digit(digit, rng, float(rng.uniform(0.45, 0.6)) * side)
    paper = np.array([250.0, 235.0, 110.0]) if yellow else _PAPER
    note = paper * (1 - cov[..., None]) + _INK * cov[..., None]  # (320, 320, 3)
    lo = (_SIDE - side) // 2
    shape = Image.new("L", (_SIDE, _SIDE), 0)
    shape.paste(255, (lo, lo, lo + side, lo + side))
    where = np.asarray(shape.rotate(angle, Image.Resampling.BILINEAR), dtype=np.float64) / 255
    pixels = np.full_like(note, desk) * (1 - where[..., None]) + note * where[..., None]
    return _photo(pixels, rng)


def turned_page_digit(digit: int, seed: int, *, angle: float = 15.0) -> Image.Image:
    """A digit on a page larger than the photo, turned ``angle`` degrees: the desk shows as
    triangles in the photo's corners (a phone held over a sheet, not quite square to it)."""
    rng = np.random.default_rng(seed)
    cov = _digit(digit, rng, float(rng.uniform(0.35, 0.5)) * _SIDE)
    note = _PAPER * (1 - cov[..., None]) + _INK * cov[..., None]  # (320, 320, 3)
    side = int(rng.uniform(1.05, 1.2) * _SIDE)
    lo = (3 * _SIDE - side) // 2
    shape = Image.new("L", (3 * _SIDE, 3 * _SIDE), 0)
    shape.paste(255, (lo, lo, lo + side, lo + side))
    turned = shape.rotate(angle, Image.Resampling.BILINEAR)
    where = np.asarray(turned, dtype=np.float64)[_SIDE : 2 * _SIDE, _SIDE : 2 * _SIDE] / 255
    pixels = np.full_like(note, 60.0) * (1 - where[..., None]) + note * where[..., None]
    return _photo(pixels, rng)


def ruled_digit(digit: int, seed: int, *, squared: bool = False) -> Image.Image:
    """A digit on notebook paper: lines 2 px thick every 30-36 px, the digit across them.

    Args:
        digit: 0-9.
        seed: RNG seed.
        squared: Squared paper instead: grey lines both ways every 24-30 px.
    """
    rng = np.random.default_rng(seed)
    cov = _digit(digit, rng, float(rng.uniform(0.45, 0.65)) * _SIDE)
    pixels = np.broadcast_to(_PAPER, (*cov.shape, 3)).copy()
    step, start = (
        int(rng.integers(24, 31) if squared else rng.integers(30, 37)),
        int(rng.integers(4, 20)),
    )
    line = np.array([120.0, 120.0, 140.0] if squared else [110.0, 140.0, 210.0])
    for at in range(start, _SIDE, step):
        pixels[at : at + 2] = line
        if squared:
            pixels[:, at : at + 2] = line
    pixels = pixels * (1 - cov[..., None]) + _INK * cov[..., None]
    return _photo(pixels, rng)
