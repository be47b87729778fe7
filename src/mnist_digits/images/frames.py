"""Ink that frames a digit rather than forming it: a box drawn round it, the edge of the page.

``ink.extract`` labels every connected piece of ink. Two kinds of piece are there in people's
photos and scans that no digit is made of, and each one made the whole image unreadable
(a probe of 30 photographed digits each, 2026-12-04: a box drawn round the digit 0 of 30 read,
the dark table beside the page 3 of 30; both 30 of 30 once these rules drop them):

- a **box**: a piece whose enclosed paper fills at least 80 % of its bounding box and holds
  other kept ink at least 40 % of its size (a box drawn round a digit, the cells of a form,
  skewed by up to ~6 degrees). A loop never passes: an ellipse fills at most pi/4 = 78.5 % of
  its box, so a "0" with a dot or bar inside stays a "0", and a circled digit or a smiley's
  face stays whole (the face's eyes alone would be no digit either);
- a **page edge**: a piece that touches the image's border and runs along at least 95 % of it
  (the edge of the paper against a table, a fold, a ruled line), at least 1.3x as long as any
  other kept piece, with other ink standing clear of it by at least 5 % of the image (2 %
  above or below an edge that runs across). A digit's own stroke reaching the border (a tight
  crop, a "1" drawn from edge to edge) stays: its other pieces touch it, lie inside its span
  or reach the border too. Images under 128 px a side are not photos of a table;
- **desk**: a piece that holds one of the image's corners and lies on its border for at least
  5 % of its shorter side, in a photo of 128 px or more with other kept ink clear of the
  border: the desk past the corners of a page turned in the photo (a probe of 30 photos of a
  page turned 10-30 degrees, larger than the photo, read none before this rule). A stroke
  that leaves the photo crosses the border in its pen's width, and not at a corner; in a
  tight crop all the ink reaches the border, so none is clear of it. A piece along a side
  without a corner stays: the first "1" of a strip of bars, or of a number cropped at its
  left, lies on the border as a wedge of desk does (a rule that dropped pieces on the border
  for 25 % of the shorter side took it), so a page whose own corner hides the photo's keeps
  that desk (8 of 100 such photos at 25 degrees unread).

Pure functions on the arrays of ``ink._components``; ``static/frames.js`` applies the same rules.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["drop_frames", "reaches_border"]

_FRAME_SHARE = 0.4  # enclosed ink spans >= 40 % of the frame's extent (a digit in a box: ~60 %)
_BOX_FILL = 0.8  # enclosed paper fills >= 80 % of the frame's box (a square 6 degrees off: 81 %)
_EDGE_MIN_SIDE = 128  # only photos show a table: tight 8 px scans enlarged to 64 px by repeating
# pixels break into pieces, one stroke running edge to edge (10 of 1,000 validation digits lost
# it; enlarged to 128 px, 12 lose it and as many are read right, 43.7 %; from 16 px, 3 do and
# 88.3 % are read right against 88.4 %)
_EDGE_SPAN = 0.95  # a page edge runs along >= 95 % of the image's height or width
_EDGE_LONGER = 1.3  # ... is >= 1.3x as long as any other kept piece (a "1" in "151": ~1.0x)
_EDGE_GAP = 0.05  # ... and other ink stands >= 5 % of the image's shorter side beside it,
_EDGE_GAP_ACROSS = 0.02  # or >= 2 % above or below an edge that runs across: a table along the
# bottom of a photo left its edge 5-14 px under the digit of 320 px photos (9 of 60 unread at
# 5 %), and no digit has a bar across the whole image 1.3x longer than the rest of it
_DESK_CONTACT = 0.05  # desk in a corner lies on the border for >= 5 % of the shorter side (at
# 10 degrees, 5 x 27 px of it shows in a 320 px photo)

Slices = tuple[slice, slice]


def drop_frames(labels: np.ndarray, keep: np.ndarray, boxes: list[Slices]) -> np.ndarray:
    """Unmark the kept pieces that frame the ink rather than form it (see the module).

    Args:
        labels: (H, W) int32 connected ink pieces, 0 = paper.
        keep: (n + 1,) bool, True where piece i is kept (not a speck).
        boxes: The n pieces' (rows, cols) slices, piece i at index i - 1.

    Returns:
        A copy of ``keep`` with frames and page edges unmarked; unchanged with under 2 kept.
    """
    ids = [int(i) for i in np.flatnonzero(keep)]
    if len(ids) < 2:
        return keep
    out = keep.copy()
    contact = _border_contact(labels, keep.size)
    for i in ids:
        others = [j for j in ids if j != i]
        if (
            _is_frame(labels, boxes, i, others)
            or _is_edge(labels.shape, boxes, i, others)
            or _is_desk(labels.shape, boxes, i, others, int(contact[i]))
        ):
            out[i] = False
    return out if out.any() else keep


def _border_contact(labels: np.ndarray, size: int) -> np.ndarray:
    """(size,) pixels on the image's outermost ring (each corner counted once) of each piece
    that holds one of the image's four corner pixels; 0 for every other piece."""
    ring = np.concatenate([labels[0], labels[-1], labels[1:-1, 0], labels[1:-1, -1]])
    contact = np.bincount(ring.ravel(), minlength=size)
    corners = np.zeros(size, dtype=bool)
    corners[[labels[0, 0], labels[0, -1], labels[-1, 0], labels[-1, -1]]] = True
    return np.where(corners, contact, 0)


