"""Serving without PyTorch: with torch unimportable, ``predict`` reads digits with an ``.onnx``
model and the commands that need torch say how to install it in one line; and a fresh virtual
environment holding only the ``serve`` install does the same for real."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from imagegen import make_user_images

import mnist_digits
from mnist_digits.predict import SHIPPED, SHIPPED_ONNX

SRC = Path(mnist_digits.__file__).parents[1]
ROOT = SRC.parent
# Runs the CLI with torch and safetensors made unimportable (as in an install without them),
# then exits 3 if anything imported torch anyway.
NO_TORCH = """
import sys
for name in ("torch", "safetensors"):
    sys.modules[name] = None
from mnist_digits.cli import main
code = main(sys.argv[1:])
loaded = [k for k, v in sys.modules.items() if k.startswith("torch") and v is not None]
sys.exit(3 if loaded else code)
"""


def _without_torch(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-c", NO_TORCH, *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def _save_digits(folder: Path, n: int, seed: int) -> list[int]:
    folder.mkdir(parents=True, exist_ok=True)
    labels = []
    for i, (image, digit, _) in enumerate(make_user_images(n, seed=seed)):
        image.save(folder / f"{i:02d}.png")
        labels.append(digit)
    return labels


def test_predict_runs_on_onnx_without_torch(tiny_onnx, tmp_path):
    _save_digits(tmp_path, 3, seed=1)
    done = _without_torch("predict", "--json", "--checkpoint", tiny_onnx, tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 3 and all(len(r["probabilities"]) == 10 for r in records)


@pytest.mark.parametrize(
    "argv",
    [["train", "--epochs", "1"], ["evaluate", "runs/x"], ["models"], ["export", "{ckpt}"]],
)
def test_torch_commands_say_how_to_install(tiny_checkpoint, argv):
    done = _without_torch(*[a.format(ckpt=tiny_checkpoint) for a in argv])
    err = done.stderr.strip()
    assert done.returncode == 2 and "\n" not in err, err
    assert err.startswith("mnist-digits: error:") and "mnist-digits[train]" in err


def test_safetensors_without_torch_is_one_line(tiny_checkpoint, tmp_path):
    _save_digits(tmp_path, 1, seed=1)
    done = _without_torch("predict", "--checkpoint", tiny_checkpoint, tmp_path)
    err = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 2 and "needs PyTorch" in err and "Traceback" not in done.stderr


@pytest.fixture(scope="session")
def serve_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system packages) with this package installed as ``.[serve]``, the
    shipped model exported to ONNX inside it; returns its ``bin`` folder."""
    if not SHIPPED.exists():
        pytest.skip("shipped weights not built yet")
    root = tmp_path_factory.mktemp("torchfree")
    package = root / "package"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(SRC, package / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, package / name)
    onnx_file = package / "src" / SHIPPED_ONNX.relative_to(SRC)
    if not onnx_file.exists():  # not exported yet: `make shipped-onnx` would write it
        from mnist_digits.export import export_onnx

        export_onnx(SHIPPED, onnx_file)
    subprocess.run([sys.executable, "-m", "venv", root / "venv"], check=True, timeout=120)
    pip = [root / "venv" / "bin" / "python", "-m", "pip", "install", "-q"]
    done = subprocess.run([*pip, f"{package}[serve]"], capture_output=True, text=True, timeout=600)
    if done.returncode:
        pytest.fail(f"pip install .[serve] failed: {done.stderr.strip().splitlines()[-1:]}")
    return root / "venv" / "bin"


def _run(bin_dir: Path, *args: object) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH would put the source tree (and its torch-using modules) before the install.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [*map(str, args)]
    cmd[0] = str(bin_dir / cmd[0])
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.slow
def test_serve_install_reads_digits_without_torch(serve_venv, tmp_path):
    assert _run(serve_venv, "python", "-c", "import torch").returncode != 0
    labels = _save_digits(tmp_path / "digits", 10, seed=21)
    onnx_file = next((serve_venv.parent / "lib").glob("python*/site-packages/mnist_digits"))
    onnx_file = onnx_file / "weights" / SHIPPED_ONNX.name
    explicit = _run(
        serve_venv,
        "mnist-digits",
        "predict",
        "--json",
        "--checkpoint",
        onnx_file,
        tmp_path / "digits",
    )
    default = _run(serve_venv, "mnist-digits", "predict", "--json", tmp_path / "digits")
    assert explicit.returncode == 0 and default.returncode == 0, explicit.stderr + default.stderr
    read = [json.loads(line)["digit"] for line in explicit.stdout.splitlines()]
    assert sum(r == d for r, d in zip(read, labels, strict=True)) >= 9, (read, labels)
    assert default.stdout == explicit.stdout  # the default model is the shipped .onnx
    train = _run(serve_venv, "mnist-digits", "train")
    assert train.returncode == 2 and "mnist-digits[train]" in train.stderr
