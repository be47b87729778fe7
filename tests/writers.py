"""Synthetic "writers": one hand, a fixed style of ``imagegen``'s pen digits with a little
jitter, for fine-tuning tests. :func:`worst_style` measures a model on each and names the one
it reads worst (README, "Fine-tune on your own handwriting"), so the test keeps choosing the
hardest hand when the shipped weights change."""

from __future__ import annotations

from typing import Any

import numpy as np
from imagegen import _finish, compose, draw_digit
from PIL import Image

from mnist_digits.images.render import to_mnist

# name -> draw_digit keywords; "hollow" draws the outline of a pen that wide (bubble digits).
STYLES: dict[str, dict[str, float]] = {
    "narrow": {"aspect": 0.25, "pen": 0.09},
    "bubble": {"aspect": 0.65, "pen": 0.22, "hollow": 0.7},
    "tilted": {"aspect": 0.65, "pen": 0.09, "angle": 35.0},
    "wide": {"aspect": 1.3, "pen": 0.09},
}


def writer_image(digit: int, style: str, rng: np.random.Generator) -> Image.Image:
    """One digit by the writer of ``style``: dark ink on light paper, 240 px square."""
    s = STYLES[style]
    height = 130 * rng.uniform(0.9, 1.05)
    kw = {
        "size": (240, 240),
        "height": height,
        "centre": (120 + rng.uniform(-8, 8), 120 + rng.uniform(-8, 8)),
        "angle": s.get("angle", 0.0) + rng.uniform(-4, 4),
        "shear": rng.uniform(-0.06, 0.06),
        "aspect": s["aspect"] * rng.uniform(0.93, 1.07),
    }
    pen = s["pen"] * height * rng.uniform(0.85, 1.15)
    cov = _finish(draw_digit(digit, pen=pen, **kw))  # type: ignore[arg-type]
    if s.get("hollow"):
        cov = np.clip(cov - _finish(draw_digit(digit, pen=pen * s["hollow"], **kw)), 0, 1)  # type: ignore[arg-type]
    return compose(cov, "dark_on_light", rng)


def writer_samples(style: str, n: int, seed: int) -> list[tuple[Image.Image, int]]:
    """``n`` images of the digits 0..9 in turn by the writer of ``style``, seeded."""
    rng = np.random.default_rng(seed)
    return [(writer_image(i % 10, style, rng), i % 10) for i in range(n)]


def worst_style(predictor: Any, n: int = 200, seed: int = 5) -> tuple[str, dict[str, float]]:
    """The style ``predictor`` (a ``predict.Predictor``) reads worst, and its accuracy on
    ``n`` digits of each style (a seed apart from the samples fine-tuned on)."""
    scores = {}
    for style in STYLES:
        items = writer_samples(style, n, seed)
        images28 = np.stack([to_mnist(image).image28 for image, _ in items])
        guess = predictor.probabilities28(images28).argmax(1)
        scores[style] = float((guess == np.array([d for _, d in items])).mean())
    return min(scores, key=scores.__getitem__), scores
