"""Options shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_digits.cli.render import DownloadBars, report_fetch
from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.core.files import check_writable
from mnist_digits.data.specs import DATASETS
from mnist_digits.data.store import FetchReport, ensure_dataset


def add_data_options(p: argparse.ArgumentParser, dataset: bool = True) -> None:
    """``--dataset``, ``--data-dir`` and ``--source-dir``."""
    if dataset:
        p.add_argument("--dataset", default="mnist", choices=list(DATASETS), help="dataset")
    p.add_argument(
        "--data-dir",
        default=None,
        help="cache folder, created when missing (default: $MNIST_DIGITS_HOME or "
        "~/.cache/mnist-digits)",
    )
    p.add_argument(
        "--source-dir",
        default=None,
        help="folder holding the four IDX files (raw or .gz), tried before the network; "
        "train also takes a samples export (with its manifest.json) and trains on it",
    )


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def ensure(args: argparse.Namespace, name: str | None = None) -> FetchReport:
    """Fetch, verify or repair the dataset's files, telling people what was done."""
    report = ensure_dataset(
        name or args.dataset,
        data_dir=args.data_dir,
        source_dir=getattr(args, "source_dir", None),
        progress=DownloadBars(),
    )
    report_fetch(report)
    return report


def check_out(out: Path) -> Path:
    """``--out`` refused before any work when no file can be written there: a folder in its
    place, a file where a folder should be, or a folder that takes no new file. Folders still
    to be made are fine; the writers create them."""
    if out.is_dir():
        raise MnistDigitsError(f"--out {out} is a folder; give the file's name")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise MnistDigitsError(f"--out {out}: {folder} is a file, not a folder; change --out")
    check_writable(folder, "change --out to a writable place")
    return out
