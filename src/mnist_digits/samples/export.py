"""Stored samples as an MNIST of their own: gzipped IDX files any MNIST loader reads.

The folder holds MNIST's four file names (``train-images-idx3-ubyte.gz`` ...), ``SHA256SUMS``
(``sha256sum -c`` reads it) and ``manifest.json``. Train and test share no writer, so a test
score says how the model reads hands it never learnt from; samples with no writer id count as
one writer. Each file is written to a temp file and renamed (``core.files``), the manifest
last: an export cut off part-way never leaves a half-written file, and a folder whose manifest
does not match its files was not finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from mnist_digits.core.files import atomic_write, check_writable
from mnist_digits.data.idx import encode_idx
from mnist_digits.data.userset import EXPORT_FORMAT, MANIFEST, SUMS
from mnist_digits.samples.store import LabelledSamples, SampleError, SampleStore

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
DEFAULT_TEST_SHARE = 0.2  # MNIST's own 10k of 70k is 0.14; a class's 20% is a few writers


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        folder: where the files are (None for an export built in memory).
        counts: samples in ``train`` and ``test``.
        writers: the writer ids of each split (sorted; "" is the samples with none).
        sha256: hex SHA-256 of each ``.gz`` file, by name.
    """

    folder: Path | None
    counts: dict[str, int]
    writers: dict[str, list[str]]
    sha256: dict[str, str]

    def manifest(self) -> dict[str, Any]:
        """The ``manifest.json`` document."""
        return {
            "format": EXPORT_FORMAT,
            "counts": self.counts,
            "writers": self.writers,
            "sha256": self.sha256,
        }


def split_writers(
    writers: tuple[str, ...], test_share: float = DEFAULT_TEST_SHARE, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Writers for train and for test, disjoint, with about ``test_share`` of the samples in test.

    Writers are shuffled by ``seed`` and moved to test one by one until test holds at least
    ``test_share`` of the samples; train always keeps at least one writer, so a single writer's
    samples all go to train.
    """
    sizes = Counter(writers)
    order = sorted(sizes)
    np.random.default_rng(seed).shuffle(order)
    test: list[str] = []
    in_test = 0
    for writer in order[:-1]:  # the last writer stays in train
        if in_test >= test_share * len(writers):
            break
        test.append(writer)
        in_test += sizes[writer]
    train = [w for w in order if w not in test]
    return sorted(train), sorted(test)


def build_export(
    store: SampleStore,
    *,
    test_share: float = DEFAULT_TEST_SHARE,
    seed: int = 0,
    kind: str | None = None,
) -> tuple[ExportResult, dict[str, bytes]]:
    """The export's files in memory, by name (the four ``.gz``, ``SHA256SUMS``, the manifest).

    ``result.folder`` is None: nothing is written (the server zips these for a download).

    Raises:
        SampleError: no samples to export, or a test share outside [0, 1).
    """
    if not 0 <= test_share < 1:
        raise SampleError(f"test share {test_share} must be at least 0 and below 1, e.g. 0.2")
    samples = store.labelled(kind)
    if not len(samples):
        which = f"{kind} " if kind else ""
        raise SampleError(f"no {which}samples to export in {store.path}; collect some first")
    train, test = split_writers(samples.writers, test_share, seed)
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    for split, prefix, chosen in (("train", "train", train), ("test", "t10k", test)):
        images, labels = _select(samples, set(chosen))
        counts[split] = len(labels)
        files[f"{prefix}-images-idx3-ubyte.gz"] = encode_idx(images)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = encode_idx(labels)
    sha256 = {name: hashlib.sha256(files[name]).hexdigest() for name in FILES}
    result = ExportResult(None, counts, {"train": train, "test": test}, sha256)
    files[SUMS] = "".join(f"{sha256[n]}  {n}\n" for n in FILES).encode()
    files[MANIFEST] = (json.dumps(result.manifest(), indent=2, sort_keys=True) + "\n").encode()
    return result, files


def export_idx(
    store: SampleStore,
    folder: str | os.PathLike[str],
    *,
    test_share: float = DEFAULT_TEST_SHARE,
    seed: int = 0,
    kind: str | None = None,
) -> ExportResult:
    """Write the store's samples (of ``kind``, or all) as a gzipped MNIST IDX folder.

    Every file goes to a temp file and is renamed; the manifest is written last.

    Raises:
        SampleError: no samples to export, a test share outside [0, 1), or a folder that
            cannot be written.
    """
    result, files = build_export(store, test_share=test_share, seed=seed, kind=kind)
    out = Path(folder).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SampleError(f"cannot create {out} ({err.strerror}); choose another folder") from None
    check_writable(out, "choose another folder for the export")
    for name, data in files.items():  # dicts keep order: the manifest comes last
        atomic_write(out / name, data)
    return replace(result, folder=out)


def _select(samples: LabelledSamples, writers: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Images and uint8 labels of the samples by ``writers``, in id order."""
    mask = np.array([w in writers for w in samples.writers], dtype=bool)
    return samples.images[mask], samples.labels[mask].astype(np.uint8)
