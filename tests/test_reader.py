"""Training a reader: the derived-array cache, the preprocessed twins, printed digits and
generated non-digits in the training tensors, and the pen-width augmentation."""

from __future__ import annotations

import types
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy import ndimage

from mnist_digits.data.dataset import Dataset
from mnist_digits.data.derived import cached_arrays, code_fingerprint
from mnist_digits.data.specs import MNIST
from mnist_digits.data.split import split_indices
from mnist_digits.training.augment import pen_width
from mnist_digits.training.config import resolve_config
from mnist_digits.training.reader import (
    ReaderArrays,
    generated,
    join_touching,
    preprocess_all,
    touching_pairs,
)
from mnist_digits.training.tensors import prepare_data


def test_cached_arrays_are_built_once_and_rebuilt_when_damaged(tmp_path) -> None:
    calls = []

    def build() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"a": np.arange(5)}

    first = cached_arrays("k", build, tmp_path)
    again = cached_arrays("k", build, tmp_path)
    assert len(calls) == 1 and np.array_equal(first["a"], again["a"])
    (tmp_path / "derived" / "k.npz").write_bytes(b"not a zip")
    assert np.array_equal(cached_arrays("k", build, tmp_path)["a"], np.arange(5))
    assert len(calls) == 2


def test_a_code_change_changes_the_fingerprint(tmp_path) -> None:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    module = types.ModuleType("m")
    module.__file__ = str(source)
    before = code_fingerprint([module])
    source.write_text("x = 2\n")
    assert code_fingerprint([module]) != before


def test_generated_images_are_preprocessed_and_labelled(tmp_path) -> None:
    digits, labels = generated("train", True, 20, seed=0, data_dir=tmp_path)
    others, other_labels = generated("train", False, 10, seed=0, data_dir=tmp_path)
    assert digits.dtype == np.uint8 and digits.shape == (20, 28, 28)
    assert set(labels.tolist()) <= set(range(10)) and set(other_labels.tolist()) == {-1}
    assert len(others) >= 0.9 * 10 * 6  # six training families, no-ink images left out
    # As to_mnist leaves them: the ink's centre of mass sits at MNIST's (14, 14) within 1 px.
    ys, xs = np.mgrid[0:28, 0:28]
    mass = digits.astype(np.float64).sum(axis=(1, 2))
    cy = (digits * ys).sum(axis=(1, 2)) / mass
    cx = (digits * xs).sum(axis=(1, 2)) / mass
    assert np.abs(cy - 13.5).max() < 1.5 and np.abs(cx - 13.5).max() < 1.5
    assert np.array_equal(preprocess_all(np.zeros((1, 28, 28), np.uint8)), np.zeros((1, 28, 28)))


def test_a_lowres_share_of_twins_comes_from_small_copies() -> None:
    """``lowres`` makes that share of the twins from 8-20 px copies: they differ from the
    full-size twins, the rest are identical, and the same seed gives the same twins."""
    ys, xs = np.mgrid[0:28, 0:28]
    ring = (np.abs(np.hypot(ys - 14, xs - 14) - 7) < 2).astype(np.uint8) * 255  # a "0"
    images = np.stack([ring] * 40)
    full = preprocess_all(images)
    mixed = preprocess_all(images, lowres=0.5, seed=3)
    changed = np.array([not np.array_equal(a, b) for a, b in zip(full, mixed, strict=True)])
    assert 0.25 < changed.mean() < 0.75
    assert np.array_equal(preprocess_all(images, lowres=0.5, seed=3), mixed)
    assert (mixed.reshape(40, -1).max(axis=1) == 255).all()  # every twin still holds the digit


