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
from dataclasses import fields

import torch
from torch import nn

from mnist_digits.core.card import CheckpointMeta
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.models.checkpoint import load_checkpoint, update_meta
from mnist_digits.models.inference import infer
from mnist_digits.training.calibration import Calibration, calibrate
from mnist_digits.training.config import TrainConfig, resolve_config
from mnist_digits.training.run import calibration_images, outlier_split

PathLike = str | os.PathLike[str]
# A fine-tuned checkpoint's recipe also records how it was fine-tuned ("finetune"); the
# calibration reads only the training settings, and "recipe" is a label, not a setting.
_FIELDS = {f.name for f in fields(TrainConfig)} - {"recipe"}


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
    cal = calibration_for(model, meta, data_dir)
    update_meta(path, **cal.to_dict())
    return cal


def calibration_for(
    model: nn.Module, meta: CheckpointMeta, data_dir: PathLike | None = None
) -> Calibration:
    """``model``'s temperature and reject threshold, chosen as training chose them for the run
    ``meta`` describes (its validation split, its calibration sets). A fine-tuned model is
    calibrated this way too, so it flags what its base was calibrated to flag.

    Raises:
        DataError: a dataset the calibration needs is missing (Fashion-MNIST, for a reader
            trained with outlier exposure).
    """
    cfg = resolve_config({k: v for k, v in meta.recipe.items() if k in _FIELDS}, {})
    train = load_dataset(cfg.dataset, "train", data_dir=data_dir)
    outliers = outlier_split(cfg, data_dir)
    digits28, others28, low28 = calibration_images(cfg, train, outliers, data_dir)
    _, val = split_indices(len(train), cfg.val_size, cfg.val_seed)
    idx = val.numpy()
    with torch.no_grad():
        logits = infer(model, train.images[idx], meta.input).double().cpu().numpy()
    return calibrate(model, logits, train.labels[idx], digits28, others28, meta.input, low28)
