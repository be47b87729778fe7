"""Inference and evaluation as pure functions: ``infer -> logits``, ``evaluate -> metrics``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mnist_digits.training.augment import shift_views


@torch.inference_mode()
def infer(
    model: nn.Module, x: torch.Tensor, batch_size: int = 2000, tta: bool = False
) -> torch.Tensor:
    """Logits (N, 10) for normalised images x (N, 1, 28, 28), in eval mode, on x's device.

    With ``tta`` the logits are averaged over the image and four copies shifted by one pixel.
    """
    model.eval()
    background = float(x.min()) if tta else 0.0
    out = []
    for i in range(0, x.shape[0], batch_size):
        xb = x[i : i + batch_size]
        views = shift_views(xb, background) if tta else [xb]
        out.append(torch.stack([model(v) for v in views]).mean(0))  # (B, 10)
    return torch.cat(out)


@dataclass(frozen=True)
class EvalMetrics:
    """Accuracy, mean cross-entropy and per-class accuracy on one labelled set."""

    n: int
    accuracy: float
    loss: float
    per_class_accuracy: list[float]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def metrics_from_logits(
    logits: torch.Tensor, y: torch.Tensor, num_classes: int = 10
) -> EvalMetrics:
    """Compute :class:`EvalMetrics` from logits (N, C) and labels (N,)."""
    pred = logits.argmax(1)  # (N,)
    hits = pred == y  # (N,)
    per_class = [int(hits[y == c].sum()) / max(1, int((y == c).sum())) for c in range(num_classes)]
    return EvalMetrics(
        n=int(y.shape[0]),
        accuracy=int(hits.sum()) / int(y.shape[0]),
        loss=float(F.cross_entropy(logits.float(), y)),
        per_class_accuracy=per_class,
    )


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, tta: bool = False) -> EvalMetrics:
    """Evaluate ``model`` on normalised images x (N, 1, 28, 28) with labels y (N,)."""
    return metrics_from_logits(infer(model, x, tta=tta), y)
