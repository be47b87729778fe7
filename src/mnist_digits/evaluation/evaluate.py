"""The full evaluation of a trained model: ``evaluate_checkpoint -> EvaluationResult``.

One call scores a checkpoint on a split and returns every figure as a JSON-ready dict:
accuracy, loss, top-2 accuracy, per-class precision/recall/F1/support, the confusion matrix,
the indices of the errors, calibration (a temperature fitted on the validation split that
training held out; ECE and NLL before and after), out-of-distribution separation against the
other dataset (Fashion-MNIST for an MNIST model), and optionally accuracy under the 15 MNIST-C
corruptions. Metrics come from ``metrics`` (numpy); the model only produces logits.

Images are evaluated as they are stored (the dataset's own 28 x 28 format), normalised by the
checkpoint's input contract; nothing of the user-image preprocessing is applied.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from mnist_digits.core import metrics
from mnist_digits.core.card import CheckpointMeta
from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import DataError, MnistDigitsError
from mnist_digits.core.files import atomic_write, check_writable
from mnist_digits.data.dataset import Dataset, load_dataset
from mnist_digits.data.split import DEFAULT_VAL_SEED, DEFAULT_VAL_SIZE, split_indices
from mnist_digits.evaluation.corruptions import CORRUPTIONS, SEVERITY, corrupt
from mnist_digits.models.checkpoint import (
    inside_package,
    load_checkpoint,
    resolve_checkpoint,
    update_meta,
    weights_fingerprint,
)
from mnist_digits.models.inference import infer

ECE_BINS = 15  # as in Guo et al. 2017
# What ``evaluate`` can score: the test split, or either part of the training split.
EVAL_SPLITS = ("test", "val", "train")
CACHE_FILE = "evaluation.json"
# The out-of-distribution set for a model trained on each dataset: same image format, no digits.
OOD_PARTNER = {"mnist": "fashion-mnist", "fashion-mnist": "mnist"}

Say = Callable[[str], None]  # takes one line of progress for the person waiting
PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Predictions:
    """A labelled set and what the model said about it.

    Attributes:
        images: (N, 28, 28) uint8, as stored in the dataset.
        labels: (N,) int64 true classes.
        logits: (N, C) float64 model outputs.
    """

    images: np.ndarray
    labels: np.ndarray
    logits: np.ndarray


@dataclass(frozen=True)
class EvaluationResult:
    """Figures (the JSON document) plus the arrays that plots need.

    Attributes:
        figures: every number, JSON-ready (see ``evaluate_checkpoint``).
        predictions: the evaluated split.
        ood_logits: logits (M, C) on the out-of-distribution set, or None when skipped.
        temperature: the calibration temperature fitted on validation.
        model: the loaded model, in eval mode.
        meta: its checkpoint metadata.
    """

    figures: dict[str, Any]
    predictions: Predictions
    ood_logits: np.ndarray | None
    temperature: float
    model: nn.Module
    meta: CheckpointMeta


def classification_figures(logits: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, loss, top-2 accuracy, per-class figures, confusion matrix and error indices.

    Args:
        logits: (N, C) scores.
        labels: (N,) true classes.

    Returns:
        Dict with ``n``, ``accuracy``, ``loss`` (mean cross-entropy, nats), ``top2_accuracy``,
        ``per_class`` (precision, recall, f1, support: lists of C; recall is each class's
        accuracy), ``confusion_matrix`` (C x C counts, rows = true class) and
        ``error_indices`` (positions of the wrong predictions, ascending).
    """
    num_classes = logits.shape[1]
    pred = logits.argmax(axis=1)  # (N,)
    report = metrics.per_class_report(pred, labels, num_classes)
    return {
        "n": int(labels.shape[0]),
        "accuracy": metrics.accuracy(pred, labels),
        "loss": metrics.nll(logits, labels),
        "top2_accuracy": metrics.top_k_accuracy(logits, labels, k=2),
        "per_class": report,
        "confusion_matrix": metrics.confusion_matrix(pred, labels, num_classes).tolist(),
        "error_indices": np.flatnonzero(pred != labels).tolist(),
    }


