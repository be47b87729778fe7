"""What a test does when a system component it needs is missing (Chromium, PostgreSQL, a
dataset, the shipped weights): it skips on a developer's machine and fails under ``CI=true``,
where a green run must mean that every test ran."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

INSTALL_FASHION = "apt-get install dataset-fashion-mnist (scripts/system-deps.sh does)"


def under_ci() -> bool:
    """Whether the run is CI's (``CI=true``, as GitHub Actions and GitLab set it)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def missing(reason: str, *, module: bool = False) -> NoReturn:
    """Skip for ``reason``, or fail under CI. ``module`` for a call at import time."""
    if under_ci():
        pytest.fail(f"{reason} (CI=true: a missing component fails the run)", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def fashion_mnist_or_missing() -> None:
    """Go on only where Fashion-MNIST can be had without the network: Debian's package
    ``dataset-fashion-mnist`` (``scripts/system-deps.sh`` installs it) or the user's cache."""
    from mnist_digits.data.specs import FASHION_MNIST
    from mnist_digits.data.store import FASHION_SYSTEM_DIR, data_home

    cached = data_home() / FASHION_MNIST.name
    if FASHION_SYSTEM_DIR.is_dir() or all((cached / f.name).is_file() for f in FASHION_MNIST.files):
        return
    missing(f"Fashion-MNIST is in neither {FASHION_SYSTEM_DIR} nor {cached}: {INSTALL_FASHION}")
