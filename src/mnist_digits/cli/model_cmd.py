"""``mnist-digits train`` and ``models``."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from mnist_digits.cli.common import add_data_options, add_json, ensure
from mnist_digits.cli.render import TrainBars, emit_json, log
from mnist_digits.core.errors import ConfigError, DataError
from mnist_digits.data.userset import is_export, read_export
from mnist_digits.models.registry import MODELS
from mnist_digits.training import distributed
from mnist_digits.training.config import TrainConfig, load_config_file, resolve_config
from mnist_digits.training.run import resume_training, run_seeds, run_training
from mnist_digits.training.rundir import RunSummary, default_run_dir, prepare_run_dir
from mnist_digits.training.tensors import pick_device

_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str}


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    train = sub.add_parser(
        "train",
        help="train a model from the registry",
        formatter_class=fmt,
        description="Train a model. Settings resolve as: defaults < the "
        "model's recipe < --config file < flags.",
    )
    _add_config_flags(train)
    train.add_argument("--config", default=None, help="TOML, YAML or JSON file of settings")
    train.add_argument("--out", default=None, help="run folder (default: runs/<time>-<model>)")
    train.add_argument("--force", action="store_true", help="allow a non-empty --out folder")
    train.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="train this many seeds (seed, seed+1, ...) and report mean ± std",
    )
    train.add_argument(
        "--resume",
        metavar="RUN_DIR",
        default=None,
        help="continue an interrupted run exactly where it stopped",
    )
    add_data_options(train, dataset=False)
    add_json(train)
    train.set_defaults(handler=cmd_train)
    models = sub.add_parser("models", help="list the model registry", formatter_class=fmt)
    add_json(models)
    models.set_defaults(handler=cmd_models)


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field; None means "not given" so the recipe can fill it."""
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        # argparse %-formats help strings: a literal % (as in "scale ±10%") must be doubled.
        text = f"{f.metadata['help']} (default: {f.default}, or the model's recipe)"
        text = text.replace("%", "%%")
        if str(f.type) == "bool":
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            p.add_argument(
                flag,
                type=_TYPES[str(f.type)],
                default=None,
                help=text,
                choices=f.metadata.get("choices"),
            )


def cmd_train(args: argparse.Namespace) -> int:
    if args.seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {args.seeds}")
    if args.resume:
        log(f"resuming {args.resume}")
        return _print_summary(
            resume_training(args.resume, data_dir=args.data_dir, callback=TrainBars()), args.json
        )
    flags = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    export = is_export(args.source_dir)
    if export:
        flags = _export_flags(args.source_dir, flags)
    cfg = resolve_config(load_config_file(args.config) if args.config else {}, flags)
    out = args.out or default_run_dir(cfg.model)
    pick_device(cfg.device)  # a bad --device or --out is refused before any download
    prepare_run_dir(out, args.force, create=not distributed.launched())
    if not export:  # an export was verified against its own checksums by _export_flags
        ensure(args, cfg.dataset)
    if distributed.is_main():
        log(f"training {cfg.model} for {cfg.epochs} epochs into {out}")
    if args.seeds > 1:
        agg = run_seeds(
            cfg, args.seeds, out, data_dir=args.data_dir, force=args.force, callback=TrainBars()
        )
        return _print_aggregate(agg, args.json)
    summary = run_training(cfg, out, data_dir=args.data_dir, force=args.force, callback=TrainBars())
    # Under torchrun rank 0 alone reports; the others trained their shards in step with it.
    return _print_summary(summary, args.json) if distributed.is_main() else 0


def _export_flags(folder: str, flags: dict[str, Any]) -> dict[str, Any]:
    """Train on a samples export: the folder is the dataset, and validation is a fifth of its
    training split unless ``--val-size`` says otherwise (MNIST's 5,000 would be all of it)."""
    export = read_export(folder)
    counts = {f.split: f.count for f in export.spec.files}
    if counts["train"] < 2 or counts["test"] < 1:
        raise DataError(
            f"{folder} holds {counts['train']} training and {counts['test']} test samples; "
            "training needs both (export samples of two writers or more)"
        )
    log(f"{export.spec.title}: {counts['train']} train, {counts['test']} test, checksums ok")
    val_size = flags["val_size"] or max(1, counts["train"] // 5)
    if val_size >= counts["train"]:
        raise ConfigError(f"--val-size {val_size} must be below the export's {counts['train']}")
    return {**flags, "dataset": str(export.path.resolve()), "val_size": val_size}


def _print_aggregate(agg: dict[str, Any], as_json: bool) -> int:
    if as_json:
        emit_json(agg)
        return 0
    acc, secs = agg["test_accuracy"], agg["train_seconds"]
    print(
        f"{agg['model']} over {agg['seeds']} seeds: test accuracy "
        f"{acc['mean']:.4f} ± {acc['std']:.4f}, {secs['mean']:.1f} ± {secs['std']:.1f} s "
        f"of training; runs in {agg['run_dir']}"
    )
    return 0


def _print_summary(summary: RunSummary, as_json: bool) -> int:
    if as_json:
        emit_json(summary.to_dict())
    else:
        print(
            f"{summary.model}: test accuracy {summary.test_accuracy:.4f} "
            f"(val {summary.val_accuracy:.4f}, best epoch {summary.best_epoch}) "
            f"in {summary.train_seconds:.1f} s of training; run saved to {summary.run_dir}"
        )
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    rows = [
        {"name": e.name, "description": e.description, "recipe": e.recipe} for e in MODELS.values()
    ]
    if args.json:
        emit_json(rows)
    else:
        for row in rows:
            print(f"{row['name']:12} {row['description']}")
    return 0
