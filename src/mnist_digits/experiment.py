"""A training run on disk: config, per-epoch metrics, checkpoints and a summary in one folder.

Layout of a run directory:
    config.json        the resolved TrainConfig
    metrics.jsonl      one JSON object per epoch (train/val loss and accuracy, lr, speed)
    best.safetensors   weights best on validation, with self-describing metadata
    last.safetensors   weights after the last epoch
    summary.json       the final figures, test accuracy included (reported, never used to choose)
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from mnist_digits.checkpoint import BEST, LAST, CheckpointMeta, git_commit, save_checkpoint
from mnist_digits.config import TrainConfig
from mnist_digits.data import get_spec, load_dataset, normalized_tensors
from mnist_digits.data.store import atomic_write
from mnist_digits.errors import ConfigError
from mnist_digits.evaluate import evaluate
from mnist_digits.train import (
    EpochStats,
    Progress,
    ProgressCallback,
    TrainResult,
    pick_device,
    prepare_data,
    train,
)


@dataclass(frozen=True)
class RunSummary:
    """The figures of a finished run (fractions in 0..1, seconds of training steps only)."""

    model: str
    epochs: int
    seed: int
    train_seconds: float
    best_epoch: int
    val_accuracy: float
    test_accuracy: float
    test_loss: float
    run_dir: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_run_dir(model: str, root: str | Path = "runs") -> Path:
    """``runs/<YYYYmmdd-HHMMSS>-<model>``."""
    return Path(root) / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{model}"


def prepare_run_dir(path: str | Path, force: bool = False) -> Path:
    """Create the run folder, refusing a non-empty one unless ``force``."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"--out {p} is a file; give a folder for the run")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise ConfigError(f"{p} is not empty; choose another --out or pass --force to overwrite")
    p.mkdir(parents=True, exist_ok=True)
    return p


def _write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def _metrics_logger(run_dir: Path, callback: ProgressCallback | None) -> ProgressCallback:
    log = run_dir / "metrics.jsonl"
    log.write_text("")

    def on_progress(event: Progress) -> None:
        if event.kind == "epoch_end" and event.stats is not None:
            with log.open("a") as handle:
                handle.write(json.dumps(asdict(event.stats)) + "\n")
        if callback:
            callback(event)

    return on_progress


def run_training(
    cfg: TrainConfig,
    run_dir: str | Path,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    callback: ProgressCallback | None = None,
) -> RunSummary:
    """Train, save checkpoints and evaluate once on the test split.

    The best checkpoint is chosen on the validation split; the test split is only reported.
    """
    out = prepare_run_dir(run_dir, force)
    device = pick_device(cfg.device)
    _write_json(out / "config.json", cfg.to_dict())
    train_split = load_dataset(cfg.dataset, "train", data_dir=data_dir)
    test_split = load_dataset(cfg.dataset, "test", data_dir=data_dir)
    result = train(cfg, prepare_data(cfg, train_split, device), _metrics_logger(out, callback))
    x_test, y_test = normalized_tensors(test_split, str(device))
    assert isinstance(x_test, torch.Tensor) and isinstance(y_test, torch.Tensor)
    test = evaluate(result.model, x_test, y_test)
    summary = RunSummary(
        model=cfg.model,
        epochs=cfg.epochs,
        seed=cfg.seed,
        train_seconds=round(result.train_seconds, 3),
        best_epoch=result.best_epoch,
        val_accuracy=result.best_val_acc,
        test_accuracy=test.accuracy,
        test_loss=test.loss,
        run_dir=str(out),
    )
    _save_checkpoints(out, cfg, result, summary, train_split.classes)
    _write_json(out / "summary.json", summary.to_dict())
    return summary


def _save_checkpoints(
    out: Path, cfg: TrainConfig, result: TrainResult, summary: RunSummary, classes: tuple[str, ...]
) -> None:
    spec = get_spec(cfg.dataset)
    metrics = {
        "val_accuracy": summary.val_accuracy,
        "test_accuracy": summary.test_accuracy,
        "test_loss": summary.test_loss,
        "best_epoch": summary.best_epoch,
        "train_seconds": summary.train_seconds,
    }
    meta = CheckpointMeta(
        model=cfg.model,
        model_config={},
        mean=spec.mean,
        std=spec.std,
        classes=classes,
        dataset=cfg.dataset,
        metrics=metrics,
        recipe=cfg.to_dict(),
        git_commit=git_commit(),
    )
    save_checkpoint(out / BEST, result.model, meta)
    last = copy.deepcopy(result.model)
    last.load_state_dict(result.last_state)
    save_checkpoint(out / LAST, last, replace(meta, metrics={"epoch": cfg.epochs}))


def read_history(run_dir: str | Path) -> list[EpochStats]:
    """The per-epoch metrics of a run, as written during training."""
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return [EpochStats(**json.loads(line)) for line in lines if line.strip()]
