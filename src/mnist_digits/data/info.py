"""Summaries of a dataset for ``mnist-digits data info``: counts, class balance, statistics."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mnist_digits.core.errors import DataError
from mnist_digits.data.idx import maybe_gunzip, parse_idx
from mnist_digits.data.specs import SPLITS
from mnist_digits.data.store import ensure_dataset, get_spec, sha256_of


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
    """Fetch what is missing, then describe the dataset from bytes checked as they are read.

    The figures and ``verified`` come from the same read of each file: ``verified`` is true
    only when all four match their published SHA-256, so a file that changed after the fetch
    (another process, a failing disk) is named in ``problems`` instead.

    Returns:
        ``{"dataset", "verified", "splits": {split: {count, class_counts, mean, std}},
        "files": [{name, sha256, source, path}]}``, plus ``"problems": {file: reason}`` when
        not verified.
    """
    report = ensure_dataset(name, data_dir=data_dir, source_dir=source_dir)
    spec = get_spec(name)
    arrays: dict[tuple[str, str], np.ndarray] = {}
    problems: dict[str, str] = {}
    for file in spec.files:
        raw = maybe_gunzip(_read(report.directory / file.name), name=file.name)
        if sha256_of(raw) != file.sha256:
            problems[file.name] = f"checksum mismatch ({len(raw)} bytes)"
        arrays[file.split, file.kind] = parse_idx(
            raw, name=file.name, ndim=file.ndim, count=file.count, item_shape=file.item_shape
        )
    splits = {s: split_stats(arrays[s, "images"], arrays[s, "labels"]) for s in SPLITS}
    files = [
        {"name": f.name, "sha256": f.sha256, "source": f.source, "path": str(f.path)}
        for f in report.files
    ]
    info = {"dataset": name, "verified": not problems, "splits": splits, "files": files}
    return info | ({"problems": problems} if problems else {})


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror}") from None
