"""The train/validation split of a training set, and its defaults, written once.

Training holds out ``val_size`` images of the training split, chosen by ``val_seed``; the
validation part chooses checkpoints, temperatures and thresholds, and the test split is only
ever reported. Evaluation re-cuts the same split from a checkpoint's recipe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# 5,000 of 60,000 training images: 0.1-point steps of validation accuracy are 5 images.
DEFAULT_VAL_SIZE = 5000
# Kept fixed across training seeds, so every seed of a recipe is judged on the same images.
DEFAULT_VAL_SEED = 0


def split_indices(
    n: int, val_size: int = DEFAULT_VAL_SIZE, seed: int = DEFAULT_VAL_SEED
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random split of ``range(n)`` into sorted (train, validation) index tensors."""
    import torch

    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values
