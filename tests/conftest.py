"""Shared fixtures: tiny hand-made IDX datasets, a local HTTP server, the real MNIST cache."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from mnist_digits.core.contract import InputContract
from mnist_digits.data.specs import DATASETS, MNIST, DatasetSpec, FileSpec


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@dataclass
class TinyDataset:
    """A four-file dataset of a few items, registered in DATASETS under ``name``."""

    name: str
    spec: DatasetSpec
    raw: dict[str, bytes] = field(default_factory=dict)

    def write(self, folder: Path, gz: bool = False) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.raw.items():
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
        return folder


TINY_COUNTS = {"train": 12, "test": 5}


def _tiny_files(images: dict[str, np.ndarray]) -> tuple[dict[str, bytes], tuple[FileSpec, ...]]:
    """The four IDX files of ``images`` per split, labelled 0, 1, ..., 9, 0, ..."""
    raw: dict[str, bytes] = {}
    files = []
    for split, prefix in (("train", "train"), ("test", "t10k")):
        labels = (np.arange(len(images[split])) % 10).astype(np.uint8)
        for kind, arr, nd in (("images", images[split], 3), ("labels", labels, 1)):
            name = f"{prefix}-{kind}-idx{nd}-ubyte"
            raw[name] = idx_bytes(arr)
            digest = hashlib.sha256(raw[name]).hexdigest()
            files.append(FileSpec(split, kind, name, digest, len(arr)))
    return raw, tuple(files)


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> TinyDataset:
    """12 training and 5 test images of random noise."""
    rng = np.random.default_rng(0)
    images = {
        s: rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8) for s, n in TINY_COUNTS.items()
    }
    raw, files = _tiny_files(images)
    spec = DatasetSpec("tiny", "Tiny", tuple("0123456789"), InputContract(0.5, 0.29), files, ())
    monkeypatch.setitem(DATASETS, "tiny", spec)
    return TinyDataset("tiny", spec, raw)


def drawn_digits(n: int) -> np.ndarray:
    """(n, 28, 28) uint8: the digits 0, 1, ..., 9, 0, ... drawn white on black as MNIST is, so
    preprocessing finds ink in every one (calibration reads them as people's images)."""
    from imagegen import draw_digit
    from PIL import Image

    out = np.zeros((n, 28, 28), dtype=np.uint8)
    for i in range(n):
        big = draw_digit(i % 10, size=(28, 28), pen=2.5, height=20, centre=(14, 14))
        out[i] = np.asarray(big.resize((28, 28), Image.Resampling.BOX))
    return out


@pytest.fixture
def tiny_mnist(monkeypatch: pytest.MonkeyPatch) -> TinyDataset:
    """MNIST cut down to 12 training and 5 test images of drawn digits, so ``train`` runs in
    seconds: DATASETS["mnist"] points at them (write them into ``DATA_DIR/mnist``)."""
    raw, files = _tiny_files({s: drawn_digits(n) for s, n in TINY_COUNTS.items()})
    spec = replace(MNIST, files=files, mirrors=())
    monkeypatch.setitem(DATASETS, "mnist", spec)
    return TinyDataset("mnist", spec, raw)


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}

    def do_GET(self) -> None:
        status, ctype, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class LocalServer:
    url: str
    routes: dict[str, tuple[int, str, bytes]]

    def serve(self, path: str, body: bytes, status: int = 200, ctype: str = "application/gzip"):
        self.routes[path] = (status, ctype, body)


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{server.server_address[1]}", routes)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def mnist_home() -> Path:
    """The real MNIST, fetched once into the user's cache (the README's setup does this too)."""
    from mnist_digits.data.store import data_home, ensure_dataset

    ensure_dataset("mnist")
    return data_home()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained cnn-small checkpoint with non-trivial BatchNorm statistics and calibration.

    Eight training-mode passes over random images move every running mean and variance away
    from 0 and 1, so exporting it exercises BatchNorm folding.
    """
    import torch

    from mnist_digits.core.card import CheckpointMeta
    from mnist_digits.models.checkpoint import save_checkpoint
    from mnist_digits.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("cnn-small").train()
    with torch.no_grad():
        for _ in range(8):
            model(torch.randn(64, 1, 28, 28) * 2 + 0.5)
    extra = {"temperature": 1.25, "reject_threshold": 0.6}
    meta = CheckpointMeta("cnn-small", {}, MNIST.contract, MNIST.classes, extra=extra)
    return save_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny.safetensors", model.eval(), meta)


@pytest.fixture(scope="session")
def tiny_onnx(tiny_checkpoint: Path) -> Path:
    """``tiny_checkpoint`` exported to float32 ONNX."""
    from mnist_digits.export import export_onnx

    return export_onnx(tiny_checkpoint, tiny_checkpoint.with_suffix(".onnx")).path


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread for the test: small models on a two-core machine shared with other
    processes wait more than they gain with a second thread (twice as slow here)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
