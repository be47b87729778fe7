"""Hyper-parameter search with Optuna: ``run_study(options) -> TuneResult``.

Each trial samples a training recipe (learning rate, weight decay, batch size, epochs,
augmentation, label smoothing, EMA decay and model width) on top of a base ``TrainConfig``,
trains it with ``training.loop.train``, and scores it by validation accuracy, never by
test accuracy. Validation accuracy is reported after every epoch so that a pruner can stop a
poor trial early.

Workers share a study through its storage: by default a journal file in the output folder (one
machine, any number of processes), or any SQLAlchemy URL such as ``postgresql://...`` (many
machines). ``trials`` is the study's total over all workers. A killed worker loses no finished
trial: on PostgreSQL its running trial stops sending heartbeats, and another worker marks it
failed and queues its parameters again; with a journal file, a worker on the same host does the
same for trials whose process is gone.

The best trial is written as ``best.toml``, a config file ``mnist-digits train --config``
reproduces in one command, beside three plots and ``tune-summary.json``/``.md``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
import torch
from optuna.exceptions import ExperimentalWarning
from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from mnist_digits.core.errors import ConfigError, Interrupted
from mnist_digits.data.dataset import load_dataset
from mnist_digits.models.registry import default_width
from mnist_digits.training.config import TrainConfig, resolve_config
from mnist_digits.training.loop import (
    Progress,
    TrainData,
    TrainingInterrupted,
    pick_device,
    prepare_data,
)
from mnist_digits.training.loop import train as train_model

JOURNAL = "journal.log"
BEST_TOML = "best.toml"
SUMMARY = "tune-summary"
PRUNERS = ("median", "halving", "none")
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)

# Batch sizes around the registry's 128: smaller ones take more steps per epoch, larger ones are
# faster per image on CPU and GPU alike.
BATCH_SIZES = (64, 128, 256, 512)
# EMA decays: 0 disables it. Its horizon is about 1 / (1 - decay) steps, and one epoch at batch
# 128 is 430 steps, so 0.999 (1,000 steps) would lag the weights for the whole of a short trial.
EMA_DECAYS = (0.0, 0.9, 0.95, 0.99)
# Width as a multiple of the model's default (16 channels for cnn-small, 50 units for mlp-seed).
WIDTH_FACTORS = (0.5, 1.0, 1.5, 2.0)
# Weight decay: Adam and SGD add it to the gradient (L2), where 1e-3 is already strong; AdamW
# decouples it, and the registry's AdamW recipes use 0.05.
WEIGHT_DECAY = {"adamw": (1e-5, 0.2), "adam": (1e-6, 1e-3), "sgd": (1e-6, 1e-3)}
LR_RANGE = (1e-4, 3e-2)  # 30x either side of the registry's Adam peaks (3e-3 to 1e-2)
AUGMENT_MAX = 1.5  # 1.0 rotates ±12°; 1.5 (±18°) is about where a 7 starts to look like a 1
SMOOTHING_MAX = 0.2
BASELINE_NAMES = {"default": "Default recipe", "default-at-budget": "Default recipe, whole budget"}
# The median pruner waits for this many finished trials before it compares a trial with them.
STARTUP_TRIALS = 3


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


@dataclass(frozen=True)
class TuneEvent:
    """Progress of a study: ``kind`` is ``trial_start``, ``epoch`` or ``trial_end``.

    ``value`` is the validation accuracy (of this epoch, or the trial's best for ``trial_end``);
    ``state`` is ``COMPLETE``, ``PRUNED`` or ``FAIL`` at ``trial_end``.
    """

    kind: str
    trial: int
    params: dict[str, Any] = field(default_factory=dict)
    epoch: int = 0
    epochs: int = 0
    value: float | None = None
    state: str = ""
    best_trial: int | None = None
    best_value: float | None = None


TuneCallback = Callable[[TuneEvent], None]


@dataclass(frozen=True)
class TuneResult:
    """A study's standing after this worker stopped; ``summary`` is tune-summary.json."""

    study: str
    out: Path
    best_trial: int | None
    best_value: float | None
    baselines: dict[str, float]
    finished: int
    files: dict[str, str]
    summary: dict[str, Any]


def run_study(options: TuneOptions, callback: TuneCallback | None = None) -> TuneResult:
    """Join (or create) the study, run trials until it holds ``options.trials`` finished ones
    or the timeout passes, then write best.toml, plots and the summary.

    Raises:
        ConfigError: bad options, an unreachable storage, or a study made with other settings.
        Interrupted: on Ctrl-C; the running trial is marked failed, finished ones are kept.
    """
    base = _check(options)
    options.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _quiet_optuna():
        storage = open_storage(options)
        study = _open_study(options, storage)
        _claim_settings(study, options, base)
        if isinstance(storage, JournalStorage):
            fail_orphans(study)
        else:
            optuna.storages.fail_stale_trials(study)
        if not study.trials:
            _enqueue_baselines(study, base, options.budget_epochs)
        _optimize(study, options, base, callback)
        summary = write_outputs(study, options, base, time.perf_counter() - started)
    return _result(study, options, summary)


def _check(options: TuneOptions) -> TrainConfig:
    """Validate the options; return the base config (defaults < recipe < file < model)."""
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


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Heartbeats and the retry callback are marked experimental; the warning says nothing a
    user can act on, so it is silenced here (and only here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield


def mask_url(url: str) -> str:
    """The storage URL with its password replaced by ``***``, for messages and summaries."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def open_storage(options: TuneOptions) -> optuna.storages.BaseStorage:
    """A journal file (no server; several processes on one machine) or a database by URL.

    Raises:
        ConfigError: the database cannot be reached or its driver is not installed.
    """
    where = options.storage or str(options.out / JOURNAL)
    if "://" not in where:
        Path(where).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(where))
    retry = RetryHeartbeatStaleTrialCallback(max_retry=2)  # a trial killed twice stays failed
    try:
        return _retry_first_start(
            lambda: RDBStorage(
                database_url(where),
                engine_kwargs={"pool_pre_ping": True},
                heartbeat_interval=options.heartbeat,
                grace_period=5 * options.heartbeat,
                heartbeat_stale_trial_callback=retry,
            )
        )
    except ImportError:
        raise ConfigError(
            f"storage {mask_url(where)} needs its database driver; for PostgreSQL: "
            "pip install 'psycopg[binary]'"
        ) from None
    except Exception as err:  # SQLAlchemy and its drivers raise many types; all mean "cannot open"
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(f"cannot open storage {mask_url(where)}: {first}") from None


def _retry_first_start(connect: Callable[[], RDBStorage]) -> RDBStorage:
    """Workers started together on an empty database race to create its tables, and all but one
    get a unique-key violation; the tables exist a moment later, so try again (3 times)."""
    for attempt in range(3):
        try:
            return connect()
        except sqlalchemy.exc.IntegrityError:
            if attempt == 2:
                raise
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def database_url(url: str) -> str:
    """A ``postgresql://`` URL with its driver named: SQLAlchemy 2.0 would pick psycopg2 and
    2.1 psycopg 3, and only psycopg 3 is a dependency. Other URLs are passed through."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg{sep}{rest}" if scheme in ("postgresql", "postgres") else url


def _open_study(options: TuneOptions, storage: optuna.storages.BaseStorage) -> optuna.Study:
    sampler = optuna.samplers.TPESampler(seed=options.seed, n_startup_trials=STARTUP_TRIALS + 1)
    return optuna.create_study(
        storage=storage,
        sampler=sampler,
        pruner=make_pruner(options.pruner),
        study_name=options.study,
        direction="maximize",
        load_if_exists=True,
    )


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """``median``: stop a trial whose validation accuracy at an epoch is below the median of
    earlier trials at that epoch; ``halving``: asynchronous successive halving, which keeps the
    best half at epochs 1, 2, 4, ...; ``none``: train every trial to its end."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=0)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    return optuna.pruners.NopPruner()


def _claim_settings(study: optuna.Study, options: TuneOptions, base: TrainConfig) -> None:
    """Record what the study searches, or refuse a worker that would search something else."""
    settings = {
        "model": base.model,
        "budget_epochs": options.budget_epochs,
        "train_subset": options.train_subset,
        "base": base.to_dict(),
    }
    known = study.user_attrs.get("settings")
    if known is None:
        study.set_user_attr("settings", settings)
        return
    differ = sorted(k for k in settings if settings[k] != known.get(k))
    if differ:
        raise ConfigError(
            f"study {options.study!r} was created with other {', '.join(differ)} "
            f"(model {known.get('model')}, budget {known.get('budget_epochs')} epochs); "
            "give the same settings or another --study"
        )


def worker_id() -> str:
    """``host:pid``, recorded on each trial so a dead worker's trials can be recognised."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        return True
    return True


def fail_orphans(study: optuna.Study) -> list[int]:
    """Journal storage has no heartbeats: mark failed the running trials whose worker process on
    this host is gone, and queue their parameters again. Returns the failed trial numbers."""
    host, failed = socket.gethostname(), []
    storage = study._storage  # the public Study has no way to change another trial's state
    retry = RetryHeartbeatStaleTrialCallback(max_retry=2)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if worker_host != host or not pid.isdigit() or _process_alive(int(pid)):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, trial.number)
        if storage.set_trial_state_values(trial_id, TrialState.FAIL):
            retry(study, storage.get_trial(trial_id))
            failed.append(trial.number)
    return failed


def search_space(trial: optuna.Trial, base: TrainConfig, budget_epochs: int) -> dict[str, Any]:
    """Sample one recipe's searched values (TrainConfig field names) for ``trial``."""
    wd_low, wd_high = WEIGHT_DECAY.get(base.optimizer, WEIGHT_DECAY["adam"])
    values: dict[str, Any] = {
        "lr": trial.suggest_float("lr", *LR_RANGE, log=True),
        "weight_decay": trial.suggest_float("weight_decay", wd_low, wd_high, log=True),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
        "epochs": trial.suggest_int("epochs", 1, budget_epochs),
        "augment": trial.suggest_float("augment", 0.0, AUGMENT_MAX),
        "label_smoothing": trial.suggest_float("label_smoothing", 0.0, SMOOTHING_MAX),
        "ema": trial.suggest_categorical("ema", EMA_DECAYS),
    }
    choices = width_choices(base.model)
    if choices:
        values["width"] = trial.suggest_categorical("width", choices)
    return values


def width_choices(model: str) -> tuple[int, ...]:
    """Widths to try for ``model``: multiples of its default; none when it has no width."""
    default = default_width(model)
    return tuple(sorted({max(1, round(default * f)) for f in WIDTH_FACTORS})) if default else ()


def baseline_params(base: TrainConfig, epochs: int) -> dict[str, Any] | None:
    """The base recipe at ``epochs`` as search-space values, to queue it as a trial.

    Values outside the space are clipped (weight decay 0 becomes the range's floor); None when
    a categorical value (batch size, EMA, width) is not among the choices.
    """
    wd_low, wd_high = WEIGHT_DECAY.get(base.optimizer, WEIGHT_DECAY["adam"])
    params: dict[str, Any] = {
        "lr": min(max(base.lr, LR_RANGE[0]), LR_RANGE[1]),
        "weight_decay": min(max(base.weight_decay, wd_low), wd_high),
        "batch_size": base.batch_size,
        "epochs": epochs,
        "augment": min(base.augment, AUGMENT_MAX),
        "label_smoothing": min(base.label_smoothing, SMOOTHING_MAX),
        "ema": base.ema,
    }
    choices = width_choices(base.model)
    if choices:
        params["width"] = base.width or default_width(base.model)
    categorical = {"batch_size": BATCH_SIZES, "ema": EMA_DECAYS, "width": choices}
    if any(k in params and params[k] not in v for k, v in categorical.items()):
        return None
    return params


def baseline_epochs(base: TrainConfig, budget_epochs: int) -> dict[str, int]:
    """The baselines a new study runs first: the default recipe with its own epochs (at most
    the budget), and, when that is fewer, the same recipe trained for the whole budget, so a
    gain from tuning can be told apart from a gain from training longer."""
    own = min(base.epochs, budget_epochs)
    runs = {"default": own}
    if own < budget_epochs:
        runs["default-at-budget"] = budget_epochs
    return runs


def _enqueue_baselines(study: optuna.Study, base: TrainConfig, budget_epochs: int) -> None:
    for kind, epochs in baseline_epochs(base, budget_epochs).items():
        params = baseline_params(base, epochs)
        if params is not None:
            study.enqueue_trial(params, user_attrs={"baseline": kind}, skip_if_exists=True)


def _load_data(options: TuneOptions, base: TrainConfig) -> TrainData:
    """The training and validation tensors, loaded once per worker and shared by its trials."""
    device = pick_device(base.device)
    outliers = None
    if base.outlier_exposure > 0:
        outliers = load_dataset("fashion-mnist", "train", data_dir=options.data_dir)
    split = load_dataset(base.dataset, "train", data_dir=options.data_dir)
    data = prepare_data(base, split, device, outliers)
    n = data.x_train.shape[0]
    if not 0 < options.train_subset < n:
        return data
    # A fixed random subset (seed 0), the same in every worker and every trial.
    keep = torch.randperm(n, generator=torch.Generator().manual_seed(0))[: options.train_subset]
    keep = keep.to(device)
    return replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep])


