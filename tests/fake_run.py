"""A fake training run for evaluation, plot and report tests: no real data, no training.

The run folder holds what training writes (config.json, metrics.jsonl with three made-up
epochs, summary.json, best.safetensors of a randomly initialised 784-8-8-10 MLP) and points
at the ``tiny`` dataset from conftest: 12 training images (4 held out for validation) and 5
test images of random noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from mnist_digits.core.card import CheckpointMeta
from mnist_digits.core.contract import InputContract
from mnist_digits.models.checkpoint import BEST, save_checkpoint
from mnist_digits.models.registry import create_model

RECIPE = {"model": "mlp-seed", "epochs": 3, "batch_size": 4, "lr": 0.01, "val_size": 4}


@dataclass(frozen=True)
class FakeRun:
    run_dir: Path
    data_dir: Path


def make_fake_run(tiny, root: Path, name: str = "run", seed: int = 0) -> FakeRun:
    """Write a fake run into ``root/name``, and the tiny dataset into ``root/data`` unless
    ``tiny`` is None (for tests that only need the run's files)."""
    data_dir = root / "data"
    if tiny is not None and not (data_dir / "tiny").is_dir():
        tiny.write(data_dir / "tiny")
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(RECIPE))
    epochs = [
        {
            "epoch": e,
            "train_loss": 2.3 / e,
            "train_acc": 0.2 * e,
            "val_loss": 2.0 / e,
            "val_acc": 0.25 * e,
            "lr": 0.01 / e,
            "lr_trace": [0.012 / e, 0.011 / e, 0.01 / e],  # logged 3 times, the last at the end
            "seconds": 0.1,
            "images_per_s": 1000.0,
        }
        for e in (1, 2, 3)
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in epochs))
    (run / "summary.json").write_text(json.dumps({"train_seconds": 0.3, "epochs": 3}))
    torch.manual_seed(seed)
    model = create_model("mlp-seed", width=8)
    meta = CheckpointMeta(
        "mlp-seed",
        {"width": 8},
        InputContract(0.5, 0.29),
        tuple("0123456789"),
        dataset="tiny",
        recipe={**RECIPE, "val_seed": 0},
    )
    save_checkpoint(run / BEST, model, meta)
    return FakeRun(run, data_dir)
