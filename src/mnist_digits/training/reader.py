"""What a reader of people's images trains and calibrates on beyond MNIST's stored digits.

- **Train–serve parity:** each split as ``images.render.to_mnist`` leaves it, which is what
  ``predict`` feeds the model, cached once per dataset and preprocessing code.
- **Printed digits** in the training typefaces (``synthetic``), as positives.
- **Non-digits** of every ``train`` family, as outliers pushed to a uniform answer.
- **Touching pairs** of training digits, as outliers too: two digits written into each other
  are not one digit, which is what lets ``predict_number`` tell a merged pair from a digit.

Held-out families are never touched here; they are only for measuring.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

import mnist_digits.images
import mnist_digits.synthetic
from mnist_digits.data.dataset import Dataset
from mnist_digits.data.derived import cached_arrays, code_fingerprint
from mnist_digits.data.split import split_indices
from mnist_digits.images.render import to_mnist
from mnist_digits.synthetic.families import FAMILIES, render_family
from mnist_digits.training.config import TrainConfig

PathLike = str | os.PathLike[str]
# Generated images for training and for calibration come from different seeds, so the reject
# threshold is never chosen on the very images the model was pushed away from.
TRAIN_SEED, CALIBRATION_SEED = 0, 1
# Sides a low-resolution twin is reduced to: 8 px (the smallest scans people send; digits
# there are 6-8 px tall) to 20 px (MNIST's own digit box).
LOWRES_SIDES = (8, 10, 12, 14, 16, 20)
CALIBRATION_PER_FAMILY = 500


@dataclass(frozen=True)
class ReaderArrays:
    """Preprocessed uint8 (N, 28, 28) arrays for training a reader.

    Attributes:
        train_pre: the training split through ``to_mnist``, aligned with its images.
        printed: printed digits (M, 28, 28) and their labels (M,).
        negatives: non-digits of the training families (K, 28, 28).
        outliers_pre: the outlier split (Fashion-MNIST) through ``to_mnist``, aligned.
    """

    train_pre: np.ndarray | None
    printed: tuple[np.ndarray, np.ndarray] | None
    negatives: np.ndarray | None
    outliers_pre: np.ndarray | None


def preprocess_all(images: np.ndarray, lowres: float = 0.0, seed: int = 0) -> np.ndarray:
    """``to_mnist`` of every stored image (N, 28, 28); an image with no ink stays black.

    A ``lowres`` share of them (drawn with ``seed``) is first box-reduced to 8-20 px a side, as
    a low-resolution scan or thumbnail holds a digit, so the model sees what the preprocessing
    makes of those.
    """
    if not len(images):
        return images
    rng = np.random.default_rng(seed)
    small = rng.random(len(images)) < lowres  # (N,)
    sides = rng.choice(LOWRES_SIDES, len(images))  # (N,)
    return np.stack(
        [
            to_mnist(_shrink(image, int(side)) if shrink else image, as_is=False).image28
            for image, shrink, side in zip(images, small, sides, strict=True)
        ]
    )


def _shrink(image: np.ndarray, side: int) -> np.ndarray:
    """A stored (28, 28) digit box-reduced to (side, side), as a low-resolution scan holds it."""
    return np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BOX))


def preprocessed(
    ds: Dataset,
    data_dir: PathLike | None = None,
    indices: np.ndarray | None = None,
    lowres: float = 0.0,
) -> np.ndarray:
    """A split, or its images at ``indices``, as the preprocessing for users' images leaves
    them (cached), a ``lowres`` share of them from low-resolution copies (see
    ``preprocess_all``). Calibration asks for the 5,000 validation images only: a twelfth of
    the work of the whole training split, which only train-serve parity needs."""
    code = code_fingerprint([mnist_digits.images])
    images = ds.images if indices is None else ds.images[indices]
    part = "" if indices is None else "-" + hashlib.sha256(indices.tobytes()).hexdigest()[:12]
    part += f"-lowres{lowres:g}" if lowres > 0 else ""
    key = f"{ds.name}-{ds.split}{part}-to_mnist-{code}"
    arrays = cached_arrays(
        key, lambda: {"images": preprocess_all(images, lowres, TRAIN_SEED)}, data_dir
    )
    return arrays["images"]


def generated(
    split: str,
    digits: bool,
    per_family: int,
    seed: int,
    data_dir: PathLike | None = None,
    only: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``per_family`` preprocessed images of each family of ``split`` holding digits (or not),
    with labels (-1 for non-digits); images in which no ink was found are left out. ``only``
    names a single family of those, for per-family figures."""
    if per_family <= 0:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    code = code_fingerprint([mnist_digits.images, mnist_digits.synthetic])
    names = [f.name for f in FAMILIES.values() if f.split == split and f.digits == digits]
    names = [n for n in names if only in (None, n)]
    parts = [
        cached_arrays(
            f"{name}-{per_family}-{seed}-{code}", _renderer(name, per_family, seed), data_dir
        )
        for name in names
    ]
    if not parts:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    return np.concatenate([p["images"] for p in parts]), np.concatenate(
        [p["labels"] for p in parts]
    )