class _Objective:
    """Train one sampled recipe, reporting validation accuracy after every epoch."""

    def __init__(
        self, options: TuneOptions, base: TrainConfig, data: TrainData, callback: TuneCallback
    ) -> None:
        self.options, self.base, self.data, self.callback = options, base, data, callback

    def __call__(self, trial: optuna.Trial) -> float:
        values = search_space(trial, self.base, self.options.budget_epochs)
        recipe = f"tune-{self.options.study}-trial-{trial.number}"
        if trial.user_attrs.get("baseline"):
            # A baseline trains the base recipe exactly; its params are only the nearest points
            # of the space (weight decay 0 has none on a log scale).
            values = {"epochs": values["epochs"]}
        cfg = replace(self.base, **values, recipe=recipe).validate()
        trial.set_user_attr("worker", worker_id())
        trial.set_user_attr("config", cfg.to_dict())
        self.callback(TuneEvent("trial_start", trial.number, dict(trial.params)))

        def on_progress(event: Progress) -> None:
            if event.kind != "epoch_end" or event.stats is None:
                return
            acc = event.stats.val_acc
            trial.report(acc, event.epoch)
            self.callback(
                TuneEvent("epoch", trial.number, epoch=event.epoch, epochs=cfg.epochs, value=acc)
            )
            # After the last epoch the cost is paid: a trial below the median there is a result,
            # not a trial to stop (pruning it would also hide it from the best).
            if event.epoch < cfg.epochs and trial.should_prune():
                raise optuna.TrialPruned(f"val accuracy {acc:.4f} at epoch {event.epoch}")

        return train_model(cfg, self.data, on_progress).best_val_acc


