"""``mnist-digits site build OUT``: the draw-a-digit page as a static site, read in the browser."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mnist_digits.cli.render import log


def register(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    site = sub.add_parser(
        "site",
        help="the page as a static site that reads digits in the browser, no server",
        formatter_class=fmt,
    )
    verbs = site.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    p = verbs.add_parser(
        "build",
        help="write the static site into a new folder",
        formatter_class=fmt,
        description="Write the page, its scripts, the model (.onnx) and onnxruntime-web's "
        "wasm into OUT. Open OUT/index.html from disk (file://) or put OUT on any static "
        "host: digits are read in the browser, nothing is sent anywhere. The folder is built "
        "beside OUT and renamed into place.",
    )
    p.add_argument("out", metavar="OUT", help="the folder to write; must not exist yet")
    p.add_argument(
        "--checkpoint",
        default=None,
        metavar="X.onnx|RUN",
        help="an exported .onnx model, or a run folder or .safetensors to export first "
        "(needs PyTorch) (default: the shipped model's .onnx)",
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(handler=cmd_site_build)


def cmd_site_build(args: argparse.Namespace) -> int:
    from mnist_digits.web.site import build_site

    with _as_onnx(args.checkpoint) as onnx:
        result = build_site(args.out, onnx, force=args.force)
    print(
        f"wrote {result.out} ({result.model}, {result.files} files, "
        f"{result.bytes / 2**20:.1f} MiB); open {result.out / 'index.html'}"
    )
    return 0


@contextlib.contextmanager
def _as_onnx(checkpoint: str | None) -> Iterator[Path | None]:
    """An .onnx as it is; a run folder or .safetensors exported to a temporary .onnx."""
    if checkpoint is None or checkpoint.lower().endswith(".onnx"):
        yield None if checkpoint is None else Path(checkpoint)
        return
    from mnist_digits.export import export_onnx  # PyTorch and onnx: the `train` extra

    with tempfile.TemporaryDirectory(prefix="mnist-digits-site-") as tmp:
        log(f"exporting {checkpoint} to ONNX for the browser")
        yield export_onnx(checkpoint, Path(tmp) / "model.onnx").path
