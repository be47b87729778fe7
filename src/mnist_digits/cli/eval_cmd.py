"""``mnist-digits evaluate`` and ``report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mnist_digits.cli.common import add_data_options, add_json, ensure
from mnist_digits.cli.render import emit_json, log
from mnist_digits.core.errors import CheckpointError
from mnist_digits.evaluation.evaluate import (
    EVAL_SPLITS,
    check_cache_writable,
    evaluate_checkpoint,
    store_calibration,
    write_cache,
)
from mnist_digits.evaluation.users import users_figures, users_table
from mnist_digits.models.checkpoint import read_meta


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="accuracy, per-class figures, calibration, OOD separation, robustness",
        formatter_class=fmt,
        description="Evaluate a run's best checkpoint. The calibration temperature is fitted on "
        "the validation images training held out and saved into the checkpoint.",
    )
    ev.add_argument("model", metavar="RUN_DIR|CHECKPOINT", help="a run folder or .safetensors file")
    ev.add_argument("--split", default="test", choices=EVAL_SPLITS, help="split to score")
    ev.add_argument(
        "--corruptions", action="store_true", help="also score the 15 MNIST-C corruptions (~1 min)"
    )
    ev.add_argument("--seed", type=int, default=0, help="corruption seed")
    ev.add_argument(
        "--users",
        action="store_true",
        help="also read held-out families of people's kinds of images, as predict does",
    )
    ev.add_argument("--users-n", type=int, default=500, help="images per family (default: 500)")
    add_data_options(ev, dataset=False)
    add_json(ev)
    ev.set_defaults(handler=cmd_evaluate)
    rep = sub.add_parser(
        "report",
        help="write an HTML report (and a Markdown twin) of one or several runs",
        formatter_class=fmt,
        description="One self-contained HTML file with every plot; several runs are compared.",
    )
    rep.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders to report on")
    rep.add_argument(
        "--out",
        default=None,
        help="HTML file (default: RUN_DIR/report.html for one run, else ./report.html)",
    )
    rep.add_argument(
        "--no-corruptions", action="store_true", help="skip corruptions not measured before"
    )
    rep.add_argument("--seed", type=int, default=0, help="corruption seed")
    add_data_options(rep, dataset=False)
    add_json(rep)
    rep.set_defaults(handler=cmd_report)


def cmd_evaluate(args: argparse.Namespace) -> int:
    check_cache_writable(args.model)
    ensure(args, read_meta(args.model).dataset)
    result = evaluate_checkpoint(
        args.model,
        split=args.split,
        corruptions=args.corruptions,
        seed=args.seed,
        data_dir=args.data_dir,
        progress=log,
    )
    figures = result.figures
    if args.users:
        figures["users"] = users_figures(
            result.model, result.meta, n=args.users_n, data_dir=args.data_dir, say=log
        )
    figures["calibration"]["stored_in"] = _store_temperature(args.model, figures["calibration"])
    write_cache(args.model, figures)
    if args.json:
        emit_json(figures)
    else:
        print_evaluation(figures, result.meta.classes)
        if args.users:
            print(users_table(figures["users"]))
    return 0


def _store_temperature(path: str, calibration: dict[str, Any]) -> str | None:
    """Save the temperature into the checkpoint; say why not when it cannot be."""
    try:
        return str(store_calibration(path, calibration))
    except CheckpointError as err:
        log(f"temperature not saved: {err}")
        return None


def cmd_report(args: argparse.Namespace) -> int:
    # Imported here, not at the top: the report's plots pull in seaborn, matplotlib and pandas
    # (about 1 s), and every command's parser imports this module, `predict` included.
    from mnist_digits.evaluation.report.publish import check_output, default_output, write_report

    out = check_output(Path(args.out) if args.out else default_output(args.runs))
    ensure(args, read_meta(args.runs[0]).dataset)
    files = write_report(
        args.runs,
        out,
        corruptions=not args.no_corruptions,
        seed=args.seed,
        data_dir=args.data_dir,
        progress=log,
    )
    if args.json:
        emit_json(
            {"html": str(files.html), "markdown": str(files.markdown), "assets": str(files.assets)}
        )
    else:
        log(f"Markdown twin: {files.markdown} (images in {files.assets})")
        print(files.html)
    return 0


def print_evaluation(f: dict[str, Any], classes: tuple[str, ...]) -> None:
    """The evaluation for people: headline figures, then per-class and corruption tables."""
    cal, ood = f["calibration"], f["ood"]
    print(f"{f['model']} on {f['dataset']} {f['split']} ({f['n']:,} images)")
    print(
        f"  accuracy {100 * f['accuracy']:.2f}%  loss {f['loss']:.4f}  "
        f"top-2 {100 * f['top2_accuracy']:.2f}%  errors {len(f['error_indices'])}"
    )
    print(
        f"  calibration: T = {cal['temperature']:.3f} (fitted on {cal['n_val']:,} validation "
        f"images); ECE {100 * cal['ece_before']:.2f}% -> {100 * cal['ece_after']:.2f}%; "
        f"NLL {cal['nll_before']:.4f} -> {cal['nll_after']:.4f}"
    )
    if "auroc" in ood:
        print(f"  out-of-distribution ({ood['dataset']}): max-softmax AUROC {ood['auroc']:.4f}")
    else:
        print(f"  out-of-distribution: skipped, {ood['skipped']}")
    print(f"  {'class':>8} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    pc = f["per_class"]
    for i, name in enumerate(classes):
        print(
            f"  {name:>8} {pc['precision'][i]:9.4f} {pc['recall'][i]:7.4f} "
            f"{pc['f1'][i]:7.4f} {pc['support'][i]:8d}"
        )
    if f.get("corruptions"):
        _print_corruptions(f["corruptions"])


def _print_corruptions(c: dict[str, Any]) -> None:
    print(f"  corruptions (seed {c['seed']}): accuracy")
    for name, acc in c["accuracy"].items():
        print(f"  {name:>14} {100 * acc:6.2f}%   {c['severity'][name]}")
    print(f"  mean corruption error {100 * c['mean_corruption_error']:.2f}%")
