"""The PyTorch-example reference: the classic MNIST recipe of PyTorch's examples, in plain PyTorch.

Written from the published recipe, without this package: two 3×3 convolutions (32 and 64
channels, no padding), 2×2 max-pooling, dropout 0.25, a 128-unit fully connected layer, dropout
0.5 and a 10-way output with log-softmax; negative log-likelihood loss; Adadelta at learning
rate 1.0 with the rate multiplied by 0.7 after every epoch (StepLR); batch 64, reshuffled every
epoch; inputs normalised with mean 0.1307 and std 0.3081; all 60,000 training images; 14 epochs.

Instead of a DataLoader the split lives in one tensor and each epoch's ``randperm`` is cut into
batches of 64, which draws exactly the batches ``DataLoader(shuffle=True, batch_size=64)`` does.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnist_digits.data.specs import MNIST

# The example types MNIST's mean and std; they are the dataset spec's.
MEAN, STD = MNIST.contract.mean, MNIST.contract.std
EPOCHS = 14
BATCH_SIZE = 64
TEST_BATCH_SIZE = 1000
LR, GAMMA = 1.0, 0.7


class ExampleNet(nn.Module):
    """conv 3×3 (32) → conv 3×3 (64) → max-pool → dropout → FC 128 → dropout → FC 10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)  # 64 channels × 12 × 12 after the pooling
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (N, 10) for normalised images x (N, 1, 28, 28)."""
        x = F.relu(self.conv1(x))  # (N, 32, 26, 26)
        x = F.relu(self.conv2(x))  # (N, 64, 24, 24)
        x = self.dropout1(F.max_pool2d(x, 2))  # (N, 64, 12, 12)
        x = F.relu(self.fc1(torch.flatten(x, 1)))  # (N, 128)
        return F.log_softmax(self.fc2(self.dropout2(x)), dim=1)  # (N, 10)


def to_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, 28, 28) to normalised float32 (N, 1, 28, 28); labels to int64 (N,)."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
    return (x - MEAN) / STD, torch.from_numpy(np.asarray(labels, dtype=np.int64))


@torch.inference_mode()
def test_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy in eval mode over batches of 1,000, as the example's ``test``."""
    model.eval()
    correct = sum(
        int((model(x[i : i + TEST_BATCH_SIZE]).argmax(1) == y[i : i + TEST_BATCH_SIZE]).sum())
        for i in range(0, len(x), TEST_BATCH_SIZE)
    )
    return correct / len(x)


def train_epoch(
    model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
    gen: torch.Generator,
) -> float:  # fmt: skip
    """One epoch of the example's ``train``; returns its mean training loss."""
    model.train()
    loss_sum = torch.zeros(())
    for idx in torch.randperm(len(x), generator=gen).split(BATCH_SIZE):
        opt.zero_grad()
        loss = F.nll_loss(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * len(idx)
    return float(loss_sum) / len(x)


def run_seed(
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    seed: int,
    epochs: int = EPOCHS,
    stop_at: float | None = None,
) -> dict[str, Any]:
    """Train one seed; after each epoch record cumulative training seconds and test accuracy.

    Evaluation is not timed. With ``stop_at`` training ends at the first epoch that reaches it.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = ExampleNet()
    opt = torch.optim.Adadelta(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=GAMMA)
    records: list[dict[str, float]] = []
    seconds = 0.0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        loss = train_epoch(model, opt, *train, gen)
        sched.step()
        seconds += time.perf_counter() - t0
        acc = test_accuracy(model, *test)
        records.append({"epoch": epoch, "train_seconds": seconds, "test_acc": acc, "loss": loss})
        print(f"  pytorch-example seed {seed} epoch {epoch}: {seconds:.1f} s, test {acc:.4f}",
              file=sys.stderr, flush=True)  # fmt: skip
        if stop_at is not None and acc >= stop_at:
            break
    return {
        "seed": seed,
        "epochs": records,
        "final_test_acc": records[-1]["test_acc"],
        "train_seconds": seconds,
        "images": len(train[0]) * len(records),
    }
