"""Candidate segmentations of a group of touching digits, for recognition-based splitting.

A group of touching digits is one ink blob. ``candidate_cuts`` proposes the columns where it
might be cut (local minima of its column ink profile, never through the middle of a hole);
``segment_candidates`` renders every stretch between two of them exactly as
``render.render_piece`` renders a digit; the caller scores them with a model (this layer has
none) and ``best_segmentation`` picks, by dynamic programming, the cuts whose segments the
model believes most (``segment_score``: the calibrated top probability, a per-digit penalty and
a width prior). ``join_candidates`` offers the opposite: neighbouring groups that may be one
digit whose strokes came apart, scored the same way. Pure functions on numpy arrays.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from mnist_digits.images.ink import EIGHT, Ink, Piece
from mnist_digits.images.render import Preprocessed, render_piece

__all__ = [
    "JoinRule",
    "Segment",
    "SegmentPrior",
    "best_segmentation",
    "candidate_cuts",
    "drop_fragments",
    "even_cuts",
    "hole_columns",
    "join_candidates",
    "joined_piece",
    "may_hold_two",
    "prior_for_group",
    "segment_candidates",
    "segment_score",
]

MAX_CUTS = 12  # candidate cuts per group: <= 91 segments to render and score
_MIN_PIECE = 0.08  # no cut leaves a stretch narrower than 8 % of the height (a thin "1" is ~10 %)
_FRINGE = 0.25  # candidate cuts may cross the outer quarter of a loop (see hole_columns)
_MAX_SEGMENT = 1.5  # a stretch wider than 1.5x the group's height is never one digit
# even_cuts' narrowest digit: 0.45x the height. On seeds 0-199 of benchmarks/numbers_bench.py,
# touching / mixed / MNIST digits touching exactly right went 66.0 / 85.0 / 47.5 % (no even
# cuts) -> 72.0 / 87.5 / 58.0 % at 0.45 and 73.0 / 88.5 / 55.0 % at 0.55.
_EVEN_WIDTH = 0.45
# At most 8 even parts: a flat dash (the bar of a small "5", 8 px tall and 60 wide) would
# otherwise be cut in 16 and read as 45 digits, more than a number may have.
_EVEN_PARTS = 8
_TWO_HEIGHT = 0.9  # see may_hold_two


@dataclass(frozen=True)
class Segment:
    """One stretch of a group between two candidate cuts, rendered for the model.

    Attributes:
        start: Index of its left cut in the group's boundary list.
        stop: Index of its right cut (> start).
        width: Its ink width over the group's height.
        height: Its ink height over the group's height (a cut-off bar of a "7" is flat).
        image: The stretch rendered as ``render.render_piece`` renders a digit.
    """

    start: int
    stop: int
    width: float
    height: float
    image: Preprocessed


@dataclass(frozen=True)
class SegmentPrior:
    """How much a segmentation's score trusts each segment (log units, summed per segment).

    Chosen on seeds 0-119 of ``benchmarks/numbers_bench.py``, touching / mixed numbers
    exactly right. Without cuts through loops' fringes: digit penalty 0.25 gave 18.3 / 50.0 %,
    0.1 23.3 / 56.7 %, 0.0 and -0.1 55.0 / 71.7 %. With ``_FRINGE`` 0.25: 0.0 gave 60.8 / 81.7 %,
    0.05 29.2 / 64.2 %. The sliver rule then gave 60.8 / 82.5 %, ``wide`` 0.9 (was 1.1) 62.5 /
    84.2 % (with ``predict._KEEP_WIDTH`` 0.6); cut paths that bend round overlaps (reach 7 or
    15 % of the height) lost, 61.7 / 81.7 and 58.3 / 77.5 %, so cuts stay straight. Smoothing
    the profile over 1/40 of the height (was 1/20; 1/80 gave 60.8 / 90.0 %) gave 64.2 / 88.3 %,
    and 12 candidate cuts (was 10; 14 the same) 68.3 / 88.3 %, but a "6" written apart read
    "15" (seed 171); ``flat`` 0.75 (was 0.5) gave 70.0 / 90.0 % and every number written apart
    of seeds 0-199 right. Reported
    on seeds 1000-1199 (README "Reading people's images").

    Attributes:
        digit_penalty: Subtracted per digit (0: a confident merged reading of two digits
            already costs little, so any penalty kept touching pairs together).
        narrow: Below this width/height a segment is unlikely, unless it reads "1".
        wide: Above this width/height a segment is unlikely (two digits side by side).
        off_prior: Subtracted from a segment outside the width prior, per 0.1 of excess.
        flat: Below this share of the group's height a segment is never a digit (a cut-off
            bar, a loop's edge): one writer's digits differ in height by less.
        sliver: Below this width share a segment is a sliver too (the thinnest "1" is a
            6 % pen): two columns of a loop's edge read "1" at 99.9 %.
        sure: A segment read with at least this probability may be wide: a wide "0" or "4"
            read as one digit at 1.0 lost to "10" or "61" under the width prior.
        typical_wide: A segment is wide only beyond this many times the writer's ordinary
            digit, where the number shows one (``numbers.number_groups``' typical width).
            Numbers of MNIST validation digits written apart are wider than ``wide``: a "7"
            1.3x as wide as tall, read at 0.999, was cut into "?7". On seeds 0-199 of
            ``benchmarks/numbers_bench.py`` 1.3 gave 88.5 % of those exactly right, 1.6 and
            2.0 90.5 % (without: 86.5 %); at 1.6 every other kind stayed as it was.
    """

    digit_penalty: float = 0.0
    narrow: float = 0.2
    wide: float = 0.9
    off_prior: float = 1.0
    flat: float = 0.75
    sliver: float = 0.06
    sure: float = 0.999
    typical_wide: float = 1.6


def prior_for_group(prior: SegmentPrior, typical: float, height: int) -> SegmentPrior:
    """``prior`` for one group ``height`` px tall, its ``wide`` raised for a wide writer.

    Args:
        prior: The penalties.
        typical: Width of an ordinary digit in this image in px (0 when unknown).
        height: The group's height in px.
    """
    wide = max(prior.wide, prior.typical_wide * typical / max(height, 1))
    return replace(prior, wide=wide)


def hole_columns(own: np.ndarray, fringe: float = 0.0) -> np.ndarray:
    """(w,) bool: columns of an (h, w) ink mask that cross enclosed paper (a loop's inside).

    A cut there would split the loop of a "0", "6", "8" or "9" into two thin strokes.

    Args:
        own: (h, w) bool ink mask.
        fringe: Share of each hole's column span, on either side, left open: touching digits
            overlap, so a "1" or a neighbour's stroke may stand over the edge of a loop.
    """
    holes, count = ndimage.label(ndimage.binary_fill_holes(own) & ~own)  # enclosed paper
    blocked = np.zeros(own.shape[1], dtype=bool)
    for _, cols in ndimage.find_objects(holes)[:count]:
        trim = int(fringe * (cols.stop - cols.start))
        blocked[cols.start + trim : cols.stop - trim] = True
    return blocked


def drop_fragments(part: np.ndarray) -> np.ndarray:
    """Remove bits of the neighbour digit that a straight cut leaves behind (< 15 % ink)."""
    labels, count = ndimage.label(part, structure=EIGHT)
    if count < 2:
        return part
    area = np.bincount(labels.ravel())  # (count + 1,)
    area[0] = 0
    return np.asarray((area >= 0.15 * area.max())[labels])


def candidate_cuts(own: np.ndarray, limit: int = MAX_CUTS, *, even: bool = False) -> list[int]:
    """Columns where an (h, w) group mask may be cut into digits, left to right.

    Candidates are local minima of the column ink profile (smoothed over ~1/40 of the height,
    so pen wobble is not a minimum), outside the middle half of holes, leaving >= 8 % of the
    height on each side; the ``limit`` emptiest are kept. With ``even``, the columns of
    ``even_cuts`` join them.
    """
    height, width = own.shape
    profile = ndimage.uniform_filter1d(own.sum(axis=0).astype(np.float64), max(1, height // 40))
    margin = max(1, math.ceil(_MIN_PIECE * height))
    blocked = hole_columns(own, _FRINGE)
    minima = []
    col = margin
    while col < width - margin:
        end = col  # a flat run of equal values counts once, at its middle
        while end + 1 < width and profile[end + 1] == profile[col]:
            end += 1
        rises = end + 1 >= width or profile[end + 1] > profile[col]
        if profile[col - 1] > profile[col] and rises:
            mid = (col + end) // 2
            if margin <= mid < width - margin and not blocked[mid]:
                minima.append(mid)
        col = end + 1
    minima.sort(key=lambda c: profile[c])
    cuts = sorted(minima[:limit])
    return _merge_close(sorted({*cuts, *even_cuts(own, blocked)}), height) if even else cuts


def may_hold_two(own: np.ndarray) -> bool:
    """Whether an (h, w) group is wider than 0.9x its height (``numbers``' widest single
    digit), so ``even_cuts`` are worth trying.

    On seeds 0-199 of ``benchmarks/numbers_bench.py``, even cuts in every group read touching /
    mixed / MNIST digits apart 71.5 / 86.5 / 89.5 % exactly right, and only in these groups
    72.0 / 87.5 / 90.5 %; also asking for 1.3x the writer's ordinary digit changed nothing.
    """
    height, width = own.shape
    return width > _TWO_HEIGHT * height


def even_cuts(own: np.ndarray, blocked: np.ndarray) -> list[int]:
    """Columns cutting an (h, w) group into k equal parts, each k from 2 to w / 0.45h (<= 8).

    Digits that overlap leave no emptier column between them (the foot of a "2" runs under
    its neighbour), so the profile has no minimum there; k digits of one writer are about
    equally wide, so the k-way even split is near their true cuts. Columns in ``blocked``
    (inside a loop) are left out, as are those leaving less than ``_MIN_PIECE`` of the height.
    """
    height, width = own.shape
    margin = _MIN_PIECE * height
    cuts = set()
    most = min(_EVEN_PARTS, max(2, math.ceil(width / (_EVEN_WIDTH * height))))
    for parts in range(2, most + 1):
        for i in range(1, parts):
            col = round(width * i / parts)
            if margin <= col < width - margin and not blocked[col]:
                cuts.add(col)
    return sorted(cuts)


def _merge_close(cuts: list[int], height: int) -> list[int]:
    """Sorted cuts without those within 3 % of the height of the previous one kept."""
    kept: list[int] = []
    for col in cuts:
        if not kept or col - kept[-1] > 0.03 * height:
            kept.append(col)
    return kept


def segment_candidates(ink: Ink, piece: Piece, bounds: Sequence[int]) -> list[Segment]:
    """Render every stretch of a group between two boundaries, skipping impossible ones.

    Args:
        ink: The image's ink, from ``ink.extract``.
        piece: The group's (box, (h, w) mask).
        bounds: Cut columns inside the mask, increasing, starting at 0 and ending at w.

    Returns:
        The segments at most ``_MAX_SEGMENT`` x the height wide that hold ink.
    """
    (top, left, bottom, _), own = piece
    height = bottom - top
    segments = []
    for i, a in enumerate(bounds):
        for j in range(i + 1, len(bounds)):
            b = bounds[j]
            if b - a > _MAX_SEGMENT * height:
                break
            part = drop_fragments(own[:, a:b])
            rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
            if rows.size == 0:
                continue
            sub = (top + rows[0], left + a + cols[0], top + rows[-1] + 1, left + a + cols[-1] + 1)
            mask = part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            image = render_piece(ink, (sub, mask))
            segments.append(Segment(i, j, mask.shape[1] / height, mask.shape[0] / height, image))
    return segments


def segment_score(probs: np.ndarray, segment: Segment, prior: SegmentPrior) -> float:
    """Log-evidence that a segment is one digit: log top probability, penalty, width prior.

    Args:
        probs: (10,) calibrated class probabilities of the segment's image.
        segment: The segment (its width and height shares).
        prior: The penalties.
    """
    if segment.height < prior.flat or segment.width < prior.sliver:
        return -math.inf
    score = math.log(max(float(probs.max()), 1e-9)) - prior.digit_penalty
    if segment.width < prior.narrow and int(probs.argmax()) != 1:
        score -= prior.off_prior * (prior.narrow - segment.width) * 10
    if segment.width > prior.wide and float(probs.max()) < prior.sure:
        score -= prior.off_prior * (segment.width - prior.wide) * 10
    return score


def best_segmentation(count: int, scores: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    """The chain of segments from boundary 0 to ``count - 1`` with the highest total score.

    Dynamic programming over the boundaries: best[j] = max over i < j of best[i] + s(i, j).

    Args:
        count: Number of boundaries (cuts plus both ends).
        scores: Score of each candidate segment (i, j); missing pairs are impossible.

    Returns:
        The chosen (i, j) pairs left to right; [] when no chain reaches the right end.
    """
    best = [0.0] + [-math.inf] * (count - 1)
    back = [-1] * count
    for (i, j), value in sorted(scores.items(), key=lambda item: item[0][1]):
        if best[i] + value > best[j]:
            best[j], back[j] = best[i] + value, i
    if math.isinf(best[-1]):
        return []
    chain, j = [], count - 1
    while j > 0:
        chain.append((back[j], j))
        j = back[j]
    return chain[::-1]


@dataclass(frozen=True)
class JoinRule:
    """When neighbouring ink groups may be one digit whose strokes came apart.

    A digit written with a break (the two halves of a "0", the stem and flag of a "4") has
    pieces that share few columns, so ``numbers`` groups them apart; the model then reads each
    half as a "1" or not a digit. Neighbours are offered to the model as one digit too when
    together they are no wider than a digit (0.9x the height, as ``numbers``' widest single
    digit) and nearly touch; the reading with the higher summed log top probability wins.

    On seeds 0-199 of ``benchmarks/numbers_bench.py`` (validation digits), numbers of MNIST
    digits written apart went from 90.5 to 91.5 % exactly right at ``gap`` 0.1 and 0.2 (a "4"
    read "41", a "6" read "?6"; 0.0 changed nothing), every other kind as it was; a bonus of
    0.5, 1 or 2 log units for the joined reading changed nothing either, so there is none.

    Attributes:
        gap: Largest gap between neighbours, as a share of their joint height.
        width: Largest joint width, as a share of the joint height.
        most: Most groups joined into one digit.
    """

    gap: float = 0.1
    width: float = 0.9
    most: int = 3


def join_candidates(groups: Sequence[Piece], rule: JoinRule) -> list[tuple[int, int, Piece]]:
    """Runs of neighbouring groups that ``rule`` lets be one digit, with their joint piece.

    Args:
        groups: Ink groups left to right, each (box, (h, w) mask).
        rule: The limits.

    Returns:
        (i, j, piece) for every run groups[i:j] of 2 to ``rule.most`` groups.
    """
    out = []
    for i in range(len(groups)):
        for j in range(i + 2, min(i + rule.most, len(groups)) + 1):
            run = groups[i:j]
            top = min(box[0] for box, _ in run)
            bottom = max(box[2] for box, _ in run)
            height = bottom - top
            gaps = [b[0][1] - a[0][3] for a, b in itertools.pairwise(run)]
            wide = max(box[3] for box, _ in run) - run[0][0][1]
            if max(gaps) > rule.gap * height or wide > rule.width * height:
                break
            out.append((i, j, joined_piece(run)))
    return out


def joined_piece(pieces: Sequence[Piece]) -> Piece:
    """One piece holding the ink of several: their union box and the union of their masks."""
    boxes = [box for box, _ in pieces]
    top, left = min(b[0] for b in boxes), min(b[1] for b in boxes)
    bottom, right = max(b[2] for b in boxes), max(b[3] for b in boxes)
    mask = np.zeros((bottom - top, right - left), dtype=bool)
    for (t, le, b, r), own in pieces:
        mask[t - top : b - top, le - left : r - left] |= own
    return (top, left, bottom, right), mask
