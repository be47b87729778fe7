"""``mnist-digits tune``: an Optuna sweep on one machine, or one worker of a sweep on many."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_digits.cli.common import add_data_options, add_json, ensure
from mnist_digits.cli.render import emit_json, log
from mnist_digits.models.registry import MODELS
from mnist_digits.training.config import load_config_file

if TYPE_CHECKING:
    from mnist_digits.tuning.study import TuneEvent, TuneResult

# As mnist_digits.tuning.options.PRUNERS. The tuning package is imported only when `tune` runs:
# Optuna is slow to import, which every other command would pay.
PRUNERS = ("median", "halving", "none")

DESCRIPTION = """\
Search learning rate, weight decay, batch size, epochs, augmentation, label smoothing, EMA
decay and model width for the best validation accuracy. The best recipe is written as
OUT/best.toml: reproduce it with `mnist-digits train --config OUT/best.toml`.

One machine:    mnist-digits tune --trials 30
Many machines:  run on each  mnist-digits tune --storage postgresql://USER:PASS@HOST/DB \\
                                 --study NAME --trials 100
"""


_FLAGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--trials", {"type": int, "default": 20, "help": "finished trials in the study, all workers"}),
    ("--timeout", {"type": float, "help": "no new trial after S seconds (default: no limit)"}),
    ("--storage", {"help": "journal file or SQLAlchemy URL (default: OUT/journal.log)"}),
    ("--study", {"help": "study name its workers share (default: the model)"}),
    ("--model", {"choices": list(MODELS), "help": "architecture (default: cnn-small)"}),
    ("--budget-epochs", {"type": int, "default": 3, "help": "the most epochs a trial trains"}),
    ("--out", {"help": "output folder (default: runs/tune-<study>)"}),
    ("--pruner", {"default": "median", "choices": PRUNERS, "help": "stops poor trials early"}),
    ("--config", {"help": "base settings (TOML, YAML or JSON) the search varies"}),
    ("--train-subset", {"type": int, "default": 0, "help": "train on N random images (0: all)"}),
    ("--seed", {"type": int, "help": "sampler seed, for a lone worker (default: random)"}),
    ("--heartbeat", {"type": int, "default": 30, "help": "seconds between database heartbeats"}),
)


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "tune",
        help="search training settings with Optuna",
        formatter_class=fmt,
        description=DESCRIPTION,
    )
    for flag, kwargs in _FLAGS:
        p.add_argument(flag, **kwargs)
    add_data_options(p, dataset=False)
    add_json(p)
    p.set_defaults(handler=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    import optuna

    from mnist_digits.tuning.options import TuneOptions
    from mnist_digits.tuning.study import run_study

    base = load_config_file(args.config) if args.config else {}
    ensure(args, base.get("dataset", "mnist"))
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own lines below say the same
    model = args.model or base.get("model", "cnn-small")
    study = args.study or model
    options = TuneOptions(
        study=study,
        out=Path(args.out or f"runs/tune-{study}"),
        model=model,
        trials=args.trials,
        budget_epochs=args.budget_epochs,
        timeout=args.timeout,
        storage=args.storage,
        pruner=args.pruner,
        base=base,
        train_subset=args.train_subset,
        seed=args.seed,
        heartbeat=args.heartbeat,
        data_dir=args.data_dir,
    )
    result = run_study(options, callback=_log_event)
    return _print_result(result, args.json)


def _log_event(event: TuneEvent) -> None:
    """One line per trial start and end on stderr (a pruned trial shows its last epoch)."""
    if event.kind == "trial_start":
        params = "  ".join(f"{k}={_fmt(v)}" for k, v in event.params.items())
        log(f"trial {event.trial}: {params}")
    elif event.kind == "trial_end":
        value = f"{event.value:.4f}" if event.value is not None else "-"
        best = f"{event.best_value:.4f} (trial {event.best_trial})" if event.best_value else "-"
        log(f"trial {event.trial} {event.state.lower()}: val_acc {value}  best {best}")


def _fmt(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _print_result(result: TuneResult, as_json: bool) -> int:
    if as_json:
        emit_json(result.summary)
        return 0
    counts = result.summary["trials"]
    print(
        f"study {result.study}: {counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['fail']} failed trials"
    )
    if result.best_value is not None:
        print(f"best val accuracy {result.best_value:.4f} (trial {result.best_trial})")
        for kind, base in result.summary["baselines"].items():
            epochs, number = base["params"].get("epochs"), base["number"]
            print(f"baseline {kind}, trial {number} (epochs={epochs}): {base['val_accuracy']:.4f}")
        print(f"reproduce: mnist-digits train --config {result.files['best_toml']}")
    print(f"summary: {result.files['summary_md']}")
    return 0
