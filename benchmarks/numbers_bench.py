"""Reading written numbers exactly right: apart, every digit touching, and a mix.

    python benchmarks/numbers_bench.py [--seeds 1000-1199] [--checkpoint RUN_DIR|WEIGHTS]

Numbers of 2-5 digits (one per seed, drawn from ``default_rng(seed)``) are drawn by
``tests/imagegen.make_number_image``; single digits 0-9 go through ``predict_number`` too
(each must read as itself). Seeds 0-119 chose the reader's penalties; 1000-1199 report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from imagegen import make_number_image

from mnist_digits.predict import Predictor


def number_for(seed: int) -> tuple[str, list[int]]:
    """The number of seed ``seed`` and the indices that touch their left neighbour in the mix."""
    rng = np.random.default_rng(seed + 10_000)  # not the image's own seed
    number = "".join(str(d) for d in rng.integers(0, 10, rng.integers(2, 6)))
    mix = [i for i in range(1, len(number)) if rng.random() < 0.5]
    return number, mix


def measure(predictor: Predictor, seeds: range, verbose: bool = False) -> dict[str, float]:
    """Share of images read exactly right for each kind, over ``seeds``."""
    right = {"apart": 0, "touching": 0, "mixed": 0, "single": 0}
    start = time.perf_counter()
    for seed in seeds:
        number, mix = number_for(seed)
        kinds = {"apart": False, "touching": True, "mixed": mix}
        for kind, touching in kinds.items():
            read = predictor.predict_number(make_number_image(number, seed, touching=touching))
            right[kind] += read.digits == number
            if verbose and read.digits != number:
                print(f"{kind} seed {seed}: {number} read {read.digits}")
        digit = str(seed % 10)
        right["single"] += predictor.predict_number(make_number_image(digit, seed)).digits == digit
    seconds = (time.perf_counter() - start) / (4 * len(seeds))
    return {k: v / len(seeds) for k, v in right.items()} | {"ms_per_image": 1000 * seconds}


def main() -> None:
    """Print the exact-match shares for a seed range."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1000-1199", help="first-last (default: 1000-1199)")
    parser.add_argument("--checkpoint", default=None, help="default: the shipped weights")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    first, last = (int(s) for s in args.seeds.split("-"))
    predictor = Predictor.from_checkpoint(args.checkpoint)
    for kind, value in measure(predictor, range(first, last + 1), args.verbose).items():
        print(f"{kind:14s} {value:.4f}")


if __name__ == "__main__":
    main()
