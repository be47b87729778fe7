# The two Quick-start commands: `make run` (main job) and `make test` (whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_DIR ?= runs/quickstart
# PyTorch returns large activation buffers to the OS after every step with glibc's default
# thresholds (about 40% of a CNN step here); keeping them mapped removes that cost.
export GLIBC_TUNABLES ?= glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296

.PHONY: setup system-deps vendor-js run test lint clean bench shipped-weights shipped-onnx bench-infer

setup: $(VENV)/.installed vendor-js

# onnxruntime-web for reading in the browser, through npm, checked against its sha256s
# (a no-op when already vendored at the pinned version). npm comes with the system packages.
vendor-js: system-deps
	@bash scripts/vendor-js.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch 2.13.0's CPU wheel; the package itself accepts any torch>=2.2.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[train,serve,dev]"
	touch $@

system-deps:
	@bash scripts/system-deps.sh

run: setup system-deps
	$(BIN)/mnist-digits data download
	$(BIN)/mnist-digits data info
	$(BIN)/mnist-digits train --out $(RUN_DIR) --force
	$(BIN)/mnist-digits evaluate $(RUN_DIR) --corruptions
	$(BIN)/mnist-digits report $(RUN_DIR)

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

test: setup system-deps lint
	$(BIN)/pytest

# The training benchmark, not part of CI: `make bench BENCH_ARGS=--quick` for the quick run.
bench: setup
	$(BIN)/python benchmarks/train_bench.py --stop-references $(BENCH_ARGS)

# Re-make the shipped weights by their recorded recipe, then their ONNX twin.
shipped-weights: setup system-deps
	$(BIN)/mnist-digits train --config recipes/cnn-small-shipped.toml --out runs/shipped --force
	$(BIN)/python scripts/ship_weights.py runs/shipped
	$(MAKE) shipped-onnx

# The shipped model exported to ONNX, so an install without PyTorch can read digits.
# Run it again whenever the shipped weights change.
SHIPPED := src/mnist_digits/weights/cnn-small
shipped-onnx: setup
	$(BIN)/mnist-digits export $(SHIPPED).safetensors --format onnx --out $(SHIPPED).onnx

# Images/s at batch 1, 32, 1024 and batch-1 latency for each runtime, as one Markdown table.
bench-infer: setup
	$(BIN)/python benchmarks/infer_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
