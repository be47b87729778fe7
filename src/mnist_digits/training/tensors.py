"""The training split as whole tensors on the device: normalised once, validation held out,
and each epoch's batches as index slices of a fresh ``randperm``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import ConfigError
from mnist_digits.data.dataset import Dataset, normalized_tensors
from mnist_digits.data.split import split_indices
from mnist_digits.training.config import TrainConfig
from mnist_digits.training.reader import ReaderArrays


@dataclass(frozen=True)
class TrainData:
    """Tensors normalised by ``contract``: x (N, 1, 28, 28) float32, y (N,) int64, one device.

    ``x_pre`` (optional) is ``x_train`` image for image as the preprocessing for users' images
    leaves it, for train–serve parity. ``x_outlier`` holds non-digits (Fashion-MNIST's
    training split less the part held out for choosing the reject threshold, and generated
    non-digits) for outlier exposure.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    contract: InputContract
    x_outlier: torch.Tensor | None = None
    x_pre: torch.Tensor | None = None


def pick_device(name: str) -> torch.device:
    """``auto`` means CUDA when available, else CPU; asking for CUDA without it is refused."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: no CUDA GPU is visible here; use --device cpu")
    return torch.device(name)


def prepare_data(
    cfg: TrainConfig,
    dataset: Dataset,
    device: torch.device,
    outliers: Dataset | None = None,
    extra: ReaderArrays | None = None,
) -> TrainData:
    """Normalise the training split once and hold out ``cfg.val_size`` images for validation.

    ``outliers`` (non-digits) are normalised with the digits' contract, and as many of them
    as validation digits are left out, for choosing the reject threshold. ``extra`` adds the
    preprocessed twins, printed digits and generated non-digits a reader trains on.
    """
    c = dataset.contract
    x, y = normalized_tensors(dataset, device=str(device))
    train_idx, val_idx = (
        i.to(device) for i in split_indices(len(dataset), cfg.val_size, cfg.val_seed)
    )
    extra = extra or ReaderArrays(None, None, None, None)
    x_train, y_train = x[train_idx], y[train_idx]
    x_pre = _tensor(extra.train_pre, c, device)
    x_pre = x_pre[train_idx] if x_pre is not None else None
    if extra.printed is not None:
        printed = c.normalize(torch.from_numpy(extra.printed[0]).to(device))  # own twins
        x_train = torch.cat([x_train, printed])
        x_pre = torch.cat([x_pre, printed]) if x_pre is not None else None  # stays aligned
        y_train = torch.cat([y_train, torch.from_numpy(extra.printed[1]).to(device)])
    xo = None
    if outliers is not None:
        o_train, _ = split_indices(len(outliers), cfg.val_size, cfg.val_seed)
        source = extra.outliers_pre if extra.outliers_pre is not None else outliers.images
        xo = _tensor(np.asarray(source)[o_train.numpy()], c, device)
    xo = _cat(xo, _tensor(extra.negatives, c, device))
    return TrainData(x_train, y_train, x[val_idx], y[val_idx], c, xo, x_pre)


def _tensor(
    images: np.ndarray | None, c: InputContract, device: torch.device
) -> torch.Tensor | None:
    """uint8 images (N, 28, 28) normalised by ``c`` on ``device``: (N, 1, 28, 28), or None."""
    if images is None:
        return None
    return c.normalize(torch.from_numpy(np.array(images)).to(device))


def _cat(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    if a is None or b is None:
        return a if b is None else b
    return torch.cat([a, b])


def epoch_batches(
    n: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> list[torch.Tensor]:
    """One epoch's index batches: a fresh ``randperm`` of ``range(n)`` cut into slices.

    Every index appears exactly once per epoch; the last batch may be smaller.
    """
    perm = torch.randperm(n, generator=generator).to(device)  # (n,)
    return list(perm.split(batch_size))
