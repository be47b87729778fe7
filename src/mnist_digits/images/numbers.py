"""Splitting an image of a written number into its digits, each rendered like ``to_mnist``."""

from __future__ import annotations

import numpy as np

from mnist_digits.core.errors import ImageError
from mnist_digits.core.limits import MAX_BYTES, MAX_PIXELS
from mnist_digits.images.decode import ImageSource, load_image
from mnist_digits.images.ink import Ink, Piece, component_mask, extract, union_box
from mnist_digits.images.render import Preprocessed, render_piece, stroke_width
from mnist_digits.images.segments import drop_fragments, hole_columns

__all__ = ["MAX_DIGITS", "number_groups", "split_digits", "split_group"]

_WIDE = 0.9  # single handwritten digits are rarely wider than 0.9x their height; two
# touching ones are >= 1x (the cut itself is checked in _cut_column)
_MERGE = 0.5  # components sharing >= 50 % of the narrower one's columns are one digit
# Longer than any number people write (an IBAN has up to 34 characters, 30 of them digits); a
# 114-byte PNG of stripes once split into 256 "digits" and a 1 MB answer.
MAX_DIGITS = 32


def split_digits(
    src: ImageSource, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> list[Preprocessed]:
    """Split an image of a multi-digit number into its digits, left to right.

    Ink components that share most of their columns are one digit (a "5" whose bar came
    loose, a dot under a stroke). A piece wider than 0.9x its height is cut at its emptiest
    middle column where that is simple: the contact is at most ~1.5 strokes thick, or the
    piece is surely two digits wide (1.5x its height, or 1.5x the other digits). Touching
    pairs that fit neither (often a narrow "1" touching a neighbour) stay one piece. Each
    digit is then rendered exactly like ``render.to_mnist``.

    Args:
        src: Anything ``decode.load_image`` accepts.
        max_bytes: File/bytes size limit, see ``decode.load_image``.
        max_pixels: Pixel-count limit, see ``decode.load_image``.

    Returns:
        One ``Preprocessed`` per digit, ordered by bbox left edge; [] for an empty image.

    Raises:
        ImageError: When the input cannot be read as an image, or it holds more than
            ``MAX_DIGITS`` digits.
    """
    ink, groups, typical = number_groups(src, max_bytes=max_bytes, max_pixels=max_pixels)
    pieces = _check_count([p for group in groups for p in _split_wide(group, typical)])
    pieces.sort(key=lambda piece: piece[0][1])
    return [render_piece(ink, piece) for piece in pieces]


def number_groups(
    src: ImageSource, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> tuple[Ink, list[Piece], float]:
    """The ink of a written number and its groups of overlapping components, left to right.

    Args:
        src: Anything ``decode.load_image`` accepts.
        max_bytes: File/bytes size limit, see ``decode.load_image``.
        max_pixels: Pixel-count limit, see ``decode.load_image``.

    Returns:
        The ink, the groups (each one digit or several touching ones) and the typical width
        of an ordinary digit in working pixels (0 when no group looks like one).

    Raises:
        ImageError: When the input cannot be read, or it has more than ``MAX_DIGITS`` groups.
    """
    ink = extract(load_image(src, max_bytes=max_bytes, max_pixels=max_pixels))
    groups = _check_count(_column_groups(ink))  # before any cut: each may double a piece
    return ink, groups, _typical_width(groups)


def split_group(piece: Piece, typical: float) -> list[Piece]:
    """Cut one group the way ``split_digits`` does (at simple contacts only), left to right."""
    return sorted(_split_wide(piece, typical), key=lambda part: part[0][1])


def _check_count(pieces: list[Piece]) -> list[Piece]:
    """Refuse an image of more than ``MAX_DIGITS`` pieces before rendering any of them."""
    if len(pieces) > MAX_DIGITS:
        raise ImageError(
            f"the image splits into {len(pieces)} pieces, more than the {MAX_DIGITS} digits "
            "a number may have; send one number per image, written with separate digits"
        )
    return pieces


def _column_groups(ink: Ink) -> list[Piece]:
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
    boxes = [union_box(ink, g) for g in groups]
    return [
        (box, component_mask(ink, box, np.array(g))) for box, g in zip(boxes, groups, strict=True)
    ]


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
        part = drop_fragments(own[:, a:b])
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        sub = (top + rows[0], left + a + cols[0], top + rows[-1] + 1, left + a + cols[-1] + 1)
        mask = part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        pieces += _split_wide((sub, mask), typical, depth - 1)
    return pieces


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
    profile[hole_columns(own)[lo:hi]] = np.inf
    # 30 % off-centre costs 1.6x: a contact near the middle beats a thin stroke elsewhere.
    cost = profile * (1 + 2 * np.abs(np.arange(lo, hi) - width / 2) / width)
    cut = lo + int(np.argmin(cost))
    if np.isinf(profile[cut - lo]) or (not sure and profile[cut - lo] > 1.5 * stroke_width(own)):
        return None
    for part in (own[:, :cut], own[:, cut:]):
        rows = np.flatnonzero(part.any(axis=1))
        if rows.size == 0 or rows[-1] - rows[0] + 1 < 0.5 * height:
            return None
    return cut
