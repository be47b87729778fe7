"""MNIST (or Fashion-MNIST) test saved as PNG files and read through ``Predictor.predict``, the
path people's images take, against ``evaluate``'s figure on the stored digits.

    python benchmarks/mnist_through_predict.py [--checkpoint RUN|WEIGHTS] [--dataset mnist]

Prints the top-1 accuracy whatever the verdict, the share answered and right, and the share
flagged (not a digit or unsure). For Fashion-MNIST only the flagged share means anything.
"""

from __future__ import annotations

import argparse

import numpy as np

from mnist_digits.evaluation.users import dataset_items
from mnist_digits.predict import Predictor

CHUNK = 500  # images per predict call: one batch through the model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="run or weights (default: shipped)")
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    args = parser.parse_args()
    items = dataset_items(args.dataset, 10_000, None)  # (PNG bytes, label) of the test split
    reader = Predictor.from_checkpoint(args.checkpoint)
    preds = []
    for start in range(0, len(items), CHUNK):
        preds += reader.predict([data for data, _ in items[start : start + CHUNK]])
    labels = np.array([label for _, label in items])
    top = np.array([int(np.argmax(p.probabilities)) for p in preds])
    ok = np.array([p.status == "ok" for p in preds])
    print(
        f"{args.dataset} test ({len(items)} PNGs) through predict: "
        f"top-1 {100 * (top == labels).mean():.2f}%, answered and right "
        f"{100 * (ok & (top == labels)).mean():.2f}%, flagged {100 * (~ok).mean():.2f}%"
    )


if __name__ == "__main__":
    main()
