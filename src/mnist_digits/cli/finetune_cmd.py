"""``mnist-digits finetune``: adapt a model to a user's own digits, without forgetting MNIST."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from mnist_digits.cli.render import emit_json, log
from mnist_digits.predict import SHIPPED
from mnist_digits.training.finetune import FinetuneConfig, FinetuneReport, finetune
from mnist_digits.training.rundir import default_run_dir

_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str}


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "finetune",
        help="fine-tune a model on your own samples, with MNIST replay",
        formatter_class=fmt,
        description="Fine-tune on collected samples (the samples database, an export "
        "folder, or a folder of <digit>/ images); reports accuracy before and after on a "
        "held-out part of them and on MNIST test, and writes a run folder that serve and "
        "predict take with --checkpoint.",
    )
    p.add_argument("--samples", required=True, metavar="DB|DIR", help="samples database or folder")
    p.add_argument(
        "--checkpoint",
        default=None,
        metavar="RUN|WEIGHTS",
        help="run folder or .safetensors to adapt (default: the model shipped with the package)",
    )
    p.add_argument("--out", default=None, help="run folder (default: runs/<time>-finetuned)")
    p.add_argument("--force", action="store_true", help="allow a non-empty --out folder")
    for f in fields(FinetuneConfig):
        p.add_argument(
            "--" + f.name.replace("_", "-"),
            type=_TYPES[str(f.type)],
            default=f.default,
            choices=f.metadata["choices"],
            help=f.metadata["help"].replace("%", "%%"),
        )
    p.add_argument("--data-dir", default=None, help="MNIST cache folder (default: data home)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    p.set_defaults(handler=cmd_finetune)


def cmd_finetune(args: argparse.Namespace) -> int:
    cfg = FinetuneConfig(**{f.name: getattr(args, f.name) for f in fields(FinetuneConfig)})
    out = args.out or default_run_dir("finetuned")
    log(f"fine-tuning {args.checkpoint or 'the shipped model'} on {args.samples} into {out}")
    report = finetune(
        args.samples,
        checkpoint=args.checkpoint or SHIPPED,
        out=out,
        cfg=cfg.validate(),
        data_dir=args.data_dir,
        force=args.force,
    )
    return _print(report, args.json)


def _print(r: FinetuneReport, as_json: bool) -> int:
    if r.forgot:
        log(
            f"WARNING: MNIST test accuracy fell by {100 * r.mnist_drop:.2f} points (more than "
            "0.1); try fewer --steps, a lower --lr or more --replay"
        )
    if as_json:
        emit_json(r.to_dict())
        return 0
    b, a = r.before, r.after
    print(
        f"your held-out samples ({r.held_out}, {r.held_out_how}): {100 * b.user:.1f}% -> "
        f"{100 * a.user:.1f}%\n"
        f"MNIST test (10,000): {100 * b.mnist_test:.2f}% -> {100 * a.mnist_test:.2f}%\n"
        f"trained on {r.trained_on} samples in {r.finetune_seconds:.1f} s "
        f"({r.total_seconds:.1f} s in all; {100 * r.mix:.0f}% of the step kept, as MNIST "
        "validation allowed)\n"
        f"saved to {r.checkpoint}; serve it with: mnist-digits serve --checkpoint {r.run_dir}"
    )
    return 0
