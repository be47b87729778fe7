"""The families of generated images, each ``train`` or ``heldout``, and rendering them.

A family renders one image at a time from a seeded generator, as a person would make it: a
pen-drawn glyph on a canvas, or printed text in some typeface, or a texture. Digit families
give their digit as the label; every other family gives :data:`NOT_A_DIGIT`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mnist_digits.synthetic import doodles, pen
from mnist_digits.synthetic.fonts import font_files

NOT_A_DIGIT = -1
# Printed characters that look like no digit. Look-alikes (O o I l S Z B b g q, and the thin
# verticals | / ! [ ] that read as 1) are truly ambiguous and never serve as negatives.
PRINTED = "AEFHKMNRWXYafhkmnrwx#%@+*=<>~^"
DIGITS = "0123456789"
# Drawn letters training may see; K X Y U are held out (letters-drawn-heldout), so no letter
# of the same shape (k x y u) is here either.
DRAWN_LETTERS = "A C E F H J L M N P R T V W e h m n r t w"
TRAINED_SHAPES = "triangle square rectangle pentagon hexagon diamond"
# How far a doodle is bent each time it is drawn (pen.draw's warp), as a share of its size: 0.06
# moves a corner by at most ~12% of the glyph, enough that no two drawings of a heart match, too
# little to turn one doodle into another. Training templates are drawn unbent: bending them too
# (reader-probe-11 and -12, recipes/cnn-small-shipped.toml) cost drawn letters 2.4 points or
# MNIST through to_mnist 0.2, so the shipped reader never saw a bent template or a doodle.
DOODLE_WARP = 0.06
Render = Callable[[np.random.Generator], tuple[Image.Image, int]]


@dataclass(frozen=True)
class Family:
    """A kind of image: its name, whether it holds digits, and who may see it."""

    name: str
    split: str  # "train": training may use it; "heldout": only measurement does
    digits: bool
    description: str
    render: Render


def _side(rng: np.random.Generator) -> int:
    return int(rng.integers(64, 200))


def _drawn(templates: dict[str, list[pen.Stroke]], warp: float = 0.0) -> Render:
    names = sorted(templates)

    def render(rng: np.random.Generator) -> tuple[Image.Image, int]:
        strokes = templates[names[int(rng.integers(len(names)))]]
        return pen.draw(strokes, rng, _side(rng), warp), NOT_A_DIGIT

    return render


def _scribbles(kinds: tuple[str, ...]) -> Render:
    def render(rng: np.random.Generator) -> tuple[Image.Image, int]:
        strokes = pen.scribble(rng, kinds[int(rng.integers(len(kinds)))])
        return pen.draw(strokes, rng, _side(rng)), NOT_A_DIGIT

    return render


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def printed(text: str, files: tuple[Path, ...], rng: np.random.Generator) -> Image.Image:
    """``text`` in a random font of ``files``, size, weight and offset, white on black."""
    side = _side(rng)
    font = _font(files[int(rng.integers(len(files)))], int(side * rng.uniform(0.45, 0.85)))
    canvas = Image.new("L", (side, side), 0)
    centre = side / 2 + rng.uniform(-0.08, 0.08, size=2) * side
    bold = int(rng.integers(0, max(1, side // 40) + 1))  # a faux-bold outline, sometimes
    ImageDraw.Draw(canvas).text(
        (float(centre[0]), float(centre[1])), text, fill=255, font=font, anchor="mm",
        stroke_width=bold, stroke_fill=255,
    )  # fmt: skip
    return canvas.rotate(float(rng.uniform(-10, 10)), resample=Image.Resampling.BILINEAR)


def _printed(split: str, chars: str, digits: bool) -> Render:
    """One of ``chars`` printed in a typeface of ``split``, labelled by itself or as none."""

    def render(rng: np.random.Generator) -> tuple[Image.Image, int]:
        char = chars[int(rng.integers(len(chars)))]
        label = int(char) if digits else NOT_A_DIGIT
        return printed(char, font_files(split), rng), label

    return render


def texture(rng: np.random.Generator, kind: str) -> Image.Image:
    """Noise, stripes, a checkerboard, smooth blobs or a blank page, on a square canvas."""
    side = _side(rng)
    if kind == "blank":
        level = int(rng.integers(0, 256))
        return Image.new("L", (side, side), level)
    if kind == "noise":
        return Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8))
    yy, xx = np.mgrid[0:side, 0:side] / side
    if kind == "stripes":
        a = rng.uniform(0, np.pi)
        wave = np.sin((xx * np.cos(a) + yy * np.sin(a)) * 2 * np.pi * rng.uniform(3, 10))
        return Image.fromarray(((wave > 0) * 255).astype(np.uint8))
    if kind == "checker":
        n = rng.uniform(3, 9)
        return Image.fromarray(
            (((xx * n).astype(int) + (yy * n).astype(int)) % 2 * 255).astype(np.uint8)
        )
    coarse = Image.fromarray(rng.integers(0, 256, (6, 6), dtype=np.uint8))
    blobs = coarse.resize((side, side), Image.Resampling.BICUBIC)
    return blobs.filter(ImageFilter.GaussianBlur(side / 30))


def _textures(kinds: tuple[str, ...]) -> Render:
    def render(rng: np.random.Generator) -> tuple[Image.Image, int]:
        return texture(rng, kinds[int(rng.integers(len(kinds)))]), NOT_A_DIGIT

    return render


def _pick(names: str, table: dict[str, list[pen.Stroke]]) -> dict[str, list[pen.Stroke]]:
    return {n: table[n] for n in names.split()}


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("digits-printed", "train", True, "digits in the training typefaces",
               _printed(split="train", chars=DIGITS, digits=True)),
        Family("letters-drawn", "train", False, f"pen-drawn {DRAWN_LETTERS}",
               _drawn(_pick(DRAWN_LETTERS, pen.LETTERS))),
        Family("shapes-drawn", "train", False, "pen-drawn polygons and diamonds",
               _drawn(_pick(TRAINED_SHAPES, pen.SHAPES))),
        Family("marks-drawn", "train", False, "ticks, crosses, plus, hash, arrows, ...",
               _drawn(pen.MARKS)),
        Family("scribbles", "train", False, "random walks, zigzags, waves and coils",
               _scribbles(("walk", "zigzag", "wave", "coil"))),
        Family("symbols-printed", "train", False, "letters and symbols, training typefaces",
               _printed(split="train", chars=PRINTED, digits=False)),
        Family("textures", "train", False, "stripes, checkerboards, smooth blobs",
               _textures(("stripes", "checker", "blobs"))),
        Family("digits-printed-heldout", "heldout", True, "digits in typefaces never trained on",
               _printed(split="heldout", chars=DIGITS, digits=True)),
        Family("letters-drawn-heldout", "heldout", False, "pen-drawn K X Y U",
               _drawn(_pick("K X Y U", pen.LETTERS))),
        Family("stars-hearts-drawn", "heldout", False, "pen-drawn stars and hearts",
               _drawn(_pick("star star6 heart", pen.SHAPES))),
        Family("doodles-drawn-heldout", "heldout", False, "Greek letters, signs, pictures, bent",
               _drawn(doodles.DOODLES, DOODLE_WARP)),
        Family("scribbles-heldout", "heldout", False, "spirals and hatching",
               _scribbles(("spiral", "hatch"))),
        Family("symbols-printed-heldout", "heldout", False, "letters and symbols, unseen typefaces",
               _printed(split="heldout", chars=PRINTED, digits=False)),
        Family("noise-blank", "heldout", False, "uniform noise and blank pages",
               _textures(("noise", "blank"))),
    )
}  # fmt: skip


def render_family(name: str, n: int, seed: int) -> list[tuple[Image.Image, int]]:
    """``n`` images of family ``name`` with their labels; the same seed, the same images."""
    family = FAMILIES[name]
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    return [family.render(rng) for _ in range(n)]
