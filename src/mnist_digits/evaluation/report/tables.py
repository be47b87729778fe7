"""The report's tables: headline metrics, per-class figures, accuracy per corruption, the
training settings and the environment, one column per run. A table is (header, rows) of text."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch

from mnist_digits import __version__
from mnist_digits.evaluation.report.collect import RunData
from mnist_digits.evaluation.users import USERS_HEADER, users_rows

Table = tuple[list[str], list[list[str]]]  # header, rows


def _pct(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f}%"


def _ood_cell(ood: dict[str, Any]) -> str:
    if "auroc" in ood:
        return f"{ood['auroc']:.4f} (vs {ood['dataset']})"
    return f"skipped: {ood.get('skipped', 'not measured')}"


def _metric_rows(run: RunData) -> dict[str, str]:
    """The headline figures of one run, formatted for a table."""
    f, cal = run.figures, run.figures["calibration"]
    corr = f.get("corruptions")
    params = sum(p.numel() for p in run.result.model.parameters())
    seconds = (run.summary or {}).get("train_seconds")
    return {
        "model": f["model"],
        "parameters": f"{params:,}",
        "epochs": str(run.config.get("epochs", "–")),
        "training time": "–" if seconds is None else f"{seconds:.1f} s",
        "test accuracy": _pct(f["accuracy"]),
        "test errors": f"{len(f['error_indices']):,} of {f['n']:,}",
        "test loss (cross-entropy)": f"{f['loss']:.4f}",
        "top-2 accuracy": _pct(f["top2_accuracy"]),
        "macro F1": f"{float(np.mean(f['per_class']['f1'])):.4f}",
        "temperature (fitted on validation)": f"{cal['temperature']:.3f}",
        "ECE, 15 bins: before → after": f"{_pct(cal['ece_before'])} → {_pct(cal['ece_after'])}",
        "NLL: before → after": f"{cal['nll_before']:.4f} → {cal['nll_after']:.4f}",
        "OOD AUROC (max softmax)": _ood_cell(f["ood"]),
        "mean corruption error": _pct(corr["mean_corruption_error"], 1) if corr else "not measured",
    }


def metrics_table(runs: list[RunData]) -> Table:
    """Headline figures, one column per run."""
    columns = [_metric_rows(r) for r in runs]
    return ["", *[r.name for r in runs]], [[k, *[c[k] for c in columns]] for k in columns[0]]


def per_class_table(run: RunData) -> Table:
    """Precision, recall, F1 and support of each class."""
    pc, classes = run.figures["per_class"], run.result.meta.classes
    rows = [
        [
            name,
            f"{pc['precision'][i]:.4f}",
            f"{pc['recall'][i]:.4f}",
            f"{pc['f1'][i]:.4f}",
            f"{pc['support'][i]:,}",
        ]
        for i, name in enumerate(classes)
    ]
    return ["class", "precision", "recall", "F1", "support"], rows


def corruption_table(runs: list[RunData]) -> Table | None:
    """Accuracy per corruption (one column per run) with the fixed severity of each."""
    robust = [r for r in runs if r.figures.get("corruptions")]
    if not robust:
        return None
    first = robust[0].figures["corruptions"]
    rows = [
        [
            name,
            *[_pct(r.figures["corruptions"]["accuracy"][name], 1) for r in robust],
            first["severity"][name],
        ]
        for name in first["accuracy"]
    ]
    seed = f"seed {first['seed']}, {first['n']:,} test images"
    return ["corruption", *[r.name for r in robust], f"severity ({seed})"], rows


def config_table(runs: list[RunData]) -> Table:
    """Every training setting, one column per run; settings that differ are starred."""
    keys = sorted({k for r in runs for k in r.config})
    rows = []
    for key in keys:
        values = [json.dumps(r.config.get(key)) if key in r.config else "–" for r in runs]
        rows.append([f"{key} *" if len(set(values)) > 1 else key, *values])
    return ["setting", *[r.name for r in runs]], rows


def environment_table(runs: list[RunData]) -> Table:
    """Software and machine the report ran on, and what each checkpoint says of its origin."""
    import matplotlib
    import seaborn

    rows = [
        ["mnist-digits", __version__],
        ["Python", platform.python_version()],
        ["PyTorch", torch.__version__],
        ["NumPy", np.__version__],
        ["matplotlib / seaborn", f"{matplotlib.__version__} / {seaborn.__version__}"],
        ["machine", f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"],
        ["report written", datetime.now(UTC).isoformat(timespec="seconds")],
    ]
    for r in runs:
        meta = r.result.meta
        rows.append([f"{r.name}: checkpoint", f"{r.figures['checkpoint']}"])
        rows.append(
            [
                f"{r.name}: written",
                f"{meta.created} by mnist-digits {meta.package_version}, commit {meta.git_commit}",
            ]
        )
    return ["", "value"], rows


def users_table(run: RunData) -> Table | None:
    """Per held-out family: images, read right (digits), flagged, and the reject AUROC."""
    users = run.figures.get("users")
    return (USERS_HEADER, users_rows(users)) if users else None
