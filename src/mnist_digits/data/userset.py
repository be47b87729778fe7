"""A user's dataset: the folder ``mnist-digits samples export --format idx`` writes, read back as
an MNIST of its own.

The folder holds MNIST's four gzipped IDX files, ``SHA256SUMS`` (sha256sum's format) and
``manifest.json`` (format ``mnist-digits-samples/1``: counts, writers per split, a checksum per
file). It is verified against its *own* checksums, both lists of them, which must agree; MNIST's
published checksums are never relaxed: a folder without such a manifest is still checked
against them by ``data.store``.

Why a ``DatasetSpec`` built from the manifest rather than a second loader: a spec is what
training, calibration and the model card already read (classes, input contract, files,
counts), so an export goes through the same strict IDX parser, the same ``Dataset`` and the
same run folder as MNIST does. Its classes and input contract are MNIST's, not statistics of
its own few hundred images: the samples are MNIST-format digits, and a model trained or
fine-tuned on them must still read MNIST and people's images the way ``predict`` feeds them.
Its name carries a digest of the checksums, so figures cached for it never mix with MNIST's.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnist_digits.core.errors import DataError
from mnist_digits.data.idx import maybe_gunzip, parse_idx
from mnist_digits.data.specs import KINDS, MNIST, SPLITS, DatasetSpec, FileSpec

EXPORT_FORMAT = "mnist-digits-samples/1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
_AGAIN = "export the samples again with: mnist-digits samples export --format idx DIR"


@dataclass(frozen=True)
class UserExport:
    """A verified export folder.

    Attributes:
        path: the folder.
        spec: its dataset spec (MNIST's classes and input contract, the export's files).
        writers: writer ids per split, as the manifest lists them.
        arrays: ``(split, kind)`` → the parsed uint8 array, images (N, 28, 28), labels (N,).
    """

    path: Path
    spec: DatasetSpec
    writers: dict[str, tuple[str, ...]]
    arrays: dict[tuple[str, str], np.ndarray]


def is_export(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is a folder holding a samples export's ``manifest.json``."""
    return bool(path) and (Path(str(path)).expanduser() / MANIFEST).is_file()


def _file_name(file: FileSpec) -> str:
    return file.name + ".gz"


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except OSError as err:
        raise DataError(f"cannot read {folder / MANIFEST}: {err.strerror}") from None
    except ValueError:
        raise DataError(f"{folder / MANIFEST} is not valid JSON; {_AGAIN}") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise DataError(
            f"{folder / MANIFEST} has format {found!r}, this version reads {EXPORT_FORMAT!r}"
        )
    return data


def _sums(folder: Path) -> dict[str, str]:
    """``SHA256SUMS`` as {file name: hex}; ``*`` marks binary mode in sha256sum's format."""
    try:
        lines = (folder / SUMS).read_text().splitlines()
    except OSError as err:
        raise DataError(f"{folder} has no readable {SUMS} ({err.strerror}); {_AGAIN}") from None
    sums = {}
    for line in filter(str.strip, lines):
        digest, _, name = line.strip().partition(" ")
        sums[name.strip().lstrip("*")] = digest.lower()
    return sums


def _verified_bytes(folder: Path, name: str, sums: dict[str, str], listed: dict[str, Any]) -> bytes:
    """One file's bytes, checked against both SHA256SUMS and the manifest."""
    if name not in sums or name not in listed:
        where = SUMS if name not in sums else MANIFEST
        raise DataError(f"{folder / where} lists no checksum for {name}; {_AGAIN}")
    if sums[name] != str(listed[name]).lower():
        raise DataError(f"{folder}: {SUMS} and {MANIFEST} disagree about {name}; {_AGAIN}")
    try:
        data = (folder / name).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{folder} is missing {name}; {_AGAIN}") from None
    except OSError as err:
        raise DataError(f"cannot read {folder / name}: {err.strerror}") from None
    if hashlib.sha256(data).hexdigest() != sums[name]:
        raise DataError(f"{folder / name}: checksum mismatch with {SUMS}; {_AGAIN}")
    return data


def _counts(folder: Path, manifest: dict[str, Any]) -> dict[str, int]:
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(isinstance(counts.get(s), int) for s in SPLITS):
        raise DataError(f"{folder / MANIFEST} gives no counts for train and test; {_AGAIN}")
    return {s: int(counts[s]) for s in SPLITS}


def read_export(path: str | os.PathLike[str]) -> UserExport:
    """Verify an export folder and parse its four files.

    Raises:
        DataError: a file is missing, a checksum is wrong or missing, the two checksum lists
            disagree, a file is not the IDX it should be, or a label is not a digit.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; give a samples export folder")
    manifest = _manifest(folder)
    sums, listed = _sums(folder), manifest.get("sha256") or {}
    counts = _counts(folder, manifest)
    files, arrays = [], {}
    for proto in MNIST.files:
        name = _file_name(proto)
        raw = maybe_gunzip(_verified_bytes(folder, name, sums, listed), name=name)
        count = counts[proto.split]
        arrays[proto.split, proto.kind] = parse_idx(
            raw, name=name, ndim=proto.ndim, count=count, item_shape=proto.item_shape
        )
        files.append(FileSpec(proto.split, proto.kind, proto.name, _sha(raw), count))
    for split in SPLITS:
        labels = arrays[split, "labels"]
        if labels.size and int(labels.max()) >= len(MNIST.classes):
            raise DataError(f"{folder}: a {split} label is {int(labels.max())}, not a digit")
    digest = hashlib.sha256("".join(sorted(sums.values())).encode()).hexdigest()[:12]
    spec = DatasetSpec(
        name=f"samples-{digest}",
        title=f"samples in {folder}",
        classes=MNIST.classes,
        contract=MNIST.contract,
        files=tuple(files),
        mirrors=(),
    )
    writers = manifest.get("writers") or {}
    by_split = {s: tuple(str(w) for w in writers.get(s, ())) for s in SPLITS}
    return UserExport(folder, spec, by_split, arrays)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_arrays(path: str | os.PathLike[str], split: str) -> tuple[np.ndarray, np.ndarray]:
    """One split of a verified export: images (N, 28, 28) and labels (N,), uint8."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    export = read_export(path)
    return tuple(export.arrays[split, kind] for kind in KINDS)  # type: ignore[return-value]
