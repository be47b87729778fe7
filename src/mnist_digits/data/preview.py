"""A contact sheet of digits drawn with Pillow alone, so ``mnist-digits data show`` works
without matplotlib (the report's matplotlib figures are in ``evaluation.plots``)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def contact_sheet(
    images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], scale: int = 4
) -> Image.Image:
    """A labelled grid of digits: images (N, 28, 28) uint8 drawn as dark ink on white tiles.

    The grid is as square as possible; each tile shows the image enlarged ``scale`` times with
    its class name under it.
    """
    n = images.shape[0]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    tile, caption, pad = 28 * scale, 14 + 2 * scale, 6
    width, height = cols * (tile + pad) + pad, rows * (tile + caption + pad) + pad
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=10 + 2 * scale)
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = pad + c * (tile + pad), pad + r * (tile + caption + pad)
        digit = Image.fromarray(255 - images[i]).resize((tile, tile), Image.Resampling.NEAREST)
        canvas.paste(digit, (x, y))
        draw.rectangle([x - 1, y - 1, x + tile, y + tile], outline=(180, 180, 180))
        draw.text(
            (x + tile // 2, y + tile + 2),
            classes[int(labels[i])],
            fill="black",
            font=font,
            anchor="mt",
        )
    return canvas
