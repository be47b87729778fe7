#!/usr/bin/env bash
# Issue #14's GPU figures in one short prepared run, on a machine with a CUDA GPU and PyTorch
# (no install needed: the library's training path needs torch, numpy, scipy, pillow, safetensors
# and filelock only). About 3-5 minutes on one modern GPU; nothing here runs in CI.
#
#   mkdir -p .gpu-data && cp -r ~/.cache/mnist-digits/mnist .gpu-data/   # MNIST, 55 MB, once
#   bash benchmarks/gpu_bench.sh [OUT_DIR]                                # on the GPU machine
#
# 1. cnn-small-fast and cnn-strong-best, one seed each, bf16 autocast: the targets are 99.0% in
#    at most 1 s of training steps (anchor: 0.76 s on a GTX 1660 Ti) and 99.7% in at most 60 s.
# 2. cnn-small-fast again under torch.compile (its compile time is not training time).
# Each writes a JSON report and its Markdown table into OUT_DIR (default: $OUT, else
# benchmarks/results) as gpu-<date-time>.json and gpu-compile-<date-time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-benchmarks/results}}
stamp=$(date +%Y-%m-%d-%H%M%S)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
# The MNIST cache carried along (see above), else the library's own cache.
if [ -d .gpu-data/mnist ]; then export MNIST_DIGITS_HOME=$PWD/.gpu-data; fi
python=${PYTHON:-python3}
"$python" - <<'PY'
import torch
if not torch.cuda.is_available():
    raise SystemExit("gpu_bench: no CUDA GPU visible to PyTorch; run this on a GPU machine")
print(f"gpu_bench: {torch.cuda.get_device_name()}, torch {torch.__version__}")
PY
mkdir -p "$out"
"$python" benchmarks/train_bench.py --device cuda --threads 8 --seeds 1 \
    --only cnn-small-fast,cnn-strong-best --out "$out/gpu-$stamp.json"
"$python" benchmarks/train_bench.py --device cuda --compile --threads 8 --seeds 1 \
    --only cnn-small-fast --out "$out/gpu-compile-$stamp.json"
