"""``mnist-digits data download|verify|info|show``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from mnist_digits.cli.common import add_data_options, add_json, check_out, ensure
from mnist_digits.cli.render import emit_json, log
from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.core.files import atomic_path
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.info import dataset_info
from mnist_digits.data.preview import contact_sheet


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    data = sub.add_parser("data", help="fetch, verify and look at datasets", formatter_class=fmt)
    actions = data.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, text in [
        ("download", cmd_download, "fetch and verify the four files into the cache"),
        ("verify", cmd_verify, "check every cached file; name and repair the bad ones"),
        ("info", cmd_info, "counts, class balance and statistics (fetches what is missing)"),
    ]:
        p = actions.add_parser(name, help=text, description=text, formatter_class=fmt)
        add_data_options(p)
        add_json(p)
        p.set_defaults(handler=handler)
    show = actions.add_parser("show", help="draw a labelled sample grid", formatter_class=fmt)
    add_data_options(show)
    show.add_argument("--n", type=int, default=25, help="how many samples")
    show.add_argument("--split", default="train", choices=["train", "test"], help="split")
    show.add_argument("--seed", type=int, default=0, help="which samples to draw")
    show.add_argument("--out", default="samples.png", help="PNG file to write")
    show.set_defaults(handler=cmd_show)


def _files(report: object) -> list[dict[str, str]]:
    return [
        {
            "name": f.name,
            "sha256": f.sha256,
            "source": f.source,
            "path": str(f.path),
            "status": f.status,
            "problem": f.problem,
        }
        for f in report.files  # type: ignore[attr-defined]
    ]


def cmd_download(args: argparse.Namespace) -> int:
    report = ensure(args)
    if args.json:
        emit_json({"dataset": report.dataset, "verified": True, "files": _files(report)})
    else:
        log(f"{report.dataset}: all four files verified in {report.directory}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    report = ensure(args)
    bad = [f for f in report.files if f.status != "ok"]
    if args.json:
        emit_json({"dataset": report.dataset, "verified": True, "files": _files(report)})
    else:
        log(
            f"{report.dataset}: {4 - len(bad)} of 4 cached files were intact; "
            f"{len(bad)} fetched or repaired; all verified now"
        )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    ensure(args)
    info = dataset_info(args.dataset, data_dir=args.data_dir)
    if args.json:
        emit_json(info)
    else:
        print_info(info)
    return 0 if info["verified"] else 1


def print_info(info: dict[str, Any]) -> None:
    """``data info`` for people: whether the files verify, then the figures per split."""
    if not info["verified"]:
        for file, problem in info["problems"].items():
            print(f"{info['dataset']}: NOT verified: {file}: {problem}")
        log("the figures below are of files that changed; repair them: mnist-digits data verify")
    else:
        print(f"{info['dataset']}: verified")
    for split, s in info["splits"].items():
        print(f"  {split:5} {s['count']:6d} images  mean {s['mean']:.4f}  std {s['std']:.4f}")
        print(f"        per class: {' '.join(str(c) for c in s['class_counts'])}")
    for f in info["files"]:
        print(f"  {f['name']:26} {f['sha256'][:16]}…  from {f['source']}")


def cmd_show(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= 400:
        raise MnistDigitsError(f"--n must be between 1 and 400, got {args.n}")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise MnistDigitsError(f"folder {out.parent} does not exist; create it or change --out")
    check_out(out)
    ensure(args)
    ds = load_dataset(args.dataset, args.split, data_dir=args.data_dir)
    pick = np.random.default_rng(args.seed).choice(len(ds), size=args.n, replace=False)
    sheet = contact_sheet(ds.images[pick], ds.labels[pick], ds.classes)
    with atomic_path(out) as tmp:
        sheet.save(tmp, format="PNG")  # the temp name ends in .tmp: say the format
    log(f"wrote {out}")
    return 0
