"""A training run as one straight line: prepare → fit → calibrate → score → save.

:func:`run_training` claims the run folder and calls each step once, passing the config
down. The weights best on validation are saved as soon as training ends, so an interruption
during the slower steps after it loses no training; ``resume.pt`` is removed only once the
folder is complete. Test accuracy is computed once, at the end, and only reported.
"""

from __future__ import annotations

import copy
import os
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mnist_digits.core import metrics
from mnist_digits.core.card import CheckpointMeta
from mnist_digits.core.errors import CheckpointError, ConfigError, DataError, Interrupted
from mnist_digits.core.files import atomic_path
from mnist_digits.data.dataset import Dataset, load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.data.store import get_spec
from mnist_digits.models.checkpoint import BEST, LAST, git_commit, save_checkpoint
from mnist_digits.models.inference import infer
from mnist_digits.models.registry import width_config
from mnist_digits.training import distributed
from mnist_digits.training.calibration import Calibration, calibrate
from mnist_digits.training.config import TrainConfig
from mnist_digits.training.interrupt import TrainingInterrupted
from mnist_digits.training.loop import ProgressCallback, TrainResult, train
from mnist_digits.training.reader import (
    CALIBRATION_PER_FAMILY,
    CALIBRATION_SEED,
    generated,
    preprocessed,
    reader_arrays,
)
from mnist_digits.training.rundir import (
    RESUME,
    SUMMARY,
    RunLogger,
    RunSummary,
    prepare_run_dir,
    read_config,
    start_run,
    write_json,
)
from mnist_digits.training.tensors import TrainData, pick_device, prepare_data

PathLike = str | os.PathLike[str]
# Validation digits the low-resolution threshold is chosen on: 30 below its 1.5% quantile, and
# 2,000 through to_mnist take a few seconds once (cached).
LOW_RES_DIGITS = 2000


@dataclass(frozen=True)
class Prepared:
    """What every step of a run reads: the splits as loaded and as normalised tensors."""

    train_split: Dataset
    outliers: Dataset | None
    data: TrainData
    data_dir: PathLike | None


@dataclass(frozen=True)
class Scored:
    """Test-split figures of the chosen weights."""

    accuracy: float
    loss: float


def run_training(
    cfg: TrainConfig,
    run_dir: PathLike,
    *,
    data_dir: PathLike | None = None,
    force: bool = False,
    callback: ProgressCallback | None = None,
) -> RunSummary:
    """Train, calibrate, score once on the test split and save, into ``run_dir``.

    The best checkpoint is chosen on the validation split; the test split is only reported.
    Under torchrun every rank trains its shard of each batch and only rank 0 writes the folder,
    calibrates, scores and returns the full summary (see ``training.distributed``).

    Raises:
        Interrupted: on Ctrl-C, after saving ``resume.pt`` (during training) or the best
            weights (after it) in the run folder.
    """
    device = pick_device(cfg.device)  # before the folder is touched: a bad --device costs nothing
    # Every rank checks the folder before joining the group, and rank 0 writes only after it
    # (joining waits for all ranks), so no rank can see a folder half-written by rank 0.
    out = prepare_run_dir(run_dir, force, create=not distributed.launched())
    with distributed.process_group(distributed.local_device(device)):
        if distributed.is_main():
            prepare_run_dir(out, force=True)
            start_run(out, cfg)
        return _run(cfg, out, data_dir, callback, resume=None)


def resume_training(
    run_dir: PathLike, *, data_dir: PathLike | None = None, callback: ProgressCallback | None = None
) -> RunSummary:
    """Continue an interrupted run exactly where it stopped, with its saved config."""
    if distributed.launched():
        raise ConfigError("--resume runs in one process; run it without torchrun")
    out = Path(run_dir)
    if not (out / RESUME).is_file():
        raise ConfigError(f"{out} holds no {RESUME}; only an interrupted run can be resumed")
    cfg = read_config(out)
    pick_device(cfg.device)
    return _run(cfg, out, data_dir, callback, resume=_load_resume(out / RESUME))


