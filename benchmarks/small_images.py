"""Small and blurry digits, as low-resolution scans and thumbnails come, read through
``Predictor.predict``: MNIST validation digits (never test) saved as small PNGs.

    python benchmarks/small_images.py [--checkpoint RUN|WEIGHTS] [--n 1000] [--offset 1000]

The upscaling of small images' ink maps (``images.ink``: under 64 px a side, to at least
84 px) was chosen with this script on validation digits ``--offset 1000`` to 2000. Views, dark
ink on white: MNIST's own 28 px; 40 and 56 px (bicubic enlargements, softer edges); 20, 16, 12
and 8 px (box-reduced, like a low-resolution scan). Prints answered-and-right and flagged
shares per view.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable

import numpy as np
from PIL import Image

from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.predict import Predictor

VIEWS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "28 px": lambda im: im,
    "40 px": lambda im: im.resize((40, 40), Image.Resampling.BICUBIC),
    "56 px": lambda im: im.resize((56, 56), Image.Resampling.BICUBIC),
    "20 px": lambda im: im.resize((20, 20), Image.Resampling.BOX),
    "16 px": lambda im: im.resize((16, 16), Image.Resampling.BOX),
    "12 px": lambda im: im.resize((12, 12), Image.Resampling.BOX),
    "8 px": lambda im: im.resize((8, 8), Image.Resampling.BOX),
}


def png(image: Image.Image) -> bytes:
    """PNG bytes of an image."""
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="run or weights (default: shipped)")
    parser.add_argument("--n", type=int, default=1000, help="validation digits")
    parser.add_argument("--offset", type=int, default=1000, help="first validation digit")
    args = parser.parse_args()
    train = load_dataset("mnist", "train")
    _, val = split_indices(len(train))  # the validation split every run holds out
    idx = val.numpy()[args.offset : args.offset + args.n]
    digits = [Image.fromarray(255 - a) for a in train.images[idx]]  # dark ink on white
    labels = train.labels[idx]
    reader = Predictor.from_checkpoint(args.checkpoint)
    for name, view in VIEWS.items():
        preds = reader.predict([png(view(d)) for d in digits])
        top = np.array([int(np.argmax(p.probabilities)) for p in preds])
        ok = np.array([p.status == "ok" for p in preds])
        print(
            f"{name:>6} ({len(preds)} validation digits): answered and right "
            f"{100 * (ok & (top == labels)).mean():.1f}%, flagged {100 * (~ok).mean():.1f}%"
        )


if __name__ == "__main__":
    main()
