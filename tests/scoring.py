"""Accuracy of a model on labelled tensors, through the package's own inference and metrics."""

from __future__ import annotations

import torch
from torch import nn

from mnist_digits.core import metrics
from mnist_digits.core.contract import InputContract
from mnist_digits.data.specs import MNIST
from mnist_digits.models.inference import infer


def accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, contract: InputContract = MNIST.contract
) -> float:
    """Accuracy of ``model`` on stored (N, 28, 28) or normalised (N, 1, 28, 28) ``x``."""
    return metrics.accuracy(infer(model, x, contract).cpu().numpy(), y.cpu().numpy())
