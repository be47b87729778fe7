"""Which drawn letters, shapes and marks the reader takes for digits, one template at a time.

    python benchmarks/drawn_shapes.py [--checkpoint RUN|WEIGHTS] [--n 100]

``evaluate --users`` reports each generated family as a whole; a family's share hides which of
its glyphs fail. This draws ``--n`` of every pen template in ``synthetic.pen`` (letters, shapes,
marks) and ``synthetic.doodles`` (unbent) in random poses and pens, reads them through
``Predictor.predict`` and prints, per template, the share flagged (not answered as a digit, as
``evaluate --users`` counts it), the digits the rest were read as, and whether training may see
the template (``train``) or only measurement (``heldout``).
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from mnist_digits.predict import Predictor
from mnist_digits.synthetic import doodles, pen
from mnist_digits.synthetic.families import DRAWN_LETTERS, TRAINED_SHAPES


def split_of(name: str) -> str:
    """``train`` when a training family draws template ``name``, ``ambiguous`` for the doodles
    that look like a digit (drawn by no family), else ``heldout``."""
    trained = {*DRAWN_LETTERS.split(), *TRAINED_SHAPES.split(), *pen.MARKS}
    if name in doodles.LOOK_ALIKES:
        return "ambiguous"
    return "train" if name in trained else "heldout"


def main() -> None:
    """Print one line per template: flagged share and the digits it was read as."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the shipped weights")
    parser.add_argument("--n", type=int, default=100, help="images per template (default: 100)")
    args = parser.parse_args()
    reader = Predictor.from_checkpoint(args.checkpoint)
    templates = {**pen.LETTERS, **pen.SHAPES, **pen.MARKS, **doodles.DOODLES, **doodles.LOOK_ALIKES}
    for name in sorted(templates, key=lambda t: (split_of(t), t)):
        rng = np.random.default_rng([sum(map(ord, name)), 7])
        images = [pen.draw(templates[name], rng, int(rng.integers(64, 200))) for _ in range(args.n)]
        reads = reader.predict(images)
        digits = Counter(p.digit for p in reads if p.is_digit)
        flagged = 100 * (args.n - sum(digits.values())) / args.n
        read_as = ", ".join(f'"{d}" {100 * k / args.n:.0f}%' for d, k in digits.most_common(3))
        print(f"{split_of(name):9s} {name:12s} flagged {flagged:5.1f}%  {read_as}")


if __name__ == "__main__":
    main()
