"""Deterministic generator of the images people give us, for tests and for scoring models.

Digits are drawn as pen strokes (polylines through a handful of control points per digit,
in a unit box with x to the right and y down), pushed through a random affine map (rotation
within +-15 degrees, scale, shear, an off-centre offset) onto a 100-600 px canvas, and then
dressed as one of ``KINDS``:

- ``dark_on_light`` / ``light_on_dark``: opaque L or RGB canvases, either polarity;
- ``rgba_dark`` / ``rgba_light``: strokes on a fully transparent canvas (alpha = 0);
- ``font``: a typeset digit (Pillow's default font and any TTF under /usr/share/fonts) on
  paper-like background; falls back to strokes when no scalable font is available;
- ``photo``: tinted paper, an illumination gradient, coloured ink, blur, Gaussian noise and a
  JPEG round trip.

Everything is driven by a seeded ``numpy.random.Generator``, so a seed always gives the same
images. A model can be scored with ``make_user_images(n, seed)``: each item is
``(image, true digit, kind)``. ``naive_resize`` is the baseline such a score is compared with.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Collection
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mnist_digits.images.decode import ImageSource, load_image, standard_mode

Point = tuple[float, float]
Stroke = list[Point]

KINDS = ("dark_on_light", "light_on_dark", "rgba_dark", "rgba_light", "font", "photo")
_SUPERSAMPLE = 2  # draw at 2x then box-reduce: anti-aliased edges like real renderers
_INKS = ((20, 20, 25), (25, 40, 150), (160, 25, 30), (20, 100, 40))  # black, blue, red, green


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 14) -> Stroke:
    """Points along an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down)."""
    t = np.radians(np.linspace(a0, a1, n))
    xs, ys = cx + rx * np.cos(t), cy + ry * np.sin(t)
    return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]


def digit_strokes(digit: int, *, broken: bool = False) -> list[Stroke]:
    """Pen strokes of ``digit`` in the unit box; ``broken`` lifts the bar of a 5 off its body."""
    bar_shift = (0.08, -0.12) if broken else (0.0, 0.0)
    five_bar = [
        (0.9 + bar_shift[0], 0.02 + bar_shift[1]),
        (0.2 + bar_shift[0], 0.02 + bar_shift[1]),
    ]
    strokes: dict[int, list[Stroke]] = {
        0: [_arc(0.5, 0.5, 0.42, 0.48, 0, 360, 28)],
        1: [[(0.25, 0.25), (0.55, 0.02), (0.55, 0.98)]],
        2: [[*_arc(0.5, 0.3, 0.42, 0.28, 200, 400), (0.05, 0.98), (0.95, 0.98)]],
        3: [_arc(0.45, 0.27, 0.42, 0.25, 210, 450) + _arc(0.45, 0.73, 0.47, 0.25, -90, 150)],
        4: [[(0.7, 0.98), (0.7, 0.02), (0.05, 0.68), (0.95, 0.68)]],
        5: [five_bar, [(0.2, 0.02), (0.16, 0.46), *_arc(0.5, 0.66, 0.4, 0.32, -135, 150)]],
        6: [_arc(0.55, 0.6, 0.45, 0.55, -75, -180, 10) + _arc(0.5, 0.72, 0.4, 0.26, 180, 540, 20)],
        7: [[(0.05, 0.02), (0.95, 0.02), (0.4, 0.98)]],
        8: [_arc(0.5, 0.26, 0.34, 0.24, 90, 450, 20) + _arc(0.5, 0.74, 0.42, 0.26, -90, 270, 20)],
        9: [[*_arc(0.5, 0.3, 0.4, 0.28, 0, 360, 20), (0.88, 0.35), (0.75, 0.98)]],
    }
    return strokes[digit]


def _affine(height: float, aspect: float, angle: float, shear: float) -> np.ndarray:
    """2x3 map from unit-box points to pixels around the origin."""
    scale = np.array([[height * aspect, 0.0], [0.0, height]])
    shear_m = np.array([[1.0, shear], [0.0, 1.0]])
    a = np.radians(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    lin = rot @ shear_m @ scale
    return np.hstack([lin, -lin @ np.array([[0.5], [0.5]])])  # unit-box centre -> origin


def draw_digit(
    digit: int,
    *,
    size: tuple[int, int],
    pen: float,
    height: float,
    centre: Point,
    angle: float = 0.0,
    shear: float = 0.0,
    aspect: float = 0.65,
    broken: bool = False,
    mask: Image.Image | None = None,
) -> Image.Image:
    """Draw a digit's strokes as ink coverage (mode L, 255 = ink) onto ``mask`` or a new one.

    Args:
        digit: 0-9.
        size: Canvas (width, height) in px.
        pen: Pen width in px.
        height: Digit height in px before rotation/shear.
        centre: Where the digit's box centre lands, px.
        angle: Rotation in degrees.
        shear: Horizontal shear factor.
        aspect: Box width / height.
        broken: Lift the bar of a 5 off its body.
        mask: Draw onto this (size x supersample) L image instead of a new one.
    """
    ss = _SUPERSAMPLE
    big = mask if mask is not None else Image.new("L", (size[0] * ss, size[1] * ss), 0)
    draw = ImageDraw.Draw(big)
    m = _affine(height, aspect, angle, shear)
    width = max(1, round(pen * ss))
    for stroke in digit_strokes(digit, broken=broken):
        pts = np.array(stroke) @ m[:, :2].T + m[:, 2] + np.array(centre)  # (n, 2) px
        xy = [(float(x) * ss, float(y) * ss) for x, y in pts]
        draw.line(xy, fill=255, width=width, joint="curve")
        r = width / 2
        for x, y in (xy[0], xy[-1]):  # round pen caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return big


def _finish(big: Image.Image) -> np.ndarray:
    """Reduce a supersampled L mask to coverage (H, W) float32 0..1."""
    return np.asarray(big.reduce(_SUPERSAMPLE), dtype=np.float32) / 255


def random_digit_mask(digit: int, rng: np.random.Generator) -> np.ndarray:
    """Coverage (H, W) float32 of a digit with random canvas, pen and affine placement."""
    w, h = (int(v) for v in rng.integers(100, 601, size=2))
    angle, shear = float(rng.uniform(-15, 15)), float(rng.uniform(-0.2, 0.2))
    aspect = float(rng.uniform(0.5, 0.75))
    height = float(rng.uniform(0.35, 0.8)) * min(w, h)
    pen_frac = float(rng.uniform(0.04, 0.14))
    corners = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float64)
    reach = np.abs(corners @ _affine(1.0, aspect, angle, shear)[:, :2].T).max(axis=0)  # (2,)
    reach = reach + pen_frac  # half extents per unit of height, pen included
    height = min(height, 0.48 * w / reach[0], 0.48 * h / reach[1])  # must fit on the canvas
    half_w, half_h = reach * height
    centre = (float(rng.uniform(half_w, w - half_w)), float(rng.uniform(half_h, h - half_h)))
    big = draw_digit(
        digit, size=(w, h), pen=pen_frac * height, height=height, centre=centre, angle=angle,
        shear=shear, aspect=aspect,
    )  # fmt: skip
    return _finish(big)


def _mix(cov: np.ndarray, paper: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Blend per-channel colours by coverage: (H, W) x (C,) -> (H, W, C) float 0..255."""
    c = cov[..., None]
    return paper * (1 - c) + ink * c