def test_prepare_data_keeps_twins_aligned_and_adds_printed_digits() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, (60, 28, 28), dtype=np.uint8)
    train = Dataset("tiny", "train", images, np.arange(60) % 10, MNIST.classes, MNIST.contract)
    cfg = replace(resolve_config({}, {"model": "mlp-seed"}), val_size=20, preprocessed=0.5)
    printed = (np.full((7, 28, 28), 255, np.uint8), np.arange(7) % 10)
    negatives = np.zeros((4, 28, 28), np.uint8)
    pre = 255 - train.images  # a stand-in twin that differs from every image
    extra = ReaderArrays(pre, printed, negatives, None)
    data = prepare_data(cfg, train, torch.device("cpu"), None, extra)
    n_train = len(train) - 20
    assert data.x_train.shape[0] == data.x_pre.shape[0] == n_train + 7
    assert data.y_train[-7:].tolist() == (np.arange(7) % 10).tolist()
    assert torch.equal(data.x_pre[-7:], data.x_train[-7:])  # printed digits are their own twin
    assert not torch.equal(data.x_pre[:n_train], data.x_train[:n_train])
    assert data.x_outlier is not None and data.x_outlier.shape[0] == 4


def test_pen_width_fattens_and_thins_but_never_erases() -> None:
    c = MNIST.contract
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 4:24, 14] = 255  # a 1-px vertical stroke
    x = c.normalize(torch.from_numpy(image)).repeat(64, 1, 1, 1)  # (64, 1, 28, 28)
    out = pen_width(x, 1.0, torch.Generator().manual_seed(0), c.black)
    ink = (out > c.black + 1e-6).flatten(1).sum(1)  # (64,) inked pixels
    assert (ink > 20).any(), "some are fatter"
    assert (ink == 20).any(), "some are thinner (same pixels, fainter)"
    assert (ink >= 20).all(), "a 1-px stroke is never erased"
    assert torch.equal(pen_width(x, 0.0, torch.Generator(), c.black), x)


@pytest.mark.parametrize("key", ["preprocessed", "stroke"])
def test_shares_must_lie_in_0_1(key: str) -> None:
    from mnist_digits.core.errors import ConfigError

    with pytest.raises(ConfigError, match="shares"):
        resolve_config({}, {key: 1.5})


def _bar(col: int, width: int = 4) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, col : col + width] = 255  # a vertical stroke, a "1"
    return image


def test_joined_digits_touch_and_keep_all_their_ink() -> None:
    rng = np.random.default_rng(0)
    for seed in range(20):
        pair = join_touching(_bar(3 + seed % 10), _bar(12, 6), np.random.default_rng(seed))
        assert pair.shape[0] == 28 and pair.dtype == np.uint8
        _, parts = ndimage.label(pair > 127)
        assert parts == 1, "the two strokes touch: one blob, as touching digits are"
        assert (pair > 127).sum() >= 20 * 4 + 20 * 6 - 20 * 2, "neither digit is cut off"
    ring = np.zeros((28, 28), np.uint8)
    ring[8:20, 8:20] = 255
    ring[10:18, 10:18] = 0  # a "0"
    assert join_touching(ring, _bar(10), rng).shape[1] >= 12 + 4 - 1


def test_pairs_come_from_the_training_part_only(tmp_path) -> None:
    """Each pair is built of training digits; validation digits never appear in one."""
    images = np.zeros((40, 28, 28), np.uint8)
    for i in range(40):
        images[i, 4:24, 10 : 12 + i % 8] = 255  # every digit its own stroke width
    train = Dataset("tiny", "train", images, np.arange(40) % 10, MNIST.classes, MNIST.contract)
    cfg = replace(resolve_config({}, {"model": "mlp-seed"}), val_size=10, pairs=30)
    pairs = touching_pairs(cfg, train, tmp_path)
    assert pairs.shape == (30, 28, 28) and pairs.dtype == np.uint8
    assert np.array_equal(touching_pairs(cfg, train, tmp_path), pairs), "cached, the same"
    _, val_idx = split_indices(len(train), 10, cfg.val_seed)
    seen = touching_pairs(replace(cfg, pairs=0), train, tmp_path)
    assert seen.shape == (0, 28, 28)
    # Swap the validation digits for blanks: the pairs must not change (never read them).
    blanked = images.copy()
    blanked[val_idx.numpy()] = 0
    other = Dataset("tiny2", "train", blanked, train.labels, MNIST.classes, MNIST.contract)
    assert np.array_equal(touching_pairs(cfg, other, tmp_path), pairs)
