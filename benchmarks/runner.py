"""Runs the selected entries one after another in this process (the Keras reference in its own
TensorFlow subprocess) and collects per-seed records, summaries and targets into one report."""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import ours
import ref_pytorch_example as example
import torch
from entries import KERAS, OURS, PYTORCH_EXAMPLE, Entry, select
from report import judge, machine_info, ratio_to_reference, summarize
from tf_env import ensure_tf_python, log, run_keras_seed, write_npz

from mnist_digits.data.dataset import Dataset, load_dataset, normalized_tensors
from mnist_digits.training.config import TrainConfig
from mnist_digits.training.interrupt import TrainingInterrupted
from mnist_digits.training.tensors import TrainData, prepare_data

# --smoke: enough steps to run every code path (16 steps of 128, 2 epochs), nothing measured.
SMOKE_TRAIN, SMOKE_VAL, SMOKE_TEST = 2048, 1000, 1000
CPU = torch.device("cpu")  # the references always run on the CPU, as they were published


@dataclass
class Context:
    """What every entry shares: options, both MNIST splits, and scratch space."""

    args: argparse.Namespace
    train_split: Dataset
    test_split: Dataset
    tmp: Path
    train_data: dict[tuple[int, int], TrainData] = field(default_factory=dict)
    tf_version: str | None = None

    @property
    def device(self) -> torch.device:
        """Where our entries train: ``--device`` (the CPU unless asked)."""
        return torch.device(self.args.device)

    @property
    def smoke(self) -> bool:
        """Whether this is the undocumented smoke test (tiny data, nothing measured)."""
        return bool(self.args.smoke)

    @property
    def stop_references(self) -> bool:
        """References stop at their threshold in --quick (and --smoke), or when asked."""
        return bool(self.args.quick or self.args.smoke or self.args.stop_references)

    def seeds(self, entry: Entry) -> list[int]:
        """Seeds 0, 1, ...: --seeds, else 1 in --quick and --smoke, else the entry's own."""
        n = self.args.seeds or (1 if self.args.quick or self.smoke else entry.seeds)
        return list(range(n))

    def test_limit(self) -> int | None:
        """How many test images our entries are scored on: all, or 1,000 in --smoke."""
        return SMOKE_TEST if self.smoke else None


def run_keras(entry: Entry, ctx: Context, result: dict[str, Any]) -> None:
    """The seed reference, one TensorFlow subprocess per seed."""
    python = ensure_tf_python(ctx.args.tf_python)
    npz = ctx.tmp / "mnist.npz"
    if not npz.exists():
        write_npz(npz, ctx.train_split, ctx.test_split)
    stop = entry.thresholds[0] if ctx.stop_references else None
    result["config"] = {
        "layers": [784, 50, 50, 10], "activations": ["relu", "relu", "sigmoid"],
        "optimizer": "adam", "lr": 1e-3, "loss": "sparse_categorical_crossentropy",
        "batch_size": 32, "epochs": 1 if ctx.smoke else 10, "inputs": "x / 255",
        "train_images": 2000 if ctx.smoke else len(ctx.train_split), "stop_at": stop,
        "threads": ctx.args.threads, "python": str(python),
    }  # fmt: skip
    for seed in ctx.seeds(entry):
        log(f"{entry.name} seed {seed} (TensorFlow subprocess)")
        record = run_keras_seed(python, npz, seed, ctx.args.threads, stop, ctx.smoke)
        ctx.tf_version = record.get("tensorflow")
        result["seeds"].append(record)


def run_example(entry: Entry, ctx: Context, result: dict[str, Any]) -> None:
    """The PyTorch-example reference, in this process with the same thread count as ours."""
    train = example.to_tensors(ctx.train_split.images, ctx.train_split.labels)
    test = example.to_tensors(ctx.test_split.images, ctx.test_split.labels)
    epochs = 2 if ctx.smoke else example.EPOCHS
    if ctx.smoke:  # 20 steps of 64 per epoch
        train, test = (
            (train[0][:1280], train[1][:1280]),
            (test[0][:SMOKE_TEST], test[1][:SMOKE_TEST]),
        )
    stop = entry.thresholds[0] if ctx.stop_references else None
    result["config"] = {
        "batch_size": example.BATCH_SIZE, "optimizer": "adadelta", "lr": example.LR,
        "step_lr_gamma": example.GAMMA, "epochs": epochs, "normalize": [example.MEAN, example.STD],
        "train_images": len(train[0]), "stop_at": stop,
    }  # fmt: skip
    for seed in ctx.seeds(entry):
        log(f"{entry.name} seed {seed}")
        result["seeds"].append(example.run_seed(train, test, seed, epochs, stop))


