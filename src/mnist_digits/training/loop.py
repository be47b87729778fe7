"""Training on whole in-memory tensors: ``train(cfg, data) -> TrainResult``.

No DataLoader: the split lives in one tensor on the device, each epoch draws a ``randperm`` from
a seeded generator, and batches are index slices of it. Progress goes through a callback.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mnist_digits.core import metrics
from mnist_digits.models.inference import infer
from mnist_digits.models.registry import create_model, width_config
from mnist_digits.training import distributed
from mnist_digits.training.augment import augment_batch, pen_width
from mnist_digits.training.config import TrainConfig
from mnist_digits.training.interrupt import TrainingInterrupted, deferred_interrupt
from mnist_digits.training.optim import lr_factor, make_ema, make_optimizer
from mnist_digits.training.tensors import TrainData, epoch_batches

# Loss and accuracy are read back from the device only every few steps: a .item() per step
# would synchronise a GPU 430 times an epoch at batch 128.
LOG_EVERY = 20


@dataclass(frozen=True)
class EpochStats:
    """Figures for one epoch; ``seconds`` counts training steps only, not validation.

    ``lr_trace`` is the learning rate after every logged step (every :data:`LOG_EVERY` steps
    and the epoch's last), so a report redraws the schedule without recomputing it.
    """

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float
    images_per_s: float
    lr_trace: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    """A progress event: ``kind`` is ``step`` or ``epoch_end``.

    On ``epoch_end``, ``model`` is the model validation just judged (the EMA when enabled), so a
    callback can report more about it; a callback that runs it must leave its weights and mode
    as they were.
    """

    kind: str
    epoch: int
    epochs: int
    step: int = 0
    steps: int = 0
    loss: float = 0.0
    acc: float = 0.0
    lr: float = 0.0
    images_per_s: float = 0.0
    stats: EpochStats | None = None
    model: nn.Module | None = None


ProgressCallback = Callable[[Progress], None]


@dataclass
class TrainResult:
    """What training produced: the weights best on validation, and the history."""

    model: nn.Module
    last_state: dict[str, torch.Tensor]
    history: list[EpochStats] = field(default_factory=list)
    best_epoch: int = 0
    best_val_acc: float = 0.0
    train_seconds: float = 0.0


@dataclass
class Loop:
    """Where the loop is and what it has seen; everything needed to resume it exactly."""

    epoch: int = 1
    step: int = 0
    perm: list[torch.Tensor] | None = None
    loss_sum: float = 0.0
    correct: int = 0
    epoch_seconds: float = 0.0
    train_seconds: float = 0.0
    history: list[EpochStats] = field(default_factory=list)
    best_epoch: int = 0
    best_val_acc: float = -1.0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    stale: int = 0
    lr_trace: list[float] = field(default_factory=list)


class Trainer:
    """The model, optimiser, schedule, EMA and random generators of one training run."""

    def __init__(self, cfg: TrainConfig, data: TrainData) -> None:
        self.cfg, self.data = cfg, data
        self.device = data.x_train.device
        torch.manual_seed(cfg.seed)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        self.shuffle = torch.Generator().manual_seed(cfg.seed)
        aug_seed = cfg.seed + 1 + distributed.seed_offset()
        self.aug_gen = torch.Generator(device=self.device).manual_seed(aug_seed)
        self.model = create_model(cfg.model, **width_config(cfg.model, cfg.width)).to(self.device)
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        distributed.check_batches(data.x_train.shape[0], cfg.batch_size)
        wrapped = distributed.wrap_model(self.model, self.device)  # DDP under torchrun
        self.forward = torch.compile(wrapped) if cfg.compile else wrapped
        self.optimizer = make_optimizer(cfg, self.model)
        self.steps = math.ceil(data.x_train.shape[0] / cfg.batch_size)
        total = self.steps * cfg.epochs
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(cfg, s, total)
        )
        self.ema = make_ema(self.model, cfg.ema)
        self.autocast = use_autocast(cfg, self.device)
        self.use_outliers = cfg.outlier_exposure > 0 and data.x_outlier is not None
        self.loop = Loop()

    def train_step(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimisation step on the batch ``idx``; returns (summed loss, correct count)."""
        cfg = self.cfg
        idx = distributed.shard(idx)  # this rank's part of the global batch
        xb, yb = self.digit_batch(idx), self.data.y_train[idx]  # (B, 1, 28, 28), (B,)
        b = xb.shape[0]
        if self.use_outliers:
            xb = torch.cat([xb, self.outlier_batch(b // 2)])  # (B + B/2, 1, 28, 28)
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.autocast):
            all_logits = self.forward(xb).float()  # (B [+ B/2], 10)
            logits = all_logits[:b]  # (B, 10)
            loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
            if self.use_outliers:
                # Cross-entropy to the uniform distribution: non-digits get no confident class.
                uniform_ce = -F.log_softmax(all_logits[b:], dim=1).mean(1).mean()
                loss = loss + cfg.outlier_exposure * uniform_ce
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.sched.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return loss.detach() * b, (logits.detach().argmax(1) == yb).sum()

    def digit_batch(self, idx: torch.Tensor) -> torch.Tensor:
        """The digits ``idx``: some as users' preprocessing leaves them, some with another pen,
        all randomly distorted. (B, 1, 28, 28)"""
        cfg, data, black = self.cfg, self.data, self.data.contract.black
        # index_select gathers whole rows 4-5x faster than x[idx] (0.08 vs 0.37 ms at batch
        # 512 on 2 cores), a tenth of an MLP step.
        xb = data.x_train.index_select(0, idx)
        if data.x_pre is not None and cfg.preprocessed > 0:
            swap = torch.rand(idx.shape[0], generator=self.aug_gen, device=self.device)
            xb = torch.where(
                (swap < cfg.preprocessed)[:, None, None, None], data.x_pre.index_select(0, idx), xb
            )
        xb = pen_width(xb, cfg.stroke, self.aug_gen, black)
        return augment_batch(xb, cfg.augment, cfg.elastic, self.aug_gen, black)

    def outlier_batch(self, n: int) -> torch.Tensor:
        """n non-digits: three quarters Fashion-MNIST items, one quarter smooth random noise."""
        assert self.data.x_outlier is not None
        k = n - n // 4
        idx = torch.randint(
            0, self.data.x_outlier.shape[0], (k,), generator=self.aug_gen, device=self.device
        )
        coarse = torch.rand(n - k, 1, 7, 7, generator=self.aug_gen, device=self.device)
        noise = F.interpolate(coarse, size=(28, 28), mode="bilinear", align_corners=False)
        lo, hi = self.data.contract.black, self.data.contract.white
        xo = torch.cat(
            [self.data.x_outlier.index_select(0, idx), lo + (hi - lo) * noise]
        )  # (n, 1, 28, 28)
        if not self.cfg.outlier_augment:
            return xo
        # Digits are resampled by the affine warp (softer edges) and non-digits would not be:
        # a shortcut that let generated look-alikes pull sharp validation digits to uniform.
        xo = pen_width(xo, self.cfg.stroke, self.aug_gen, lo)
        return augment_batch(xo, self.cfg.augment, self.cfg.elastic, self.aug_gen, lo)

    def eval_model(self) -> nn.Module:
        """The weights validation judges: the EMA when enabled, else the live model."""
        return self.ema.module if self.ema is not None else self.model

    def lr(self) -> float:
        return float(self.sched.get_last_lr()[0])

    def state_dict(self) -> dict[str, Any]:
        """Everything to resume: weights, optimiser, schedule, EMA, generators, loop."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "sched": self.sched.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "shuffle": self.shuffle.get_state(),
            "aug_gen": self.aug_gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "loop": asdict(self.loop),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["sched"])
        if self.ema is not None and state["ema"] is not None:
            self.ema.load_state_dict(state["ema"])
        self.shuffle.set_state(state["shuffle"])
        self.aug_gen.set_state(state["aug_gen"])
        torch.set_rng_state(state["torch_rng"])
        loop = dict(state["loop"])
        loop["history"] = [EpochStats(**h) for h in loop["history"]]
        self.loop = Loop(**loop)


def use_autocast(cfg: TrainConfig, device: torch.device) -> bool:
    """Whether training steps run under bf16 autocast on ``device``.

    On CUDA ``cfg.amp`` decides. On a CPU ``cfg.cpu_bf16`` asks for it, and it is used only
    where the CPU computes bf16 natively (AMX or AVX512-BF16): there a cnn-small step at batch
    128 took 0.71-0.81x the fp32 time (``benchmarks/step_bench.py``); elsewhere bf16 is
    emulated, so the recipe stays in fp32.
    """
    if device.type == "cuda":
        return cfg.amp
    return cfg.cpu_bf16 and device.type == "cpu" and native_cpu_bf16()


def native_cpu_bf16() -> bool:
    """True when this CPU has AMX tiles or AVX512-BF16 (PyTorch's own CPU feature probes)."""
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _step_event(t: Trainer, step: int, seen: int, elapsed: float) -> Progress:
    lp = t.loop
    return Progress(
        "step",
        lp.epoch,
        t.cfg.epochs,
        step,
        t.steps,
        loss=lp.loss_sum / seen,
        acc=lp.correct / seen,
        lr=t.lr(),
        images_per_s=seen / max(elapsed, 1e-9),
    )


def _end_epoch(t: Trainer) -> EpochStats:
    """Validate, record the epoch, keep the best weights, and reset the epoch counters."""
    lp, n = t.loop, t.data.x_train.shape[0]
    val_loss, val_acc = _validate(t)
    stats = EpochStats(
        lp.epoch,
        lp.loss_sum / n,
        lp.correct / n,
        val_loss,
        val_acc,
        t.lr(),
        lp.epoch_seconds,
        n / max(lp.epoch_seconds, 1e-9),
        lp.lr_trace,
    )
    lp.history.append(stats)
    lp.train_seconds += lp.epoch_seconds
    if val_acc > lp.best_val_acc:
        lp.best_epoch, lp.best_val_acc, lp.stale = lp.epoch, val_acc, 0
        lp.best_state = copy.deepcopy(t.eval_model().state_dict())
    else:
        lp.stale += 1
    lp.epoch, lp.step, lp.perm = lp.epoch + 1, 0, None
    lp.loss_sum, lp.correct, lp.epoch_seconds, lp.lr_trace = 0.0, 0, 0.0, []
    return stats


def _validate(t: Trainer) -> tuple[float, float]:
    """Validation loss and accuracy; under torchrun each rank scores a shard and the sums are
    added, so every rank sees the same figures and takes the same best-epoch decisions."""
    x, y = distributed.shard(t.data.x_val), distributed.shard(t.data.y_val)  # all when alone
    logits = infer(t.eval_model(), x, t.data.contract).double().cpu().numpy()  # (n, 10)
    labels = y.cpu().numpy()
    n = len(labels)
    sums = torch.tensor(
        [metrics.nll(logits, labels) * n, round(metrics.accuracy(logits, labels) * n), n],
        dtype=torch.float64,
        device=t.device,
    )
    loss_sum, hits, total = distributed.sum_across(sums)[0].tolist()
    return loss_sum / total, hits / total


def _run_epoch(t: Trainer, callback: ProgressCallback | None, stop: Callable[[], bool]) -> bool:
    """Run the rest of the current epoch; False when ``stop`` asked to end early."""
    lp, cfg, n = t.loop, t.cfg, t.data.x_train.shape[0]
    t.model.train()
    if lp.perm is None:
        lp.perm = epoch_batches(n, cfg.batch_size, t.shuffle, t.device)
    t0 = time.perf_counter() - lp.epoch_seconds
    loss_acc = torch.zeros((), device=t.device)
    hit_acc = torch.zeros((), device=t.device, dtype=torch.long)
    for step in range(lp.step, t.steps):
        loss_sum, hits = t.train_step(lp.perm[step])
        loss_acc += loss_sum
        hit_acc += hits
        stopping = stop()
        if stopping or (step + 1) % LOG_EVERY == 0 or step + 1 == t.steps:
            loss_all, hits_all = distributed.sum_across(loss_acc, hit_acc)  # over ranks
            lp.loss_sum += float(loss_all)
            lp.correct += int(hits_all)
            loss_acc.zero_()
            hit_acc.zero_()
            lp.step, lp.epoch_seconds = step + 1, time.perf_counter() - t0
            lp.lr_trace.append(t.lr())
            if callback:
                seen = min(lp.step * cfg.batch_size, n)
                callback(_step_event(t, lp.step, seen, lp.epoch_seconds))
            if stopping:
                return False
    return True


def train(
    cfg: TrainConfig,
    data: TrainData,
    callback: ProgressCallback | None = None,
    resume: dict[str, Any] | None = None,
) -> TrainResult:
    """Train ``cfg.model`` on ``data`` and keep the weights best on validation.

    Args:
        cfg: the resolved recipe.
        data: normalised training and validation tensors on the target device.
        callback: receives a ``Progress`` every few steps and at the end of each epoch.
        resume: a state from :class:`TrainingInterrupted` to continue exactly from.

    Returns:
        The best model on validation (loaded, eval mode), the last weights and the history.

    Raises:
        TrainingInterrupted: on Ctrl-C, carrying the state to resume from.
    """
    t = Trainer(cfg, data)
    if resume is not None:
        t.load_state_dict(resume)
    lp = t.loop
    with deferred_interrupt() as stop:
        while lp.epoch <= cfg.epochs and not (cfg.patience and lp.stale >= cfg.patience):
            if not _run_epoch(t, callback, stop):
                raise TrainingInterrupted(t.state_dict(), lp.epoch, lp.step)
            stats = _end_epoch(t)
            if callback:
                event = Progress(
                    "epoch_end", stats.epoch, cfg.epochs, stats=stats, model=t.eval_model()
                )
                callback(event)
    return _result(t)


def _result(t: Trainer) -> TrainResult:
    lp = t.loop
    last_state = copy.deepcopy(t.eval_model().state_dict())
    model = t.eval_model()
    model.load_state_dict(lp.best_state)
    model.eval()
    return TrainResult(
        model=model,
        last_state=last_state,
        history=lp.history,
        best_epoch=lp.best_epoch,
        best_val_acc=lp.best_val_acc,
        train_seconds=lp.train_seconds,
    )
