"""Compare recipe variants on validation only: the figures a recipe is chosen by.

Each variant is a recipe file plus ``key=value`` overrides; every seed trains through
``training.loop.train`` and is scored on the held-out validation split after each epoch. The
test split is never loaded. Printed per variant: the best validation accuracy (mean ± std, min,
max over seeds), the training seconds, and the mean training seconds until validation first
reached ``--at``.

    python benchmarks/recipe_val.py recipes/cnn-small-fast.toml --seeds 100-104 \\
        --variant "" --variant "lr=0.02" --at 0.99
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tomllib
from typing import Any

import torch
from ours import load_recipe

from mnist_digits.data.dataset import load_dataset
from mnist_digits.training.config import TrainConfig, load_config_file, resolve_config
from mnist_digits.training.loop import Progress, train
from mnist_digits.training.tensors import prepare_data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("recipe", help="the recipe file every variant starts from")
    p.add_argument("--variant", action="append", default=[],
                   help='space-separated key=value overrides, TOML values; "" is the recipe '
                        "itself (default: the recipe itself only)")  # fmt: skip
    p.add_argument("--seeds", default="100-102", help="seed range A-B (default: 100-102)")
    p.add_argument("--at", type=float, default=0.99,
                   help="validation accuracy to time (default: 0.99)")  # fmt: skip
    p.add_argument("--threads", type=int, default=2, help="PyTorch threads (default: 2)")
    return p.parse_args(argv)


def overrides(text: str) -> dict[str, Any]:
    """``"lr=0.02 epochs=2"`` as {"lr": 0.02, "epochs": 2}, each value read as TOML."""
    return {k: v for item in text.split() for k, v in tomllib.loads(item).items()}


def variant_config(recipe: str, text: str, seed: int) -> TrainConfig:
    """The recipe file with the overrides ``text`` and ``seed`` added, resolved as a file is:
    values coerced to their fields' types, ranges checked, unknown keys refused (ConfigError)."""
    return resolve_config({**load_config_file(recipe), **overrides(text), "seed": seed}, {})


def run_variant(args: argparse.Namespace, text: str, data: Any) -> dict[str, float]:
    """Train every seed of one variant; its validation figures and training seconds."""
    lo, hi = (int(s) for s in args.seeds.split("-"))
    best, seconds, reach = [], [], []
    for seed in range(lo, hi + 1):
        cfg = variant_config(args.recipe, text, seed)
        trace: list[tuple[float, float]] = []  # (cumulative seconds, val acc) per epoch

        def on_epoch(e: Progress, trace: list[tuple[float, float]] = trace) -> None:
            if e.kind == "epoch_end" and e.stats is not None:
                done = trace[-1][0] if trace else 0.0
                trace.append((done + e.stats.seconds, e.stats.val_acc))

        result = train(cfg, data, callback=on_epoch)
        best.append(result.best_val_acc)
        seconds.append(result.train_seconds)
        reach.append(next((s for s, a in trace if a >= args.at), float("nan")))
    return {
        "mean": statistics.mean(best),
        "std": statistics.stdev(best) if len(best) > 1 else 0.0,
        "min": min(best),
        "max": max(best),
        "seconds": statistics.mean(seconds),
        "reach": statistics.mean(reach),
        "reached": sum(r == r for r in reach),
        "n": len(reach),
    }


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    base = load_recipe(args.recipe)
    data = prepare_data(base, load_dataset(base.dataset, "train"), torch.device("cpu"))
    for text in args.variant or [""]:
        r = run_variant(args, text, data)
        print(f"{text or '(recipe)':40s} val {100 * r['mean']:.2f} ± {100 * r['std']:.2f} "
              f"({100 * r['min']:.2f}-{100 * r['max']:.2f})  train {r['seconds']:.1f} s  "
              f"to {100 * args.at:.2f}%: {r['reach']:.1f} s ({r['reached']}/{r['n']} seeds)",
              flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