def finished_count(study: optuna.Study) -> int:
    """Complete and pruned trials: what ``trials`` counts (failed ones are run again)."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def _optimize(
    study: optuna.Study, options: TuneOptions, base: TrainConfig, callback: TuneCallback | None
) -> None:
    remaining = options.trials - finished_count(study)
    if remaining <= 0:
        return
    emit = callback or (lambda event: None)
    objective = _Objective(options, base, _load_data(options, base), emit)

    def trial_end(study: optuna.Study, trial: FrozenTrial) -> None:
        best = _best(study)
        value = trial.value if trial.value is not None else _last_value(trial)
        emit(
            TuneEvent(
                "trial_end",
                trial.number,
                dict(trial.params),
                value=value,
                state=trial.state.name,
                best_trial=best.number if best else None,
                best_value=best.value if best else None,
            )
        )

    # Checked after every trial of every worker, so the study stops at its total; this worker's
    # own n_trials only bounds it when it works alone.
    enough = optuna.study.MaxTrialsCallback(options.trials, states=FINISHED)
    try:
        study.optimize(objective, remaining, options.timeout, callbacks=[enough, trial_end])
    except TrainingInterrupted:
        raise Interrupted(
            f"tuning interrupted; {finished_count(study)} trials of study {options.study!r} are "
            "kept; run the same command to continue it"
        ) from None


def _best(study: optuna.Study) -> FrozenTrial | None:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return max(complete, key=lambda t: (t.value or 0.0, -t.number)) if complete else None


def _last_value(trial: FrozenTrial) -> float | None:
    steps = trial.intermediate_values
    return steps[max(steps)] if steps else None


def _baselines(study: optuna.Study) -> dict[str, FrozenTrial]:
    """The first complete trial of each baseline kind."""
    found: dict[str, FrozenTrial] = {}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        kind = trial.user_attrs.get("baseline")
        if isinstance(kind, str):
            found.setdefault(kind, trial)
    return found


def best_config(trial: FrozenTrial) -> TrainConfig:
    """The full recipe a trial trained, as recorded in it."""
    return resolve_config(dict(trial.user_attrs["config"]), {})


def toml_text(cfg: TrainConfig, header: list[str]) -> str:
    """``cfg`` as a ``[train]`` table that ``load_config_file`` reads;
    every field is written, so the model's recipe cannot change the result later."""
    lines = [f"# {line}" if line else "#" for line in header] + ["[train]"]
    for f in fields(cfg):
        lines.append(f"{f.name} = {_toml_value(getattr(cfg, f.name))}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_outputs(
    study: optuna.Study, options: TuneOptions, base: TrainConfig, seconds: float
) -> dict[str, Any]:
    """Write best.toml, the plots and tune-summary.json/.md into ``options.out``.

    Returns:
        The summary (as in tune-summary.json), whose ``files`` names what was written.
    """
    out, files = options.out, {}
    best = _best(study)
    if best is not None:
        header = [
            f"The best recipe of study {options.study!r}: trial {best.number}, "
            f"validation accuracy {best.value:.4f}.",
            f"Reproduce with: mnist-digits train --config {out / BEST_TOML}",
        ]
        _atomic_text(out / BEST_TOML, toml_text(best_config(best), header))
        files["best_toml"] = str(out / BEST_TOML)
    files.update(write_plots(study, out))
    files["summary_json"] = str(out / f"{SUMMARY}.json")
    files["summary_md"] = str(out / f"{SUMMARY}.md")
    summary = summarize(study, options, base, seconds, files)
    _atomic_text(out / f"{SUMMARY}.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    _atomic_text(out / f"{SUMMARY}.md", summary_markdown(summary))
    return summary


def summarize(
    study: optuna.Study,
    options: TuneOptions,
    base: TrainConfig,
    seconds: float,
    files: dict[str, str],
) -> dict[str, Any]:
    """The study's figures as one JSON-ready dict (tune-summary.json)."""
    best, baselines = _best(study), _baselines(study)
    counts = {s.name.lower(): 0 for s in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] += 1
    ranked = sorted(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
        key=lambda t: (-(t.value or 0.0), t.number),
    )
    gains = {}
    if best is not None:
        gains = {k: (best.value or 0.0) - (t.value or 0.0) for k, t in baselines.items()}
    return {
        "study": options.study,
        "storage": mask_url(options.storage or str(options.out / JOURNAL)),
        "model": base.model,
        "budget_epochs": options.budget_epochs,
        "train_subset": options.train_subset,
        "objective": "validation accuracy of the best epoch (the test split is never used)",
        "trials": counts,
        "best": _trial_dict(best),
        "baselines": {kind: _trial_dict(t) for kind, t in baselines.items()},
        "gains_over_baselines": gains,
        "top": [_trial_dict(t) for t in ranked[:5]],
        "importances": importances(study),
        "worker_seconds": round(seconds, 1),
        "files": dict(files),
    }


def _trial_dict(trial: FrozenTrial | None) -> dict[str, Any] | None:
    if trial is None:
        return None
    seconds = None
    if trial.datetime_start and trial.datetime_complete:
        seconds = round((trial.datetime_complete - trial.datetime_start).total_seconds(), 1)
    return {
        "number": trial.number,
        "val_accuracy": trial.value,
        "params": dict(trial.params),
        "seconds": seconds,
        "worker": trial.user_attrs.get("worker"),
    }


def importances(study: optuna.Study) -> dict[str, float]:
    """fANOVA importance of each searched value for validation accuracy (seeded, so reruns
    agree); empty with fewer than two complete trials."""
    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 2:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    try:
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError):  # e.g. every complete trial has the same values
        return {}
    return {name: round(float(v), 4) for name, v in found.items()}


