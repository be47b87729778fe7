"""The seed reference: the original notebook's Keras MLP, trained under TensorFlow.

Self-contained on purpose: it runs in the benchmark's own TensorFlow virtual environment, which
holds neither this package nor PyTorch. It reads MNIST from an ``.npz`` file the benchmark writes
(``x_train``, ``y_train``, ``x_test``, ``y_test`` as uint8) and prints one JSON document on
stdout; TensorFlow's logs go to stderr.

The recipe, as published in the notebook: 784 → 50 (ReLU) → 50 (ReLU) → 10 (sigmoid), Adam at
Keras' default learning rate (1e-3), sparse categorical cross-entropy on the sigmoid outputs,
batch 32, 10 epochs, inputs scaled to 0..1, all 60,000 training images, shuffled every epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# Before TensorFlow is imported: keep its C++ start-up chatter (about 10 lines) off the terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from tensorflow import keras


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the notebook's recipe."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help=".npz with x_train, y_train, x_test, y_test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="TensorFlow intra- and inter-op threads")
    p.add_argument("--stop-at", type=float, default=None, help="stop once test accuracy >= this")
    p.add_argument("--train-limit", type=int, default=None, help="use the first N training images")
    p.add_argument("--test-limit", type=int, default=None, help="use the first N test images")
    return p.parse_args(argv)


def load(path: str, train_limit: int | None, test_limit: int | None) -> tuple[np.ndarray, ...]:
    """Flattened images scaled to 0..1 (float32, (N, 784)) and int64 labels, as the notebook."""
    with np.load(path) as d:
        x_tr, y_tr = d["x_train"][:train_limit], d["y_train"][:train_limit]
        x_te, y_te = d["x_test"][:test_limit], d["y_test"][:test_limit]
    flat = [x.reshape(len(x), 784).astype(np.float32) / 255.0 for x in (x_tr, x_te)]
    return flat[0], y_tr.astype(np.int64), flat[1], y_te.astype(np.int64)


def build_model() -> keras.Model:
    """784-50-50-10 with ReLU, ReLU and a sigmoid output, compiled as the notebook did."""
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(50, activation="relu"),
            keras.layers.Dense(50, activation="relu"),
            keras.layers.Dense(10, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class EpochRecorder(keras.callbacks.Callback):
    """After each epoch: cumulative training seconds, then test accuracy (its time excluded).

    The clock runs from the start of ``fit``'s loop, so it includes what Keras does between
    epochs (shuffling, the first epoch's graph tracing) and excludes only this evaluation.
    """

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, stop_at: float | None) -> None:
        super().__init__()
        self.x_test, self.y_test, self.stop_at = x_test, y_test, stop_at
        self.epochs: list[dict[str, float]] = []
        self.eval_seconds = 0.0
        self.start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Start the clock once ``fit`` has built its data pipeline."""
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Record the epoch, score the test split untimed, and stop at ``stop_at``."""
        t0 = time.perf_counter()
        train_seconds = t0 - self.start - self.eval_seconds
        probs = self.model.predict(self.x_test, batch_size=1000, verbose=0)  # (N, 10)
        acc = float((probs.argmax(1) == self.y_test).mean())
        loss = float((logs or {}).get("loss", float("nan")))
        self.epochs.append(
            {"epoch": epoch + 1, "train_seconds": train_seconds, "test_acc": acc, "loss": loss}
        )
        print(f"keras epoch {epoch + 1}: {train_seconds:.1f} s, test {acc:.4f}", file=sys.stderr)
        if self.stop_at is not None and acc >= self.stop_at:
            self.model.stop_training = True
        self.eval_seconds += time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Train one seed and print its per-epoch record as JSON on stdout."""
    args = parse_args(argv)
    # Threads must be set before TensorFlow runs its first operation.
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    x_tr, y_tr, x_te, y_te = load(args.data, args.train_limit, args.test_limit)
    model = build_model()
    recorder = EpochRecorder(x_te, y_te, args.stop_at)
    model.fit(x_tr, y_tr, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
              shuffle=True, callbacks=[recorder])  # fmt: skip
    epochs = recorder.epochs
    result = {
        "seed": args.seed,
        "epochs": epochs,
        "final_test_acc": epochs[-1]["test_acc"],
        "train_seconds": epochs[-1]["train_seconds"],
        "images": len(x_tr) * len(epochs),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "threads": args.threads,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