def _run(
    cfg: TrainConfig,
    out: Path,
    data_dir: PathLike | None,
    callback: ProgressCallback | None,
    resume: dict[str, Any] | None,
) -> RunSummary:
    prepared = prepare(cfg, data_dir)
    if not distributed.is_main():
        return _train_shard(cfg, prepared.data)
    result = fit(cfg, prepared, out, callback, resume)
    try:
        save_checkpoints(out, cfg, result, _metrics(result))  # uncalibrated, until replaced
        calibration = calibrate_run(cfg, result, prepared)
        scored = score(cfg, result, data_dir)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted after training; the weights best on validation are saved in "
            f"{out / BEST} without calibration or test figures"
        ) from None
    return save(out, cfg, result, calibration, scored)


def prepare(cfg: TrainConfig, data_dir: PathLike | None) -> Prepared:
    """Load the training split (and non-digits), normalise once, hold out validation."""
    device = distributed.local_device(pick_device(cfg.device))
    train_split = load_dataset(cfg.dataset, "train", data_dir=data_dir)
    outliers = outlier_split(cfg, data_dir)
    extra = reader_arrays(cfg, train_split, outliers, data_dir)
    data = prepare_data(cfg, train_split, device, outliers, extra)
    return Prepared(train_split, outliers, data, data_dir)


def fit(
    cfg: TrainConfig,
    prepared: Prepared,
    out: Path,
    callback: ProgressCallback | None,
    resume: dict[str, Any] | None,
) -> TrainResult:
    """Run the training loop, logging each epoch into the run folder."""
    logger = RunLogger(out, callback, fresh=resume is None)
    try:
        return train(cfg, prepared.data, logger, resume=resume)
    except TrainingInterrupted as stop:
        _save_resume(out / RESUME, stop.state)
        raise Interrupted(
            f"training interrupted at epoch {stop.epoch}, step {stop.step}; state saved in "
            f"{out / RESUME}; continue with: mnist-digits train --resume {out}"
        ) from None
    finally:
        logger.close()


def calibrate_run(cfg: TrainConfig, result: TrainResult, prepared: Prepared) -> Calibration:
    """Temperature and reject threshold, from the validation digits and non-digits held out
    of training, all as the preprocessing for users' images leaves them."""
    digits28, others28, low28 = calibration_images(
        cfg, prepared.train_split, prepared.outliers, prepared.data_dir
    )
    data = prepared.data
    val_logits = infer(result.model, data.x_val, data.contract).cpu().numpy()
    labels = data.y_val.cpu().numpy()
    return calibrate(result.model, val_logits, labels, digits28, others28, data.contract, low28)


