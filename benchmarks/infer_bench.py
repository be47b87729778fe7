"""Inference speed of one model on every runtime, side by side, as one Markdown table.

    python benchmarks/infer_bench.py [--checkpoint RUN_DIR|WEIGHTS] [--seconds 1.0]

Runtimes: torch eager (float32, NCHW, ``no_grad``), torch in ``inference_mode`` with
channels_last, torch.compile (skipped with a note if it fails), onnxruntime float32 and int8.
Every runtime gets the same input, float32 pixels in 0..1 (N, 1, 28, 28) from the MNIST test
set, and normalises inside the model, exactly as the exported ONNX graph does.

Figures: images/s at batch 1, 32 and 1024 (the best of ``--repeats`` windows of ``--seconds``
each, so a moment of contention on a shared machine does not decide the figure), and the
latency p50/p99 of single images over all batch-1 calls. Batch 1 runs on ``--threads-single``
intra-op threads (1: a 1.1M multiply-add image is too small to split); batches are timed with
each of ``--threads-batched`` (1 and all cores) and the faster is reported with its count,
because on a shared 2-core box the second core is often busy and two threads then lose to one.
A last column gives each runtime's accuracy on the 10,000 test images, as a check that it
computes the same model. When CUDA is available the torch runtimes (and onnxruntime's CUDA
provider, if installed) are measured on the GPU too, in a second table.
"""

from __future__ import annotations

import argparse
import copy
import functools
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from mnist_digits.core.card import CheckpointMeta
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.specs import MNIST
from mnist_digits.export import PixelsToLogits, export_onnx
from mnist_digits.models.checkpoint import load_checkpoint, save_checkpoint
from mnist_digits.models.registry import create_model
from mnist_digits.predict import SHIPPED

BATCHES = (1, 32, 1024)
Runner = Callable[[np.ndarray], np.ndarray]  # float32 pixels (N, 1, 28, 28) -> logits (N, 10)


@dataclass
class Row:
    """One runtime's figures; ``note`` replaces them when it could not run."""

    name: str
    images_per_s: dict[int, float] = field(default_factory=dict)
    threads: dict[int, int] = field(default_factory=dict)  # batch -> the best thread count
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    accuracy: float = float("nan")
    note: str = ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--checkpoint", default=None, help="run folder or .safetensors (default: shipped)"
    )
    p.add_argument("--seconds", type=float, default=1.0, help="length of one timing window")
    p.add_argument("--repeats", type=int, default=3, help="windows per figure (best is kept)")
    p.add_argument("--threads-single", type=int, default=1, help="intra-op threads at batch 1")
    p.add_argument(
        "--threads-batched",
        type=lambda text: [int(t) for t in text.split(",")],
        default=sorted({1, cores}),
        help="comma-separated thread counts tried for batches; the faster one is reported",
    )
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    return p.parse_args(argv)


def _checkpoint(given: str | None, folder: Path) -> tuple[Path, str]:
    """The checkpoint to time; an untrained cnn-small when nothing is shipped (same speed)."""
    if given:
        return Path(given), given
    if SHIPPED.exists():
        return SHIPPED, "shipped cnn-small"
    torch.manual_seed(0)
    meta = CheckpointMeta("cnn-small", {}, MNIST.contract, MNIST.classes)
    path = save_checkpoint(folder / "untrained.safetensors", create_model("cnn-small"), meta)
    return path, "untrained cnn-small (no shipped weights yet; speed does not depend on them)"


def torch_runner(model: torch.nn.Module, channels_last: bool, device: str = "cpu") -> Runner:
    """Eager PyTorch: ``no_grad`` and NCHW, or ``inference_mode`` and channels_last."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = copy.deepcopy(model).to(device, memory_format=fmt).eval()
    context = torch.inference_mode if channels_last else torch.no_grad

    def run(pixels: np.ndarray) -> np.ndarray:
        with context():
            x = torch.from_numpy(pixels).to(device).contiguous(memory_format=fmt)
            return model(x).cpu().numpy()

    return run


def compiled_runner(model: torch.nn.Module) -> Runner:
    """torch.compile (inductor) in inference_mode with channels_last; compiles per batch size."""
    model = copy.deepcopy(model).to(memory_format=torch.channels_last).eval()
    compiled = torch.compile(model)

    def run(pixels: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(pixels).contiguous(memory_format=torch.channels_last)
            return compiled(x).numpy()

    return run


def onnx_runner(path: Path, threads: int, provider: str = "CPUExecutionProvider") -> Runner:
    """An onnxruntime session with ``threads`` intra-op threads and all graph optimisations."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=[provider])

    def run(pixels: np.ndarray) -> np.ndarray:
        return session.run(None, {MNIST.contract.onnx_input: pixels})[0]

    return run


def throughput(run: Runner, pixels: np.ndarray, seconds: float, repeats: int) -> float:
    """Images per second: the best of ``repeats`` windows of ``seconds``, after a warm-up."""
    run(pixels)
    best = 0.0
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds or calls < 3:
            run(pixels)
            calls += 1
        best = max(best, calls * len(pixels) / elapsed)
    return best


def latencies_ms(run: Runner, image: np.ndarray, seconds: float, repeats: int) -> np.ndarray:
    """Milliseconds of every single-image call over ``repeats`` x ``seconds``."""
    for _ in range(20):  # warm-up: first calls allocate and pick kernels
        run(image)
    times = []
    deadline = time.perf_counter() + seconds * repeats
    while time.perf_counter() < deadline or len(times) < 100:
        start = time.perf_counter_ns()
        run(image)
        times.append(time.perf_counter_ns() - start)
    return np.array(times) / 1e6


