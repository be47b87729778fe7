"""The 15 MNIST-C corruptions by name, their fixed severities, and ``corrupt``, which applies
one to a batch with a seeded random stream.

One severity is fixed per corruption (see ``SEVERITY``), chosen like MNIST-C's: clearly harder
for a classifier while a person still reads the digit. The array code of each corruption is in
:mod:`mnist_digits.evaluation.corruption_kernels`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.evaluation.corruption_kernels import (
    SIDE,
    brightness,
    canny_edges,
    dotted_line,
    fog,
    glass_blur,
    impulse_noise,
    motion_blur,
    rotate,
    scale,
    shear,
    shot_noise,
    spatter,
    stripe,
    translate,
    zigzag,
)

CORRUPTIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "glass_blur": glass_blur,
    "motion_blur": motion_blur,
    "shear": shear,
    "scale": scale,
    "rotate": rotate,
    "brightness": brightness,
    "translate": translate,
    "stripe": stripe,
    "fog": fog,
    "spatter": spatter,
    "dotted_line": dotted_line,
    "zigzag": zigzag,
    "canny_edges": canny_edges,
}

SEVERITY: dict[str, str] = {
    "shot_noise": "Poisson noise with 60 photons at full ink (13% relative noise)",
    "impulse_noise": "salt-and-pepper, 27% of pixels replaced, half 255 and half 0",
    "glass_blur": "Gaussian sigma 0.7, 1 sweep of +-1 px pixel swaps, Gaussian sigma 0.7",
    "motion_blur": "one-sided streak of 0..6 px, tap weights Gaussian sigma 3, any direction",
    "shear": "horizontal shear factor +-0.3..0.5 about the centre",
    "scale": "zoom factor 0.70..0.78 or 1.28..1.42 about the centre",
    "rotate": "rotation by +-25..40 degrees about the centre",
    "brightness": "+102 levels (0.4 of full scale) on every pixel, clipped; not random",
    "translate": "whole-pixel shift of about 5 px (4.2..5.7) in a random direction",
    "stripe": "3 px wide vertical band at column 10..15 with intensities inverted",
    "fog": "1/f^2 cloud field in [0, 1] of strength 1.0: out = (x + fog) / 2 on a 0..1 scale",
    "spatter": "grey (180) soft drops touching about 6% of pixels, from smoothed noise",
    "dotted_line": "26 px white line of 2 px dashes and 3 px gaps through the digit area",
    "zigzag": "white 6-segment zigzag, 4 px steps, +-3 px across, through the digit area",
    "canny_edges": "Canny: blur sigma 1, hysteresis at 20%/40% of peak gradient; binary",
}


def _check_images(images: np.ndarray) -> np.ndarray:
    """Return ``images`` as an array after checking it is (N, 28, 28) uint8."""
    arr = np.asarray(images)
    if arr.ndim != 3 or arr.shape[1:] != (SIDE, SIDE) or arr.dtype != np.uint8:
        raise MnistDigitsError(
            f"corruptions need uint8 images of shape (N, 28, 28), got {arr.dtype} {arr.shape}; "
            "convert with np.asarray(images, dtype=np.uint8)"
        )
    return arr


def corrupt(images: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """Apply one corruption to a batch of MNIST images.

    The random stream depends on ``seed`` and on the corruption's name, so different
    corruptions of one batch are independent. Each image's draws depend on its position in
    the batch: corrupting a slice is not the same as slicing the corrupted batch.

    Args:
        images: uint8 array (N, 28, 28), white ink on black.
        name: One of ``CORRUPTIONS``.
        seed: Non-negative integer; the same seed gives identical output.

    Returns:
        A new uint8 array (N, 28, 28); ``images`` is not modified.

    Raises:
        MnistDigitsError: Unknown name, negative seed, or images of the wrong shape or dtype.
    """
    if name not in CORRUPTIONS:
        raise MnistDigitsError(
            f"unknown corruption {name!r}; choose one of: {', '.join(CORRUPTIONS)}"
        )
    if seed < 0:
        raise MnistDigitsError(f"corruption seed must be a non-negative integer, got {seed}")
    arr = _check_images(images)
    if arr.shape[0] == 0:
        return arr.copy()
    rng = np.random.default_rng([seed, list(CORRUPTIONS).index(name)])
    return CORRUPTIONS[name](arr, rng)
