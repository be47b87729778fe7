"""The one inference function: ``infer(model, images, contract) -> logits``, in batches.

Training's validation, calibration, test scoring, evaluation, corruptions, explanations, the
report, the benchmarks and the PyTorch prediction backend all call it, so each sees exactly
the same numbers for the same weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnist_digits.core.contract import InputContract

# 2,000 images a batch: about 60 MB of cnn-strong activations, and no slower per image on 2
# CPU cores than 10,000.
BATCH = 2000


def shift_views(x: torch.Tensor, black: float, pixels: int = 1) -> list[torch.Tensor]:
    """Test-time augmentation views of x (N, 1, 28, 28): itself and four copies shifted by
    ``pixels``, the uncovered border filled with ``black`` (the contract's empty pixel)."""
    padded = F.pad(x - black, (pixels,) * 4) + black  # (N, 1, 28+2p, 28+2p)
    p = pixels
    offsets = [(p, p), (0, p), (2 * p, p), (p, 0), (p, 2 * p)]
    return [padded[:, :, dy : dy + 28, dx : dx + 28] for dy, dx in offsets]


@torch.inference_mode()
def infer(
    model: nn.Module,
    images: Any,
    contract: InputContract,
    *,
    tta: bool = False,
    batch_size: int = BATCH,
) -> torch.Tensor:
    """Logits (N, C) float32 of ``model`` (switched to eval mode) on the model's device.

    Args:
        model: the classifier.
        images: stored images (N, 28, 28) (uint8 numpy or tensor), normalised here a batch at
            a time; or input already normalised by ``contract``, a tensor (N, 1, 28, 28).
        contract: the model's input contract.
        tta: average the logits over the image and four 1-pixel shifts.
        batch_size: images per forward pass.
    """
    model.eval()
    device = next(model.parameters()).device
    stored = images.ndim == 3
    if stored and isinstance(images, np.ndarray):
        images = torch.from_numpy(np.array(images))  # a copy: dataset arrays are read-only
    out = []
    for i in range(0, images.shape[0], batch_size):
        xb = images[i : i + batch_size].to(device)
        xb = contract.normalize(xb) if stored else xb  # (B, 1, 28, 28)
        views = shift_views(xb, contract.black) if tta else [xb]
        out.append(torch.stack([model(v).float() for v in views]).mean(0))  # (B, C)
    if not out:
        return torch.zeros(0, 10, device=device)
    return torch.cat(out)
