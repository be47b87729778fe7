"""A trained model's temperature and reject threshold chosen again, without training.

The threshold is chosen on validation images as the preprocessing for users' images leaves
them, so when that preprocessing changes, a checkpoint's threshold no longer flags the share
of validation digits it was chosen to flag. This chooses it again exactly as training's
calibration does (``run.calibrate_run``): the run's own validation split of MNIST and, for a
reader, printed digits of the calibration seed, against generated non-digits of the training
families at the calibration seed and Fashion-MNIST's held-out items. Nothing here sees test.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mnist_digits.core.errors import DataError
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.models.checkpoint import load_checkpoint, update_meta
from mnist_digits.models.inference import infer
from mnist_digits.training.calibration import Calibration, calibrate
from mnist_digits.training.config import resolve_config
from mnist_digits.training.reader import (
    CALIBRATION_PER_FAMILY,
    CALIBRATION_SEED,
    generated,
    preprocessed,
)

PathLike = str | os.PathLike[str]


def recalibrate(path: PathLike, data_dir: PathLike | None = None) -> Calibration:
    """Choose ``path``'s temperature and reject threshold again and write them into it.

    Args:
        path: a run folder or ``.safetensors`` checkpoint outside the installed package.
        data_dir: the dataset cache root (default: the library's).

    Returns:
        The new calibration, as stored in the checkpoint's ``extra``.

    Raises:
        CheckpointError: the checkpoint cannot be read or rewritten (or ships with the package).
        DataError: a dataset the calibration needs is missing.
    """
    model, meta = load_checkpoint(path)
    cfg = resolve_config({k: v for k, v in meta.recipe.items() if k != "recipe"}, {})
    train = load_dataset(cfg.dataset, "train", data_dir=data_dir)
    _, val = split_indices(len(train), cfg.val_size, cfg.val_seed)
    idx = val.numpy()
    digits = [preprocessed(train, data_dir, idx)]
    if cfg.printed_digits > 0:
        digits.append(
            generated("train", True, CALIBRATION_PER_FAMILY, CALIBRATION_SEED, data_dir)[0]
        )
    others = [generated("train", False, CALIBRATION_PER_FAMILY, CALIBRATION_SEED, data_dir)[0]]
    others += _fashion_val(cfg.dataset, cfg.val_size, cfg.val_seed, data_dir)
    logits = infer(model, train.images[idx], meta.input).double().cpu().numpy()
    cal = calibrate(
        model, logits, train.labels[idx], np.concatenate(digits), np.concatenate(others), meta.input
    )
    update_meta(path, **cal.to_dict())
    return cal


def _fashion_val(
    dataset: str, val_size: int, val_seed: int, data_dir: PathLike | None
) -> list[Any]:
    """Fashion-MNIST's held-out items through the preprocessing, when training had them."""
    if dataset != "mnist":
        return []
    try:
        fashion = load_dataset("fashion-mnist", "train", data_dir=data_dir)
    except (DataError, OSError):
        return []
    _, held = split_indices(len(fashion), val_size, val_seed)
    return [preprocessed(fashion, data_dir, held.numpy())]
