"""Arrays derived from the datasets (preprocessed splits, generated families), computed once
and kept under the data home, keyed by what made them.

The key names the producing code's fingerprint, so changing the preprocessing or a generator
makes a new entry instead of reusing stale arrays. A damaged entry is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

import numpy as np

from mnist_digits.core.files import atomic_path
from mnist_digits.data.store import data_home

DERIVED = "derived"


def code_fingerprint(modules: Iterable[ModuleType]) -> str:
    """12 hex digits of SHA-256 over the source files of ``modules`` (packages: every .py)."""
    digest = hashlib.sha256()
    for module in modules:
        root = Path(module.__file__ or "")
        files = sorted(root.parent.rglob("*.py")) if root.name == "__init__.py" else [root]
        for file in files:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def cached_arrays(
    key: str,
    build: Callable[[], dict[str, np.ndarray]],
    data_dir: str | os.PathLike[str] | None = None,
) -> dict[str, np.ndarray]:
    """The arrays stored under ``key``, built by ``build()`` and saved the first time.

    A cache that cannot be written (a read-only data home) still returns the built arrays.
    """
    path = data_home(data_dir) / DERIVED / f"{key}.npz"
    try:
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        pass  # absent or damaged: build it again
    arrays = build()
    try:
        with atomic_path(path) as tmp, tmp.open("wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
    except OSError:
        pass  # read-only or full: the arrays are still good for this run
    return arrays
