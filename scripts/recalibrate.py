"""Choose a checkpoint's reject threshold again on validation data, without training.

    python scripts/recalibrate.py RUN_DIR|CHECKPOINT

Run it after the preprocessing for users' images changes, on the run the shipped weights came
from, then ship them again: ``python scripts/ship_weights.py RUN_DIR RECIPE`` and
``make shipped-onnx``. Prints the calibration before and after.
"""

from __future__ import annotations

import sys

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.models.checkpoint import read_meta
from mnist_digits.training.recalibrate import recalibrate

KEYS = (
    "temperature",
    "reject_threshold",
    "val_digits_flagged",
    "val_outliers_caught",
    "low_res_threshold",
    "val_low_res_flagged",
)


def main(path: str) -> int:
    try:
        before = read_meta(path).extra
        after = recalibrate(path).to_dict()
    except MnistDigitsError as err:
        print(f"recalibrate: {err}", file=sys.stderr)
        return 1
    for key in KEYS:
        print(f"{key}: {before.get(key)} -> {after[key]}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
