"""Reading written numbers exactly right: apart, every digit touching, and a mix.

    python benchmarks/numbers_bench.py [--seeds 1000-1199] [--checkpoint RUN_DIR|WEIGHTS]
        [--mnist val|test]

Numbers of 2-5 digits (one per seed, drawn from ``default_rng(seed)``) are drawn by
``tests/imagegen.make_number_image``; single digits 0-9 go through ``predict_number`` too
(each must read as itself). The same numbers are also written with MNIST's own digits
(``imagegen.mnist_number_image``: wider, broken and unevenly sized, as people write), apart
and touching, and one MNIST digit alone. Those digits come from the validation part (the
default) or, for a report, the test split. Seeds 0-199 chose the reader's penalties, on
validation digits; 1000-1199 report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from imagegen import make_number_image, mnist_digits_for, mnist_number_image, number_for

from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.predict import Predictor

KINDS = ("apart", "touching", "mixed", "single", "mnist apart", "mnist touching", "mnist single")


class MnistDigits:
    """MNIST digits of one part, by class: the validation part of train, or test."""

    def __init__(self, part: str) -> None:
        data = load_dataset("mnist", "test" if part == "test" else "train")
        index = (
            np.arange(len(data.labels)) if part == "test" else split_indices(len(data.labels))[1]
        )
        self.images = data.images
        self.by_class = {c: index[data.labels[index] == c] for c in range(10)}

    def pick(self, number: str, seed: int) -> list[np.ndarray]:
        """One (28, 28) digit per character, the same ones for the same seed."""
        return mnist_digits_for(number, seed, self.images, self.by_class)


def cases(seed: int, mnist: MnistDigits):  # type: ignore[no-untyped-def]
    """(kind, true text, image) for every kind of ``KINDS`` at ``seed``."""
    number, mix = number_for(seed)
    digit = str(seed % 10)
    yield "apart", number, make_number_image(number, seed)
    yield "touching", number, make_number_image(number, seed, touching=True)
    yield "mixed", number, make_number_image(number, seed, touching=mix)
    yield "single", digit, make_number_image(digit, seed)
    digits = mnist.pick(number, seed)
    yield "mnist apart", number, mnist_number_image(digits, seed)
    yield "mnist touching", number, mnist_number_image(digits, seed, touching=True)
    yield "mnist single", digit, mnist_number_image(mnist.pick(digit, seed), seed)


def measure(
    predictor: Predictor, seeds: range, mnist: MnistDigits, verbose: bool = False
) -> dict[str, float]:
    """Share of images read exactly right for each kind, over ``seeds``."""
    right = dict.fromkeys(KINDS, 0)
    start = time.perf_counter()
    for seed in seeds:
        for kind, text, image in cases(seed, mnist):
            read = predictor.predict_number(image)
            right[kind] += read.digits == text
            if verbose and read.digits != text:
                print(f"{kind} seed {seed}: {text} read {read.digits}")
    seconds = (time.perf_counter() - start) / (len(KINDS) * len(seeds))
    return {k: v / len(seeds) for k, v in right.items()} | {"ms_per_image": 1000 * seconds}


def main() -> None:
    """Print the exact-match shares for a seed range."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1000-1199", help="first-last (default: 1000-1199)")
    parser.add_argument("--checkpoint", default=None, help="default: the shipped weights")
    parser.add_argument(
        "--mnist", choices=("val", "test"), default="val", help="MNIST digits' part (default: val)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    first, last = (int(s) for s in args.seeds.split("-"))
    predictor = Predictor.from_checkpoint(args.checkpoint)
    mnist = MnistDigits(args.mnist)
    for kind, value in measure(predictor, range(first, last + 1), mnist, args.verbose).items():
        print(f"{kind:14s} {value:.4f}")


if __name__ == "__main__":
    main()
