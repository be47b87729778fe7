"""The reject thresholds as ``training.calibration.calibrate`` chooses them."""

import math

import numpy as np
import torch

from mnist_digits.data.specs import MNIST
from mnist_digits.models.registry import create_model
from mnist_digits.training.calibration import TARGET_DIGITS_FLAGGED, calibrate


def _inked(n: int, seed: int, strength: int) -> np.ndarray:
    """n (28, 28) uint8 images of random strokes-like blobs, ``strength`` their peak."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for image in images:
        r, c = rng.integers(6, 16, 2)
        image[r : r + 8, c : c + rng.integers(2, 9)] = strength
    return images


def test_the_low_resolution_threshold_flags_the_same_share_and_never_exceeds_the_main() -> None:
    torch.manual_seed(0)
    model = create_model("mlp-seed").eval()
    logits, labels = np.random.default_rng(0).normal(size=(200, 10)), np.arange(200) % 10
    digits, low = _inked(2000, 1, 255), _inked(2000, 2, 90)
    cal = calibrate(model, logits, labels, digits, None, MNIST.contract, low)
    assert cal.low_res_threshold <= cal.reject_threshold
    if cal.low_res_threshold < cal.reject_threshold:
        assert abs(cal.val_low_res_flagged - TARGET_DIGITS_FLAGGED) < 0.005
    without = calibrate(model, logits, labels, digits, None, MNIST.contract)
    assert without.low_res_threshold == without.reject_threshold
    assert math.isnan(without.val_low_res_flagged)
    assert without.reject_threshold == cal.reject_threshold  # the main one is untouched
