"""The draw-a-digit page as a static site that reads digits in the browser, with no server.

``build_site(out, onnx)`` writes the page, its scripts and styles, the model (``model.onnx``)
and onnxruntime-web's wasm (vendored by ``scripts/vendor-js.sh``) into ``out``. A static host
serves those files as they are; from ``file://``, where Chromium refuses ``fetch()`` of files
and module scripts, the page loads ``model.js`` and ``vendor/ort-wasm.js`` instead, plain
scripts that carry the same bytes as base64. Server-only parts of the page (number mode, the
API docs link) are hidden by ``site.js``. The folder is built beside ``out`` and renamed into
place, so ``out`` is never half-written.

``local_card`` describes an ONNX model for the page's in-browser reader; the server's
``/local/model.json`` (``web.local``) and the static site's ``model.json`` are both made by it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_digits.core.errors import CheckpointError, MnistDigitsError
from mnist_digits.core.files import atomic_write, check_writable
from mnist_digits.core.verdict import LOW_DETAIL, LOW_RES_SIDE, UNSURE_TOP2, reject_thresholds
from mnist_digits.predict import SHIPPED_ONNX, OnnxBackend

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"
# What the in-browser reader needs from onnxruntime-web: the wasm-only IIFE bundle (a plain
# script), its Emscripten glue (an ES module it imports) and the wasm binary (~11 MB).
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
SITE_JS = """// A static site built by `mnist-digits site build`: read in this browser, no server.
window.MNIST_SITE = { built: %s };
document.documentElement.classList.add("static-site");
"""


class SiteError(MnistDigitsError):
    """The static site cannot be built (no vendored runtime, a bad model, a bad folder)."""


@dataclass(frozen=True)
class SiteResult:
    """What ``build_site`` wrote: the folder, its model, its size in bytes and file count."""

    out: Path
    model: str
    source: Path
    bytes: int
    files: int


def ort_version() -> str:
    """The vendored onnxruntime-web (``onnxruntime-web@X.Y.Z``), or a one-line error saying
    how to vendor it."""
    version = VENDOR / "VERSION"
    if not version.is_file() or not all((VENDOR / name).is_file() for name in ORT_FILES):
        raise SiteError(
            f"onnxruntime-web is not vendored in {VENDOR}; run `make setup` "
            "(or bash scripts/vendor-js.sh), which fetches it with npm"
        )
    return version.read_text().strip()


def local_card(onnx: str | os.PathLike[str], source: str) -> dict[str, Any]:
    """What the in-browser reader needs to answer as ``predict.Predictor`` does.

    Args:
        onnx: An exported model (``mnist-digits export``), whose metadata is read.
        source: Where it comes from, in words, shown on the page.

    Returns:
        The model's name, calibration (temperature, reject thresholds), the verdict's "unsure"
        rule, the input contract's ONNX input and pixel scale, test accuracy and sha256.
    """
    path = Path(onnx)
    meta = OnnxBackend(path).meta  # raises CheckpointError in one line for a bad file
    main, low = reject_thresholds(meta.extra)
    return {
        "name": meta.model,
        "source": source,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "created": meta.created,
        "temperature": float(meta.extra.get("temperature", 1.0)),
        "reject_threshold": main,
        "low_res_threshold": low,
        "low_res_side": LOW_RES_SIDE,
        "low_detail": LOW_DETAIL,
        "unsure_top2": UNSURE_TOP2,
        "onnx_input": meta.input.onnx_input,
        "pixel_scale": meta.input.pixel_scale,
        "test_accuracy": meta.metrics.get("test_accuracy"),
    }


def build_site(
    out: str | os.PathLike[str], onnx: str | os.PathLike[str] | None = None, force: bool = False
) -> SiteResult:
    """Write the static site into ``out`` (built beside it, then renamed into place).

    Args:
        out: The folder to create; it must not exist unless ``force``.
        onnx: An exported ``.onnx`` model; None means the shipped one.
        force: Replace an existing ``out``.

    Returns:
        What was written.

    Raises:
        SiteError: No vendored runtime, or ``out`` exists (without ``force``) or is not a folder.
        CheckpointError: ``onnx`` is missing or not an mnist-digits export.
    """
    target = Path(out).expanduser().absolute()
    model = Path(onnx) if onnx is not None else SHIPPED_ONNX
    if model.suffix.lower() != ".onnx":
        raise CheckpointError(f"{model}: the site reads .onnx models; export it first")
    version = ort_version()
    _check_target(target, force)
    card = local_card(model, f"{model.name} (built into this site)")
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        _write(work, model, card, version)
        _swap(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    files = [p for p in target.rglob("*") if p.is_file()]
    return SiteResult(target, card["name"], model, sum(p.stat().st_size for p in files), len(files))


def _check_target(target: Path, force: bool) -> None:
    """Refuse, before any work, an ``out`` that exists (without force), is a file, or sits
    in a folder nothing can be written to."""
    if target.exists() and not target.is_dir():
        raise SiteError(f"{target} is a file; give a folder for the site")
    if target.exists() and any(target.iterdir()) and not force:
        raise SiteError(f"{target} already exists; choose a new folder or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    check_writable(target.parent, "choose a folder you can write to")


def _write(work: Path, model: Path, card: dict[str, Any], version: str) -> None:
    """Every file of the site, into the (temporary) folder ``work``."""
    (work / "vendor").mkdir()
    html = (STATIC / "index.html").read_text()
    for name in sorted(set(re.findall(r'(?:src|href)="/static/([\w.-]+)"', html))):
        atomic_write(work / name, (STATIC / name).read_bytes())  # every script, style, icon
    atomic_write(work / "index.html", _page(html))
    atomic_write(work / "site.js", SITE_JS % json.dumps(version))
    onnx = model.read_bytes()
    atomic_write(work / "model.onnx", onnx)
    atomic_write(work / "model.json", json.dumps(card, indent=2) + "\n")
    atomic_write(work / "model.js", _embedded("MNIST_MODEL_EMBEDDED", card=card, onnx=onnx))
    ort = {name: (VENDOR / name).read_bytes() for name in ORT_FILES}
    for name, data in ort.items():
        atomic_write(work / "vendor" / name, data)
    atomic_write(work / "vendor" / "VERSION", version + "\n")
    glue, wasm = ort["ort-wasm-simd-threaded.mjs"], ort["ort-wasm-simd-threaded.wasm"]
    # Gzipped first (11.2 MB -> 2.9 MB; the page inflates it with DecompressionStream): the
    # script to parse from file:// shrinks from 15 MB of base64 to 3.8 MB.
    packed = gzip.compress(wasm, compresslevel=6, mtime=0)
    atomic_write(
        work / "vendor" / "ort-wasm.js", _embedded("MNIST_ORT_EMBEDDED", mjs=glue, wasm_gz=packed)
    )


def _page(html: str) -> str:
    """The served page made relative (``/static/x`` -> ``x``), with ``site.js`` first."""
    html = html.replace('href="/static/', 'href="').replace('src="/static/', 'src="')
    html = html.replace('href="/"', 'href="index.html"')
    first = html.index("<script ")
    return html[:first] + '<script src="site.js"></script>\n  ' + html[first:]


def _embedded(name: str, **parts: Any) -> str:
    """A plain script that sets ``window[name]``: bytes as base64 strings, the rest as JSON."""
    fields = {
        key: base64.b64encode(value).decode() if isinstance(value, bytes) else value
        for key, value in parts.items()
    }
    return f"window.{name} = {json.dumps(fields)};\n"


def _swap(work: Path, target: Path) -> None:
    """Rename the finished folder into place; an old ``target`` is moved aside first and
    removed only once the new one is there."""
    os.chmod(work, 0o755)  # mkdtemp makes 0700; a site is for a web server to read
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    work.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
