"""Small and blurry digits, as low-resolution scans and thumbnails come, read through
``Predictor.predict``: MNIST validation digits (never test) saved as small PNGs.

    python benchmarks/small_images.py [--checkpoint RUN|WEIGHTS] [--n 1000] [--offset 1000]

The upscaling of small images' ink maps (``images.ink``: under 64 px a side, to at least
84 px) was chosen with this script on validation digits ``--offset 1000`` to 2000. Views, dark
ink on white: MNIST's own 28 px; 40 and 56 px (bicubic enlargements, softer edges); 20, 16, 12
and 8 px (box-reduced, like a low-resolution scan); cut to the ink's box (tight crops, whose
ink reaches the edges), also enlarged 4x; and coarse scans of a form's cell (binarised, fitted
to 32 px, ink counted in 2x2 or 4x4 blocks: 16 or 8 px that the digit fills). The tight and
scan views chose how ``images.ink`` finds the paper and the noise of images whose ink reaches
their edges, on digits ``--offset 2000`` to 3000. Enlarged views (an 8-20 px copy or an 8x8
scan enlarged to 64 or 128 px, bicubic: a small scan sent at a larger size) chose
``core.verdict.LOW_DETAIL`` on digits ``--offset 4000`` to 5000 with ``--non-digits``: 1,000
generated non-digits of the training families at the calibration seed and 1,000 Fashion-MNIST
validation items, in the same views. Prints answered-and-right and flagged shares per view
(and the shares of non-digits caught).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from imagegen import block_scan, tight_crop

from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.images.decode import MIN_SIDE
from mnist_digits.predict import Predictor
from mnist_digits.training.reader import CALIBRATION_PER_FAMILY, CALIBRATION_SEED, generated

VIEWS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "28 px": lambda im: im,
    "40 px": lambda im: im.resize((40, 40), Image.Resampling.BICUBIC),
    "56 px": lambda im: im.resize((56, 56), Image.Resampling.BICUBIC),
    "20 px": lambda im: im.resize((20, 20), Image.Resampling.BOX),
    "16 px": lambda im: im.resize((16, 16), Image.Resampling.BOX),
    "12 px": lambda im: im.resize((12, 12), Image.Resampling.BOX),
    "8 px": lambda im: im.resize((8, 8), Image.Resampling.BOX),
    "tight": lambda im: tight(im),
    "tight 4x": lambda im: enlarge(tight(im), 4),
    "scan 16": lambda im: Image.fromarray(block_scan(np.asarray(im), 2)),
    "scan 8": lambda im: Image.fromarray(block_scan(np.asarray(im), 4)),
    "20>64": lambda im: enlarged(im, 20, 64),
    "16>64": lambda im: enlarged(im, 16, 64),
    "12>64": lambda im: enlarged(im, 12, 64),
    "8>64": lambda im: enlarged(im, 8, 64),
    "16>128": lambda im: enlarged(im, 16, 128),
    "8>128": lambda im: enlarged(im, 8, 128),
    "scan 8>64": lambda im: enlarge(Image.fromarray(block_scan(np.asarray(im), 4)), 8),
}


def enlarged(im: Image.Image, small: int, side: int) -> Image.Image:
    """``im`` box-reduced to ``small`` px (a low-resolution scan), then enlarged to ``side``."""
    reduced = im.resize((small, small), Image.Resampling.BOX)
    return reduced.resize((side, side), Image.Resampling.BICUBIC)


def tight(im: Image.Image) -> Image.Image:
    """The digit cut to its ink's bounding box (dark ink on white): its ink reaches the edges."""
    return Image.fromarray(tight_crop(np.asarray(im)))


def enlarge(im: Image.Image, k: int) -> Image.Image:
    """``im`` k times larger, bicubic (a scan at a higher resolution)."""
    return im.resize((k * im.width, k * im.height), Image.Resampling.BICUBIC)


def png(image: Image.Image) -> bytes:
    """PNG bytes of an image."""
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def read(reader: Predictor, images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    """(top class, answered) per image; an image under MIN_SIDE on its longer side is refused,
    so it counts as flagged."""
    sized = [max(im.size) >= MIN_SIDE for im in images]
    preds = iter(reader.predict([png(im) for im, s in zip(images, sized, strict=True) if s]))
    top, ok = np.full(len(images), -1), np.zeros(len(images), dtype=bool)
    for i in np.flatnonzero(sized):
        p = next(preds)
        top[i], ok[i] = int(np.argmax(p.probabilities)), p.status == "ok"
    return top, ok


def non_digits() -> dict[str, list[Image.Image]]:
    """1,000 validation non-digits of each kind, as 28x28 dark ink on white."""
    made, _ = generated("train", False, CALIBRATION_PER_FAMILY, CALIBRATION_SEED)
    made = made[np.random.default_rng(0).choice(len(made), 1000, replace=False)]
    fashion = load_dataset("fashion-mnist", "train")
    _, val = split_indices(len(fashion))
    items = fashion.images[val.numpy()[:1000]]
    kinds = {"generated": made, "Fashion-MNIST": items}
    return {kind: [Image.fromarray(255 - a) for a in arr] for kind, arr in kinds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="run or weights (default: shipped)")
    parser.add_argument("--n", type=int, default=1000, help="validation digits")
    parser.add_argument("--offset", type=int, default=1000, help="first validation digit")
    parser.add_argument("--non-digits", action="store_true",
                        help="also read validation non-digits in each view")  # fmt: skip
    args = parser.parse_args()
    train = load_dataset("mnist", "train")
    _, val = split_indices(len(train))  # the validation split every run holds out
    idx = val.numpy()[args.offset : args.offset + args.n]
    digits = [Image.fromarray(255 - a) for a in train.images[idx]]  # dark ink on white
    labels = train.labels[idx]
    reader = Predictor.from_checkpoint(args.checkpoint)
    others = non_digits() if args.non_digits else {}
    for name, view in VIEWS.items():
        top, ok = read(reader, [view(d) for d in digits])
        caught = [
            f", {kind} caught {100 * (~read(reader, [view(x) for x in items])[1]).mean():.1f}%"
            for kind, items in others.items()
        ]
        print(
            f"{name:>9} ({len(digits)} validation digits): answered and right "
            f"{100 * (ok & (top == labels)).mean():.1f}%, flagged {100 * (~ok).mean():.1f}%"
            + "".join(caught)
        )


if __name__ == "__main__":
    main()
