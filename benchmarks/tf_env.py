"""The seed reference's TensorFlow: its own virtual environment, and one subprocess per seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
TFVENV = HERE / ".tfvenv"
REQUIREMENTS = HERE / "requirements-tf.txt"
SCRIPT = HERE / "ref_keras.py"


def log(message: str) -> None:
    """A progress line on stderr, so stdout holds only the table."""
    print(message, file=sys.stderr, flush=True)


def ensure_tf_python(explicit: str | None = None) -> Path:
    """A Python with TensorFlow: ``explicit`` when given, else ``benchmarks/.tfvenv``'s, which is
    created and filled from requirements-tf.txt on first use (a download of about 600 MB)."""
    if explicit:
        return Path(explicit)
    python, marker = TFVENV / "bin" / "python", TFVENV / ".installed"
    if marker.exists():
        return python
    log(f"creating {TFVENV} and installing {REQUIREMENTS.name} into it (once)")
    subprocess.run([sys.executable, "-m", "venv", str(TFVENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    marker.touch()
    return python


def write_npz(path: Path, train: Any, test: Any) -> Path:
    """Both MNIST splits as uint8 arrays, for a script that cannot import this package."""
    np.savez(
        path, x_train=train.images, y_train=train.labels, x_test=test.images, y_test=test.labels
    )
    return path


def run_keras_seed(
    python: Path, npz: Path, seed: int, threads: int, stop_at: float | None, smoke: bool
) -> dict[str, Any]:
    """Train one seed of the Keras reference in a subprocess and return its JSON record.

    The subprocess inherits this process's environment, GLIBC_TUNABLES included, so both sides
    run with the same allocator settings. ``smoke`` cuts it to 1 epoch on 2,000 images.
    """
    cmd = [str(python), str(SCRIPT), "--data", str(npz), "--seed", str(seed)]
    cmd += ["--threads", str(threads)]
    if stop_at is not None:
        cmd += ["--stop-at", str(stop_at)]
    if smoke:
        cmd += ["--epochs", "1", "--train-limit", "2000", "--test-limit", "1000"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    if proc.returncode != 0:
        raise RuntimeError(f"the Keras reference exited with status {proc.returncode}")
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1])