def calibration_images(
    cfg: TrainConfig, train: Dataset, outliers: Dataset | None, data_dir: PathLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the reject thresholds are chosen on, as the preprocessing for users' images leaves
    it: the run's validation digits (and printed digits of the calibration seed, for a reader
    trained on printed digits), non-digits held out of training (the training families at
    the calibration seed, and the outlier split's held-out part when there is one), and the
    first LOW_RES_DIGITS validation digits shrunk to 8-20 px (the low-resolution threshold)."""
    _, val_idx = split_indices(len(train), cfg.val_size, cfg.val_seed)
    low = preprocessed(train, data_dir, val_idx.numpy()[:LOW_RES_DIGITS], lowres=1.0)
    digits = [preprocessed(train, data_dir, val_idx.numpy())]
    others = [generated("train", False, CALIBRATION_PER_FAMILY, CALIBRATION_SEED, data_dir)[0]]
    if cfg.printed_digits > 0:
        digits.append(
            generated("train", True, CALIBRATION_PER_FAMILY, CALIBRATION_SEED, data_dir)[0]
        )
    if outliers is not None:
        _, o_val = split_indices(len(outliers), cfg.val_size, cfg.val_seed)
        others.append(preprocessed(outliers, data_dir, o_val.numpy()))
    return np.concatenate(digits), np.concatenate(others), low


def score(cfg: TrainConfig, result: TrainResult, data_dir: PathLike | None) -> Scored:
    """Accuracy and loss of the chosen weights on the test split: reported, never chosen on."""
    test = load_dataset(cfg.dataset, "test", data_dir=data_dir)
    logits = infer(result.model, test.images, test.contract, tta=cfg.tta).double().cpu().numpy()
    return Scored(metrics.accuracy(logits, test.labels), metrics.nll(logits, test.labels))


def save(
    out: Path, cfg: TrainConfig, result: TrainResult, cal: Calibration, scored: Scored
) -> RunSummary:
    """The final checkpoints and summary; the run folder is then complete."""
    summary = _summary(cfg, result, scored.accuracy, scored.loss, str(out))
    figures = {**_metrics(result), "test_accuracy": scored.accuracy, "test_loss": scored.loss}
    save_checkpoints(out, cfg, result, figures, cal.to_dict())
    write_json(out / SUMMARY, summary.to_dict())
    (out / RESUME).unlink(missing_ok=True)
    return summary


def _metrics(result: TrainResult) -> dict[str, Any]:
    return {
        "val_accuracy": result.best_val_acc,
        "best_epoch": result.best_epoch,
        "train_seconds": round(result.train_seconds, 3),
    }


def _train_shard(cfg: TrainConfig, data: TrainData) -> RunSummary:
    """A rank other than 0 under torchrun: train in step with rank 0 and write nothing."""
    nan = float("nan")  # the test split is scored by rank 0 alone
    return _summary(cfg, train(cfg, data), nan, nan, "")


def _summary(
    cfg: TrainConfig, result: TrainResult, test_accuracy: float, test_loss: float, run_dir: str
) -> RunSummary:
    return RunSummary(
        model=cfg.model,
        epochs=cfg.epochs,
        seed=cfg.seed,
        train_seconds=round(result.train_seconds, 3),
        best_epoch=result.best_epoch,
        val_accuracy=result.best_val_acc,
        test_accuracy=test_accuracy,
        test_loss=test_loss,
        run_dir=run_dir,
    )


def outlier_split(cfg: TrainConfig, data_dir: PathLike | None) -> Dataset | None:
    """Fashion-MNIST's training split as non-digits: required for outlier exposure, and used
    when available to report how many non-digits the reject threshold catches."""
    if cfg.dataset != "mnist":
        return None
    try:
        return load_dataset("fashion-mnist", "train", data_dir=data_dir)
    except (DataError, OSError):
        if cfg.outlier_exposure > 0:
            raise
        return None


def _save_resume(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_resume(path: Path) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and torch each raise their own kinds
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        raise CheckpointError(f"{path} is damaged and cannot be resumed ({first})") from None
    if not isinstance(state, dict) or not {"model", "loop"} <= set(state):
        raise CheckpointError(f"{path} is not a resume state written by mnist-digits")
    return state


def save_checkpoints(
    out: Path,
    cfg: TrainConfig,
    result: TrainResult,
    figures: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """``best`` (chosen on validation) and ``last`` weights, each with its model card."""
    spec = get_spec(cfg.dataset)
    meta = CheckpointMeta(
        model=cfg.model,
        model_config=width_config(cfg.model, cfg.width),
        input=spec.contract,
        classes=spec.classes,
        dataset=cfg.dataset,
        metrics=figures,
        recipe={**cfg.to_dict(), "recipe": cfg.recipe or cfg.model},
        extra=extra or {},
        git_commit=git_commit(),
    )
    save_checkpoint(out / BEST, result.model, meta)
    last = copy.deepcopy(result.model)
    last.load_state_dict(result.last_state)
    save_checkpoint(out / LAST, last, replace(meta, metrics={"epoch": len(result.history)}))


def run_seeds(
    cfg: TrainConfig,
    seeds: int,
    run_dir: PathLike,
    *,
    data_dir: PathLike | None = None,
    force: bool = False,
    callback: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train ``seeds`` runs (seeds cfg.seed, cfg.seed+1, ...) into ``run_dir/seed-<s>`` and
    write ``aggregate.json`` with each run and the mean ± std of its figures."""
    if distributed.launched():
        raise ConfigError("under torchrun train one seed per launch (--seeds 1)")
    pick_device(cfg.device)
    out = prepare_run_dir(run_dir, force)
    write_json(out / "config.json", {**cfg.to_dict(), "seeds": seeds})
    runs = [
        run_training(
            replace(cfg, seed=cfg.seed + i),
            out / f"seed-{cfg.seed + i}",
            data_dir=data_dir,
            force=force,
            callback=callback,
        ).to_dict()
        for i in range(seeds)
    ]
    aggregate: dict[str, Any] = {"model": cfg.model, "seeds": seeds, "runs": runs}
    for key in ("test_accuracy", "val_accuracy", "train_seconds"):
        values = [r[key] for r in runs]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        aggregate[key] = {"mean": statistics.fmean(values), "std": std}
    write_json(out / "aggregate.json", {**aggregate, "run_dir": str(out)})
    return {**aggregate, "run_dir": str(out)}
