"""Reading digits from people's images: ``Predictor`` turns any image into an honest answer.

Every input goes through :func:`mnist_digits.preprocess.to_mnist` (the one preprocessing path),
is normalised with the checkpoint's own statistics, and is scored with the checkpoint's own
calibration: probabilities use its fitted temperature, and ``is_digit`` is false when the
calibrated confidence falls below its reject threshold (chosen on validation data).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mnist_digits.checkpoint import CheckpointMeta, load_checkpoint
from mnist_digits.errors import CheckpointError, ImageError, MnistDigitsError
from mnist_digits.preprocess import (
    MAX_BYTES,
    ImageSource,
    Preprocessed,
    normalize,
    split_digits,
    to_mnist,
)

# Re-exported so that callers serving predictions (the web app) need only this module.
__all__ = [
    "MAX_BYTES",
    "SHIPPED",
    "CheckpointError",
    "CheckpointMeta",
    "ImageError",
    "ImageSource",
    "MnistDigitsError",
    "NumberPrediction",
    "Prediction",
    "Predictor",
    "Preprocessed",
    "to_mnist",
]

SHIPPED = Path(__file__).parent / "weights" / "cnn-small.safetensors"
# Without a calibrated threshold in the checkpoint, flag answers below 50% confidence.
DEFAULT_REJECT = 0.5
# When the two best classes hold 90% of the mass, the model is torn between two digits
# ("not sure"); otherwise a rejected input is spread over many classes ("not a digit").
UNSURE_TOP2 = 0.9


@dataclass(frozen=True)
class Prediction:
    """The answer for one image.

    Attributes:
        digit: the predicted digit, or None when there is no digit (empty or not a digit).
        confidence: calibrated probability of the best class (0 when no ink was found).
        probabilities: 10 calibrated class probabilities (all 0 when no ink was found).
        is_digit: False when no ink was found, the input is not a digit, or the model is unsure.
        status: ``ok``, ``no_digit`` (nothing drawn), ``not_a_digit`` or ``unsure``.
        input28: the 28×28 uint8 image the model saw (white ink on black).
        ink_fraction: share of the input's pixels that are ink.
        bbox: the ink's (left, top, right, bottom) in input pixels, or None.
    """

    digit: int | None
    confidence: float
    probabilities: list[float]
    is_digit: bool
    status: str
    input28: np.ndarray = field(repr=False)
    ink_fraction: float = 0.0
    bbox: tuple[int, int, int, int] | None = None

    def top_k(self, k: int) -> list[dict[str, float]]:
        """The k most likely digits with their probabilities."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [{"digit": int(d), "probability": self.probabilities[d]} for d in order]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``input28`` as 28 lists of 28 ints)."""
        return {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": self.probabilities,
            "is_digit": self.is_digit,
            "status": self.status,
            "input28": self.input28.astype(int).tolist(),
        }


@dataclass(frozen=True)
class NumberPrediction:
    """A multi-digit number read left to right; ``digits`` uses "?" for unreadable pieces."""

    digits: str
    per_digit: list[Prediction]

    @property
    def confidence(self) -> float:
        """Probability that every digit is right (the product of the per-digit ones)."""
        return float(np.prod([p.confidence for p in self.per_digit])) if self.per_digit else 0.0


class Predictor:
    """A trained model plus its preprocessing and calibration, ready for people's images."""

    def __init__(self, model: nn.Module, meta: CheckpointMeta, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.meta = meta
        self.device = torch.device(device)
        self.temperature = float(meta.extra.get("temperature", 1.0))
        self.reject_threshold = float(meta.extra.get("reject_threshold", DEFAULT_REJECT))

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike[str] | None = None, device: str = "cpu"
    ) -> Predictor:
        """Load a run directory or weights file; None means the model shipped in the package."""
        model, meta = load_checkpoint(SHIPPED if path is None else path, device=device)
        return cls(model, meta, device)

    @torch.inference_mode()
    def probabilities28(self, images28: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (N, 10) for MNIST-style uint8 images (N, 28, 28)."""
        x = normalize(images28, self.meta.mean, self.meta.std)  # (N, 28, 28) float32
        xt = torch.from_numpy(x).unsqueeze(1).to(self.device)  # (N, 1, 28, 28)
        logits = self.model(xt).float() / self.temperature  # (N, 10)
        return torch.softmax(logits, dim=1).cpu().numpy()

    def predict_proba(self, images: ImageSource | Sequence[ImageSource]) -> np.ndarray:
        """Calibrated probabilities (N, 10); rows of an image with no ink are all zero."""
        return np.array([p.probabilities for p in self.predict(images)], dtype=np.float32)

    def predict(self, images: ImageSource | Sequence[ImageSource]) -> list[Prediction]:
        """Read one digit from each image (a single image or a sequence of them)."""
        return self.predict_preprocessed([to_mnist(item) for item in _as_list(images)])

    def predict_pixels(self, pixels: np.ndarray) -> Prediction:
        """Read a 28×28 array of 0..255 values, white ink on black (as MNIST)."""
        return self.predict(np.asarray(pixels, dtype=np.uint8))[0]

    def predict_number(self, image: ImageSource) -> NumberPrediction:
        """Split a multi-digit number into digits and read them left to right."""
        pieces = self.predict_preprocessed(split_digits(image))
        text = "".join(str(p.digit) if p.digit is not None else "?" for p in pieces)
        return NumberPrediction(text, pieces)

    def predict_preprocessed(self, items: Sequence[Preprocessed]) -> list[Prediction]:
        """Score already-preprocessed inputs in one batch."""
        found = [i for i, item in enumerate(items) if item.found]
        probs = np.zeros((len(items), 10), dtype=np.float32)
        if found:
            probs[found] = self.probabilities28(np.stack([items[i].image28 for i in found]))
        return [self._decide(item, p) for item, p in zip(items, probs, strict=True)]

    def _decide(self, item: Preprocessed, probs: np.ndarray) -> Prediction:
        if not item.found:
            return Prediction(
                None, 0.0, [0.0] * 10, False, "no_digit", item.image28, item.ink_fraction, item.bbox
            )
        best = int(probs.argmax())
        confidence = float(probs[best])
        status = "ok"
        if confidence < self.reject_threshold:
            status = "unsure" if float(np.sort(probs)[-2:].sum()) >= UNSURE_TOP2 else "not_a_digit"
        digit = None if status == "not_a_digit" else best
        return Prediction(
            digit,
            confidence,
            [float(v) for v in probs],
            status == "ok",
            status,
            item.image28,
            item.ink_fraction,
            item.bbox,
        )


def _as_list(images: ImageSource | Sequence[ImageSource]) -> list[ImageSource]:
    # A str, bytes or array is one image; only lists and tuples hold several.
    if isinstance(images, list | tuple):
        return list(images)
    return [images]  # type: ignore[list-item]