def _renderer(name: str, n: int, seed: int) -> Callable[[], dict[str, np.ndarray]]:
    return lambda: _render(name, n, seed)


def _render(name: str, n: int, seed: int) -> dict[str, np.ndarray]:
    items = [(to_mnist(image), label) for image, label in render_family(name, n, seed)]
    kept = [(item.image28, label) for item, label in items if item.found]
    return {
        "images": np.stack([image for image, _ in kept]).astype(np.uint8),
        "labels": np.array([label for _, label in kept], dtype=np.int64),
    }


def touching_pairs(cfg: TrainConfig, train: Dataset, data_dir: PathLike | None) -> np.ndarray:
    """``cfg.pairs`` pairs of training digits written touching, through ``to_mnist`` (cached).

    Only digits of the training part are paired: the validation split stays unseen.

    Returns:
        uint8 (cfg.pairs, 28, 28).
    """
    if cfg.pairs <= 0:
        return np.zeros((0, 28, 28), np.uint8)
    train_idx, _ = split_indices(len(train), cfg.val_size, cfg.val_seed)
    code = code_fingerprint([mnist_digits.images, sys.modules[__name__]])
    key = f"{train.name}-{train.split}-pairs{cfg.pairs}-val{cfg.val_size}-{cfg.val_seed}-{code}"
    images = train.images[train_idx.numpy()]  # (n_train, 28, 28)
    build = lambda: {"images": _pairs(images, cfg.pairs, TRAIN_SEED)}  # noqa: E731
    return cached_arrays(key, build, data_dir)["images"]


def _pairs(images: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(images), (n, 2))  # (n, 2) left and right digit
    return np.stack([to_mnist(join_touching(images[a], images[b], rng)).image28 for a, b in picks])


def join_touching(left: np.ndarray, right: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two (28, 28) white-on-black digits side by side, the right one slid left until their
    strokes touch, at most a quarter of its width into the left one's box, and up to 3 px up
    or down (a writer's baseline wanders). Returns a (28, w) uint8 array."""
    a, b = _ink_columns(left), np.roll(_ink_columns(right), int(rng.integers(-3, 4)), axis=0)
    rows = (a > 127).any(axis=1) & (b > 127).any(axis=1)  # (28,) rows both digits ink
    last = a.shape[1] - 1 - np.argmax((a > 127)[:, ::-1], axis=1)  # (28,) rightmost ink of a
    first = np.argmax(b > 127, axis=1)  # (28,) leftmost ink of b
    touch = int(np.where(rows, last - first, -(10**6)).max())  # b's x at which a row touches
    x = max(touch, a.shape[1] - b.shape[1] // 4, 0) if rows.any() else a.shape[1] - 1
    canvas = np.zeros((28, max(a.shape[1], x + b.shape[1])), np.uint8)
    canvas[:, : a.shape[1]] = a
    np.maximum(canvas[:, x : x + b.shape[1]], b, out=canvas[:, x : x + b.shape[1]])
    return canvas


def _ink_columns(image: np.ndarray) -> np.ndarray:
    cols = np.flatnonzero(image.any(axis=0))
    return image[:, cols[0] : cols[-1] + 1] if cols.size else image


def reader_arrays(
    cfg: TrainConfig, train: Dataset, outliers: Dataset | None, data_dir: PathLike | None
) -> ReaderArrays:
    """The arrays ``cfg`` asks for: nothing of it for a plain MNIST recipe."""
    parity = cfg.preprocessed > 0
    printed = generated("train", True, cfg.printed_digits, TRAIN_SEED, data_dir)
    negatives, _ = generated("train", False, cfg.negatives, TRAIN_SEED, data_dir)
    negatives = np.concatenate([negatives, touching_pairs(cfg, train, data_dir)])
    return ReaderArrays(
        train_pre=preprocessed(train, data_dir, lowres=cfg.lowres) if parity else None,
        printed=printed if cfg.printed_digits > 0 else None,
        negatives=negatives if len(negatives) else None,
        outliers_pre=preprocessed(outliers, data_dir) if parity and outliers else None,
    )
