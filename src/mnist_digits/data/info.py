"""Summaries of a dataset for ``mnist-digits data info``: counts, class balance, statistics."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.specs import SPLITS
from mnist_digits.data.store import ensure_dataset


def split_stats(images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Count, per-class counts, and pixel mean/std on a 0..1 scale for one split."""
    pixels = images.astype(np.float64) / 255.0  # (N, 28, 28)
    return {
        "count": int(labels.shape[0]),
        "class_counts": np.bincount(labels, minlength=10).astype(int).tolist(),
        "mean": round(float(pixels.mean()), 4),
        "std": round(float(pixels.std()), 4),
    }


def dataset_info(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    source_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Fetch what is missing, verify every file and describe the dataset.

    Returns:
        ``{"dataset", "verified", "splits": {split: {count, class_counts, mean, std}},
        "files": [{name, sha256, source, path}]}``.
    """
    report = ensure_dataset(name, data_dir=data_dir, source_dir=source_dir)
    splits = {}
    for split in SPLITS:
        ds = load_dataset(name, split, data_dir=data_dir)
        splits[split] = split_stats(ds.images, ds.labels)
    files = [
        {"name": f.name, "sha256": f.sha256, "source": f.source, "path": str(f.path)}
        for f in report.files
    ]
    return {"dataset": name, "verified": True, "splits": splits, "files": files}
