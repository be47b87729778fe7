"""A training run on disk: config, per-epoch metrics, checkpoints and a summary in one folder.

Layout of a run directory:
    config.json        the resolved TrainConfig
    metrics.jsonl      one JSON object per epoch (train/val loss and accuracy, lr, speed)
    tb/                TensorBoard event logs of the same figures
    best.safetensors   weights best on validation, with self-describing metadata
    last.safetensors   weights after the last epoch
    resume.pt          only after an interruption: the exact state ``--resume`` continues from
    summary.json       the final figures, test accuracy included (reported, never used to choose)
"""

from __future__ import annotations

import copy
import json
import os
import statistics
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from mnist_digits.core.errors import ConfigError, DataError, Interrupted
from mnist_digits.data.dataset import Dataset, load_dataset, normalized_tensors
from mnist_digits.data.store import atomic_write, get_spec, temp_beside
from mnist_digits.models.checkpoint import BEST, LAST, CheckpointMeta, git_commit, save_checkpoint
from mnist_digits.models.inference import evaluate, infer
from mnist_digits.models.registry import width_config
from mnist_digits.training import distributed
from mnist_digits.training.calibration import Calibration, calibrate
from mnist_digits.training.config import TrainConfig, resolve_config
from mnist_digits.training.loop import (
    EpochStats,
    Progress,
    ProgressCallback,
    TrainData,
    TrainingInterrupted,
    TrainResult,
    pick_device,
    prepare_data,
    split_indices,
    train,
)

RESUME = "resume.pt"


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


def prepare_run_dir(path: str | Path, force: bool = False, create: bool = True) -> Path:
    """Create the run folder (only check it when not ``create``), refusing a non-empty one
    unless ``force``."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"--out {p} is a file; give a folder for the run")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise ConfigError(f"{p} is not empty; choose another --out or pass --force to overwrite")
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p


def _write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


class RunLogger:
    """Appends each epoch to metrics.jsonl and TensorBoard, then forwards to ``callback``."""

    def __init__(self, run_dir: Path, callback: ProgressCallback | None, fresh: bool) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log = run_dir / "metrics.jsonl"
        if fresh:
            self.log.write_text("")
        self.tb = SummaryWriter(str(run_dir / "tb"))
        self.callback = callback

    def __call__(self, event: Progress) -> None:
        if event.kind == "epoch_end" and event.stats is not None:
            s = event.stats
            with self.log.open("a") as handle:
                handle.write(json.dumps(asdict(s)) + "\n")
            for name in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "images_per_s"):
                self.tb.add_scalar(name, getattr(s, name), s.epoch)
            self.tb.flush()
        if self.callback:
            self.callback(event)

    def close(self) -> None:
        self.tb.close()


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

    Under torchrun every rank trains its shard of each batch and only rank 0 writes the folder,
    evaluates and returns the full summary (see :mod:`mnist_digits.training.distributed`).

    Raises:
        Interrupted: on Ctrl-C, after saving ``resume.pt`` in the run folder.
    """
    # Every rank checks the folder before joining the group, and rank 0 writes only after it
    # (joining waits for all ranks), so no rank can see a folder half-written by rank 0.
    out = prepare_run_dir(run_dir, force, create=not distributed.launched())
    with distributed.process_group(distributed.local_device(pick_device(cfg.device))):
        if distributed.is_main():
            prepare_run_dir(out, force=True)
            (out / RESUME).unlink(missing_ok=True)
            _write_json(out / "config.json", cfg.to_dict())
        return _execute(cfg, out, data_dir, callback, resume=None)


def resume_training(
    run_dir: str | Path,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    callback: ProgressCallback | None = None,
) -> RunSummary:
    """Continue an interrupted run exactly where it stopped, with its saved config."""
    if distributed.launched():
        raise ConfigError("--resume runs in one process; run it without torchrun")
    out = Path(run_dir)
    state_file = out / RESUME
    if not state_file.is_file():
        raise ConfigError(f"{out} holds no {RESUME}; only an interrupted run can be resumed")
    cfg = resolve_config(json.loads((out / "config.json").read_text()), {})
    state = torch.load(state_file, map_location="cpu", weights_only=True)
    return _execute(cfg, out, data_dir, callback, resume=state)


