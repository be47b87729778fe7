"""Loading a split as whole arrays, and turning it into normalised tensors once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import DataError
from mnist_digits.data.idx import read_idx
from mnist_digits.data.sources import ProgressFn
from mnist_digits.data.specs import DATASETS, SPLITS
from mnist_digits.data.store import data_home, ensure_dataset, get_spec
from mnist_digits.data.userset import is_export, read_export

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Dataset:
    """One split of a dataset, whole, in memory.

    Attributes:
        name: the dataset name.
        split: ``train`` or ``test``.
        images: (N, 28, 28) uint8, white ink (high) on black.
        labels: (N,) uint8 class indices.
        classes: class names, index = label.
        contract: the dataset's input contract (its training split's mean and std).
    """

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    contract: InputContract

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def load_dataset(
    name: str = "mnist",
    split: str = "train",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    source_dir: str | os.PathLike[str] | None = None,
    progress: ProgressFn | None = None,
) -> Dataset:
    """Load one split, fetching and verifying the files first when needed.

    Args:
        name: ``mnist`` or ``fashion-mnist``, or the path of a samples export folder
            (``data.userset``: read in place, verified against its own checksums).
        split: ``train`` or ``test``.
        data_dir: the cache root; see :func:`mnist_digits.data.data_home`.
        source_dir: a folder with the four files, tried before the network.
        progress: download progress callback.

    Returns:
        The split as uint8 arrays with the dataset's classes and statistics.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    if name not in DATASETS and is_export(name):  # a samples export: its own checksums
        export = read_export(name)
        images, labels = (export.arrays[split, kind] for kind in ("images", "labels"))
        spec = export.spec
        return Dataset(spec.name, split, images, labels, spec.classes, spec.contract)
    spec = get_spec(name)
    ensure_dataset(name, data_dir=data_dir, source_dir=source_dir, progress=progress)
    directory = data_home(data_dir) / spec.name
    arrays = {}
    for kind in ("images", "labels"):
        file = spec.file(split, kind)
        arrays[kind] = read_idx(
            directory / file.name, ndim=file.ndim, count=file.count, item_shape=file.item_shape
        )
    return Dataset(
        spec.name, split, arrays["images"], arrays["labels"], spec.classes, spec.contract
    )


def normalized_tensors(
    dataset: Dataset, device: str = "cpu", contract: InputContract | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole-split tensors, normalised once: x (N, 1, 28, 28) float32, y (N,) int64.

    ``contract`` defaults to the dataset's own; pass a checkpoint's to evaluate a model on
    another dataset with the normalisation it was trained with.
    """
    import torch

    x = torch.from_numpy(np.array(dataset.images)).to(device)  # a writable copy, (N, 28, 28)
    x = (contract or dataset.contract).normalize(x)  # (N, 1, 28, 28)
    y = torch.from_numpy(dataset.labels.astype(np.int64)).to(device)  # (N,)
    return x, y
