"""What a worker is asked to do: :class:`TuneOptions`, checked into the base ``TrainConfig``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_digits.core.errors import ConfigError
from mnist_digits.training.config import TrainConfig, resolve_config
from mnist_digits.tuning.storage import JOURNAL

PRUNERS = ("median", "halving", "none")


@dataclass(frozen=True)
class TuneOptions:
    """What to search and where to keep the study.

    Attributes:
        study: the study's name; workers that give the same name and storage share it.
        out: folder for best.toml, plots, the summary and the default journal file.
        model: the architecture every trial trains.
        trials: the study's total of finished (complete or pruned) trials over all workers.
        budget_epochs: the most epochs a trial may train.
        timeout: stop starting trials after this many seconds (this worker only).
        storage: None for ``out/journal.log``; a path for another journal file; or a
            SQLAlchemy URL (``postgresql://user:pass@host/db``) for several machines.
        pruner: ``median``, ``halving`` (asynchronous successive halving) or ``none``.
        base: config-file values the searched ones are laid over.
        train_subset: train each trial on this many random training images (0: all 55,000).
        seed: the sampler's seed; leave it None when several workers share a study, or they
            would all propose the same first trials.
        heartbeat: seconds between a running trial's heartbeats on a database storage; a trial
            silent for five of them is marked failed.
        data_dir: the dataset cache folder.
    """

    study: str
    out: Path
    model: str = "cnn-small"
    trials: int = 20
    budget_epochs: int = 3
    timeout: float | None = None
    storage: str | None = None
    pruner: str = "median"
    base: dict[str, Any] = field(default_factory=dict)
    train_subset: int = 0
    seed: int | None = None
    heartbeat: int = 30
    data_dir: str | os.PathLike[str] | None = None

    @property
    def location(self) -> str:
        """The storage to open: ``storage`` as given, or the journal file in ``out``."""
        return self.storage or str(self.out / JOURNAL)


def base_config(options: TuneOptions) -> TrainConfig:
    """Validate the options; return the base config (defaults < recipe < file < model).

    Raises:
        ConfigError: an option is out of range, or the config file's values are invalid.
    """
    if options.trials < 1 or options.budget_epochs < 1:
        raise ConfigError("--trials and --budget-epochs must be at least 1")
    if options.timeout is not None and options.timeout <= 0:
        raise ConfigError(f"--timeout must be positive, got {options.timeout}")
    if options.pruner not in PRUNERS:
        raise ConfigError(f"--pruner must be one of {', '.join(PRUNERS)}")
    if options.train_subset < 0 or options.heartbeat < 1:
        raise ConfigError("--train-subset must be >= 0 and --heartbeat >= 1")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", options.study):
        raise ConfigError(f"--study {options.study!r}: use letters, digits, '.', '_' or '-'")
    if options.out.exists() and not options.out.is_dir():
        raise ConfigError(f"--out {options.out} is a file; give a folder")
    return resolve_config(options.base, {"model": options.model})
