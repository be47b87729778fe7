"""Training on whole in-memory tensors: ``train(cfg, data) -> TrainResult``.

No DataLoader: the split lives in one tensor on the device, each epoch draws a ``randperm`` from
a seeded generator, and batches are index slices of it. Progress goes through a callback.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from mnist_digits.config import TrainConfig
from mnist_digits.data import Dataset, normalized_tensors
from mnist_digits.models import create_model

# Loss and accuracy are read back from the device only every few steps: a .item() per step
# would synchronise a GPU 430 times an epoch at batch 128.
LOG_EVERY = 20


@dataclass(frozen=True)
class TrainData:
    """Normalised tensors: x (N, 1, 28, 28) float32 and y (N,) int64, on one device."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


@dataclass(frozen=True)
class EpochStats:
    """Figures for one epoch; ``seconds`` counts training steps only, not validation."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float
    images_per_s: float


@dataclass(frozen=True)
class Progress:
    """A progress event: ``kind`` is ``step`` or ``epoch_end``."""

    kind: str
    epoch: int
    epochs: int
    step: int = 0
    steps: int = 0
    loss: float = 0.0
    acc: float = 0.0
    lr: float = 0.0
    images_per_s: float = 0.0
    stats: EpochStats | None = None


ProgressCallback = Callable[[Progress], None]


@dataclass
class TrainResult:
    """What training produced: the weights best on validation, and the history."""

    model: nn.Module
    last_state: dict[str, torch.Tensor]
    history: list[EpochStats] = field(default_factory=list)
    best_epoch: int = 0
    best_val_acc: float = 0.0
    train_seconds: float = 0.0


def pick_device(name: str) -> torch.device:
    """``auto`` means CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def split_indices(n: int, val_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random split of ``range(n)`` into (train, validation) index tensors."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def prepare_data(cfg: TrainConfig, dataset: Dataset, device: torch.device) -> TrainData:
    """Normalise the training split once and hold out ``cfg.val_size`` images for validation."""
    x, y = normalized_tensors(dataset, device=str(device))
    assert isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)
    train_idx, val_idx = split_indices(len(dataset), cfg.val_size, cfg.val_seed)
    train_idx, val_idx = train_idx.to(device), val_idx.to(device)
    return TrainData(x[train_idx], y[train_idx], x[val_idx], y[val_idx])


def epoch_batches(
    n: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> list[torch.Tensor]:
    """One epoch's index batches: a fresh ``randperm`` of ``range(n)`` cut into slices.

    Every index appears exactly once per epoch; the last batch may be smaller.
    """
    perm = torch.randperm(n, generator=generator).to(device)  # (n,)
    return list(perm.split(batch_size))


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD with Nesterov momentum, at ``cfg.lr``."""
    params = model.parameters()
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay
        )
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def lr_factor(cfg: TrainConfig, step: int, total: int) -> float:
    """Multiplier of the peak learning rate at ``step`` of ``total``: linear warm-up, then
    cosine (``onecycle``) or linear decay to zero, or flat (``constant``)."""
    if cfg.schedule == "constant":
        return 1.0
    warm = int(cfg.warmup * total)
    if step < warm:
        return (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    if cfg.schedule == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


@torch.inference_mode()
def evaluate_loss_acc(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on (x, y), in eval mode."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, x.shape[0], batch_size):
        logits = model(x[i : i + batch_size])  # (B, 10)
        loss_sum += float(F.cross_entropy(logits, y[i : i + batch_size], reduction="sum"))
        correct += int((logits.argmax(1) == y[i : i + batch_size]).sum())
    model.train(was_training)
    return loss_sum / x.shape[0], correct / x.shape[0]


def seed_everything(cfg: TrainConfig) -> torch.Generator:
    """Seed initialisation and return the generator that draws each epoch's shuffle."""
    torch.manual_seed(cfg.seed)
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(cfg.seed)


def train(
    cfg: TrainConfig, data: TrainData, callback: ProgressCallback | None = None
) -> TrainResult:
    """Train ``cfg.model`` on ``data`` and keep the weights best on validation.

    Args:
        cfg: the resolved recipe.
        data: normalised training and validation tensors on the target device.
        callback: receives a ``Progress`` every few steps and at the end of each epoch.

    Returns:
        The best model on validation (loaded), the last weights, and per-epoch history.
    """
    device = data.x_train.device
    shuffle = seed_everything(cfg)
    model = create_model(cfg.model).to(device)
    optimizer = make_optimizer(cfg, model)
    n = data.x_train.shape[0]
    steps = math.ceil(n / cfg.batch_size)
    total = steps * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(cfg, s, total))
    result = TrainResult(model=model, last_state={})
    best_state: dict[str, torch.Tensor] = {}
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        t0 = time.perf_counter()
        for step, idx in enumerate(epoch_batches(n, cfg.batch_size, shuffle, device)):
            xb, yb = data.x_train[idx], data.y_train[idx]  # (B, 1, 28, 28), (B,)
            logits = model(xb)  # (B, 10)
            loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sched.step()
            loss_sum += loss.detach() * yb.shape[0]
            correct += (logits.detach().argmax(1) == yb).sum()
            if callback and (step + 1) % LOG_EVERY == 0:
                seen = min((step + 1) * cfg.batch_size, n)
                elapsed = time.perf_counter() - t0
                callback(
                    Progress(
                        "step",
                        epoch,
                        cfg.epochs,
                        step + 1,
                        steps,
                        loss=float(loss_sum) / seen,
                        acc=float(correct) / seen,
                        lr=float(sched.get_last_lr()[0]),
                        images_per_s=seen / max(elapsed, 1e-9),
                    )
                )
        seconds = time.perf_counter() - t0
        result.train_seconds += seconds
        val_loss, val_acc = evaluate_loss_acc(model, data.x_val, data.y_val)
        stats = EpochStats(
            epoch,
            float(loss_sum) / n,
            float(correct) / n,
            val_loss,
            val_acc,
            float(sched.get_last_lr()[0]),
            seconds,
            n / seconds,
        )
        result.history.append(stats)
        if val_acc > result.best_val_acc or not best_state:
            result.best_epoch, result.best_val_acc = epoch, val_acc
            best_state = copy.deepcopy(model.state_dict())
        if callback:
            callback(Progress("epoch_end", epoch, cfg.epochs, steps, steps, stats=stats))
    result.last_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.eval()
    return result
