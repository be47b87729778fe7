"""Reader checkpoints compared on validation data only: the figures a reader recipe is chosen by.

    python benchmarks/reader_validation.py CHECKPOINT [CHECKPOINT ...]

For each checkpoint: accuracy on MNIST's 5,000 held-out training digits as stored (raw) and
through ``to_mnist`` (what ``predict`` feeds the model), on printed digits of the training
typefaces (calibration seed), and the share of validation non-digits caught (Fashion-MNIST's
held-out training items through ``to_mnist``; generated non-digits of the training families at
the calibration seed) at the threshold that flags 1.5% of those validation digits, with the
AUROC of the calibrated top probability, then the share caught in each generated family, so a
candidate trained on a new family is also compared on the families both candidates saw. No test
image and no held-out family is read.
"""

from __future__ import annotations

import sys

import numpy as np

from mnist_digits.core.metrics import auroc, softmax
from mnist_digits.data.dataset import load_dataset
from mnist_digits.data.split import split_indices
from mnist_digits.models.checkpoint import load_checkpoint
from mnist_digits.models.inference import infer
from mnist_digits.synthetic.families import FAMILIES
from mnist_digits.training.reader import CALIBRATION_PER_FAMILY, CALIBRATION_SEED, generated
from mnist_digits.training.reader import preprocessed as through_to_mnist

FLAGGED = 0.015  # share of validation digits the compared threshold flags, as calibration does


def validation_sets() -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Named uint8 (N, 28, 28) images and labels (None for non-digits)."""
    mnist, fashion = load_dataset("mnist", "train"), load_dataset("fashion-mnist", "train")
    _, val = split_indices(len(mnist))
    _, fval = split_indices(len(fashion))
    pre = through_to_mnist(mnist, None, val.numpy())
    inked = pre.reshape(len(pre), -1).max(1) > 0  # to_mnist found ink
    printed = generated("train", True, CALIBRATION_PER_FAMILY, CALIBRATION_SEED)
    families = [f.name for f in FAMILIES.values() if f.split == "train" and not f.digits]
    made = {
        f"family:{name}": (
            generated("train", False, CALIBRATION_PER_FAMILY, CALIBRATION_SEED, only=name)[0],
            None,
        )
        for name in families
    }
    fpre = through_to_mnist(fashion, None, fval.numpy())
    return {
        "raw": (mnist.images[val.numpy()], mnist.labels[val.numpy()]),
        "to_mnist": (pre[inked], mnist.labels[val.numpy()][inked]),
        "printed": printed,
        "fashion": (fpre[fpre.reshape(len(fpre), -1).max(1) > 0], None),
        "generated": (np.concatenate([x for x, _ in made.values()]), None),
        **made,
    }


def compare(path: str, sets: dict[str, tuple[np.ndarray, np.ndarray | None]]) -> str:
    """One line of figures for the checkpoint at ``path``."""
    model, meta = load_checkpoint(path)
    temperature = float(meta.extra.get("temperature", 1.0))
    logits = {name: infer(model, x, meta.input).cpu().numpy() for name, (x, _) in sets.items()}
    acc = {
        k: 100 * float((logits[k].argmax(1) == sets[k][1]).mean())
        for k in ("raw", "to_mnist", "printed")
    }
    top = {k: softmax(v, temperature).max(1) for k, v in logits.items()}  # (N,) each
    digits = np.concatenate([top["to_mnist"], top["printed"]])
    threshold = float(np.quantile(digits, FLAGGED))
    caught = {k: 100 * float((top[k] < threshold).mean()) for k in ("fashion", "generated")}
    area = auroc(digits, np.concatenate([top["fashion"], top["generated"]]))
    per_family = ", ".join(
        f"{k.split(':')[1]} {100 * float((v < threshold).mean()):.1f}"
        for k, v in top.items()
        if k.startswith("family:")
    )
    return (
        f"{path}: raw {acc['raw']:.2f} to_mnist {acc['to_mnist']:.2f} printed "
        f"{acc['printed']:.2f} | caught at {100 * FLAGGED:.1f}% digits flagged: Fashion "
        f"{caught['fashion']:.1f} generated {caught['generated']:.1f} | AUROC {area:.4f}\n"
        f"  caught per generated family: {per_family}"
    )


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    sets = validation_sets()
    for path in paths:
        print(compare(path, sets))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
