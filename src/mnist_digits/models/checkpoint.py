"""Self-describing checkpoints: weights in safetensors, and in the same file the model card
(model name and config, input contract, classes, metrics, recipe, version, commit)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from mnist_digits.core.card import META_KEY, CheckpointMeta
from mnist_digits.core.errors import CheckpointError
from mnist_digits.core.files import atomic_path
from mnist_digits.models.registry import create_model

BEST = "best.safetensors"
LAST = "last.safetensors"
# The installed package: checkpoints shipped in it are read, never rewritten.
PACKAGE_DIR = Path(__file__).parent.parent


def git_commit() -> str:
    """The commit of the source tree this package runs from, or ``unknown``."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def resolve_checkpoint(path: str | os.PathLike[str]) -> Path:
    """A run directory means its best checkpoint (chosen on validation); a file means itself."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / BEST
        if not p.is_file():
            raise CheckpointError(f"{path} holds no {BEST}; is it a finished training run?")
    elif not p.is_file():
        raise CheckpointError(f"{path} does not exist; give a run directory or a .safetensors file")
    return p


def save_checkpoint(path: str | os.PathLike[str], model: nn.Module, meta: CheckpointMeta) -> Path:
    """Write weights and metadata atomically (temp file, then rename)."""
    if not meta.created:
        meta = replace(meta, created=datetime.now(UTC).isoformat(timespec="seconds"))
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return _write(Path(path), state, meta)


def _write(target: Path, state: dict[str, torch.Tensor], meta: CheckpointMeta) -> Path:
    with atomic_path(target) as tmp:
        save_file(state, str(tmp), metadata={META_KEY: meta.to_json()})
    return target


def inside_package(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies inside the installed ``mnist_digits`` package (never written to)."""
    return Path(path).expanduser().resolve().is_relative_to(PACKAGE_DIR.resolve())


def update_meta(path: str | os.PathLike[str], **extra: Any) -> Path:
    """Merge ``extra`` into a checkpoint's ``meta.extra`` and rewrite the file atomically.

    The weights are copied unchanged. ``path`` may be a run directory (its best checkpoint).

    Raises:
        CheckpointError: the file lies inside the installed package, or cannot be written.
    """
    file = resolve_checkpoint(path)
    if inside_package(file):
        raise CheckpointError(f"{file} ships with the package and is never modified")
    meta = read_meta(file)
    meta = replace(meta, extra={**meta.extra, **extra})
    try:
        return _write(file, load_file(str(file)), meta)
    except OSError as err:
        raise CheckpointError(f"cannot rewrite {file}: {err.strerror}") from None


def weights_fingerprint(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a checkpoint's tensors (names, dtypes, shapes, bytes), ignoring metadata.

    Rewriting the metadata (as ``update_meta`` does) keeps the fingerprint, so figures cached
    for these weights stay valid; retraining changes it.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(load_file(str(resolve_checkpoint(path))).items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def read_meta(path: str | os.PathLike[str]) -> CheckpointMeta:
    """Read only the metadata of a checkpoint (or a run directory's best one)."""
    file = resolve_checkpoint(path)
    try:
        with safe_open(str(file), framework="pt") as handle:
            text = (handle.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{file}: not a readable safetensors file ({err})") from None
    if text is None:
        raise CheckpointError(f"{file}: has no mnist-digits metadata; was it written by us?")
    return CheckpointMeta.from_json(text, where=str(file))


def load_checkpoint(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[nn.Module, CheckpointMeta]:
    """Rebuild the model a checkpoint describes and load its weights, in eval mode."""
    meta = read_meta(path)
    file = resolve_checkpoint(path)
    model = create_model(meta.model, **meta.model_config)
    try:
        model.load_state_dict(load_file(str(file), device=str(device)))
    except (RuntimeError, SafetensorError) as err:
        first = str(err).strip().splitlines()[0]
        raise CheckpointError(f"{file}: weights do not fit model {meta.model} ({first})") from None
    return model.to(device).eval(), meta
