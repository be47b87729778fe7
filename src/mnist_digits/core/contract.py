"""The input contract: how stored 28×28 pixels become a model's input, written once.

A model trained on MNIST expects what its training split looked like after normalisation:
white ink (255) on black (0), scaled to 0..1 and standardised with the training set's mean
and std. Every consumer applies that through :class:`InputContract` (the dataset, training
and its augmentation fill, test-time augmentation, calibration, evaluation, the report, both
prediction backends and the exported ONNX graph), and every checkpoint carries it, so no two
places can disagree. It works on numpy arrays and, without importing PyTorch here, on
tensors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

from mnist_digits.core.errors import CheckpointError

Array = TypeVar("Array")  # a numpy array or a torch tensor


@dataclass(frozen=True)
class InputContract:
    """What a model's input is, and how to make it from stored pixels.

    Attributes:
        mean: training-pixel mean on the 0..1 scale.
        std: training-pixel standard deviation on the 0..1 scale, > 0.
        pixel_scale: the stored value of full ink (uint8: 255); pixels / scale lie in 0..1.
        polarity: ``white-on-black``: ink is high, paper is 0, as MNIST stores it.
        side: images are ``side`` × ``side``.
        onnx_input: name of an exported graph's input.
        onnx_pixels: what that input holds: ``0..1`` pixels; the graph standardises them.
    """

    mean: float
    std: float
    pixel_scale: float = 255.0
    polarity: str = "white-on-black"
    side: int = 28
    onnx_input: str = "pixels"
    onnx_pixels: str = "0..1"

    def __post_init__(self) -> None:
        if not self.std > 0 or not self.pixel_scale > 0:
            raise ValueError(f"std and pixel_scale must be positive: {self}")

    @property
    def black(self) -> float:
        """The model-input value of a black (empty) pixel: what borders are padded with."""
        return self.standardize(0.0)

    @property
    def white(self) -> float:
        """The model-input value of full ink."""
        return self.standardize(1.0)

    def pixels(self, images: Array) -> Array:
        """Stored images (N, 28, 28) → float32 pixels (N, 1, 28, 28) in 0..1 (the ONNX input).

        Accepts a numpy array or a torch tensor of any integer or float dtype and returns the
        same kind on the same device.
        """
        if isinstance(images, np.ndarray) or not hasattr(images, "float"):
            x: Any = np.asarray(images, dtype=np.float32) / np.float32(self.pixel_scale)
        else:
            x = images.float() / self.pixel_scale
        out: Array = x[:, None]  # (N, 1, 28, 28)
        return out

    def standardize(self, pixels: Any) -> Any:
        """0..1 pixels → model input: (pixels − mean) / std. The one place it is computed."""
        return (pixels - self.mean) / self.std

    def normalize(self, images: Array) -> Array:
        """Stored images (N, 28, 28) → model input (N, 1, 28, 28) float32."""
        out: Array = self.standardize(self.pixels(images))
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, *, where: str) -> InputContract:
        """Read a contract from checkpoint metadata, naming ``where`` when it is unusable."""
        try:
            return cls(**data)
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{where}: input contract is unreadable ({err})") from None
