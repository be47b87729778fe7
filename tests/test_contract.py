"""Tests for mnist_digits.core.contract: the one place stored pixels become a model's input."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_digits.core.contract import InputContract
from mnist_digits.data.specs import MNIST


def test_normalize_matches_the_formula() -> None:
    rng = np.random.default_rng(0)
    digit = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
    blank, full = np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)
    batch = np.stack([digit, blank, full])  # (3, 28, 28) uint8, as stored
    c = MNIST.contract
    out = c.normalize(batch)
    assert out.dtype == np.float32 and out.shape == (3, 1, 28, 28)
    expected = (batch.astype(np.float64) / 255 - c.mean) / c.std  # (3, 28, 28)
    np.testing.assert_allclose(out[:, 0], expected, rtol=0, atol=1e-6)


def test_std_must_be_positive() -> None:
    with pytest.raises(ValueError):
        InputContract(0.1, 0.0)


def test_black_and_white_and_pixels_agree_with_normalize() -> None:
    c = MNIST.contract
    images = np.array([[[0] * 28] * 28, [[255] * 28] * 28], dtype=np.uint8)  # (2, 28, 28)
    x = c.normalize(images)
    assert np.allclose(x[0], c.black) and np.allclose(x[1], c.white)
    assert np.allclose(c.pixels(images)[1], 1.0) and c.pixels(images).shape == (2, 1, 28, 28)


def test_torch_tensors_get_the_same_numbers() -> None:
    torch = pytest.importorskip("torch")
    images = np.random.default_rng(1).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    ours = MNIST.contract.normalize(torch.from_numpy(images))
    assert isinstance(ours, torch.Tensor) and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), MNIST.contract.normalize(images), atol=1e-6)


def test_contract_round_trips_through_a_dict() -> None:
    c = InputContract.from_dict(MNIST.contract.to_dict(), where="test")
    assert c == MNIST.contract
