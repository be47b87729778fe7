"""How many photographed digits are read past a box round them, the table, the desk or ruling.

Reads ``tests/framegen.py``'s photos (seeds 100 and up; the tests use 0-19) with the shipped
model, with ``images.frames``, ``images.page`` and ``images.lines`` on and with all three
switched off, and prints
answered-and-right for each kind:

    python benchmarks/frames_bench.py [--n 100]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import framegen

from mnist_digits.images import ink
from mnist_digits.predict import Predictor

KINDS: dict[str, Callable[[int, int], Image.Image]] = {
    "box drawn round the digit": framegen.boxed_digit,
    "table at the left (10 %)": framegen.page_edge_digit,
    "table at the bottom (12.5 %)": lambda d, s: framegen.page_edge_digit(d, s, side="bottom"),
    "note on a dark desk": framegen.note_on_desk,
    "note on a light desk": lambda d, s: framegen.note_on_desk(d, s, desk=200.0),
    "yellow note on a white desk": lambda d, s: framegen.note_on_desk(
        d, s, desk=240.0, yellow=True
    ),
    "note turned 5 degrees": lambda d, s: framegen.note_on_desk(d, s, angle=5.0),
    "note turned 15 degrees": lambda d, s: framegen.note_on_desk(d, s, angle=15.0),
    "note turned 20 degrees": lambda d, s: framegen.note_on_desk(d, s, angle=20.0),
    "note turned 30 degrees": lambda d, s: framegen.note_on_desk(d, s, angle=30.0),
    "note turned -35 degrees": lambda d, s: framegen.note_on_desk(d, s, angle=-35.0),
    "note turned 40 degrees": lambda d, s: framegen.note_on_desk(d, s, angle=40.0),
    "note turned 45 degrees": lambda d, s: framegen.note_on_desk(d, s, angle=45.0),
    "note turned 30 degrees, light desk": lambda d, s: framegen.note_on_desk(
        d, s, desk=200.0, angle=30.0
    ),
    "desk in the corners, page turned 10 degrees": lambda d, s: framegen.turned_page_digit(
        d, s, angle=10.0
    ),
    "desk in the corners, page turned 25 degrees": lambda d, s: framegen.turned_page_digit(
        d, s, angle=25.0
    ),
    "ruled paper": framegen.ruled_digit,
    "squared paper": lambda d, s: framegen.ruled_digit(d, s, squared=True),
}


def right(reader: Predictor, make: Callable[[int, int], Image.Image], n: int) -> float:
    """Share of n photos (seeds 100..) answered with their own digit."""
    seeds = range(100, 100 + n)
    preds = reader.predict([make(seed % 10, seed) for seed in seeds])
    hits = [p.is_digit and p.digit == s % 10 for p, s in zip(preds, seeds, strict=True)]
    return sum(hits) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="photos of each kind (default: 100)")
    args = parser.parse_args()
    reader = Predictor.from_checkpoint()
    for name, make in KINDS.items():
        on = right(reader, make, args.n)
        with (
            mock.patch.object(ink, "drop_frames", lambda labels, keep, boxes: keep),
            mock.patch.object(ink, "page_box", lambda *args: None),
            mock.patch.object(ink, "erase_rules", lambda ink_map, cut: ink_map),
        ):
            off = right(reader, make, args.n)
        print(f"{name:>30}: answered and right {100 * on:.1f}% ({100 * off:.1f}% without them)")


if __name__ == "__main__":
    main()
