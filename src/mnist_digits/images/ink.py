"""Finding the digit ink in a decoded image: polarity, paper level, threshold and specks.

``extract`` works on a copy box-reduced to at most 1024 px a side. It decides whether the ink
is darker or lighter than the paper, flattens uneven light, upscales the ink map of a small
image (a 28 px digit, a 16 px scan), thresholds with Otsu and labels the connected ink
components, marking tiny ones as specks and unmarking frames (``frames.drop_frames``).
``union_box`` and ``component_mask`` then pick the components that make up one digit.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_digits.images.decode import standard_mode
from mnist_digits.images.frames import drop_frames
from mnist_digits.images.lines import erase_rules
from mnist_digits.images.page import page_box, paint_outside

__all__ = ["EIGHT", "Box", "Ink", "Piece", "component_mask", "extract", "union_box"]

_WORK_SIDE = 1024  # larger inputs are box-reduced first: a 12 MP photo drops to ~0.8 MP
_MIN_CONTRAST = 0.2  # ink must differ from paper by 20 %: 4 sigma of typical 5 % photo noise
_NOISE_CUT = 5.0  # ... and exceed 5 noise sigmas: pure noise yields < 1 speck per 1 MP
_ALPHA_CUT = 0.5  # with a transparent canvas, half-opaque pixels are ink
_FLAT_BORDER = 0.1  # border 5th/95th percentiles within 10 % of its median: one paper level
_EXACT = 0.6 / 255  # ... or half of it at exactly its median: paper that was never lit
_POLARITY_MARGIN = 0.1  # deviations under 10 % (noise, JPEG) do not vote on polarity
_MIN_EXTENT = 0.03  # a component spanning < 3 % of the image's shorter side is a speck ...
_MIN_AREA = 0.05  # ... unless it holds >= 5 % of the largest component's pixels
# An image under 64 px a side has its ink map upscaled (bicubic) to at least 84 px before it is
# thresholded: at 12-16 px a threshold keeps only the cores of blurry strokes and breaks them
# into specks. Chosen on 1,000 MNIST validation digits saved as small PNGs (benchmarks/
# small_images.py): answered and right at 12 px 81.1% -> 96.4%, at 16 px 96.2% -> 98.0%, at
# 28 px 98.1% -> 98.6% (84 beat 56 and tied 112).
_SMALL_SIDE = 64
_UPSCALE_TO = 84
EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity: diagonal pen strokes stay connected

Box: TypeAlias = tuple[int, int, int, int]  # (top, left, bottom, right), working pixels
Piece: TypeAlias = tuple[Box, np.ndarray]  # one digit: its box and (h, w) bool ink mask


@dataclass(frozen=True)
class Ink:
    """Ink found in one image, at working resolution (the input box-reduced by ``factor``).

    Attributes:
        ink: (H, W) float32 0..1, contrast to the paper; keeps anti-aliased grey levels.
        cut: Pixels with ``ink > cut`` are ink: Otsu's threshold, at least 0.2 and at least
            5 noise sigmas.
        labels: (H, W) int32 connected ink components (8-connected), 0 = paper.
        keep: (n + 1,) bool, True where component i is digit ink rather than a speck.
        boxes: The n components' (rows, cols) slices; component i is at index i - 1.
        inverted: True when the ink is darker than the paper.
        factor: Input pixels per working pixel (1 for inputs up to 1024 px a side).
        size: The input's (width, height).
        up: Working pixels per input pixel: above 1 when a small input's ink map was
            upscaled (inputs under 64 px a side), else 1.
        origin: Where the part of the input that was read starts, (x, y) in input pixels:
            (0, 0) but for a photo read on its page alone; ``size`` is then the page's.
    """

    ink: np.ndarray  # (H, W) float32 0..1: contrast to paper, keeps anti-aliased grey levels
    cut: float  # ink > cut is ink; Otsu's threshold, at least _MIN_CONTRAST
    labels: np.ndarray  # (H, W) int32: connected ink components, 0 = paper
    keep: np.ndarray  # (n + 1,) bool: keep[i] is True when component i is digit ink
    boxes: list[tuple[slice, slice]]  # n (rows, cols) slices, component i at index i - 1
    inverted: bool
    factor: int  # working pixel -> input pixels
    size: tuple[int, int]  # input (width, height)
    up: int = 1  # working pixels per input pixel (> 1 for upscaled small inputs)
    origin: tuple[int, int] = (0, 0)  # input (x, y) of the page read (ink.extract)


def extract(img: Image.Image) -> Ink:
    """Find the digit ink in a decoded image.

    A photo that shows the desk all round a page is read on the page alone
    (``page.page_box``): its ``origin`` is then where the page starts.

    Args:
        img: A decoded image in any mode (see ``decode.load_image``).

    Returns:
        Its ink map, threshold and components, with specks marked in ``Ink.keep``.
    """
    ink = _extract(img)
    found = page_box(ink.labels, ink.keep, ink.boxes, ink.factor) if ink.up == 1 else None
    if found is None:
        return ink
    page = _extract(img.crop(found.box), found.corners)
    if not page.keep.any():
        return ink  # nothing written on it: no page (a thin tight crop's paper looks like one)
    return dataclasses.replace(page, origin=(found.box[0], found.box[1]))


def _extract(img: Image.Image, corners: tuple[tuple[float, float], ...] | None = None) -> Ink:
    """``extract`` on the whole of an image; with a turned page's ``corners`` (input pixels),
    on what lies inside them (``page.paint_outside``, at working resolution: 9 MP cost 0.7 s
    at input resolution)."""
    work = standard_mode(img)
    factor = max(1, math.ceil(max(work.size) / _WORK_SIDE))
    if factor > 1:
        work = work.reduce(factor)  # box filter: a 3 px stroke survives as grey ink mass
    if corners is not None:
        work = paint_outside(work, tuple((x / factor, y / factor) for x, y in corners))
    ink, cut, inverted = _ink_map(work)
    ink = erase_rules(ink, cut)  # ruled or squared paper: its lines, not the strokes crossing
    up = math.ceil(_UPSCALE_TO / max(ink.shape)) if max(ink.shape) < _SMALL_SIDE else 1
    if up > 1:
        ink = _upscale(ink, up)
    labels, keep, boxes = _components(ink > cut, up)
    keep = drop_frames(labels, keep, boxes)  # a box round the digit, the page's edge
    return Ink(ink, cut, labels, keep, boxes, inverted, factor, img.size, up)


def _upscale(ink: np.ndarray, up: int) -> np.ndarray:
    """An (H, W) ink map upscaled to (H * up, W * up) by Pillow's bicubic on mode F, clipped to
    0..1 (bicubic overshoots beside strokes); the threshold stays the same."""
    height, width = ink.shape
    big = Image.fromarray(ink).resize((width * up, height * up), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(big), 0.0, 1.0)


def _planes(img: Image.Image) -> list[np.ndarray]:
    """Colour planes of an L/RGB/F image as contiguous (H, W) float32 in 0..1.

    Separate planes, not (H, W, C): numpy reductions over a length-3 last axis run ~10x
    slower than elementwise ops on planes.
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
    to move the median. Every 8th row is plenty. A small image (a scan, a tight crop) is
    different: its ink reaches the edges and fills much of it, so its edges would be most of
    the pairs; there only pairs on the paper side of the median are counted, both across and
    down: a tight crop of a "1" 3 px wide has two pairs a row, most of them crossing a stroke
    (its noise read 0.5 and no digit was found). Counting down too took validation tight crops
    from 96.4% to 98.0% answered and right (benchmarks/small_images.py, 5,000 digits) and
    changed no other view by more than 0.2 point.
    """
    if max(raw.shape) >= _SMALL_SIDE:
        steps = np.abs(np.diff(raw[::8], axis=1)).ravel()  # (H / 8 * (W - 1),)
    else:
        low = raw <= _quantiles(raw.ravel(), (0.5,))[0]  # (H, W): the paper side
        across = np.abs(np.diff(raw, axis=1))[low[:, 1:] & low[:, :-1]]  # pairs of paper
        down = np.abs(np.diff(raw, axis=0))[low[1:] & low[:-1]]
        steps = np.concatenate([across, down])
    return _quantiles(steps, (0.5,))[0] / 0.954 if steps.size else 0.0


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
    # Half the border at one level is paper that the ink of a tight crop reaches, not uneven
    # light: at one exact level for digital paper, within 10 % in a small image (a scan or a
    # thumbnail, too small to have been lit unevenly).
    small = max(plane.shape) < _SMALL_SIDE
    tol = _FLAT_BORDER if small else _EXACT
    if np.count_nonzero(np.abs(ring - p50) <= tol) * 2 >= ring.size:
        return float(p50)
    if small:
        # A coarse scan's ink can take more than half its border, so the median is a blend of
        # ink and paper (2% of validation 8x8 scans found no digit there). Its paper is then
        # the level a third of the border lies at exactly: digital paper. A smooth gradient's
        # flat edges are too few (its two sides hold a fifth of the ring each).
        level, count = _border_mode(ring, np.float32(_EXACT))
        if count * 3 >= ring.size:
            return level
    return _background(plane)


def _border_mode(ring: np.ndarray, tol: np.float32) -> tuple[float, int]:
    """The border level (N,) with the most border pixels within ``tol`` of it (the smallest
    such level on a tie, so the order of the ring does not matter) and that count."""
    near = np.count_nonzero(np.abs(ring[:, None] - ring[None, :]) <= tol, axis=1)  # (N,)
    best = int(near.max())
    return float(ring[near == best].min()), best


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


def _components(
    mask: np.ndarray, up: int = 1
) -> tuple[np.ndarray, np.ndarray, list[tuple[slice, slice]]]:
    """Label ink components and mark which are digit ink rather than specks.

    Args:
        mask: (H, W) bool, True where there is ink.
        up: Working pixels per input pixel, so the speck size stays 3 input pixels.

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
    count = ndimage.label(mask[inner], structure=EIGHT, output=labels[inner])
    keep = np.zeros(count + 1, dtype=bool)
    boxes = [
        (slice(r.start + top, r.stop + top), slice(c.start + left, c.stop + left))
        for r, c in ndimage.find_objects(labels[inner])
    ]
    extent = np.array([max(r.stop - r.start, c.stop - c.start) for r, c in boxes])  # (n,)
    big = extent >= max(3.0 * up, _MIN_EXTENT * min(mask.shape))
    keep[1:] = big
    if count > 1 and big.any():  # one component (a clean canvas) needs no areas
        area = np.bincount(labels[mask], minlength=count + 1)[1:]  # (n,)
        keep[1:] |= area >= _MIN_AREA * area[big].max()
    return labels, keep, boxes


def union_box(ink: Ink, ids: list[int] | np.ndarray) -> Box:
    """Bounding box of some components.

    Args:
        ink: The image's ink.
        ids: Component labels (1-based, as in ``Ink.labels``).

    Returns:
        (top, left, bottom, right) in working pixels, bottom/right exclusive.
    """
    rows = [ink.boxes[i - 1][0] for i in ids]
    cols = [ink.boxes[i - 1][1] for i in ids]
    return (
        min(r.start for r in rows),
        min(c.start for c in cols),
        max(r.stop for r in rows),
        max(c.stop for c in cols),
    )


def component_mask(ink: Ink, box: Box, ids: np.ndarray) -> np.ndarray:
    """The pixels of some components inside a box.

    Args:
        ink: The image's ink.
        box: (top, left, bottom, right) in working pixels, e.g. from ``union_box``.
        ids: Component labels (1-based) that belong to the digit.

    Returns:
        (h, w) bool mask, True where a pixel belongs to one of ``ids``.
    """
    top, left, bottom, right = box
    lut = np.zeros(len(ink.keep), dtype=bool)
    lut[ids] = True
    return lut[ink.labels[top:bottom, left:right]]
