"""What a sweep searches: the ranges and choices of each training value, and the baselines.

A trial samples learning rate, weight decay, batch size, epochs, augmentation, label
smoothing, EMA decay and (for models that have one) width, named as ``TrainConfig`` fields so
they lay straight over a base config. A new study first queues the base recipe itself as
baseline trials, so a tuned result can be compared with the recipe it started from.
"""

from __future__ import annotations

from typing import Any

import optuna

from mnist_digits.models.registry import default_width
from mnist_digits.training.config import TrainConfig

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


def enqueue_baselines(study: optuna.Study, base: TrainConfig, budget_epochs: int) -> None:
    """Queue each baseline of :func:`baseline_epochs` that the space can express, marked with
    its kind in the trial's ``baseline`` attribute."""
    for kind, epochs in baseline_epochs(base, budget_epochs).items():
        params = baseline_params(base, epochs)
        if params is not None:
            study.enqueue_trial(params, user_attrs={"baseline": kind}, skip_if_exists=True)
