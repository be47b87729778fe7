"""The page in a photo that shows what it lies on: a note on a desk, a sheet on a table.

``ink`` takes the image's border for its paper. When a photo shows the desk all round the
page, the border is the desk, the page becomes one huge piece of "ink", and the digit written on
it only a hole in that piece: a probe of 30 photographed notes on a dark desk read 0 of them.
``page_box`` finds such a page among the pieces ``ink._components`` labelled, and ``ink.extract``
reads the part of the page inside its four corners alone, as if the photo had been cropped to
it.

A page is the largest piece when it covers at least 20 % of the image and is a quadrilateral:
its pixels, holes filled, differ from the four-sided shape through its extreme points along the
diagonals in at most 4 % of them (a page square to the camera or turned up to 15 degrees, on 20
photos at each angle: 0.8-2.0 %; the 319 large pieces that got this far in 2,100 other images,
blobs of enlarged small digits, marks, stars, hearts, textures and scribbles: 18 % or more;
none of 14,150 validation and generated images is read differently). Its corners are its
extreme points along the diagonals, or along the axes when those make no match (turned near 45
degrees, its sides lie along the diagonals). Turned under about 15 degrees, the upright box
inside its corners is read; turned further, that box keeps under half of it (0 of 100 notes
turned 20-45 degrees were read), so the box round its corners is read instead, with the desk
inside that box painted the page's colour (``paint_outside``; 100 of 100 at 20, 30, 35, 40 and
45 degrees, and no other of 15,150 images read differently). Its holes (what is written on it)
must be at most 30 % of it (a fat "0" drawn with a marker is far above: its one hole is its
inside). A page may have no holes at all: a yellow note on a white desk is darker than the desk
in blue, so its writing is ink and so is the note, one piece (a probe read 0 of 30 such notes
before, 30 of 30 after). Such a page must have desk all round it: blocky scans of digits,
enlarged by repeating pixels, are squares of ink reaching the edge (5 of 1,000 validation
digits scanned in 4 px blocks were taken for pages). ``ink.extract`` reads the whole photo
after all when nothing is found on the page. Images under 64 px a side (scans, thumbnails) have
no desk. Pure functions on numpy arrays; ``static/frames.js`` applies the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_digits.images.frames import reaches_border

__all__ = ["Page", "page_box", "paint_outside"]

_MIN_COVER = 0.2  # a page covers >= 20 % of the image (a note 45 % of the photo's side: 20 %)
_QUAD = 0.04  # ... differs from the quadrilateral through its corners in <= 4 % of its pixels
_INNER = 0.5  # ... whose upright inner box keeps >= half of it (turned under ~15 degrees)
_HOLES = 0.3  # ... and its holes are at most 30 % of it: ink on paper, not a loop
_MARGIN = 0.03  # the page is read 3 % inside its corners: its rim is shadow and blur

Slices = tuple[slice, slice]


@dataclass(frozen=True)
class Page:
    """Where to read a photo's page.

    Attributes:
        box: (left, top, right, bottom) in input pixels (PIL's crop box).
        corners: For a page turned over ~15 degrees, its four corners (x, y), clockwise, in
            pixels of ``box``: what lies outside them is desk, to be painted over
            (``paint_outside``). None for an upright page, read as ``box`` alone.
    """

    box: tuple[int, int, int, int]
    corners: tuple[tuple[float, float], ...] | None


def page_box(labels: np.ndarray, keep: np.ndarray, boxes: list[Slices], factor: int) -> Page | None:
    """The page to read instead of the whole photo, in input pixels.

    Args:
        labels: (H, W) int32 connected pieces at working resolution, 0 = paper.
        keep: (n + 1,) bool, True where piece i is kept (not a speck).
        boxes: The n pieces' (rows, cols) slices, piece i at index i - 1.
        factor: Input pixels per working pixel.

    Returns:
        The page, or None when no kept piece is a page.
    """
    ids = np.flatnonzero(keep)
    cover = _MIN_COVER * labels.size
    if not any(_box_area(boxes[i - 1]) >= cover for i in ids):
        return None  # the usual case, decided without a pass over the labels
    area = np.bincount(labels.ravel(), minlength=keep.size)  # (n + 1,)
    page = int(ids[np.argmax(area[ids])])
    if area[page] < cover:
        return None
    rows, cols = boxes[page - 1]
    filled = ndimage.binary_fill_holes(labels[rows, cols] == page)  # (h, w), 4-connected as JS
    count = int(np.count_nonzero(filled))
    holes = count - int(area[page])
    if holes > _HOLES * count:
        return None
    if holes == 0 and reaches_border(boxes[page - 1], *labels.shape):
        return None  # unwritten or written in the same ink: only a note with desk all round
    corners = _corners(filled, count)
    if corners is None:
        return None
    left, top = cols.start, rows.start
    inner = _inner_box(corners)
    if inner is None:  # turned over ~15 degrees: the corners' box, the desk in it painted over
        return _turned(corners, left, top, factor)
    box_top, box_left, bottom, right = inner
    dy, dx = max(1, int(_MARGIN * (bottom - box_top))), max(1, int(_MARGIN * (right - box_left)))
    box = (
        (left + box_left + dx) * factor,
        (top + box_top + dy) * factor,
        (left + right - dx) * factor,
        (top + bottom - dy) * factor,
    )
    return Page(box, None)


def _corners(filled: np.ndarray, count: int) -> list[tuple[int, int]] | None:
    """The (x, y) corners, clockwise, of an (h, w) mask of ``count`` pixels that is a
    quadrilateral, or None when it is not one.

    The corners are its extreme points along the diagonals or, when those make no match (a
    page turned near 45 degrees has its sides along the diagonals), along the axes.
    """
    ys, xs = np.nonzero(filled)  # row-major, so ties go to the first pixel, as in JS
    diagonal = (np.argmin(xs + ys), np.argmax(xs - ys), np.argmax(xs + ys), np.argmin(xs - ys))
    axes = (np.argmin(ys), np.argmax(xs), np.argmax(ys), np.argmin(xs))  # top, right, ...
    for picks in (diagonal, axes):
        corners = [(int(xs[i]), int(ys[i])) for i in picks]  # (x, y), clockwise
        if _mismatch(filled, corners) <= _QUAD * count:
            return corners
    return None


def _inner_box(corners: list[tuple[int, int]]) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the upright box inside a quadrilateral's corners, or None
    when it keeps under half of the quadrilateral (turned over ~15 degrees)."""
    edges = zip(corners, corners[1:] + corners[:1], strict=True)
    quad = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in edges))  # shoelace
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = corners
    top, left, bottom, right = max(tly, try_), max(tlx, blx), min(bly, bry) + 1, min(trx, brx) + 1
    if bottom <= top or right <= left or (bottom - top) * (right - left) < _INNER * quad:
        return None
    return top, left, bottom, right