def _execute(
    cfg: TrainConfig,
    out: Path,
    data_dir: str | os.PathLike[str] | None,
    callback: ProgressCallback | None,
    resume: dict[str, Any] | None,
) -> RunSummary:
    device = distributed.local_device(pick_device(cfg.device))
    train_split = load_dataset(cfg.dataset, "train", data_dir=data_dir)
    outliers = _outliers(cfg, data_dir)
    data = prepare_data(cfg, train_split, device, outliers)
    if not distributed.is_main():
        return _train_shard(cfg, data)
    logger = RunLogger(out, callback, fresh=resume is None)
    try:
        result = train(cfg, data, logger, resume=resume)
    except TrainingInterrupted as stop:
        _save_resume(out / RESUME, stop.state)
        raise Interrupted(
            f"training interrupted at epoch {stop.epoch}, step {stop.step}; state saved in "
            f"{out / RESUME}; continue with: mnist-digits train --resume {out}"
        ) from None
    finally:
        logger.close()
    (out / RESUME).unlink(missing_ok=True)
    calibration = _calibrate(cfg, result, data, train_split, outliers)
    return _finish(cfg, out, result, calibration, data_dir, device)


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


def _outliers(cfg: TrainConfig, data_dir: str | os.PathLike[str] | None) -> Dataset | None:
    """Fashion-MNIST's training split as non-digits: required for outlier exposure, and used
    when available to report how many non-digits the reject threshold catches."""
    if cfg.dataset != "mnist":
        return None
    try:
        return load_dataset("fashion-mnist", "train", data_dir=data_dir)
    except DataError:
        if cfg.outlier_exposure > 0:
            raise
        return None


def _calibrate(
    cfg: TrainConfig,
    result: TrainResult,
    data: TrainData,
    train_split: Dataset,
    outliers: Dataset | None,
) -> Calibration:
    _, val_idx = split_indices(len(train_split), cfg.val_size, cfg.val_seed)
    outliers28 = None
    if outliers is not None:
        _, o_val = split_indices(len(outliers), cfg.val_size, cfg.val_seed)
        outliers28 = outliers.images[o_val.numpy()]
    val_logits = infer(result.model, data.x_val).float().cpu().numpy()
    return calibrate(
        result.model,
        val_logits,
        data.y_val.cpu().numpy(),
        train_split.images[val_idx.numpy()],
        outliers28,
        train_split.mean,
        train_split.std,
    )


def _save_resume(path: Path, state: dict[str, Any]) -> None:
    fd, tmp = temp_beside(path)
    os.close(fd)
    torch.save(state, tmp)
    os.replace(tmp, path)


def _finish(
    cfg: TrainConfig,
    out: Path,
    result: TrainResult,
    calibration: Calibration,
    data_dir: str | os.PathLike[str] | None,
    device: torch.device,
) -> RunSummary:
    test_split = load_dataset(cfg.dataset, "test", data_dir=data_dir)
    x_test, y_test = normalized_tensors(test_split, str(device))
    assert isinstance(x_test, torch.Tensor) and isinstance(y_test, torch.Tensor)
    test = evaluate(result.model, x_test, y_test, tta=cfg.tta)
    summary = _summary(cfg, result, test.accuracy, test.loss, str(out))
    _save_checkpoints(out, cfg, result, summary, calibration)
    _write_json(out / "summary.json", summary.to_dict())
    return summary


def _save_checkpoints(
    out: Path, cfg: TrainConfig, result: TrainResult, summary: RunSummary, cal: Calibration
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
        model_config=width_config(cfg.model, cfg.width),
        mean=spec.mean,
        std=spec.std,
        classes=spec.classes,
        dataset=cfg.dataset,
        metrics=metrics,
        recipe={**cfg.to_dict(), "recipe": cfg.recipe or cfg.model},
        extra=cal.to_dict(),
        git_commit=git_commit(),
    )
    save_checkpoint(out / BEST, result.model, meta)
    last = copy.deepcopy(result.model)
    last.load_state_dict(result.last_state)
    save_checkpoint(out / LAST, last, replace(meta, metrics={"epoch": len(result.history)}))


def run_seeds(
    cfg: TrainConfig,
    seeds: int,
    run_dir: str | Path,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    callback: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train ``seeds`` runs (seeds cfg.seed, cfg.seed+1, ...) into ``run_dir/seed-<s>`` and
    write ``aggregate.json`` with each run and the mean ± std of its figures."""
    if distributed.launched():
        raise ConfigError("under torchrun train one seed per launch (--seeds 1)")
    out = prepare_run_dir(run_dir, force)
    _write_json(out / "config.json", {**cfg.to_dict(), "seeds": seeds})
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
    aggregate = {"model": cfg.model, "seeds": seeds, "runs": runs, "run_dir": str(out)}
    for key in ("test_accuracy", "val_accuracy", "train_seconds"):
        values = [r[key] for r in runs]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        aggregate[key] = {"mean": statistics.fmean(values), "std": std}
    _write_json(out / "aggregate.json", aggregate)
    return aggregate


def read_history(run_dir: str | Path) -> list[EpochStats]:
    """The per-epoch metrics of a run, as written during training."""
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return [EpochStats(**json.loads(line)) for line in lines if line.strip()]
