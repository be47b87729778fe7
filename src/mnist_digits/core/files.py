"""Atomic file writes: every file mnist-digits writes goes to a temp file beside its target
and is renamed over it, so a crash, Ctrl-C or full disk never leaves a half-written cache,
checkpoint, run file or export behind."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mnist_digits.core.errors import MnistDigitsError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Files we write get the permissions any new file would (0644 under the usual umask), not
# mkstemp's 0600, so a cache, a run or an exported model can be shared and shipped.
_FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temp path beside ``path`` for a writer that wants a file name (``torch.save``,
    safetensors, onnx); renamed over ``path`` when the block ends without an error, and
    removed when it raises (Ctrl-C included)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, _FILE_MODE)
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8 encoded) to ``path`` atomically, flushed to disk first."""
    raw = data.encode() if isinstance(data, str) else data
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_json(path: str | os.PathLike[str], data: Any, indent: int = 2) -> None:
    """``data`` as indented, key-sorted JSON with a final newline, written atomically."""
    atomic_write(path, json.dumps(data, indent=indent, sort_keys=True) + "\n")


def check_writable(folder: str | os.PathLike[str], fix: str) -> None:
    """Refuse a folder no file can be created in, in one line, before any slow work starts.

    A real, unnamed file is made and dropped: as root, permission bits say nothing, and only
    trying shows a read-only mount, a folder under /sys or a disk with no inode left.

    Raises:
        MnistDigitsError: ``cannot write FOLDER (reason); FIX``.
    """
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as err:
        raise MnistDigitsError(f"cannot write {folder} ({err.strerror}); {fix}") from None