def _turned(corners: list[tuple[int, int]], left: int, top: int, factor: int) -> Page:
    """A turned page: the box round its corners and the corners inside it, in input pixels,
    each pulled ``2 * _MARGIN`` of the way to the centre (its rim is shadow and blur)."""
    cx = sum(x for x, _ in corners) / 4
    cy = sum(y for _, y in corners) / 4
    pulled = [(x + 2 * _MARGIN * (cx - x), y + 2 * _MARGIN * (cy - y)) for x, y in corners]
    xs = [(left + x) * factor for x, _ in pulled]
    ys = [(top + y) * factor for _, y in pulled]
    box = (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys)))
    inside = tuple((x - box[0], y - box[1]) for x, y in zip(xs, ys, strict=True))
    return Page(box, inside)


def paint_outside(img: Image.Image, corners: tuple[tuple[float, float], ...]) -> Image.Image:
    """``img`` (a turned page's box, in a standard mode) with every pixel outside ``corners``
    set to the page's paper: the per-channel median of every 4th row and column inside,
    nearest rank."""
    pixels = np.asarray(img)  # (h, w) or (h, w, c)
    inside = _inside(pixels.shape[:2], corners, 0.5)  # pixel centres
    sample = pixels[::4, ::4][inside[::4, ::4]]  # (n,) or (n, c)
    if sample.shape[0] == 0:
        return img
    order = np.sort(sample, axis=0)
    painted = pixels.copy()
    painted[~inside] = order[sample.shape[0] // 2]
    return Image.fromarray(painted)


def _box_area(box: Slices) -> int:
    """Pixels in a (rows, cols) box."""
    return (box[0].stop - box[0].start) * (box[1].stop - box[1].start)


def _mismatch(filled: np.ndarray, corners: list[tuple[int, int]]) -> int:
    """Pixels of an (h, w) mask outside the quadrilateral through ``corners`` (x, y clockwise
    on screen) plus the quadrilateral's pixels missing from the mask: pixel centres on an
    edge are inside."""
    return int(np.count_nonzero(_inside(filled.shape, corners, 0) != filled))


def _inside(
    shape: tuple[int, ...], corners: Sequence[tuple[float, float]], at: float
) -> np.ndarray:
    """(h, w) bool: the points (x + at, y + at) of an (h, w) grid on or right of every edge of
    the clockwise ``corners``, that is inside their quadrilateral."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] + at  # (h, w) each
    inside = np.ones(shape[:2], dtype=bool)
    for (x0, y0), (x1, y1) in zip(corners, [*corners[1:], corners[0]], strict=True):
        inside &= (x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0) >= 0  # right of each edge
    return inside
