"""How int8 ONNX is calibrated, chosen on validation, then reported on test once.

    python benchmarks/int8_bench.py [--checkpoint RUN_DIR|WEIGHTS] [--out benchmarks/results]

Each calibration method (min/max, entropy, percentile) and image count (500, 2,000, 8,000
seeded images of the *training* part of MNIST's training split) quantises the same float32 graph.
Every candidate is scored on the 5,000 validation images: its accuracy and its gap to float32
there. The candidate with the smallest validation gap (ties: fewer images, then the listed
order) is the choice; only then are float32 and that int8 model scored on the 10,000 test images.
The table and a JSON record go to ``--out`` (``int8.md``, ``int8.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import onnx

from mnist_digits.core.files import atomic_write, atomic_write_json
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.export import (
    CALIBRATION_IMAGES,
    CALIBRATION_METHOD,
    CALIBRATION_METHODS,
    quantize_int8,
    to_onnx,
    training_images,
)
from mnist_digits.models.checkpoint import load_checkpoint
from mnist_digits.predict import SHIPPED

COUNTS = (500, 2000, 8000)


def accuracy(proto: onnx.ModelProto, pixels: np.ndarray, labels: np.ndarray, name: str) -> float:
    """Top-1 accuracy in percent of an ONNX graph on 0..1 pixels (N, 1, 28, 28)."""
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    logits = np.concatenate(
        [session.run(None, {name: pixels[i : i + 1000]})[0] for i in range(0, len(pixels), 1000)]
    )
    return 100.0 * float((logits.argmax(1) == labels).mean())


def candidates(fp32: onnx.ModelProto, contract, val: tuple[np.ndarray, np.ndarray]) -> list[dict]:
    """Every (method, count) quantisation scored on validation, with the graphs."""
    rows = []
    for count in COUNTS:
        images = training_images("mnist", None, count)
        for method in CALIBRATION_METHODS:
            proto = quantize_int8(fp32, images, contract, method)
            acc = accuracy(proto, *val, contract.onnx_input)
            rows.append({"method": method, "images": count, "val_acc": acc, "proto": proto})
            print(f"  {method:10s} {count:5d} images: validation {acc:.2f}%", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(SHIPPED), help="run folder or weights")
    parser.add_argument("--out", default="benchmarks/results", help="folder for int8.md/json")
    args = parser.parse_args()
    model, meta = load_checkpoint(args.checkpoint)
    contract, fp32 = meta.input, to_onnx(model, meta)
    train = load_dataset("mnist", "train")
    _, val_idx = split_indices(len(train))
    val = (contract.pixels(train.images[val_idx.numpy()]), train.labels[val_idx.numpy()])
    fp32_val = accuracy(fp32, *val, contract.onnx_input)
    rows = candidates(fp32, contract, val)
    order = {m: i for i, m in enumerate(CALIBRATION_METHODS)}
    best = min(rows, key=lambda r: (fp32_val - r["val_acc"], r["images"], order[r["method"]]))
    test = load_dataset("mnist", "test")
    pixels = contract.pixels(test.images)
    fp32_test = accuracy(fp32, pixels, test.labels, contract.onnx_input)
    int8_test = accuracy(best["proto"], pixels, test.labels, contract.onnx_input)
    write(args, meta.model, fp32_val, rows, best, fp32_test, int8_test)


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write(args, model, fp32_val, rows, best, fp32_test, int8_test) -> None:
    """The Markdown table and JSON record of the choice."""
    lines = [
        f"# int8 calibration of {model} ({args.checkpoint})",
        "",
        f"Chosen on the 5,000 validation images (float32 there: {fp32_val:.2f}%).",
        "",
        "| method | images | validation | gap to float32 |",
        "|---|---|---|---|",
        *(
            f"| {r['method']} | {r['images']} | {r['val_acc']:.2f}% | "
            f"{fp32_val - r['val_acc']:+.2f} |"
            for r in rows
        ),
        "",
        f"Choice: {best['method']} over {best['images']} images (the export's default is "
        f"{CALIBRATION_METHOD} over {CALIBRATION_IMAGES}). Test, reported once after choosing: "
        f"float32 {fp32_test:.2f}%, int8 {int8_test:.2f}% "
        f"(gap {fp32_test - int8_test:+.2f} points).",
        "",
        f"Machine: {platform.machine()}, {cpu_name()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.",
    ]
    out = Path(args.out)
    atomic_write(out / "int8.md", "\n".join(lines) + "\n")
    record = {
        "checkpoint": args.checkpoint,
        "fp32_val_acc": fp32_val,
        "candidates": [{k: v for k, v in r.items() if k != "proto"} for r in rows],
        "choice": {"method": best["method"], "images": best["images"]},
        "test": {"fp32_acc": fp32_test, "int8_acc": int8_test},
    }
    atomic_write_json(out / "int8.json", record)
    print("\n".join(lines))
    print(json.dumps(record["choice"]))


if __name__ == "__main__":
    main()
