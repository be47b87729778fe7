"""A training run's folder: checking and claiming it, its files, and its per-epoch log.

Layout of a run directory:
    config.json        the resolved TrainConfig
    metrics.jsonl      one JSON object per epoch (train/val loss and accuracy, lr and its
                       per-step trace, speed)
    tb/                TensorBoard event logs of the same figures
    best.safetensors   weights best on validation, with the model card
    last.safetensors   weights after the last epoch
    resume.pt          only after an interruption: the exact state ``--resume`` continues from
    summary.json       the final figures, test accuracy included (reported, never used to choose)
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mnist_digits.core.errors import ConfigError
from mnist_digits.core.files import atomic_write_json
from mnist_digits.training.config import TrainConfig, resolve_config
from mnist_digits.training.loop import EpochStats, Progress, ProgressCallback

CONFIG = "config.json"
METRICS = "metrics.jsonl"
RESUME = "resume.pt"
SUMMARY = "summary.json"


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


def prepare_run_dir(path: str | os.PathLike[str], force: bool = False, create: bool = True) -> Path:
    """Create the run folder (only check it when not ``create``), refusing a non-empty one
    unless ``force``, and one we cannot write to, before any training time is spent."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"--out {p} is a file; give a folder for the run")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise ConfigError(f"{p} is not empty; choose another --out or pass --force to overwrite")
    if create:
        try:
            p.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=p).close()  # writable, with room for a file
        except OSError as err:
            raise ConfigError(f"cannot write the run folder {p}: {err.strerror}") from None
    return p


def start_run(out: Path, cfg: TrainConfig) -> None:
    """Claim a fresh run folder: no stale resume state, and the resolved config beside it."""
    (out / RESUME).unlink(missing_ok=True)
    write_json(out / CONFIG, cfg.to_dict())


def write_json(path: Path, data: Any) -> None:
    """Write a run file atomically; a full or read-only disk is one line, not a traceback."""
    try:
        atomic_write_json(path, data)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror}") from None


def read_config(run_dir: Path) -> TrainConfig:
    """The config a run was started with, checked like any config."""
    file = run_dir / CONFIG
    try:
        data = json.loads(file.read_text())
    except OSError as err:
        raise ConfigError(f"cannot read {file}: {err.strerror}; is {run_dir} a run?") from None
    except ValueError:
        raise ConfigError(f"{file} is not valid JSON; the run cannot be resumed") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file} does not hold a training config")
    return resolve_config(data, {})


class RunLogger:
    """Appends each epoch to metrics.jsonl and TensorBoard, then forwards to ``callback``."""

    def __init__(self, run_dir: Path, callback: ProgressCallback | None, fresh: bool) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log = run_dir / METRICS
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


def read_history(run_dir: str | os.PathLike[str]) -> list[EpochStats]:
    """The per-epoch metrics of a run, as written during training."""
    lines = (Path(run_dir) / METRICS).read_text().splitlines()
    return [EpochStats(**json.loads(line)) for line in lines if line.strip()]