def calibration_figures(
    val_logits: np.ndarray, val_labels: np.ndarray, logits: np.ndarray, labels: np.ndarray
) -> dict[str, Any]:
    """Fit a temperature on validation logits; ECE (15 bins) and NLL before and after it.

    The ECE and NLL are measured on ``logits``/``labels`` (the evaluated split), the
    temperature only on the validation set, so the test set never tunes anything.

    Returns:
        Dict with ``temperature``, ``ece_before``, ``ece_after``, ``nll_before``,
        ``nll_after``, ``val_nll_before``, ``val_nll_after``, ``n_bins`` and ``n_val``.
    """
    t = metrics.fit_temperature(val_logits, val_labels)
    return {
        "temperature": t,
        "ece_before": metrics.expected_calibration_error(metrics.softmax(logits), labels),
        "ece_after": metrics.expected_calibration_error(metrics.softmax(logits, t), labels),
        "nll_before": metrics.nll(logits, labels),
        "nll_after": metrics.nll(logits, labels, t),
        "val_nll_before": metrics.nll(val_logits, val_labels),
        "val_nll_after": metrics.nll(val_logits, val_labels, t),
        "n_bins": ECE_BINS,
        "n_val": int(val_labels.shape[0]),
    }


def log_max_softmax(logits: np.ndarray) -> np.ndarray:
    """log of the maximum softmax probability, (N,), without rounding confident rows to 0.

    Equals -log1p(sum of exp(z_j - z_max) over the other classes): a margin of 40 nats gives
    -4e-18 here where float64 softmax would round the probability to exactly 1.0 and tie
    every confident image. It ranks samples exactly as the max-softmax probability does.
    """
    z = np.asarray(logits, dtype=np.float64)  # (N, C)
    top = z.argmax(axis=1)  # (N,)
    rest = np.exp(z - z[np.arange(z.shape[0]), top][:, None])  # (N, C), the max's own entry = 1
    rest[np.arange(z.shape[0]), top] = 0.0
    return -np.log1p(rest.sum(axis=1))


def ood_figures(
    in_logits: np.ndarray, ood_logits: np.ndarray, in_name: str, ood_name: str
) -> dict[str, Any]:
    """AUROC of separating in-distribution from out-of-distribution images by confidence.

    The score is the maximum softmax probability (Hendrycks & Gimpel 2017), ranked through its
    log so confident images do not tie; the energy score's AUROC is given beside it.

    Returns:
        Dict with ``dataset`` (the OOD set), ``in_distribution``, ``score``, ``auroc``,
        ``auroc_energy``, ``n_in`` and ``n_out``.
    """
    return {
        "dataset": ood_name,
        "in_distribution": in_name,
        "score": "max_softmax",
        "auroc": metrics.auroc(log_max_softmax(in_logits), log_max_softmax(ood_logits)),
        "auroc_energy": metrics.auroc(
            metrics.energy_score(in_logits), metrics.energy_score(ood_logits)
        ),
        "n_in": int(in_logits.shape[0]),
        "n_out": int(ood_logits.shape[0]),
    }


def corruption_figures(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    contract: InputContract,
    *,
    seed: int = 0,
    progress: Say | None = None,
) -> dict[str, Any]:
    """Accuracy under each of the 15 MNIST-C corruptions, and the mean corruption error.

    Args:
        model: The classifier.
        images: Clean uint8 images (N, 28, 28).
        labels: True classes (N,).
        contract: The model's input contract.
        seed: Corruption seed; the same seed gives the same corrupted images and figures.
        progress: Called with a line before each corruption.

    Returns:
        Dict with ``accuracy`` (name -> fraction), ``mean_corruption_error`` (the plain mean
        of the 15 error rates), ``clean_accuracy``, ``seed``, ``n`` and ``severity`` (name ->
        the fixed severity, in words).
    """
    acc: dict[str, float] = {}
    for i, name in enumerate(CORRUPTIONS, 1):
        if progress:
            progress(f"corruption {i}/{len(CORRUPTIONS)}: {name}")
        logits = infer(model, corrupt(images, name, seed), contract).double().cpu().numpy()
        acc[name] = metrics.accuracy(logits, labels)
    clean_logits = infer(model, images, contract).double().cpu().numpy()
    clean = metrics.accuracy(clean_logits, labels)
    return {
        "accuracy": acc,
        "mean_corruption_error": float(np.mean([1.0 - a for a in acc.values()])),
        "clean_accuracy": clean,
        "seed": seed,
        "n": int(labels.shape[0]),
        "severity": dict(SEVERITY),
    }


