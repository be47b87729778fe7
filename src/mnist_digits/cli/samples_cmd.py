"""``mnist-digits samples list|export|delete``: the corrections and collected digits that
``serve`` stored. Torch-free, so it runs on a serving-only install."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_digits.cli.common import add_json
from mnist_digits.cli.render import emit_json, log
from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.samples.export import DEFAULT_TEST_SHARE, FILES, export_idx
from mnist_digits.samples.store import KINDS, SampleStore, default_path


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    samples = sub.add_parser(
        "samples", help="list, export or delete collected samples", formatter_class=fmt
    )
    actions = samples.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = _action(actions, "list", "the stored samples, oldest first (no images)", fmt)
    listing.add_argument(
        "--kind", choices=KINDS, default=None, help="only this kind (default: both)"
    )
    listing.add_argument("--offset", type=int, default=0, help="samples to skip")
    listing.add_argument("--limit", type=int, default=20, help="samples to show (at most 500)")
    listing.set_defaults(handler=cmd_list)
    export = _action(actions, "export", "write the samples as gzipped MNIST IDX files", fmt)
    export.add_argument("out", type=Path, help="folder to write (created when missing)")
    export.add_argument("--format", choices=["idx"], default="idx", help="file format")
    export.add_argument(
        "--test-share", type=float, default=DEFAULT_TEST_SHARE,
        help="share of the samples for the test split, whole writers at a time",
    )  # fmt: skip
    export.add_argument("--seed", type=int, default=0, help="which writers go to test")
    export.add_argument(
        "--kind", choices=KINDS, default=None, help="only this kind (default: both)"
    )
    export.set_defaults(handler=cmd_export)
    delete = _action(actions, "delete", "delete samples by id", fmt)
    delete.add_argument("ids", type=int, nargs="+", metavar="ID", help="sample ids")
    delete.set_defaults(handler=cmd_delete)


def _action(
    actions: argparse._SubParsersAction, name: str, text: str, fmt: type[argparse.HelpFormatter]
) -> argparse.ArgumentParser:
    p = actions.add_parser(name, help=text, description=text, formatter_class=fmt)
    p.add_argument(
        "--db", type=Path, default=None,
        help="the samples database (default: samples.sqlite3 in --data-dir)",
    )  # fmt: skip
    p.add_argument(
        "--data-dir", default=None,
        help="the data home (default: $MNIST_DIGITS_HOME or ~/.cache/mnist-digits)",
    )  # fmt: skip
    add_json(p)
    return p


def open_store(args: argparse.Namespace) -> SampleStore:
    """The database ``--db`` names (else the data home's); one that does not exist is an error."""
    path = args.db or default_path(args.data_dir)
    if not path.is_file():
        raise MnistDigitsError(
            f"no samples database at {path}; `mnist-digits serve` stores corrections and "
            "collected digits there, or give --db"
        )
    return SampleStore(path)


def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(args)
    rows = store.list(kind=args.kind, offset=args.offset, limit=args.limit)
    if args.json:
        emit_json({"total": store.count(args.kind), "items": [r.to_dict() for r in rows]})
        return 0
    for r in rows:
        read = "-" if r.predicted is None else r.predicted
        print(f"{r.id:>6}  {r.created}  {r.kind:<10}  label {r.label}  read {read} "
              f"({r.status})  writer {r.writer or '-'}  {r.fingerprint}")  # fmt: skip
    log(f"{len(rows)} of {store.count(args.kind)} samples in {store.path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = open_store(args)
    result = export_idx(store, args.out, test_share=args.test_share, seed=args.seed, kind=args.kind)
    if args.json:
        emit_json({"folder": str(result.folder), **result.manifest()})
        return 0
    for name in FILES:
        print(f"{result.sha256[name]}  {name}")
    log(f"wrote {result.counts['train']} train and {result.counts['test']} test samples "
        f"({len(result.writers['train'])} and {len(result.writers['test'])} writers) "
        f"to {result.folder}")  # fmt: skip
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args)
    deleted = [i for i in args.ids if store.delete(i)]
    missing = sorted(set(args.ids) - set(deleted))
    if args.json:
        emit_json({"deleted": deleted, "missing": missing})
    else:
        log(f"deleted {len(deleted)} samples" + (f"; no sample {missing}" if missing else ""))
    return 0 if not missing else 2
