"""Self-describing checkpoints: weights in safetensors, and in the same file everything needed
to use them (model name and config, normalisation, classes, metrics, recipe, version, commit)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from mnist_digits.errors import CheckpointError
from mnist_digits.meta import FORMAT, META_KEY, CheckpointMeta
from mnist_digits.models import create_model

BEST = "best.safetensors"
LAST = "last.safetensors"
_META_KEY = META_KEY
# CheckpointMeta lives in the torch-free meta module; re-exported so old imports keep working.
__all__ = [
    "BEST",
    "FORMAT",
    "LAST",
    "CheckpointMeta",
    "git_commit",
    "load_checkpoint",
    "read_meta",
    "resolve_checkpoint",
    "save_checkpoint",
]


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
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not meta.created:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        meta = CheckpointMeta(**{**asdict(meta), "created": stamp})
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(state, tmp, metadata={_META_KEY: meta.to_json()})
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_meta(path: str | os.PathLike[str]) -> CheckpointMeta:
    """Read only the metadata of a checkpoint (or a run directory's best one)."""
    file = resolve_checkpoint(path)
    try:
        with safe_open(str(file), framework="pt") as handle:
            text = (handle.metadata() or {}).get(_META_KEY)
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