def _to_image(pixels: np.ndarray) -> Image.Image:
    """(H, W, C) or (H, W) float 0..255 -> PIL image (L, RGB or RGBA)."""
    arr = np.clip(pixels + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    return Image.fromarray(arr)


def compose(cov: np.ndarray, kind: str, rng: np.random.Generator) -> Image.Image:
    """Dress a coverage map (H, W) 0..1 as an image of the given kind (see ``KINDS``)."""
    channels = int(rng.choice([1, 3]))
    if kind == "dark_on_light":
        paper = np.full(channels, rng.uniform(200, 255))
        return _to_image(_mix(cov, paper, np.full(channels, rng.uniform(0, 60))))
    if kind == "light_on_dark":
        paper = np.full(channels, rng.uniform(0, 50))
        return _to_image(_mix(cov, paper, np.full(channels, rng.uniform(200, 255))))
    if kind in ("rgba_dark", "rgba_light"):
        value = rng.uniform(0, 40) if kind == "rgba_dark" else rng.uniform(215, 255)
        under = float(rng.choice([0.0, 255.0]))  # colour hidden under alpha = 0 varies by app
        rgb = np.where(cov[..., None] > 0, value, under) * np.ones(3)  # (H, W, 3)
        return _to_image(np.dstack([rgb, cov * 255]))
    if kind == "photo":
        return _photo(cov, rng)
    raise ValueError(f"unknown kind {kind!r}")


def _photo(cov: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Photographed paper: tint, light gradient, coloured ink, blur, noise, JPEG."""
    h, w = cov.shape
    paper = np.array([235.0, 230.0, 215.0]) * rng.uniform(0.85, 1.05, size=3)
    ink = np.array(_INKS[int(rng.integers(len(_INKS)))], dtype=np.float64)
    pixels = _mix(cov, np.minimum(paper, 255), ink)  # (H, W, 3)
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = (np.cos(a) * xx / w + np.sin(a) * yy / h) * rng.uniform(0.2, 0.45)
    pixels *= (1 - ramp + ramp.min())[..., None]  # light falls off across the page
    img = _to_image(pixels).filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.2))))
    noisy = np.asarray(img, dtype=np.float32) + rng.normal(0, rng.uniform(3, 10), (h, w, 3))
    buf = io.BytesIO()
    _to_image(noisy).save(buf, "JPEG", quality=int(rng.integers(55, 92)))
    return Image.open(io.BytesIO(buf.getvalue()))


@functools.cache
def _font_files() -> tuple[str, ...]:
    """Scalable fonts on this machine (a few, for variety); may be empty."""
    root = Path("/usr/share/fonts")
    files = sorted(str(p) for p in root.rglob("*.ttf")) if root.is_dir() else []
    keep = [f for f in files if "Math" not in f and "ExtraLight" not in f]
    return tuple(keep[:8])


def _font(rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont | None:
    """Pillow's default scalable font or a system TTF; None when FreeType is unavailable."""
    options = ["default", *_font_files()]
    choice = options[int(rng.integers(len(options)))]
    try:
        if choice == "default":
            font = ImageFont.load_default(size=size)
            return font if isinstance(font, ImageFont.FreeTypeFont) else None
        return ImageFont.truetype(choice, size=size)
    except (OSError, ImportError, AttributeError, TypeError):
        return None


def font_digit_image(digit: int, rng: np.random.Generator) -> Image.Image | None:
    """A typeset digit on paper-like background (L or RGB); None without scalable fonts."""
    w, h = (int(v) for v in rng.integers(100, 601, size=2))
    font = _font(rng, int(min(w, h) * rng.uniform(0.35, 0.7)))
    if font is None:
        return None
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    left, top, right, bottom = draw.textbbox((0, 0), str(digit), font=font)
    x = rng.uniform(-left, max(-left + 1, w - right))
    y = rng.uniform(-top, max(-top + 1, h - bottom))
    draw.text((x, y), str(digit), fill=255, font=font)
    cov = np.asarray(mask, dtype=np.float32) / 255
    paper = rng.uniform(215, 250) + rng.normal(0, 3, (h, w))  # slightly grainy paper
    pixels = paper * (1 - cov) + rng.uniform(0, 50) * cov
    return _to_image(pixels)


def make_user_image(digit: int, kind: str, rng: np.random.Generator) -> Image.Image:
    """One image of ``digit`` dressed as ``kind``."""
    if kind == "font":
        img = font_digit_image(digit, rng)
        if img is not None:
            return img
        kind = "dark_on_light"  # no scalable font here: skip the font kind gracefully
    return compose(random_digit_mask(digit, rng), kind, rng)


def make_user_images(n: int, seed: int) -> list[tuple[Image.Image, int, str]]:
    """``n`` images (image, true digit, kind), cycling through digits and ``KINDS``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        digit, kind = i % 10, KINDS[(i // 10 + i) % len(KINDS)]
        out.append((make_user_image(digit, kind, rng), digit, kind))
    return out


def _number_digit(
    digit: int, rng: np.random.Generator, height: float, pen: float, broken: bool
) -> np.ndarray:
    """Coverage (H, w) of one digit of a number, cropped to its ink columns."""
    size = (int(height * 1.5), int(height * 1.6))
    centre = (size[0] / 2, size[1] / 2 + float(rng.uniform(-0.08, 0.08)) * height)
    big = draw_digit(
        digit, size=size, pen=pen, height=height * float(rng.uniform(0.9, 1.0)), centre=centre,
        angle=float(rng.uniform(-6, 6)), aspect=float(rng.uniform(0.55, 0.7)), broken=broken,
    )  # fmt: skip
    cov = _finish(big)
    cols = np.flatnonzero(cov.any(axis=0))
    return cov[:, cols[0] : cols[-1] + 1]


def _touch(canvas: np.ndarray, right: int, cov: np.ndarray, pen: float) -> int:
    """Place ``cov`` so its strokes touch the ink on ``canvas``; returns its left edge.

    Digits may slide into each other's box by at most a quarter of the new digit's width
    (deeper nesting is not how people write); if they still do not touch there, a short
    connecting stroke is drawn on ``canvas``, as in joined-up handwriting.
    """
    rows = (canvas[:, :right] > 0.5).any(axis=1) & (cov > 0.5).any(axis=1)  # (H,)
    last = right - 1 - np.argmax(canvas[:, :right][:, ::-1] > 0.5, axis=1)  # (H,) rightmost ink
    first = np.argmax(cov > 0.5, axis=1)  # (H,) leftmost ink of the new digit
    closest = np.where(rows, last - first, -(10**6))  # (H,) x at which each row would touch
    x = max(int(closest.max()) + 1 - round(0.3 * pen), right - cov.shape[1] // 4)
    row = int(np.argmax(closest))
    if x + first[row] > last[row] + 1:  # still apart: join them with a short stroke
        half = max(1, round(pen / 2))
        canvas[row - half : row + half, last[row] : x + first[row] + 1] = 1.0
    return x


def make_number_image(
    digits: str, seed: int, *, touching: bool | Collection[int] = False, broken: bool = True
) -> Image.Image:
    """A handwritten multi-digit number, dark ink on white RGB, digits left to right.

    Args:
        digits: The number, e.g. "2026".
        seed: RNG seed.
        touching: Move digits left until their strokes just touch the previous digit's, so
            neighbours form one connected component: True for every digit, or the indices
            of the digits that touch their left neighbour.
        broken: Draw each 5 with its bar lifted off (two components in one column span).
    """
    rng = np.random.default_rng(seed)
    height = float(rng.uniform(60, 140))
    pen = height * float(rng.uniform(0.06, 0.12))
    covs = [_number_digit(int(ch), rng, height, pen, broken) for ch in digits]
    return _place(covs, rng, height, pen, touching)


def mnist_number_image(
    digits28: list[np.ndarray], seed: int, *, touching: bool | Collection[int] = False
) -> Image.Image:
    """A number written with MNIST's own digits, dark ink on white RGB, 4x enlarged.

    MNIST's writers drew wider digits than ``make_number_image`` does (a median "2" is 0.9x
    as wide as tall, against 0.55-0.7x there), with broken strokes and varied sizes.

    Args:
        digits28: The digits left to right, each (28, 28) uint8 as MNIST stores them.
        seed: RNG seed for the gaps.
        touching: As for ``make_number_image``.
    """
    covs = []
    for d in digits28:
        big = Image.fromarray(np.asarray(d, dtype=np.uint8)).resize((112, 112), Image.BILINEAR)
        cov = np.asarray(big, dtype=np.float32) / 255  # (112, 112)
        cols = np.flatnonzero((cov > 0.1).any(axis=0))
        covs.append(cov[:, cols[0] : cols[-1] + 1])
    # 20 px of MNIST's box is 80 px here; its strokes are about 2 px, 8 px here.
    return _place(covs, np.random.default_rng(seed), 80.0, 8.0, touching)


def number_for(seed: int) -> tuple[str, list[int]]:
    """The 2-5 digit number of seed ``seed`` (``benchmarks/numbers_bench.py`` and its tests)
    and the indices of the digits that touch their left neighbour in the mix."""
    rng = np.random.default_rng(seed + 10_000)  # not the image's own seed
    number = "".join(str(d) for d in rng.integers(0, 10, rng.integers(2, 6)))
    mix = [i for i in range(1, len(number)) if rng.random() < 0.5]
    return number, mix


def mnist_digits_for(
    number: str, seed: int, images: np.ndarray, by_class: dict[int, np.ndarray]
) -> list[np.ndarray]:
    """One (28, 28) MNIST digit per character of ``number``, the same ones for the same seed.

    Args:
        number: The digits, e.g. "2026".
        seed: RNG seed (offset so the choice does not follow the image's own seed).
        images: (N, 28, 28) uint8 MNIST digits.
        by_class: For each class, the indices into ``images`` to choose from.
    """
    rng = np.random.default_rng(seed + 20_000)
    return [images[int(rng.choice(by_class[int(ch)]))] for ch in number]


def _place(
    covs: list[np.ndarray],
    rng: np.random.Generator,
    height: float,
    pen: float,
    touching: bool | Collection[int],
) -> Image.Image:
    """Digits' coverages (H, w_i) set left to right with gaps, or touching, on white paper."""
    margin = int(height * 0.4)
    canvas = np.zeros((covs[0].shape[0], 2 * margin + sum(c.shape[1] for c in covs) * 2))
    right = margin  # first free column
    for i, cov in enumerate(covs):
        x = right + int(rng.uniform(0.2, 0.45) * height) if i else margin
        if i and (touching is True or (touching is not False and i in touching)):
            x = _touch(canvas, right, cov, pen)
        view = canvas[:, x : x + cov.shape[1]]
        np.maximum(view, cov, out=view)
        right = x + cov.shape[1]
    canvas = canvas[:, : right + margin]
    return _to_image(_mix(canvas, np.full(3, 250.0), np.full(3, 25.0)))


def tight_crop(pixels: np.ndarray) -> np.ndarray:
    """A dark-on-white (H, W) image cut to its ink's bounding box, so the ink reaches every edge.

    Every pixel darker than white is ink, anti-aliased edges too. Tight crops and coarse scans
    of a form's digit cell look like this; the tests and ``benchmarks/small_images.py`` read
    them.
    """
    ink = pixels < 255
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def thin_one(width: int) -> np.ndarray:
    """A tight crop of a slanted "1", 20 px tall and ``width`` px wide, dark on white (uint8).

    Drawn 8x larger with a 1.5 px pen and box-reduced: paper in two corners, ink at every edge.
    """
    big = Image.new("L", (8 * width, 160), 255)
    ImageDraw.Draw(big).line([(6 * width, 0), (4, 160)], fill=0, width=12)
    return np.asarray(big.reduce(8))  # (20, width)


def naive_resize(src: ImageSource) -> np.ndarray:
    """Baseline: grayscale and plainly resize the whole image to 28x28 (no crop/invert/centre).

    Shows what ``mnist_digits.images.render.to_mnist`` gains over doing nothing.

    Args:
        src: Anything ``load_image`` accepts.

    Returns:
        (28, 28) uint8.

    Raises:
        ImageError: When the input cannot be read as an image.
    """
    work = standard_mode(load_image(src))
    if work.mode == "F":
        work = Image.fromarray((np.asarray(work) * 255 + 0.5).astype(np.uint8))
    gray = work.convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return np.array(gray, dtype=np.uint8)


def block_scan(pixels: np.ndarray, block: int) -> np.ndarray:
    """A coarse scan (32 / block px a side) of a form's digit cell from a dark-on-white (H, W)
    digit: its ink binarised, its box fitted into 32x32 (the longer side 32 px, centred), then
    each ``block`` x ``block`` square's ink counted into one grey level, so the digit fills
    the small image to its edges and often takes most of its border."""
    cut = Image.fromarray(tight_crop(pixels))
    scale = 32 / max(cut.size)
    size = (max(1, round(cut.width * scale)), max(1, round(cut.height * scale)))
    ink = np.asarray(cut.resize(size, Image.Resampling.BILINEAR)) < 128  # (h, w) bool
    cell = np.zeros((32, 32), dtype=np.float64)
    top, left = (32 - size[1]) // 2, (32 - size[0]) // 2
    cell[top : top + size[1], left : left + size[0]] = ink
    n = 32 // block
    counts = cell.reshape(n, block, n, block).mean(axis=(1, 3))  # (n, n) share of ink
    return (255 - 255 * counts).round().astype(np.uint8)


# An 8x8 block scan (imagegen.block_scan) of an MNIST training digit whose bold strokes take
# most of the border: the border's median (191) is a blend of ink and paper.
BOLD_SCAN = np.array(
    [
        [255, 255, 191, 32, 0, 32, 191, 255],
        [239, 80, 0, 0, 96, 128, 96, 239],
        [96, 0, 64, 223, 239, 112, 0, 48],
        [0, 0, 239, 191, 48, 0, 0, 0],
        [0, 0, 0, 16, 96, 223, 64, 0],
        [159, 64, 112, 223, 255, 255, 16, 48],
        [255, 255, 255, 255, 255, 207, 0, 96],
        [255, 255, 255, 255, 255, 207, 0, 175],
    ],
    dtype=np.uint8,
)
