"""A user's labelled digits for fine-tuning, from any of the three places they are kept, and the
part of them held out for measuring.

- the SQLite store of corrections and collected samples (``samples.store.SampleStore``);
- an export folder (``samples export --format idx``, read by ``data.userset``, verified
  against its own checksums);
- a folder of ``<digit>/*.png`` (or any image ``images.decode`` opens), each put through
  ``images.render.to_mnist`` exactly as ``predict`` would.

The held-out part is never trained on. It goes by writer when there are several (an export's
own writer-disjoint test split, or whole writers from the store): a rise measured on hands the
model never saw. With one writer (or none recorded), a seeded 20% of the samples, stratified
by digit so that every digit is measured.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_digits.core.errors import DataError
from mnist_digits.data.userset import is_export, read_export
from mnist_digits.images.render import to_mnist

HOLDOUT_SHARE = 0.2
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MIN_SAMPLES = 10  # fewer cannot be both trained on and measured


@dataclass(frozen=True)
class UserSamples:
    """Preprocessed digits: images (N, 28, 28) uint8 white on black, labels (N,) int64, the
    writer of each ("" when unknown) and where they came from."""

    images: np.ndarray
    labels: np.ndarray
    writers: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, mask: np.ndarray) -> UserSamples:
        """The samples where ``mask`` (N,) bool is true."""
        kept = tuple(w for w, m in zip(self.writers, mask, strict=True) if m)
        return UserSamples(self.images[mask], self.labels[mask], kept, self.source)


@dataclass(frozen=True)
class Split:
    """The samples to fine-tune on and those held out to measure, and how they were cut."""

    train: UserSamples
    held_out: UserSamples
    how: str


def load_samples(path: str | os.PathLike[str]) -> tuple[UserSamples, UserSamples | None]:
    """The samples at ``path`` (a store file, an export folder or a ``<digit>/`` folder).

    Returns:
        The samples, and a held-out part already chosen by the source (an export's own test
        split, when it has one), else None.

    Raises:
        DataError: the path is missing, holds no samples, or is none of the three kinds.
    """
    p = Path(path).expanduser()
    if is_export(p):
        export = read_export(p)
        parts = [_export_part(export.arrays, export.writers, s, str(p)) for s in ("train", "test")]
        return parts[0], parts[1] if len(parts[1]) else None
    if p.is_dir():
        return _image_folder(p), None
    if p.is_file():
        return _store(p), None
    raise DataError(
        f"{p} does not exist; give the samples database (samples.sqlite3), an export folder "
        "or a folder of <digit>/ image folders"
    )


def _export_part(
    arrays: dict[tuple[str, str], np.ndarray],
    writers: dict[str, tuple[str, ...]],
    split: str,
    source: str,
) -> UserSamples:
    labels = arrays[split, "labels"].astype(np.int64)
    # The export lists writers per split, not per sample: a split of one writer names it, and
    # one of several counts as unknown (so a held-out part is cut by digit, never by a guess).
    who = writers.get(split) or ()
    writer = who[0] if len(who) == 1 else ""
    return UserSamples(arrays[split, "images"], labels, (writer,) * len(labels), source)


def _store(path: Path) -> UserSamples:
    from mnist_digits.samples.store import SampleStore

    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror}") from None
    if head != b"SQLite format 3\x00":
        raise DataError(
            f"{path} is not a samples database, an export folder or a folder of <digit>/ images"
        )
    got = SampleStore(path).labelled()
    return UserSamples(got.images, got.labels.astype(np.int64), tuple(got.writers), str(path))


def _image_folder(folder: Path) -> UserSamples:
    images, labels = [], []
    for digit in range(10):
        for file in sorted((folder / str(digit)).glob("*")):
            if file.suffix.lower() in IMAGE_SUFFIXES and file.is_file():
                item = to_mnist(file)
                if item.found:  # a blank page teaches nothing
                    images.append(item.image28)
                    labels.append(digit)
    if not images:
        raise DataError(
            f"{folder} holds no export manifest and no digit images in 0/ ... 9/ subfolders; "
            "give an export folder, the samples database or such a folder"
        )
    stacked = np.stack(images).astype(np.uint8)
    return UserSamples(stacked, np.array(labels, np.int64), ("",) * len(labels), str(folder))


def split_samples(
    samples: UserSamples,
    held_out: UserSamples | None = None,
    share: float = HOLDOUT_SHARE,
    seed: int = 0,
) -> Split:
    """Cut off the part to measure on: the source's own, whole writers, or a seeded share."""
    if len(samples) + (len(held_out) if held_out else 0) < MIN_SAMPLES:
        raise DataError(
            f"{samples.source} holds {len(samples)} labelled samples; fine-tuning needs at "
            f"least {MIN_SAMPLES} (collect more on the page's collect mode)"
        )
    if held_out is not None:
        return Split(samples, held_out, "the export's test split (writers not in train)")
    counts = Counter(samples.writers)
    if len(counts) > 1:
        test = _writers_for(counts, share, seed)
        mask = np.array([w in test for w in samples.writers])
        how = f"{len(test)} of {len(counts)} writers, never trained on"
        return Split(samples.take(~mask), samples.take(mask), how)
    mask = _stratified(samples.labels, share, seed)
    return Split(samples.take(~mask), samples.take(mask), f"a seeded {share:.0%} of each digit")


def _writers_for(counts: Counter[str], share: float, seed: int) -> set[str]:
    """Whole writers, in a seeded order, until they hold ``share`` of the samples; at least
    one writer stays for training."""
    order = sorted(counts)
    np.random.default_rng(seed).shuffle(order)
    chosen: set[str] = set()
    total = sum(counts.values())
    for writer in order[:-1]:
        if sum(counts[w] for w in chosen) >= share * total:
            break
        chosen.add(writer)
    return chosen


def _stratified(labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A bool mask (N,) of ``share`` of each label's samples (at least one where a label has
    two or more), chosen by ``seed``."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        where = np.flatnonzero(labels == digit)
        k = round(share * len(where)) or (1 if len(where) > 1 else 0)
        mask[rng.choice(where, size=k, replace=False)] = True
    return mask
