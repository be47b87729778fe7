"""Hyper-parameter search with Optuna: ``run_study(options) -> TuneResult``.

Each trial samples a training recipe (``tuning.space``) on top of a base ``TrainConfig``,
trains it with ``training.loop.train``, and scores it by validation accuracy, never by test
accuracy. Validation accuracy is reported after every epoch so that a pruner can stop a poor
trial early.

Workers share a study through its storage (``tuning.storage``): by default a journal file in
the output folder (one machine, any number of processes), or any SQLAlchemy URL such as
``postgresql://...`` (many machines). ``trials`` is the study's total over all workers. A
killed worker loses no finished trial: its running trial is failed and its parameters queued
again. When this worker stops, it writes what the study found (``tuning.summary``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import optuna
import torch
from optuna.trial import FrozenTrial, TrialState

from mnist_digits.core.errors import ConfigError, Interrupted
from mnist_digits.data.dataset import load_dataset
from mnist_digits.training.config import TrainConfig
from mnist_digits.training.loop import Progress, TrainingInterrupted
from mnist_digits.training.loop import train as train_model
from mnist_digits.training.tensors import TrainData, pick_device, prepare_data
from mnist_digits.tuning.options import TuneOptions, base_config
from mnist_digits.tuning.space import enqueue_baselines, search_space
from mnist_digits.tuning.storage import open_storage, quiet_optuna, recover_trials, worker_id
from mnist_digits.tuning.summary import best_trial, write_outputs

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# The median pruner waits for this many finished trials before it compares a trial with them.
STARTUP_TRIALS = 3
# The fixed random training subset of --train-subset: the same in every worker and trial.
SUBSET_SEED = 0


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
    base = base_config(options)
    options.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with quiet_optuna():
        storage = open_storage(options.location, options.heartbeat)
        study = _open_study(options, storage)
        _claim_settings(study, options, base)
        recover_trials(study, storage)
        if not study.trials:
            enqueue_baselines(study, base, options.budget_epochs)
        _optimize(study, options, base, callback)
        summary = write_outputs(study, options, base, time.perf_counter() - started)
    return _result(study, options, summary)


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
    generator = torch.Generator().manual_seed(SUBSET_SEED)
    keep = torch.randperm(n, generator=generator)[: options.train_subset].to(device)
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
        best = best_trial(study)
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


def _last_value(trial: FrozenTrial) -> float | None:
    steps = trial.intermediate_values
    return steps[max(steps)] if steps else None


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
