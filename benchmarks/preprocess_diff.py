"""How many images a change to the preprocessing reads differently: run it on both versions.

    python benchmarks/preprocess_diff.py --save OLD.npz        # with the old code importable
    python benchmarks/preprocess_diff.py --save NEW.npz --against OLD.npz

Every image goes through ``images.render.to_mnist``; the saved file holds each image's 28x28
input. ``--against`` prints, per set, how many of them differ from the other file's (any
pixel). The sets: 500 MNIST validation digits in each view of ``benchmarks/small_images.py``
and light on dark; 600 of the generator's users' images (seed 12345); 150 numbers; 300 of every
generated family; 100 photos of every kind of ``benchmarks/frames_bench.py``. No test image.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import imagegen
from frames_bench import KINDS as PHOTOS
from small_images import VIEWS

from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.images.decode import MIN_SIDE
from mnist_digits.images.render import to_mnist
from mnist_digits.synthetic.families import FAMILIES, render_family


def image_sets() -> Iterator[tuple[str, list[Image.Image]]]:
    """(name, images) for every set, in a fixed order."""
    data = load_dataset("mnist", "train")
    _, val = split_indices(len(data.labels))
    digits = [Image.fromarray(255 - a) for a in data.images[val.numpy()[:500]]]
    for name, view in VIEWS.items():
        yield f"MNIST validation, {name}", [view(im) for im in digits]
    yield "MNIST validation, light on dark", [ImageOps.invert(im) for im in digits]
    yield "users' images", [im for im, _, _ in imagegen.make_user_images(600, 12345)]
    yield "numbers", [imagegen.make_number_image(str(s * 37 % 1000), s) for s in range(150)]
    for family in FAMILIES:
        yield f"family {family}", [im for im, _ in render_family(family, 300, 0)]
    for kind, make in PHOTOS.items():
        yield f"photos, {kind}", [make(s % 10, s) for s in range(100, 200)]


def inputs(images: list[Image.Image]) -> np.ndarray:
    """(n, 28, 28) uint8 of each image's model input; zeros for one too small to read."""
    out = np.zeros((len(images), 28, 28), dtype=np.uint8)
    for i, im in enumerate(images):
        if max(im.size) >= MIN_SIDE:
            out[i] = to_mnist(im).image28
    return out


def main() -> None:
    """Save every set's inputs; with ``--against``, print how many changed per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", required=True, help="where to write this version's inputs")
    parser.add_argument("--against", default=None, help="the other version's file to compare")
    args = parser.parse_args()
    sets = {name: inputs(images) for name, images in image_sets()}
    np.savez_compressed(args.save, **sets)
    if args.against is None:
        return
    other = np.load(args.against)
    total = changed = 0
    for name, arr in sets.items():
        if name not in other:
            print(f"{name:42s} not in {args.against}")
            continue
        diff = int(np.count_nonzero((arr != other[name]).any(axis=(1, 2))))
        total, changed = total + len(arr), changed + diff
        print(f"{name:42s} {diff:4d} of {len(arr)} changed")
    print(f"{'all':42s} {changed:4d} of {total} changed")


if __name__ == "__main__":
    main()
