"""Fine-tuning a trained model on a user's own digits, with MNIST replay so it does not forget.

:func:`finetune` reads as the run does: load → measure before → adapt → measure after →
calibrate → save. The model keeps its architecture, input contract and classes; only its
weights move.

- **Replay:** every step's batch is a quarter the user's samples and three quarters random
  MNIST training images (never the validation or test ones), so the digits the model already
  reads keep pulling the weights back.
- **BatchNorm frozen:** its running statistics stay MNIST's; a few hundred samples of one hand
  would otherwise re-centre every layer on that hand.
- **Distillation:** on the replay half the loss also keeps the base model's own answers
  (KL divergence to its softmax), not only the labels: what it knew about MNIST, kept.
- **Stepping back, chosen on MNIST validation:** the result is the base weights plus the
  largest share ``a`` of the fine-tuning step (``MIXES``, 1 down to 0.15) whose accuracy on
  MNIST's 5,000 validation images (``data.split``, as training cuts them) stays within
  ``max_val_drop`` of the base's: 0.05 point, half the issue's limit for test, because 5,000
  images measure to about that (a 0.1-point guard let a writer lose 0.16 on test). Test is only
  ever reported, never chosen on.
- **Figures:** accuracy before and after on the user's held-out samples (``usersamples``) and
  on the full 10,000 MNIST test images, and a loud warning when MNIST drops by more than 0.1
  point.

The default recipe (100 steps of 64 images, Adam at 2e-4 decayed on a cosine, light affine
augmentation of the user's half) is the README's fine-tuning section's, with its figures.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnist_digits.core import metrics
from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import ConfigError
from mnist_digits.data.dataset import Dataset, load_dataset
from mnist_digits.data.split import DEFAULT_VAL_SEED, DEFAULT_VAL_SIZE, split_indices
from mnist_digits.models.checkpoint import BEST
from mnist_digits.models.inference import infer
from mnist_digits.training.augment import augment_batch
from mnist_digits.training.finetune_io import Base, load_base, save_finetuned
from mnist_digits.training.recalibrate import calibration_for
from mnist_digits.training.usersamples import UserSamples, load_samples, split_samples

PathLike = str | os.PathLike[str]
MNIST_DROP_WARN = 0.001  # 0.1 point of MNIST test accuracy: the limit
# Shares of the fine-tuning step kept, tried largest first (see _mix_back).
MIXES = (1.0, 0.85, 0.7, 0.5, 0.35, 0.25, 0.15)


def _f(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class FinetuneConfig:
    """How a model is adapted. Flags of ``mnist-digits finetune`` map one to one."""

    steps: int = _f(100, "optimisation steps")
    batch_size: int = _f(64, "images per step, the user's and MNIST's together")
    replay: float = _f(0.75, "share of each batch that is MNIST training images, 0..1")
    lr: float = _f(2e-4, "peak Adam learning rate, decayed to 0 on a cosine")
    augment: float = _f(0.5, "random-affine strength on the user's images (1.0: rotate ±12°)")
    holdout: float = _f(0.2, "share of the samples held out to measure on, 0..1")
    distill: float = _f(1.0, "weight of keeping the base model's answers on the replay images")
    max_val_drop: float = _f(
        0.0005, "keep only weights this close to the base's MNIST val accuracy (0..1)"
    )
    seed: int = _f(0, "seed of the held-out choice, batches and augmentation")
    device: str = _f("cpu", "device", ("auto", "cpu", "cuda"))

    def validate(self) -> FinetuneConfig:
        """Check ranges; return self for chaining."""
        if min(self.steps, self.batch_size) < 1 or self.lr <= 0:
            raise ConfigError("steps, batch size and lr must be positive")
        if not 0 <= self.replay < 1 or not 0 < self.holdout < 1:
            raise ConfigError("replay must be in [0, 1) and holdout in (0, 1), e.g. 0.5 and 0.2")
        if self.augment < 0 or self.max_val_drop < 0:
            raise ConfigError("augment and max-val-drop must be >= 0")
        return self


@dataclass(frozen=True)
class Figures:
    """Accuracies (0..1) of one set of weights."""

    user: float
    mnist_test: float
    mnist_val: float


@dataclass(frozen=True)
class FinetuneReport:
    """What a fine-tuning run did and measured (accuracies 0..1, times in seconds)."""

    base: str
    base_fingerprint: str
    samples: str
    trained_on: int
    held_out: int
    held_out_how: str
    before: Figures
    after: Figures
    mix: float
    temperature: float
    finetune_seconds: float
    total_seconds: float
    run_dir: str
    checkpoint: str

    @property
    def mnist_drop(self) -> float:
        """How much MNIST test accuracy fell (negative: it rose)."""
        return self.before.mnist_test - self.after.mnist_test

    @property
    def forgot(self) -> bool:
        return self.mnist_drop > MNIST_DROP_WARN + 1e-9

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mnist_drop": self.mnist_drop, "forgot": self.forgot}


@dataclass(frozen=True)
class Mnist:
    """MNIST as fine-tuning uses it: replay images, validation and test."""

    train: Dataset
    replay_idx: np.ndarray
    val_idx: np.ndarray
    test: Dataset


def finetune(
    samples: PathLike,
    *,
    checkpoint: PathLike,
    out: PathLike,
    cfg: FinetuneConfig | None = None,
    data_dir: PathLike | None = None,
    force: bool = False,
) -> FinetuneReport:
    """Adapt ``checkpoint`` to the samples at ``samples`` and save the result in ``out``.

    Args:
        samples: the samples database, an export folder, or a folder of ``<digit>/`` images.
        checkpoint: a run folder or ``.safetensors`` file (the CLI's default: the shipped one).
        out: the run folder to write (``best.safetensors`` and ``finetune.json``).
        cfg: the recipe; None for the defaults.
        data_dir: the MNIST cache root.
        force: allow a non-empty ``out``.

    Raises:
        MnistDigitsError: missing or unusable samples, checkpoint, data or run folder.
    """
    started = time.perf_counter()
    cfg = (cfg or FinetuneConfig()).validate()
    # The samples first: a wrong --samples is one line and leaves no run folder behind.
    split = split_samples(*load_samples(samples), share=cfg.holdout, seed=cfg.seed)
    base = load_base(checkpoint, out, force, cfg.device)
    mnist = _mnist(base, data_dir)
    before = _figures(base.model, base.contract, split.held_out, mnist)
    t0 = time.perf_counter()
    model, kept = _adapt(base, split.train, mnist, cfg, before.mnist_val)
    seconds = time.perf_counter() - t0
    after = _figures(model, base.contract, split.held_out, mnist)
    cal = calibration_for(model, base.meta, data_dir)
    report = FinetuneReport(
        base=base.label,
        base_fingerprint=base.fingerprint,
        samples=split.train.source,
        trained_on=len(split.train),
        held_out=len(split.held_out),
        held_out_how=split.how,
        before=before,
        after=after,
        mix=kept,
        temperature=cal.temperature,
        finetune_seconds=round(seconds, 2),
        total_seconds=round(time.perf_counter() - started, 2),
        run_dir=str(base.out),
        checkpoint=str(base.out / BEST),
    )
    save_finetuned(base, model, report.to_dict(), cal, asdict(cfg))
    return report


def _mnist(base: Base, data_dir: PathLike | None) -> Mnist:
    train = load_dataset("mnist", "train", data_dir=data_dir)
    val_size = int(base.recipe.get("val_size", DEFAULT_VAL_SIZE))
    val_seed = int(base.recipe.get("val_seed", DEFAULT_VAL_SEED))
    train_idx, val_idx = split_indices(len(train), val_size, val_seed)
    test = load_dataset("mnist", "test", data_dir=data_dir)
    return Mnist(train, train_idx.numpy(), val_idx.numpy(), test)


def accuracy(model: nn.Module, contract: InputContract, images: np.ndarray, labels: Any) -> float:
    """Top-1 accuracy (0..1) of ``model`` on uint8 images (N, 28, 28); nan when N is 0."""
    if not len(images):
        return float("nan")
    logits = infer(model, images, contract).double().cpu().numpy()
    return metrics.accuracy(logits, np.asarray(labels))


def _figures(model: nn.Module, c: InputContract, held: UserSamples, mnist: Mnist) -> Figures:
    val = mnist.train.images[mnist.val_idx], mnist.train.labels[mnist.val_idx]
    return Figures(
        user=accuracy(model, c, held.images, held.labels),
        mnist_test=accuracy(model, c, mnist.test.images, mnist.test.labels),
        mnist_val=accuracy(model, c, *val),
    )


def _freeze_norms(model: nn.Module) -> nn.Module:
    """Training mode for everything but BatchNorm, whose running statistics stay MNIST's."""
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()
    return model


class _Batches:
    """Each step's batch: the user's samples (augmented) and MNIST replay images with the base
    model's logits for them, normalised, channels-last as the model is."""

    def __init__(self, base: Base, train: UserSamples, mnist: Mnist, cfg: FinetuneConfig):
        self.base, self.mnist, self.cfg = base, mnist, cfg
        self.device = next(base.model.parameters()).device
        x = base.contract.normalize(torch.from_numpy(np.array(train.images)).to(self.device))
        self.x_user = x.contiguous(memory_format=torch.channels_last)  # (N, 1, 28, 28)
        self.y_user = torch.from_numpy(train.labels).to(self.device)  # (N,)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.aug_gen = torch.Generator(device=self.device).manual_seed(cfg.seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        """Images (B, 1, 28, 28), labels (B,), the base's logits on the replay part (R, 10)
        and the number of user images that come first."""
        cfg, c, mnist = self.cfg, self.base.contract, self.mnist
        n_replay = round(cfg.batch_size * cfg.replay)
        n_user = cfg.batch_size - n_replay
        u = torch.randint(len(self.y_user), (n_user,), generator=self.gen).to(self.device)
        xu = augment_batch(self.x_user[u], cfg.augment, 0.0, self.aug_gen, c.black)
        pick = torch.randint(len(mnist.replay_idx), (n_replay,), generator=self.gen).numpy()
        r = mnist.replay_idx[pick]
        xr = c.normalize(torch.from_numpy(mnist.train.images[r]).to(self.device))
        yr = torch.from_numpy(mnist.train.labels[r].astype(np.int64)).to(self.device)
        with torch.no_grad():
            teacher = self.base.model(xr)  # (R, 10): what the base model says, to be kept
        x = torch.cat([xu, xr]).contiguous(memory_format=torch.channels_last)
        return x, torch.cat([self.y_user[u], yr]), teacher, n_user


def _adapt(
    base: Base, train: UserSamples, mnist: Mnist, cfg: FinetuneConfig, val_before: float
) -> tuple[nn.Module, float]:
    """Fine-tune a copy of the base model, then step back towards the base weights as far as
    MNIST validation asks (:func:`_mix_back`); return the model and the share kept."""
    batches = _Batches(base, train, mnist, cfg)
    base.model.eval()
    model = _freeze_norms(copy.deepcopy(base.model))  # channels-last, as the base is
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    # Cosine decay to zero: the last steps settle rather than keep stepping at full rate.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.5 * (1 + math.cos(math.pi * i / cfg.steps))
    )
    for _ in range(cfg.steps):
        x, y, teacher, n_user = batches.next()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        if cfg.distill > 0:  # keep the base's answers on MNIST, not only its labels
            kl = F.kl_div(
                F.log_softmax(logits[n_user:], 1),
                F.log_softmax(teacher, 1),
                reduction="batchmean",
                log_target=True,
            )
            loss = loss + cfg.distill * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return _mix_back(base, model.eval(), mnist, val_before - cfg.max_val_drop)


def _mix_back(
    base: Base, tuned: nn.Module, mnist: Mnist, val_floor: float
) -> tuple[nn.Module, float]:
    """The weights ``base + a * (tuned - base)`` for the largest ``a`` of ``MIXES`` whose MNIST
    validation accuracy stays at or above ``val_floor`` (0: the base weights).

    Interpolating weights (as WiSE-FT does) keeps most of the gain on the user's hand for a
    fraction of the forgetting. On the bubble-digit writer (half-replay recipe) the full
    step read its held-out digits at 99% (from 69%) but lost 0.58 point on MNIST validation;
    a = 0.35 read 78% and lost 0.10, and a = 0.25 read 73% and lost nothing.
    """
    start, end = base.model.state_dict(), tuned.state_dict()
    mixed = copy.deepcopy(base.model)
    val = mnist.train.images[mnist.val_idx], mnist.train.labels[mnist.val_idx]
    for a in MIXES:
        mixed.load_state_dict(
            {k: start[k] + a * (end[k] - start[k]) if start[k].is_floating_point() else end[k]
             for k in start}
        )  # fmt: skip
        if accuracy(mixed, base.contract, *val) >= val_floor - 1e-9:
            return mixed.eval(), a
    return copy.deepcopy(base.model).eval(), 0.0
