"""Install a finished run's best checkpoint as the weights shipped in the package.

    python scripts/ship_weights.py RUN_DIR

Copies RUN_DIR/best.safetensors to src/mnist_digits/weights/cnn-small.safetensors and writes
cnn-small.json beside it: the exact recipe, the metrics and the calibration the run recorded.
Refuses a run whose recipe has no file in recipes/ (the shipped weights must be reproducible).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from mnist_digits.core.files import atomic_path, atomic_write_json
from mnist_digits.models.checkpoint import read_meta, resolve_checkpoint
from mnist_digits.predict import SHIPPED

ROOT = Path(__file__).resolve().parents[1]


def main(run_dir: str) -> int:
    meta = read_meta(run_dir)
    name = meta.recipe.get("recipe", "")
    if not (ROOT / "recipes" / f"{name}.toml").is_file():
        print(
            f"ship_weights: {run_dir} was trained by recipe {name!r}, which has no file in "
            "recipes/; train with --config recipes/<name>.toml",
            file=sys.stderr,
        )
        return 2
    record = {k: v for k, v in asdict(meta).items() if k != "classes"}
    with atomic_path(SHIPPED) as tmp:
        shutil.copyfile(resolve_checkpoint(run_dir), tmp)
    atomic_write_json(SHIPPED.with_suffix(".json"), record)
    print(f"shipped {name}: test accuracy {meta.metrics['test_accuracy']:.4f} -> {SHIPPED}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
