"""``mnist-digits predict``: read digits from image files and folders."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from mnist_digits.cli.render import log
from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.images.render import Preprocessed, to_mnist
from mnist_digits.predict import Prediction, Predictor

EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
BATCH = 256  # images scored per model call when reading a folder


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        "predict",
        help="read digits from images",
        formatter_class=fmt,
        description="Read the digit in each image (files, or folders walked "
        "recursively). Exit status 1 when any input could not be read.",
    )
    p.add_argument("paths", metavar="PATH", nargs="+", help="image files or folders")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="run folder, .safetensors or exported .onnx model (default: the model shipped "
        "with the package; its .onnx when PyTorch is not installed)",
    )
    p.add_argument("--multi", action="store_true", help="read a multi-digit number per image")
    p.add_argument("--top-k", type=int, default=0, help="also list the K most likely digits")
    p.add_argument("--json", action="store_true", help="one JSON object per input, per line")
    p.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes that decode and preprocess images of a large folder",
    )
    p.set_defaults(handler=cmd_predict)


def expand(paths: list[str]) -> Iterator[str]:
    """Files as given; folders walked recursively for entries named like images, in sorted
    order. Entries that are not regular files (broken links, pipes, devices) are kept, so
    reading them reports each one instead of skipping it silently."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = (f for f in sorted(path.rglob("*")) if f.suffix.lower() in EXTENSIONS)
            yield from (str(f) for f in found if not f.is_dir())
        else:
            yield raw


def not_a_file(path: str) -> str | None:
    """Why ``path`` is not a regular file, from ``os.stat`` alone, or None when it is one.

    Nothing is opened: opening a FIFO blocks until someone writes to it, and /dev/zero never
    ends."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            return f"{path} is a broken symbolic link (to {target}); fix or remove it"
        return f"{path} does not exist; check the path"
    except OSError as err:
        return f"cannot read {path} ({err.strerror}); check the path and permissions"
    if stat.S_ISREG(mode):
        return None
    kinds = {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}
    kind = kinds.get(stat.S_IFMT(mode), "a device")  # character and block devices
    return f"{path} is {kind}, not an image file; pass the path of an image file"


def _answer(pred: Prediction, top_k: int) -> dict[str, Any]:
    out = pred.to_dict(input28=False)
    if top_k:
        out["top_k"] = pred.top_k(top_k)
    return out


def _record(path: str, pred: Prediction, top_k: int) -> dict[str, Any]:
    return {"path": path, **_answer(pred, top_k)}


def _load(path: str) -> Preprocessed | str:
    """The preprocessed image, or the one-line reason it could not be read."""
    problem = not_a_file(path)
    if problem:
        return problem
    try:
        return to_mnist(path)
    except MnistDigitsError as err:
        return str(err)


def uses_pool(count: int, jobs: int) -> bool:
    """Whether ``count`` images are preprocessed in ``jobs`` processes: only for two batches
    or more, since starting the processes costs more than they save on a few images."""
    return jobs > 1 and count >= 2 * BATCH


def preprocess_all(paths: list[str], jobs: int) -> Iterator[Preprocessed | str]:
    """Preprocess in order; with ``jobs`` > 1, in that many forked processes (numpy, PIL and
    scipy only, so forking after torch is loaded is safe), which is what lifts a folder of
    280×280 PNGs from one core's rate to two cores'."""
    if not uses_pool(len(paths), jobs):
        yield from map(_load, paths)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        yield from pool.map(_load, paths, chunksize=32)


def read_paths(
    predictor: Predictor, paths: list[str], top_k: int, jobs: int = 1
) -> Iterator[dict[str, Any]]:
    loaded = preprocess_all(paths, jobs)
    for start in range(0, len(paths), BATCH):
        chunk = paths[start : start + BATCH]
        items = [next(loaded) for _ in chunk]
        good = [item for item in items if not isinstance(item, str)]
        preds = iter(predictor.predict_preprocessed(good))
        for path, item in zip(chunk, items, strict=True):
            if isinstance(item, str):
                yield {"path": path, "error": item}
            else:
                yield _record(path, next(preds), top_k)


def _multi(predictor: Predictor, paths: list[str], top_k: int) -> Iterator[dict[str, Any]]:
    for path in paths:
        try:
            problem = not_a_file(path)
            if problem:
                raise MnistDigitsError(problem)
            number = predictor.predict_number(path)
        except MnistDigitsError as err:
            yield {"path": path, "error": str(err)}
            continue
        yield {
            "path": path,
            "digits": number.digits,
            "confidence": number.confidence,
            "is_digit": bool(number.per_digit) and all(p.is_digit for p in number.per_digit),
            "per_digit": [_record(path, p, top_k) | {"path": None} for p in number.per_digit],
        }


def _show(rec: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rec), flush=True)
    elif "error" in rec:
        print(f"{rec['path']}\terror: {rec['error']}")
    else:
        answer = rec.get("digits", rec.get("digit"))
        status = rec.get("status", "ok" if rec["is_digit"] else "not sure")
        shown = "-" if answer in (None, "") else answer
        print(f"{rec['path']}\t{shown}\t{rec['confidence']:.3f}\t{status}")


def cmd_predict(args: argparse.Namespace) -> int:
    if args.top_k < 0 or args.top_k > 10:
        raise MnistDigitsError(f"--top-k must be between 0 and 10, got {args.top_k}")
    paths = list(expand(args.paths))
    # While --jobs processes preprocess a folder, they hold the cores: a model using them too
    # would only make every process wait on the others.
    pooled = not args.multi and uses_pool(len(paths), args.jobs)
    predictor = Predictor.from_checkpoint(args.checkpoint, threads=1 if pooled else 0)
    if not paths:  # after the checkpoint, whose error is the more basic one
        raise MnistDigitsError("no image files found in the given folders")
    if not args.json:
        log("path\tdigit\tconfidence\tstatus")
    failed = 0
    records = (
        _multi(predictor, paths, args.top_k)
        if args.multi
        else read_paths(predictor, paths, args.top_k, args.jobs)
    )
    for rec in records:
        failed += "error" in rec
        _show(rec, args.json)
    return 1 if failed else 0
