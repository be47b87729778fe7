"""Helpers for the web tests: which model to serve, canvas-like PNGs, a real server process.

The web tests need a trained model (digit assertions are meaningless on random weights) and
train none: they use ``$MNIST_DIGITS_TEST_CHECKPOINT`` or the model shipped in the package,
and skip with the reason when neither exists.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imagegen
import numpy as np
from components import missing
from PIL import Image

SRC = Path(__file__).resolve().parent.parent / "src"
SIDE = 280  # the page's canvas, as exported
PEN = 18  # the page's brush at that size


def checkpoint_or_skip() -> str | None:
    """The model to serve: $MNIST_DIGITS_TEST_CHECKPOINT, else None for the shipped one."""
    from mnist_digits.predict import SHIPPED

    chosen = os.environ.get("MNIST_DIGITS_TEST_CHECKPOINT")
    if chosen:
        if not Path(chosen).exists():
            missing(f"MNIST_DIGITS_TEST_CHECKPOINT={chosen} does not exist")
        return chosen
    if not SHIPPED.is_file():
        missing(
            f"no trained model: {SHIPPED} is not shipped yet and MNIST_DIGITS_TEST_CHECKPOINT "
            "is unset (point it at a run folder, e.g. from `mnist-digits train`)"
        )
    return None


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def canvas_digit(digit: int, side: int = SIDE) -> bytes:
    """A drawing as the page exports it: dark strokes on a transparent square canvas, as PNG."""
    ink = imagegen.draw_digit(
        digit, size=(side, side), pen=PEN * side / SIDE, height=0.62 * side,
        centre=(side / 2, side / 2),
    )  # fmt: skip
    cov = np.asarray(ink.reduce(2), dtype=np.uint8)  # (side, side) coverage 0..255
    rgba = np.zeros((side, side, 4), dtype=np.uint8)
    rgba[..., :3] = (20, 24, 38)
    rgba[..., 3] = cov
    return png_bytes(Image.fromarray(rgba))


def empty_canvas(side: int = SIDE) -> bytes:
    return png_bytes(Image.new("RGBA", (side, side), (0, 0, 0, 0)))


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``python -m mnist_digits serve`` running on a free loopback port."""

    proc: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


def start_server(checkpoint: str | None, log: Path, *extra: str) -> ServerProcess:
    """Start the CLI's server and wait until /api/health answers (torch import takes seconds)."""
    port = free_port()
    cmd = [sys.executable, "-m", "mnist_digits", "serve", "--port", str(port), *extra]
    cmd += ["--checkpoint", checkpoint] if checkpoint else []
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    )
    out = log.open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    server = ServerProcess(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90  # a cold start on the busy 2-core box takes up to ~15 s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/health", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop(signal.SIGKILL)
    raise AssertionError(f"server not healthy within 90 s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def serve_in_thread(settings: object) -> Iterator[str]:
    """The app for ``settings`` on uvicorn in a thread of this process (its model loads in
    lifespan); yields its base URL (no trailing slash)."""
    import uvicorn

    from mnist_digits.web.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
