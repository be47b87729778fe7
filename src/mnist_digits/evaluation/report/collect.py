"""One run as the report sees it: its evaluation on the test split, corruption figures (cached
or measured), its settings, summary and per-epoch history."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_digits.evaluation.evaluate import (
    EvaluationResult,
    Say,
    corruption_figures,
    evaluate_checkpoint,
    read_cache,
)
from mnist_digits.training.loop import EpochStats
from mnist_digits.training.rundir import read_history


@dataclass
class RunData:
    """Everything the report shows about one run.

    Attributes:
        name: Short name (the run folder's name).
        path: The run folder or checkpoint file given.
        config: The resolved training settings (``config.json``, else the checkpoint's recipe).
        summary: ``summary.json`` of the run, when present.
        history: Per-epoch metrics (empty for a bare checkpoint).
        result: The evaluation of the test split.
        figures: ``result.figures`` with ``corruptions`` filled in (from the cache or measured).
    """

    name: str
    path: Path
    config: dict[str, Any]
    summary: dict[str, Any] | None
    history: list[EpochStats]
    result: EvaluationResult
    figures: dict[str, Any]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _history(folder: Path) -> list[EpochStats]:
    try:
        return read_history(folder)
    except (OSError, ValueError, TypeError):
        return []


def collect_run(
    path: str | os.PathLike[str],
    *,
    corruptions: bool = True,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    progress: Say | None = None,
) -> RunData:
    """Evaluate a run on its test split and gather what the report shows about it.

    Corruption figures come from the run's ``evaluation.json`` when it was written for these
    exact weights and seed (``mnist-digits evaluate --corruptions`` leaves one); otherwise they
    are measured here unless ``corruptions`` is False.
    """
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    result = evaluate_checkpoint(p, data_dir=data_dir, progress=progress)
    figures = dict(result.figures)
    earlier = read_cache(p, figures["fingerprint"]) or {}
    if earlier.get("users"):  # measured by `evaluate --users` for these weights
        figures["users"] = earlier["users"]
    cached = earlier.get("corruptions")
    if cached and cached.get("seed") == seed:
        figures["corruptions"] = cached
    elif corruptions:
        test = result.predictions
        figures["corruptions"] = corruption_figures(
            result.model,
            test.images,
            test.labels,
            result.meta.input,
            seed=seed,
            progress=progress,
        )
    config = _read_json(folder / "config.json") or dict(result.meta.recipe)
    summary = _read_json(folder / "summary.json")
    name = folder.name if p.is_dir() else f"{folder.name}/{p.stem}"
    return RunData(name, p, config, summary, _history(folder), result, figures)
