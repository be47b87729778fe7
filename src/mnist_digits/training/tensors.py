"""The training split as whole tensors on the device: normalised once, validation held out,
and each epoch's batches as index slices of a fresh ``randperm``."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import ConfigError
from mnist_digits.data.dataset import Dataset, normalized_tensors
from mnist_digits.data.split import split_indices
from mnist_digits.training.config import TrainConfig


@dataclass(frozen=True)
class TrainData:
    """Tensors normalised by ``contract``: x (N, 1, 28, 28) float32, y (N,) int64, one device.

    ``x_outlier`` holds non-digit images (Fashion-MNIST's training split less the part held
    out for choosing the reject threshold, normalised by the digits' contract) for outlier
    exposure.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    contract: InputContract
    x_outlier: torch.Tensor | None = None


def pick_device(name: str) -> torch.device:
    """``auto`` means CUDA when available, else CPU; asking for CUDA without it is refused."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: no CUDA GPU is visible here; use --device cpu")
    return torch.device(name)


def prepare_data(
    cfg: TrainConfig, dataset: Dataset, device: torch.device, outliers: Dataset | None = None
) -> TrainData:
    """Normalise the training split once and hold out ``cfg.val_size`` images for validation.

    ``outliers`` (non-digits) are normalised with the digits' contract, and as many of them
    as validation digits are left out, for choosing the reject threshold.
    """
    x, y = normalized_tensors(dataset, device=str(device))
    train_idx, val_idx = split_indices(len(dataset), cfg.val_size, cfg.val_seed)
    train_idx, val_idx = train_idx.to(device), val_idx.to(device)
    xo = None
    if outliers is not None:
        xo_all, _ = normalized_tensors(outliers, str(device), dataset.contract)
        o_train, _ = split_indices(len(outliers), cfg.val_size, cfg.val_seed)
        xo = xo_all[o_train.to(device)]
    return TrainData(x[train_idx], y[train_idx], x[val_idx], y[val_idx], dataset.contract, xo)


def epoch_batches(
    n: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> list[torch.Tensor]:
    """One epoch's index batches: a fresh ``randperm`` of ``range(n)`` cut into slices.

    Every index appears exactly once per epoch; the last batch may be smaller.
    """
    perm = torch.randperm(n, generator=generator).to(device)  # (n,)
    return list(perm.split(batch_size))
