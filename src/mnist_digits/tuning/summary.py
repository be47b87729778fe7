"""What a study found, written into its output folder.

``best.toml`` is the best trial's whole recipe as a config file that
``mnist-digits train --config`` reproduces in one command; beside it go three plots
(optimisation history, parameter importances, parallel coordinates) and
``tune-summary.json``/``.md``. Several workers may write the same folder, so every file is
written atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from mnist_digits.core.files import atomic_path, atomic_write, atomic_write_json
from mnist_digits.training.config import TrainConfig, resolve_config
from mnist_digits.tuning.options import TuneOptions
from mnist_digits.tuning.space import BASELINE_NAMES
from mnist_digits.tuning.storage import mask_url

BEST_TOML = "best.toml"
SUMMARY = "tune-summary"
TOP_TRIALS = 5  # rows of the summary's table
PLOT_INCHES = (12, 6)  # Optuna's default 6.4 x 4.8 squeezes nine parallel axes illegibly


def _complete(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The complete trial with the highest validation accuracy (the earliest of equals)."""
    complete = _complete(study)
    return max(complete, key=lambda t: (t.value or 0.0, -t.number)) if complete else None


def baseline_trials(study: optuna.Study) -> dict[str, FrozenTrial]:
    """The first complete trial of each baseline kind."""
    found: dict[str, FrozenTrial] = {}
    for trial in _complete(study):
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
    best = best_trial(study)
    if best is not None:
        header = [
            f"The best recipe of study {options.study!r}: trial {best.number}, "
            f"validation accuracy {best.value:.4f}.",
            f"Reproduce with: mnist-digits train --config {out / BEST_TOML}",
        ]
        atomic_write(out / BEST_TOML, toml_text(best_config(best), header))
        files["best_toml"] = str(out / BEST_TOML)
    files.update(write_plots(study, out))
    files["summary_json"] = str(out / f"{SUMMARY}.json")
    files["summary_md"] = str(out / f"{SUMMARY}.md")
    summary = summarize(study, options, base, seconds, files)
    atomic_write_json(out / f"{SUMMARY}.json", summary, indent=2)
    atomic_write(out / f"{SUMMARY}.md", summary_markdown(summary))
    return summary


def summarize(
    study: optuna.Study,
    options: TuneOptions,
    base: TrainConfig,
    seconds: float,
    files: dict[str, str],
) -> dict[str, Any]:
    """The study's figures as one JSON-ready dict (tune-summary.json)."""
    best, baselines = best_trial(study), baseline_trials(study)
    counts = {s.name.lower(): 0 for s in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] += 1
    ranked = sorted(_complete(study), key=lambda t: (-(t.value or 0.0), t.number))
    gains = {}
    if best is not None:
        gains = {k: (best.value or 0.0) - (t.value or 0.0) for k, t in baselines.items()}
    return {
        "study": options.study,
        "storage": mask_url(options.location),
        "model": base.model,
        "budget_epochs": options.budget_epochs,
        "train_subset": options.train_subset,
        "objective": "validation accuracy of the best epoch (the test split is never used)",
        "trials": counts,
        "best": _trial_dict(best),
        "baselines": {kind: _trial_dict(t) for kind, t in baselines.items()},
        "gains_over_baselines": gains,
        "top": [_trial_dict(t) for t in ranked[:TOP_TRIALS]],
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
    if len(_complete(study)) < 2:
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
    if len(_complete(study)) < 2:
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
        figure.set_size_inches(*PLOT_INCHES)
        with atomic_path(out / name) as tmp:  # the temp name ends .tmp: say the format
            figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
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
    lines += _baseline_lines(summary)
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


def _baseline_lines(summary: dict[str, Any]) -> list[str]:
    """One line per baseline with the best's gain over it, and a note on how they read."""
    lines = []
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
    return lines


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
