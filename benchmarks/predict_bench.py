"""Reading people's images, timed: one 280×280 PNG end to end (warm), and a folder of them.

    python benchmarks/predict_bench.py [--n 2000] [--checkpoint RUN_DIR|WEIGHTS]

Targets on a 2-core CPU: median 5 ms or less for one image; 2,000 images/s or more for a folder.
The folder figure goes through the same code as ``mnist-digits predict DIR`` (decode and
preprocess in ``--jobs`` processes, then batches of 256 through the model). It also prints the
CPU time of each preprocessing stage (decoding, finding the ink, cropping and scaling).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from imagegen import make_user_image

from mnist_digits.cli.predict_cmd import read_paths
from mnist_digits.images.decode import load_image
from mnist_digits.images.ink import component_mask, extract, union_box
from mnist_digits.images.render import render_piece
from mnist_digits.predict import Predictor


def canvas_png(digit: int, rng: np.random.Generator) -> bytes:
    """A 280×280 canvas export: dark strokes on a transparent background, as PNG bytes."""
    image = make_user_image(digit, "rgba_dark", rng).resize((280, 280))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def single_image_ms(predictor: Predictor, png: bytes, runs: int = 300) -> tuple[float, float]:
    """Median and p99 milliseconds for one PNG, bytes to answer, after 30 warm-up calls."""
    for _ in range(30):
        predictor.predict(png)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        predictor.predict(png)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), float(np.percentile(times, 99))


def stage_ms(pngs: list[bytes]) -> dict[str, float]:
    """Mean CPU milliseconds per image of each preprocessing stage: decoding (Pillow), finding
    the ink (``ink.extract``), and cropping, scaling and centring (``render_piece``)."""
    spent = {"decode": 0.0, "find ink": 0.0, "crop, scale, centre": 0.0}
    for png in pngs:
        t0 = time.process_time()
        image = load_image(png)
        t1 = time.process_time()
        ink = extract(image)
        t2 = time.process_time()
        ids = np.flatnonzero(ink.keep)
        box = union_box(ink, ids)
        render_piece(ink, (box, component_mask(ink, box, ids)))
        t3 = time.process_time()
        for key, dt in zip(spent, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            spent[key] += dt
    return {key: 1000 * total / len(pngs) for key, total in spent.items()}


def folder_rate(predictor: Predictor, folder: Path, jobs: int) -> float:
    """Images per second for a whole folder through the CLI's path."""
    paths = sorted(str(p) for p in folder.glob("*.png"))
    t0 = time.perf_counter()
    results = list(read_paths(predictor, paths, top_k=0, jobs=jobs))
    assert all("error" not in r for r in results)
    return len(paths) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="images in the folder")
    parser.add_argument("--checkpoint", default=None, help="model (default: the shipped one)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one image at a time gains nothing from a second thread
    predictor = Predictor.from_checkpoint(args.checkpoint)
    rng = np.random.default_rng(0)
    pngs = [canvas_png(int(d), rng) for d in rng.integers(0, 10, args.n)]
    median, p99 = single_image_ms(predictor, pngs[0])
    print(f"one 280x280 PNG, end to end: median {median:.2f} ms, p99 {p99:.2f} ms (target <= 5)")
    stages = stage_ms(pngs[:300])
    print("preprocessing per image, one core, mean of 300: " + ", ".join(
        f"{key} {ms:.2f} ms" for key, ms in stages.items()
    ) + f"; total {sum(stages.values()):.2f} ms")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for i, png in enumerate(pngs):
            (Path(tmp) / f"{i:05d}.png").write_bytes(png)
        for jobs in (1, 2):
            rate = folder_rate(predictor, Path(tmp), jobs)
            print(f"folder of {args.n} PNGs, --jobs {jobs}: {rate:,.0f} images/s (target >= 2,000)")


if __name__ == "__main__":
    main()