def validation_split(meta: CheckpointMeta, train_split: Dataset) -> tuple[Dataset, Dataset]:
    """The (training, validation) parts of the training split, as training cut them.

    Uses the run's ``val_size`` and ``val_seed`` from the checkpoint's recipe, or training's
    defaults (``data.split``) for a checkpoint without one.
    """
    size = int(meta.recipe.get("val_size", DEFAULT_VAL_SIZE))
    seed = int(meta.recipe.get("val_seed", DEFAULT_VAL_SEED))
    train_idx, val_idx = (i.numpy() for i in split_indices(len(train_split), size, seed))
    ds = train_split
    return (
        replace(ds, split="train", images=ds.images[train_idx], labels=ds.labels[train_idx]),
        replace(ds, split="val", images=ds.images[val_idx], labels=ds.labels[val_idx]),
    )


def _predictions(model: nn.Module, meta: CheckpointMeta, ds: Dataset) -> Predictions:
    labels = ds.labels.astype(np.int64)
    logits = infer(model, ds.images, meta.input).double().cpu().numpy()  # (N, C)
    return Predictions(ds.images, labels, logits)


def _ood(
    model: nn.Module, meta: CheckpointMeta, test: Predictions, data_dir: PathLike | None
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """OOD logits and figures, or None and ``skipped`` with the reason."""
    partner = OOD_PARTNER.get(meta.dataset)
    if partner is None:
        return None, {"skipped": f"no out-of-distribution set is defined for {meta.dataset}"}
    try:
        other = load_dataset(partner, "test", data_dir=data_dir)
    except DataError as err:
        return None, {"dataset": partner, "skipped": f"{partner} is not available ({err})"}
    # The OOD images get the model's own input contract, as any input would.
    logits = infer(model, other.images, meta.input).double().cpu().numpy()  # (M, C)
    return logits, ood_figures(test.logits, logits, f"{meta.dataset} test", partner)


def _score_splits(
    model: nn.Module, meta: CheckpointMeta, split: str, data_dir: PathLike | None
) -> tuple[Predictions, Predictions, Predictions]:
    """Predictions on the validation part, the test split and the split asked for."""
    train_part, val_part = validation_split(
        meta, load_dataset(meta.dataset, "train", data_dir=data_dir)
    )
    val = _predictions(model, meta, val_part)
    test = _predictions(model, meta, load_dataset(meta.dataset, "test", data_dir=data_dir))
    chosen = {"test": test, "val": val}.get(split) or _predictions(model, meta, train_part)
    return val, test, chosen


def evaluate_checkpoint(
    path: str | os.PathLike[str],
    *,
    split: str = "test",
    corruptions: bool = False,
    seed: int = 0,
    data_dir: PathLike | None = None,
    progress: Say | None = None,
) -> EvaluationResult:
    """Evaluate a run directory's best checkpoint (or a checkpoint file) completely.

    Args:
        path: A run directory or a ``.safetensors`` checkpoint.
        split: ``test``, ``val`` (the images training held out) or ``train`` (the rest).
        corruptions: Also measure accuracy under the 15 corruptions of the test set.
        seed: Corruption seed.
        data_dir: Dataset cache root.
        progress: Called with a line before each slow step.

    Returns:
        The result; its ``figures`` hold ``model``, ``dataset``, ``split``, ``checkpoint``,
        ``fingerprint``, everything from ``classification_figures``, ``calibration``, ``ood``
        (out-of-distribution figures, or ``skipped`` with the reason) and, when asked,
        ``corruptions``. OOD and corruptions always use the test split.
    """
    if split not in EVAL_SPLITS:
        raise MnistDigitsError(f"unknown split {split!r}; choose one of: {', '.join(EVAL_SPLITS)}")
    say = progress or (lambda _line: None)
    file = resolve_checkpoint(path)
    model, meta = load_checkpoint(file)
    say(f"scoring {meta.dataset} validation and test images")
    val, test, chosen = _score_splits(model, meta, split, data_dir)
    figures: dict[str, Any] = {
        "model": meta.model,
        "dataset": meta.dataset,
        "split": split,
        "checkpoint": str(file),
        "fingerprint": weights_fingerprint(file),
        **classification_figures(chosen.logits, chosen.labels),
        "calibration": calibration_figures(val.logits, val.labels, chosen.logits, chosen.labels),
    }
    say("scoring the out-of-distribution set")
    ood_logits, figures["ood"] = _ood(model, meta, test, data_dir)
    if corruptions:
        figures["corruptions"] = corruption_figures(
            model, test.images, test.labels, meta.input, seed=seed, progress=say
        )
    t = figures["calibration"]["temperature"]
    return EvaluationResult(figures, chosen, ood_logits, t, model, meta)


def store_calibration(path: str | os.PathLike[str], calibration: dict[str, Any]) -> Path:
    """Save the fitted temperature (and its ECE/NLL figures) into the checkpoint's metadata.

    Prediction reads ``meta.extra["temperature"]`` later. The checkpoint is rewritten
    atomically with its weights unchanged.

    Raises:
        CheckpointError: the checkpoint ships inside the installed package or is read-only.
    """
    keys = ("temperature", "ece_before", "ece_after", "nll_before", "nll_after", "n_bins")
    figures = {k: calibration[k] for k in keys if k in calibration}
    return update_meta(path, temperature=calibration["temperature"], calibration=figures)


def cache_folder(path: str | os.PathLike[str]) -> Path | None:
    """The run folder ``evaluate`` writes into (``evaluation.json`` and the checkpoint's
    temperature), or None for a checkpoint outside a training run or inside the package."""
    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    if not (folder / "config.json").is_file() or inside_package(folder):
        return None
    return folder


def check_cache_writable(path: str | os.PathLike[str]) -> None:
    """Refuse to evaluate a run whose folder cannot take the figures and the temperature."""
    folder = cache_folder(path)
    if folder is not None:
        fix = "evaluate writes evaluation.json there; copy the run somewhere writable"
        check_writable(folder, fix)


def write_cache(run_dir: str | os.PathLike[str], figures: dict[str, Any]) -> Path | None:
    """Keep the figures beside a run's checkpoints as ``evaluation.json`` for ``report``.

    Corruption figures cached earlier for the same weights are kept when ``figures`` has none,
    so a quick ``evaluate`` does not throw away a minute of corruptions. Only a training run
    folder (see ``cache_folder``) gets the file; returns its path, or None otherwise.

    Raises:
        MnistDigitsError: the file could not be written (the disk filled up, say).
    """
    folder = cache_folder(run_dir)
    if folder is None:
        return None
    earlier = read_cache(folder, figures["fingerprint"]) or {}
    if "corruptions" not in figures and "corruptions" in earlier:
        figures = {**figures, "corruptions": earlier["corruptions"]}
    try:
        # Not key-sorted: corruptions stay in the registry's order, as ``evaluate`` prints them.
        atomic_write(folder / CACHE_FILE, json.dumps(figures, indent=1) + "\n")
    except OSError as err:
        raise MnistDigitsError(f"cannot write {folder / CACHE_FILE}: {err.strerror}") from None
    return folder / CACHE_FILE


def read_cache(run_dir: str | os.PathLike[str], fingerprint: str) -> dict[str, Any] | None:
    """The cached figures of these exact weights, or None (absent, unreadable or stale)."""
    folder = Path(run_dir)
    folder = folder if folder.is_dir() else folder.parent
    try:
        figures = json.loads((folder / CACHE_FILE).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(figures, dict) and figures.get("fingerprint") == fingerprint
    return figures if ok else None
