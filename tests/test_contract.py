"""Tests for mnist_digits.core.contract: the one place stored pixels become a model's input."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_digits.core.contract import InputContract


def test_normalize_matches_the_formula() -> None:
    rng = np.random.default_rng(0)
    digit = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
    blank, full = np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)
    batch = np.stack([digit, blank, full])  # (3, 28, 28) uint8, as stored
    out = InputContract(0.1307, 0.3081).normalize(batch)
    assert out.dtype == np.float32 and out.shape == (3, 1, 28, 28)
    expected = (batch.astype(np.float64) / 255 - 0.1307) / 0.3081  # (3, 28, 28)
    np.testing.assert_allclose(out[:, 0], expected, rtol=0, atol=1e-6)


def test_std_must_be_positive() -> None:
    with pytest.raises(ValueError):
        InputContract(0.1, 0.0)
