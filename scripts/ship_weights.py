"""Install a finished run's best checkpoint as the weights shipped in the package.

    python scripts/ship_weights.py RUN_DIR [RECIPE]

Copies RUN_DIR/best.safetensors to src/mnist_digits/weights/cnn-small.safetensors and writes
cnn-small.json beside it: the exact recipe, the metrics and the calibration the run recorded.
Refuses a run whose recipe has no file in recipes/ (the shipped weights must be reproducible).
With RECIPE, a run trained under another name is shipped as recipes/RECIPE.toml, provided
that file resolves to the run's configuration in every other field; the card keeps the name it
was trained under (``extra["trained_as"]``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from mnist_digits.core.files import atomic_path, atomic_write_json
from mnist_digits.models.checkpoint import (
    load_checkpoint,
    read_meta,
    resolve_checkpoint,
    save_checkpoint,
)
from mnist_digits.predict import SHIPPED

ROOT = Path(__file__).resolve().parents[1]


def relabel(run_dir: str, recipe: str) -> str | None:
    """Why ``run_dir`` cannot ship as ``recipe``, or None when its settings are the file's."""
    from mnist_digits.training.config import load_config_file, resolve_config

    file = ROOT / "recipes" / f"{recipe}.toml"
    if not file.is_file():
        return f"there is no {file}"
    wanted = resolve_config(load_config_file(file), {}).to_dict()
    # Resolved, so a field added after the run was trained reads as its default (what ran).
    ran = resolve_config(read_meta(run_dir).recipe, {}).to_dict()
    differ = sorted(k for k in wanted if k != "recipe" and ran.get(k) != wanted[k])
    return f"its settings differ from {file.name} in {', '.join(differ)}" if differ else None


def _install(run_dir: str, recipe: str | None) -> None:
    model, meta = load_checkpoint(run_dir)
    if recipe and recipe != meta.recipe.get("recipe"):
        extra = {**meta.extra, "trained_as": meta.recipe.get("recipe", "")}
        meta = replace(meta, recipe={**meta.recipe, "recipe": recipe}, extra=extra)
    with tempfile.TemporaryDirectory() as tmp:
        written = save_checkpoint(Path(tmp) / "best.safetensors", model, meta)
        with atomic_path(SHIPPED) as target:
            shutil.copyfile(written if recipe else resolve_checkpoint(run_dir), target)
    record = {k: v for k, v in asdict(read_meta(SHIPPED)).items() if k != "classes"}
    atomic_write_json(SHIPPED.with_suffix(".json"), record)


def main(run_dir: str, recipe: str | None = None) -> int:
    if recipe:
        problem = relabel(run_dir, recipe)
        if problem:
            print(f"ship_weights: {run_dir} cannot ship as {recipe}: {problem}", file=sys.stderr)
            return 2
    meta = read_meta(run_dir)
    name = recipe or meta.recipe.get("recipe", "")
    if not (ROOT / "recipes" / f"{name}.toml").is_file():
        print(
            f"ship_weights: {run_dir} was trained by recipe {name!r}, which has no file in "
            "recipes/; train with --config recipes/<name>.toml",
            file=sys.stderr,
        )
        return 2
    _install(run_dir, recipe)
    print(f"shipped {name}: test accuracy {meta.metrics['test_accuracy']:.4f} -> {SHIPPED}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
