"""Digits scanned by another collection, read through ``Predictor.predict``: a cross-dataset
check only. Nothing here is trained on, tuned on or chosen by.

    python benchmarks/scanned_digits.py [--checkpoint RUN|WEIGHTS]

scikit-learn's ``load_digits`` (1,797 digits by 43 writers, UCI's optical recognition set,
shipped inside scikit-learn, so no download) holds 32×32 binary scans reduced to 8×8 blocks of
0-16 ink pixels. They are read as people would send them, dark ink on white paper:

- ``8x8``: the blocks as an 8×8 grey image, as stored;
- ``64x64 smooth``: upscaled 8× with bicubic interpolation, like a blurry scan;
- ``64x64 blocky``: upscaled 8× by repeating pixels.

Prints top-1 accuracy whatever the verdict, the share answered and right, and the share
flagged (not a digit or unsure) for each.
"""

from __future__ import annotations

import argparse
import io

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from mnist_digits.predict import Predictor

CHUNK = 500  # images per predict call


def png(pixels: np.ndarray, side: int, resample: Image.Resampling) -> bytes:
    """A digit's (8, 8) 0..16 ink counts as a dark-on-white PNG of side × side pixels."""
    grey = (255 - pixels * (255 / 16)).round().astype(np.uint8)  # (8, 8): ink dark
    image = Image.fromarray(grey)
    if side != 8:
        image = image.resize((side, side), resample)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def score(reader: Predictor, images: list[bytes], labels: np.ndarray) -> str:
    """Top-1, answered-and-right and flagged shares, as one line."""
    preds = []
    for start in range(0, len(images), CHUNK):
        preds += reader.predict(images[start : start + CHUNK])
    top = np.array([int(np.argmax(p.probabilities)) for p in preds])
    ok = np.array([p.status == "ok" for p in preds])
    return (
        f"top-1 {100 * (top == labels).mean():.2f}%, answered and right "
        f"{100 * (ok & (top == labels)).mean():.2f}%, flagged {100 * (~ok).mean():.2f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="run or weights (default: shipped)")
    args = parser.parse_args()
    digits = load_digits()
    blocks, labels = digits.images, digits.target  # (1797, 8, 8) 0..16, (1797,)
    reader = Predictor.from_checkpoint(args.checkpoint)
    views = {
        "8x8": (8, Image.Resampling.NEAREST),
        "64x64 smooth": (64, Image.Resampling.BICUBIC),
        "64x64 blocky": (64, Image.Resampling.NEAREST),
    }
    for name, (side, resample) in views.items():
        images = [png(b, side, resample) for b in blocks]
        print(f"scikit-learn digits ({len(images)}), {name}: {score(reader, images, labels)}")


if __name__ == "__main__":
    main()