def _is_desk(
    shape: tuple[int, ...], boxes: list[Slices], i: int, others: list[int], contact: int
) -> bool:
    """True when piece i holds a corner of the image and lies on its border for >= 5 % of its
    shorter side (``contact``), in a photo (>= 128 px) where other kept ink stands clear of
    the border: the desk past a turned page's corners."""
    height, width = shape
    if max(height, width) < _EDGE_MIN_SIDE or contact < _DESK_CONTACT * min(height, width):
        return False
    return any(not reaches_border(boxes[j - 1], height, width) for j in others)


def _extent(box: Slices) -> int:
    """The longer side of a (rows, cols) box."""
    return max(box[0].stop - box[0].start, box[1].stop - box[1].start)


def _inside(inner: Slices, outer: Slices) -> bool:
    """True when box ``inner`` lies within box ``outer``."""
    return all(o.start <= s.start and s.stop <= o.stop for s, o in zip(inner, outer, strict=True))


def _is_frame(labels: np.ndarray, boxes: list[Slices], i: int, others: list[int]) -> bool:
    """True when piece i is a box enclosing other kept ink spanning >= 40 % of its extent."""
    box = boxes[i - 1]
    within = [j for j in others if _inside(boxes[j - 1], box)]
    if not within:
        return False
    own = labels[box] == i  # (h, w)
    holes = ndimage.binary_fill_holes(own) & ~own  # enclosed paper (4-connected, as JS)
    if np.count_nonzero(holes) < _BOX_FILL * own.size:
        return False
    top, left = box[0].start, box[1].start
    held = []
    for j in within:
        rows, cols = boxes[j - 1]
        r, c = np.argwhere(labels[rows, cols] == j)[0]  # one pixel: pieces never touch
        if holes[rows.start + r - top, cols.start + c - left]:
            held.append(boxes[j - 1])
    if not held:
        return False
    span = max(max(b[0].stop for b in held) - min(b[0].start for b in held),
               max(b[1].stop for b in held) - min(b[1].start for b in held))  # fmt: skip
    return span >= _FRAME_SHARE * _extent(box)


def _is_edge(shape: tuple[int, ...], boxes: list[Slices], i: int, others: list[int]) -> bool:
    """True when piece i runs along the image's border, well clear of other kept ink."""
    height, width = shape
    rows, cols = boxes[i - 1]
    if max(height, width) < _EDGE_MIN_SIDE:
        return False
    if _EDGE_LONGER * max(_extent(boxes[j - 1]) for j in others) > _extent(boxes[i - 1]):
        return False
    if not reaches_border(boxes[i - 1], height, width):
        return False
    gap, across = _EDGE_GAP * min(height, width), _EDGE_GAP_ACROSS * min(height, width)
    clear = [boxes[j - 1] for j in others if not reaches_border(boxes[j - 1], height, width)]
    tall = rows.stop - rows.start >= _EDGE_SPAN * height  # runs down the image: ink beside it
    if tall and any(c.start >= cols.stop + gap or c.stop + gap <= cols.start for _, c in clear):
        return True
    wide = cols.stop - cols.start >= _EDGE_SPAN * width  # runs across: ink above or below it
    return wide and any(
        r.start >= rows.stop + across or r.stop + across <= rows.start for r, _ in clear
    )


def reaches_border(box: Slices, height: int, width: int) -> bool:
    """True when a box reaches the image's border."""
    rows, cols = box
    return rows.start == 0 or cols.start == 0 or rows.stop == height or cols.stop == width