def accuracy(run: Runner, pixels: np.ndarray, labels: np.ndarray) -> float:
    logits = np.concatenate([run(pixels[i : i + 1000]) for i in range(0, len(pixels), 1000)])
    return float((logits.argmax(1) == labels).mean())


def measure(
    name: str,
    factory: Callable[[int], Runner],
    data: tuple[np.ndarray, np.ndarray],
    args: argparse.Namespace,
) -> Row:
    """All figures of one runtime; ``factory(threads)`` builds it for a thread count."""
    pixels, labels = data
    row = Row(name)
    try:
        run = factory(args.threads_single)
        times = latencies_ms(run, pixels[:1], args.seconds, args.repeats)
        row.p50_ms, row.p99_ms = (float(v) for v in np.percentile(times, [50, 99]))
        row.images_per_s[1] = throughput(run, pixels[:1], args.seconds, args.repeats)
        row.threads[1] = args.threads_single
        for threads in args.threads_batched:
            run = factory(threads)
            for batch in BATCHES[1:]:
                speed = throughput(run, pixels[:batch], args.seconds, args.repeats)
                if speed > row.images_per_s.get(batch, 0.0):
                    row.images_per_s[batch], row.threads[batch] = speed, threads
        row.accuracy = accuracy(run, pixels, labels)
    except Exception as err:  # an optional runtime (torch.compile) may be unavailable
        row.note = f"skipped: {type(err).__name__}: {str(err).strip().splitlines()[0][:80]}"
    print(f"  measured {name}", file=sys.stderr, flush=True)
    return row


def _torch_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def cpu_runtimes(
    wrapped: torch.nn.Module, fp32: Path, int8: Path, compile_too: bool
) -> list[tuple[str, Callable[[int], Runner]]]:
    """(name, factory) for each CPU runtime; torch's thread count is process-wide."""

    def torch_factory(channels_last: bool) -> Callable[[int], Runner]:
        return lambda t: (_torch_threads(t), torch_runner(wrapped, channels_last))[1]

    runtimes = [
        ("torch eager (float32, NCHW)", torch_factory(False)),
        ("torch inference_mode + channels_last", torch_factory(True)),
    ]
    if compile_too:
        # Inductor fixes its OpenMP thread count when it compiles: one compile per count.
        compiled = functools.cache(lambda t: compiled_runner(wrapped))
        runtimes.append(("torch.compile (inductor)", lambda t: (_torch_threads(t), compiled(t))[1]))
    runtimes += [
        ("onnxruntime float32", lambda t: onnx_runner(fp32, t)),
        ("onnxruntime int8 (static QDQ)", lambda t: onnx_runner(int8, t)),
    ]
    return runtimes


def gpu_runtimes(wrapped: torch.nn.Module, fp32: Path) -> list[tuple[str, Callable[[int], Runner]]]:
    """The torch runtimes on CUDA, and onnxruntime's CUDA provider when it is installed."""
    runtimes: list[tuple[str, Callable[[int], Runner]]] = [
        ("torch eager (cuda)", lambda t: torch_runner(wrapped, False, "cuda")),
        (
            "torch inference_mode + channels_last (cuda)",
            lambda t: torch_runner(wrapped, True, "cuda"),
        ),
    ]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        runtimes.append(
            ("onnxruntime float32 (cuda)", lambda t: onnx_runner(fp32, t, "CUDAExecutionProvider"))
        )
    return runtimes


def table(rows: list[Row]) -> str:
    """The Markdown table of ``rows``."""
    head = "| runtime | " + " | ".join(f"img/s @ batch {b}" for b in BATCHES)
    lines = [head + " | p50 ms @ 1 | p99 ms @ 1 | test acc |", "|---" * 7 + "|"]
    for r in rows:
        if r.note:
            lines.append(f"| {r.name} | {r.note} |" + " |" * 5)
            continue
        speeds = " | ".join(f"{r.images_per_s[b]:,.0f} ({r.threads[b]})" for b in BATCHES)
        figures = f"{r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.accuracy:.2%}"
        lines.append(f"| {r.name} | {speeds} | {figures} |")
    return "\n".join(lines) + "\n\n(n) = intra-op threads of the figure."


def header(described: str) -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"Model: {described}. CPU: {cpu}, {os.cpu_count()} cores, load average {load:.1f} at "
        f"start. torch {torch.__version__}, onnxruntime {ort.__version__}, "
        f"Python {platform.python_version()}."
    )


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore")  # exporter and inductor deprecation chatter
    test = load_dataset("mnist", "test")
    data = (test.contract.pixels(test.images), test.labels.astype(np.int64))
    with tempfile.TemporaryDirectory(prefix="infer-bench-") as tmp:
        checkpoint, described = _checkpoint(args.checkpoint, Path(tmp))
        print(f"exporting {checkpoint} to ONNX float32 and int8", file=sys.stderr, flush=True)
        fp32 = export_onnx(checkpoint, Path(tmp) / "fp32.onnx").path
        int8 = export_onnx(checkpoint, Path(tmp) / "int8.onnx", int8=True).path
        model, meta = load_checkpoint(checkpoint)
        wrapped = PixelsToLogits(model, meta.input).eval()
        runtimes = cpu_runtimes(wrapped, fp32, int8, not args.no_compile)
        print(
            header(described)
            + "\n\nCPU:\n\n"
            + table([measure(n, f, data, args) for n, f in runtimes])
        )
        if torch.cuda.is_available():
            rows = [measure(n, f, data, args) for n, f in gpu_runtimes(wrapped, fp32)]
            print(f"\nGPU ({torch.cuda.get_device_name()}):\n\n" + table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
