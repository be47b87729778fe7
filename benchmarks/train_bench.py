"""Training benchmark: the references and our recipes side by side, in one run on one machine.

    python benchmarks/train_bench.py [--quick] [--seeds N] [--only NAMES] [--out FILE]

References, written here from their published recipes: ``keras-seed`` (the original notebook's
Keras MLP under TensorFlow, in a virtual environment of its own, benchmarks/.tfvenv, created on
first use) and ``pytorch-example`` (PyTorch's classic MNIST example). Ours: the recipe files in
recipes/, trained with this checkout's library. Prints a Markdown table and writes the per-seed
records, machine information and exact configs as JSON (and the table beside it as .md).

Not part of CI. --quick runs one seed of each entry, stops the references at their threshold
and leaves out cnn-strong-best (about 15 minutes on the 2-core development machine).
--device cuda trains our entries on a GPU (bf16 autocast, and --compile if asked) and judges
them by the GPU targets; the references stay on the CPU (benchmarks/gpu_bench.sh runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# Measure this checkout's library, whatever version of it the interpreter has installed.
sys.path.insert(0, str(HERE.parent / "src"))

# PyTorch returns large activation buffers to the OS after every step with glibc's default
# thresholds (about 40% of a CNN step here; see the Makefile). Both sides, references included,
# run with buffers kept mapped, so neither pays a cost the other does not.
TUNABLES = "glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="--quick: one seed, references stopped at their threshold, no cnn-strong-best.",
    )
    p.add_argument("--quick", action="store_true", help="a quick run (see below)")
    p.add_argument("--seeds", type=positive_int, help="seeds per entry (default: 3 or 5 each)")
    p.add_argument("--only", help="comma-separated entry names to run (default: all)")
    p.add_argument("--out", type=Path, help="JSON report (default: benchmarks/results/<time>.json)")
    p.add_argument("--threads", type=positive_int, default=2, help="PyTorch and TF threads")
    p.add_argument("--stop-references", action="store_true", help="stop references at threshold")
    p.add_argument("--tf-python", help="a Python with TensorFlow, instead of benchmarks/.tfvenv")
    p.add_argument("--data-dir", help="MNIST cache root (default: the library's)")
    p.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu",
        help="where our entries train; cuda judges them by the GPU targets (default: cpu)",
    )  # fmt: skip
    p.add_argument("--compile", action="store_true", help="torch.compile our models")
    # Checks that every code path runs: 1 seed, a few dozen steps per entry; measures nothing.
    p.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def ensure_tunables() -> None:
    """Re-run this script with GLIBC_TUNABLES set: glibc reads it only when a process starts."""
    if os.environ.get("GLIBC_TUNABLES") != TUNABLES:
        env = {**os.environ, "GLIBC_TUNABLES": TUNABLES}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def output_path(args: argparse.Namespace) -> Path:
    """``--out``, else benchmarks/results/<date-time>.json (smoke-<date-time>.json for --smoke)."""
    if args.out is not None:
        return Path(args.out)
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M%S")
    return RESULTS / f"{'smoke-' if args.smoke else ''}{stamp}.json"


def main() -> int:
    """Run the benchmark, print the table, write the JSON report and the table beside it."""
    args = parse_args()
    ensure_tunables()
    # Imported only now: the first process may be replaced by ensure_tunables.
    import runner
    import table
    from entries import select

    try:
        select(args.only, args.quick)
    except ValueError as err:
        print(f"train_bench: {err}", file=sys.stderr)
        return 2
    report = runner.run(args)
    out = output_path(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    text = table.render(report)
    out.with_suffix(".md").write_text(text)
    print(text)
    print(f"wrote {out} and {out.with_suffix('.md')}", file=sys.stderr)
    return 1 if any(r["error"] for r in report["entries"]) else 0


if __name__ == "__main__":
    sys.exit(main())
