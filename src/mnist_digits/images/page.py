"""The page in a photo that shows what it lies on: a note on a desk, a sheet on a table.

``ink`` takes the image's border for its paper. When a photo shows the desk all round the
page, the border is the desk, the page becomes one huge piece of "ink", and the digit written on
it only a hole in that piece: a probe of 30 photographed notes on a dark desk read 0 of them.
``page_box`` finds such a page among the pieces ``ink._components`` labelled, and ``ink.extract``
reads the page alone, as if the photo had been cropped to it.

A page is the largest piece when it covers at least 20 % of the image, fills at least 92 % of
its bounding box with its enclosed paper counted (a rectangle square to the camera, skewed by
under ~2.5 degrees: a page turned further is not found, and is read as before; an ellipse fills
at most pi/4 = 78.5 %, and the blurred blobs of enlarged small digits 80-84 %), and holds
something written: its holes are 0.2-30 % of it (a fat "0" drawn with a marker is far above:
its one hole is its inside). Images under 64 px a side (scans, thumbnails) have no desk.
Pure functions on numpy arrays; ``static/ink.js`` applies the same rule.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["page_box"]

_MIN_COVER = 0.2  # a page covers >= 20 % of the image (a note 45 % of the photo's side: 20 %)
_FILL = 0.92  # ... fills >= 92 % of its box, holes included: a page square to the camera fills
# ~100 %; blurred blobs of digits (MNIST's enlarged from 8-20 px, printed bold) reached 84 %
_WRITTEN = (0.002, 0.3)  # ... and its holes are 0.2-30 % of it: ink on paper, not a loop
_MARGIN = 0.05  # read 5 % inside its box: a page turned 2.5 degrees has its corners within 4.4 %

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
    own = labels[rows, cols] == page  # (h, w)
    filled = int(np.count_nonzero(ndimage.binary_fill_holes(own)))  # 4-connected, as JS
    holes = filled - int(area[page])
    if filled < _FILL * own.size or not _WRITTEN[0] * filled <= holes <= _WRITTEN[1] * filled:
        return None
    dy = max(1, int(_MARGIN * own.shape[0]))  # int, not round: JS has no round-half-even
    dx = max(1, int(_MARGIN * own.shape[1]))
    return (
        (cols.start + dx) * factor,
        (rows.start + dy) * factor,
        (cols.stop - dx) * factor,
        (rows.stop - dy) * factor,
    )


def _box_area(box: Slices) -> int:
    """Pixels in a (rows, cols) box."""
    return (box[0].stop - box[0].start) * (box[1].stop - box[1].start)
