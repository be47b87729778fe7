"""Our entries: a recipe file trained with the library, test accuracy reported after each epoch.

Training goes through ``training.loop.train`` exactly as ``mnist-digits train`` runs it;
the only addition is a callback that scores the epoch's eval model (the EMA when enabled) on the
test split. Those scores are a report for the time-to-threshold figures and select nothing: the
final model is the one best on validation, as in every run.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import torch

from mnist_digits.data.specs import MNIST
from mnist_digits.models.inference import infer
from mnist_digits.training.config import TrainConfig, load_config_file, resolve_config
from mnist_digits.training.loop import Progress, train
from mnist_digits.training.tensors import TrainData


def load_recipe(path: str) -> TrainConfig:
    """The recipe file resolved as ``mnist-digits train --config FILE`` resolves it."""
    return resolve_config(load_config_file(path), {})


def shrink(
    cfg: TrainConfig, data: TrainData, n_train: int, n_val: int
) -> tuple[TrainConfig, TrainData]:
    """The smoke test's cut: at most 2 epochs over the first ``n_train`` training images."""
    small = replace(
        data,
        x_train=data.x_train[:n_train],
        y_train=data.y_train[:n_train],
        x_val=data.x_val[:n_val],
        y_val=data.y_val[:n_val],
    )
    return replace(cfg, epochs=min(cfg.epochs, 2)), small


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Test accuracy of ``model``, leaving its train/eval mode as it found it."""
    was_training = model.training
    try:
        return int((infer(model, x, MNIST.contract).argmax(1) == y).sum()) / int(y.shape[0])
    finally:
        model.train(was_training)


class EpochReport:
    """The training callback: after each epoch, cumulative training seconds and test accuracy."""

    def __init__(self, name: str, x_test: torch.Tensor, y_test: torch.Tensor) -> None:
        self.name, self.x_test, self.y_test = name, x_test, y_test
        self.records: list[dict[str, float]] = []
        self.seconds = 0.0

    def __call__(self, event: Progress) -> None:
        if event.kind != "epoch_end" or event.stats is None or event.model is None:
            return
        s = event.stats
        self.seconds += s.seconds  # training steps only: validation and this report excluded
        acc = accuracy(event.model, self.x_test, self.y_test)
        self.records.append(
            {"epoch": s.epoch, "train_seconds": self.seconds, "test_acc": acc,
             "val_acc": s.val_acc, "loss": s.train_loss, "lr": s.lr}
        )  # fmt: skip
        print(f"  {self.name} epoch {s.epoch}/{event.epochs}: {self.seconds:.1f} s, "
              f"val {s.val_acc:.4f}, test {acc:.4f}", file=sys.stderr, flush=True)  # fmt: skip


def run_seed(
    name: str, cfg: TrainConfig, data: TrainData, test: tuple[torch.Tensor, torch.Tensor], tta: bool
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Train one seed of a recipe and score its validation-selected model on the test split.

    Args:
        name: the entry's name, for progress lines.
        cfg: the resolved recipe with this seed.
        data: normalised training and validation tensors.
        test: normalised test images (N, 1, 28, 28) and labels (N,).
        tta: also score it with test-time augmentation (five views, five times the inference).

    Returns:
        The seed's record, and its test-set class probabilities (N, 10) without (``plain``) and
        with (``tta``, when asked) test-time augmentation, for an ensemble of seeds.
    """
    x_test, y_test = test
    report = EpochReport(f"{name} seed {cfg.seed}", x_test, y_test)
    result = train(cfg, data, callback=report)
    probs = {"plain": infer(result.model, x_test, MNIST.contract).softmax(1)}
    if tta:
        probs["tta"] = infer(result.model, x_test, MNIST.contract, tta=True).softmax(1)
    record = {
        "seed": cfg.seed,
        "epochs": report.records,
        "best_epoch": result.best_epoch,
        "val_acc": result.best_val_acc,
        "final_test_acc": hits(probs["plain"], y_test),
        "tta_test_acc": hits(probs["tta"], y_test) if tta else None,
        "train_seconds": result.train_seconds,
        "images": int(data.x_train.shape[0]) * len(result.history),
    }
    return record, probs


def hits(probs: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of the argmax of class probabilities (N, 10) against labels (N,)."""
    return int((probs.argmax(1) == y).sum()) / int(y.shape[0])


def ensemble(probs: list[dict[str, torch.Tensor]], y: torch.Tensor) -> dict[str, float]:
    """Test accuracy of the seeds' mean class probabilities, per view (``plain``, ``tta``)."""
    views = [v for v in ("plain", "tta") if all(v in p for p in probs)]
    return {v: hits(torch.stack([p[v] for p in probs]).mean(0), y) for v in views}
