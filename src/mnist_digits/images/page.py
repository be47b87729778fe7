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
blobs of enlarged small digits, marks, stars, hearts, textures and scribbles: 18 % or more; none
of 14,150 validation and generated images is read differently). It must be turned under
about 15 degrees (the upright box inside its corners, which is what is read, keeps half of
it), and its holes (what is written on it) must be at most 30 % of it (a fat "0" drawn with a
marker is far above: its one hole is its inside). A page may have no holes at all: a yellow
note on a white desk is darker than the desk in blue, so its writing is ink and so is the
note, one piece (a probe read 0 of 30 such notes before, 30 of 30 after). Such a page must
have desk all round it: blocky scans of digits, enlarged by repeating pixels, are squares of
ink reaching the edge (5 of 1,000 validation digits scanned in 4 px blocks were taken for
pages). ``ink.extract`` reads the whole photo after all when nothing is found on the page.
Images under 64 px a side (scans, thumbnails) have no desk. Pure functions on numpy arrays;
``static/frames.js`` applies the same rule.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mnist_digits.images.frames import reaches_border

__all__ = ["page_box"]

_MIN_COVER = 0.2  # a page covers >= 20 % of the image (a note 45 % of the photo's side: 20 %)
_QUAD = 0.04  # ... differs from the quadrilateral through its corners in <= 4 % of its pixels
_INNER = 0.5  # ... whose upright inner box keeps >= half of it (turned under ~15 degrees)
_HOLES = 0.3  # ... and its holes are at most 30 % of it: ink on paper, not a loop
_MARGIN = 0.03  # the page is read 3 % inside its corners: its rim is shadow and blur

Slices = tuple[slice, slice]


def page_box(
    labels: np.ndarray, keep: np.ndarray, boxes: list[Slices], factor: int
) -> tuple[int, int, int, int] | None:
    """The page to read instead of the whole photo, as a crop box in input pixels.

    Args:
        labels: (H, W) int32 connected pieces at working resolution, 0 = paper.
        keep: (n + 1,) bool, True where piece i is kept (not a speck).
        boxes: The n pieces' (rows, cols) slices, piece i at index i - 1.
        factor: Input pixels per working pixel.

    Returns:
        (left, top, right, bottom) in input pixels (PIL's crop box), or None when no kept
        piece is a page.
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
    inner = _inner_box(filled, count)
    if inner is None:
        return None
    top, left, bottom, right = inner
    dy, dx = max(1, int(_MARGIN * (bottom - top))), max(1, int(_MARGIN * (right - left)))
    return (
        (cols.start + left + dx) * factor,
        (rows.start + top + dy) * factor,
        (cols.start + right - dx) * factor,
        (rows.start + bottom - dy) * factor,
    )


def _inner_box(filled: np.ndarray, count: int) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the upright box inside a quadrilateral's corners, or None
    when the (h, w) mask of ``count`` pixels is no quadrilateral or is turned too far."""
    ys, xs = np.nonzero(filled)  # row-major, so ties go to the first pixel, as in JS
    tl, br = int(np.argmin(xs + ys)), int(np.argmax(xs + ys))
    tr, bl = int(np.argmax(xs - ys)), int(np.argmin(xs - ys))
    corners = [(int(xs[i]), int(ys[i])) for i in (tl, tr, br, bl)]  # (x, y), clockwise
    edges = zip(corners, corners[1:] + corners[:1], strict=True)
    quad = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in edges))  # shoelace
    if _mismatch(filled, corners) > _QUAD * count:
        return None
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = corners
    top, left, bottom, right = max(tly, try_), max(tlx, blx), min(bly, bry) + 1, min(trx, brx) + 1
    if bottom <= top or right <= left or (bottom - top) * (right - left) < _INNER * quad:
        return None
    return top, left, bottom, right


def _box_area(box: Slices) -> int:
    """Pixels in a (rows, cols) box."""
    return (box[0].stop - box[0].start) * (box[1].stop - box[1].start)


def _mismatch(filled: np.ndarray, corners: list[tuple[int, int]]) -> int:
    """Pixels of an (h, w) mask outside the quadrilateral through ``corners`` (x, y clockwise
    on screen) plus the quadrilateral's pixels missing from the mask: pixel centres on an
    edge are inside."""
    ys, xs = np.mgrid[0 : filled.shape[0], 0 : filled.shape[1]]  # (h, w) each
    inside = np.ones(filled.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True):
        inside &= (x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0) >= 0  # right of each edge
    return int(np.count_nonzero(inside != filled))