def write_plots(study: optuna.Study, out: Path) -> dict[str, str]:
    """Optimisation history, parameter importances and parallel coordinates as PNG files;
    none with fewer than two complete trials (there is nothing to compare yet)."""
    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 2:
        return {}
    import matplotlib

    matplotlib.use("Agg")  # files only: servers and workers have no display
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as vm

    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    plots: dict[str, tuple[str, Callable[[], Any]]] = {
        "plot_history": ("optimization_history.png", lambda: vm.plot_optimization_history(study)),
        "plot_importances": (
            "param_importances.png",
            lambda: vm.plot_param_importances(study, evaluator=evaluator),
        ),
        "plot_parallel": ("parallel_coordinate.png", lambda: vm.plot_parallel_coordinate(study)),
    }
    files = {}
    for key, (name, draw) in plots.items():
        try:
            figure = draw().figure
        except (ValueError, RuntimeError):  # too little variety for this plot yet
            continue
        # Optuna's default 6.4 x 4.8 in squeezes nine parallel axes into unreadable labels.
        figure.set_size_inches(12, 6)
        figure.savefig(out / name, dpi=100, bbox_inches="tight")
        plt.close(figure)
        files[key] = str(out / name)
    return files


def summary_markdown(summary: dict[str, Any]) -> str:
    """tune-summary.md: the study in a page, for the run report."""
    best, counts = summary["best"], summary["trials"]
    lines = [
        f"# Tuning: study `{summary['study']}`",
        "",
        f"Model `{summary['model']}`, at most {summary['budget_epochs']} epochs a trial"
        + (f" on {summary['train_subset']} training images" if summary["train_subset"] else "")
        + f"; objective: {summary['objective']}.",
        f"Trials: {counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['fail']} failed, {counts['running']} running; storage `{summary['storage']}`.",
        "",
    ]
    if best is not None:
        lines.append(
            f"Best: trial {best['number']}, validation accuracy {best['val_accuracy']:.4f}."
        )
    for kind, base in summary["baselines"].items():
        gain, epochs = summary["gains_over_baselines"].get(kind), base["params"].get("epochs")
        lines.append(
            f"{BASELINE_NAMES.get(kind, kind)} ({epochs} epoch{'s' if epochs != 1 else ''}, "
            f"trial {base['number']}): {base['val_accuracy']:.4f}"
            + (f"; the best is {100 * gain:+.2f} points." if gain is not None else ".")
        )
    if summary["baselines"]:
        lines.append(
            "(Baselines train the default recipe itself; in the table below its weight decay "
            "of 0 shows as the search range's floor.)"
        )
    if "best_toml" in summary["files"]:
        lines.append(
            f"Reproduce the best: `mnist-digits train --config {summary['files']['best_toml']}`"
        )
    lines += ["", *_markdown_table(summary["top"])]
    if summary["importances"]:
        lines += ["", "Importance for validation accuracy (fANOVA):", ""]
        lines += [f"- `{k}`: {v:.2f}" for k, v in summary["importances"].items()]
    pngs = [v for k, v in summary["files"].items() if k.startswith("plot_")]
    lines += ["", *[f"![{Path(p).stem}]({Path(p).name})" for p in pngs]]
    return "\n".join(lines).rstrip() + "\n"


def _markdown_table(trials: list[dict[str, Any]]) -> list[str]:
    """The top trials with their parameters, one row each."""
    if not trials:
        return []
    names = sorted({k for t in trials for k in t["params"]})
    rows = ["| trial | val accuracy | " + " | ".join(names) + " |"]
    rows.append("|---" * (len(names) + 2) + "|")
    for t in trials:
        cells = [_short(t["params"].get(n)) for n in names]
        rows.append(f"| {t['number']} | {t['val_accuracy']:.4f} | " + " | ".join(cells) + " |")
    return rows


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _atomic_text(path: Path, text: str) -> None:
    """Write whole or not at all: several workers may write the same outputs."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _result(study: optuna.Study, options: TuneOptions, summary: dict[str, Any]) -> TuneResult:
    best = summary["best"]
    return TuneResult(
        study=options.study,
        out=options.out,
        best_trial=best["number"] if best else None,
        best_value=best["val_accuracy"] if best else None,
        baselines={k: t["val_accuracy"] for k, t in summary["baselines"].items()},
        finished=finished_count(study),
        files=dict(summary["files"]),
        summary=summary,
    )