def our_data(ctx: Context, cfg: TrainConfig) -> TrainData:
    """The normalised training and validation split, prepared once per validation split."""
    key = (cfg.val_size, cfg.val_seed)
    if key not in ctx.train_data:
        ctx.train_data[key] = prepare_data(cfg, ctx.train_split, ctx.device)
    return ctx.train_data[key]


def run_ours(entry: Entry, ctx: Context, result: dict[str, Any]) -> None:
    """One of our recipes through the library; TTA and the ensemble where the target needs them."""
    cfg = ours.load_recipe(str(entry.recipe_path))
    cfg = replace(cfg, device=ctx.args.device, compile=cfg.compile or ctx.args.compile)
    if cfg.dataset != "mnist":
        raise ValueError(f"{entry.recipe} trains on {cfg.dataset}; the benchmark is MNIST")
    data = our_data(ctx, cfg)
    if ctx.smoke:
        cfg, data = ours.shrink(cfg, data, SMOKE_TRAIN, SMOKE_VAL)
    x, y = normalized_tensors(ctx.test_split, str(ctx.device))
    assert isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)
    test = (x[: ctx.test_limit()], y[: ctx.test_limit()])
    result["config"] = cfg.to_dict()
    boosted, probs = entry.boosted_min_acc is not None, []
    for seed in ctx.seeds(entry):
        log(f"{entry.name} seed {seed} ({entry.recipe})")
        record, p = ours.run_seed(entry.name, replace(cfg, seed=seed), data, test, boosted)
        result["seeds"].append(record)
        probs.append(p)
    if boosted and len(probs) > 1:
        result["ensemble"] = ours.ensemble(probs, test[1])


RUNNERS = {KERAS: run_keras, PYTORCH_EXAMPLE: run_example, OURS: run_ours}


def run_entry(entry: Entry, ctx: Context) -> tuple[dict[str, Any], bool]:
    """Run one entry; returns its result and False when Ctrl-C asked to stop the benchmark.

    A failing entry records its error and the benchmark goes on, so one broken reference does
    not lose the other figures of a long run.
    """
    result: dict[str, Any] = {
        "name": entry.name, "kind": entry.kind, "recipe": entry.recipe, "spec": asdict(entry),
        "config": None, "seeds": [], "error": None,
    }  # fmt: skip
    go_on = True
    try:
        RUNNERS[entry.kind](entry, ctx, result)
    except (KeyboardInterrupt, TrainingInterrupted):
        result["error"], go_on = "interrupted", False
    except Exception as err:
        traceback.print_exc()
        result["error"] = f"{type(err).__name__}: {err}"
    gc.collect()
    return result, go_on


def finish(entries: list[Entry], results: list[dict[str, Any]], device: str) -> None:
    """Add summaries to every complete entry, then ratios and targets (the CPU's or, with
    ``device`` ``cuda``, the GPU's) to ours."""
    summaries: dict[str, dict] = {}
    for entry, res in zip(entries, results, strict=True):
        if res["seeds"] and not res["error"]:
            res["summary"] = summarize(entry, res["seeds"], res.pop("ensemble", None))
            summaries[entry.name] = res["summary"]
    for entry, res in zip(entries, results, strict=True):
        if entry.kind == OURS and "summary" in res:
            res["ratio"] = ratio_to_reference(entry, res["summary"], summaries)
            res["target"] = judge(entry, res["summary"], res["ratio"], device)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected entries and return the whole report (JSON-ready)."""
    torch.set_num_threads(args.threads)
    entries = select(args.only, args.quick)
    machine, start = machine_info(args.device), time.perf_counter()
    splits = [load_dataset("mnist", s, data_dir=args.data_dir) for s in ("train", "test")]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mnist-bench-") as tmp:
        ctx = Context(args, splits[0], splits[1], Path(tmp))
        for entry in entries:
            log(f"== {entry.name}")
            result, go_on = run_entry(entry, ctx)
            results.append(result)
            if not go_on:
                break
    finish(entries[: len(results)], results, args.device)
    machine["tensorflow"] = ctx.tf_version
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    return {
        "benchmark": "mnist-digits training benchmark", "created": datetime.now().isoformat(),
        "mode": mode, "args": vars(args), "machine": machine, "entries": results,
        "wall_seconds": time.perf_counter() - start,
    }  # fmt: skip
