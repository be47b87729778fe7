"""How the reader does on the kinds of images people send, family by family.

Each family is rendered from a fixed seed (``synthetic``), encoded and decoded as a file
would be, and read exactly as ``predict`` reads it: ``images.render.to_mnist``, the model,
the checkpoint's temperature, and ``core.verdict``. By default only held-out families are
scored, plus MNIST's and Fashion-MNIST's test splits saved as PNG files, so the figures say
how the reader does on kinds of image it never trained on.

For a digit family, ``read_right`` is the share answered with the right digit and ``flagged``
the share turned away (not a digit, unsure, or no ink found). For a non-digit family,
``flagged`` is the share turned away, which is what should happen; ``auroc`` is how well the
reject score (calibrated confidence) ranks the held-out digits above that family.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image
from torch import nn

from mnist_digits.core import metrics
from mnist_digits.core.card import CheckpointMeta
from mnist_digits.core.verdict import reject_thresholds, threshold_for, verdict
from mnist_digits.data.dataset import load_dataset
from mnist_digits.images.render import to_mnist
from mnist_digits.models.inference import infer
from mnist_digits.synthetic.families import FAMILIES, NOT_A_DIGIT, render_family

PathLike = str | os.PathLike[str]
Item = tuple[bytes, int]
# Fashion-MNIST items are saved 4× upscaled, as a person saving a thumbnail would.
FASHION_SCALE = 4


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def dataset_items(name: str, n: int, data_dir: PathLike | None) -> list[Item]:
    """The first ``n`` test images of ``mnist`` or ``fashion-mnist`` as PNG files."""
    test = load_dataset(name, "test", data_dir=data_dir)
    if name == "mnist":
        return [
            (_png(Image.fromarray(im)), int(y))
            for im, y in zip(test.images[:n], test.labels[:n], strict=True)
        ]
    side = 28 * FASHION_SCALE
    return [
        (
            _png(Image.fromarray(255 - im).resize((side, side), Image.Resampling.BICUBIC)),
            NOT_A_DIGIT,
        )
        for im in test.images[:n]
    ]


def family_items(name: str, n: int, seed: int) -> list[Item]:
    """``n`` images of a generated family, as PNG files, with labels."""
    return [(_png(image), label) for image, label in render_family(name, n, seed)]


def _maker(name: str, n: int, seed: int) -> Callable[[], list[Item]]:
    return lambda: family_items(name, n, seed)


def _read(
    model: nn.Module, meta: CheckpointMeta, items: list[Item]
) -> tuple[np.ndarray, list[str]]:
    """(predicted digit or -1, status) per item, and the reject score, as predict answers."""
    pre = [to_mnist(data) for data, _ in items]
    found = [i for i, p in enumerate(pre) if p.found]
    probs = np.zeros((len(items), 10))
    if found:
        logits = infer(model, np.stack([pre[i].image28 for i in found]), meta.input)
        probs[found] = metrics.softmax(
            logits.double().cpu().numpy(), float(meta.extra.get("temperature", 1.0))
        )
    thresholds = reject_thresholds(meta.extra)
    status = [
        verdict(p, threshold_for(item.bbox, item.detail, thresholds)) if item.found else "no_digit"
        for item, p in zip(pre, probs, strict=True)
    ]
    return probs, status


def _figures(probs: np.ndarray, status: list[str], labels: np.ndarray) -> dict[str, float | int]:
    ok = np.array([s == "ok" for s in status])
    right = ok & (probs.argmax(axis=1) == labels)
    return {"n": len(labels), "read_right": float(right.mean()), "flagged": float((~ok).mean())}


def users_figures(
    model: nn.Module,
    meta: CheckpointMeta,
    *,
    n: int = 500,
    seed: int = 1000,
    include_train: bool = False,
    data_dir: PathLike | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """Per-family reading figures, the reject score's ROC, and the operating point.

    Args:
        model: the classifier (eval mode).
        meta: its model card (input contract, temperature, reject threshold).
        n: images per family.
        seed: generator seed; training never uses seeds at or above 1000.
        include_train: also score the families training may see (for comparison only).
        data_dir: the dataset cache.
        say: called with a line before each family.
    """
    sources: dict[str, tuple[str, bool, Callable[[], list[Item]]]] = {
        "mnist-test-png": ("heldout", True, lambda: dataset_items("mnist", n, data_dir)),
        "fashion-test-png": ("heldout", False, lambda: dataset_items("fashion-mnist", n, data_dir)),
    }
    for f in FAMILIES.values():
        if f.split == "heldout" or include_train:
            sources[f.name] = (f.split, f.digits, _maker(f.name, n, seed))
    rows: dict[str, dict[str, object]] = {}
    confidence: dict[str, np.ndarray] = {}
    for name, (split, digits, make) in sources.items():
        if say:
            say(f"reading family {name}")
        items = make()
        probs, status = _read(model, meta, items)
        labels = np.array([label for _, label in items])
        rows[name] = {"split": split, "digits": digits, **_figures(probs, status, labels)}
        confidence[name] = probs.max(axis=1)  # the reject score; 0 where no ink was found
    return _summary(rows, confidence, meta)


def _summary(
    rows: dict[str, dict[str, object]], confidence: dict[str, np.ndarray], meta: CheckpointMeta
) -> dict[str, object]:
    """Each non-digit family's AUROC against the pooled held-out digits, and the pooled ROC."""
    held = [name for name, row in rows.items() if row["split"] == "heldout"]
    pos = np.concatenate([confidence[n] for n in held if rows[n]["digits"]])
    neg = np.concatenate([confidence[n] for n in held if not rows[n]["digits"]])
    for name, row in rows.items():
        if not row["digits"]:
            row["auroc"] = metrics.auroc(pos, confidence[name])
    fpr, tpr = _roc(pos, neg)
    threshold = reject_thresholds(meta.extra)[0]
    return {
        "families": rows,
        "auroc": metrics.auroc(pos, neg),
        "threshold": threshold,
        "operating_point": {
            "digits_accepted": float((pos >= threshold).mean()),
            "others_accepted": float((neg >= threshold).mean()),
        },
        "roc": {"fpr": fpr, "tpr": tpr},
        "n_digits": int(pos.size),
        "n_other": int(neg.size),
    }


def _roc(pos: np.ndarray, neg: np.ndarray, points: int = 101) -> tuple[list[float], list[float]]:
    """The reject score's ROC (accepting digits vs accepting non-digits) at ``points`` cuts."""
    cuts = np.quantile(np.concatenate([pos, neg]), np.linspace(0, 1, points))
    tpr = [float((pos >= c).mean()) for c in cuts]
    fpr = [float((neg >= c).mean()) for c in cuts]
    return fpr, tpr


USERS_HEADER = ["family", "split", "kind", "n", "read right", "flagged", "AUROC"]


def users_rows(users: dict[str, Any]) -> list[list[str]]:
    """One row of cells per family (see :data:`USERS_HEADER`), digit families first."""
    rows = []
    for name, r in sorted(users["families"].items(), key=lambda kv: (not kv[1]["digits"], kv[0])):
        right = f"{r['read_right']:.1%}" if r["digits"] else "—"
        auroc = f"{r['auroc']:.4f}" if "auroc" in r else "—"
        kind = "digits" if r["digits"] else "not digits"
        rows.append([name, r["split"], kind, str(r["n"]), right, f"{r['flagged']:.1%}", auroc])
    return rows


def users_table(users: dict[str, Any]) -> str:
    """The per-family figures as a Markdown table, with the pooled AUROC under it."""
    lines = ["| " + " | ".join(USERS_HEADER) + " |", "|" + "---|" * len(USERS_HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in users_rows(users)]
    lines.append(
        f"\nReject threshold {users['threshold']:.3f}; held-out digits vs held-out non-digits: "
        f"AUROC {users['auroc']:.4f} ({users['n_digits']} vs {users['n_other']} images)"
    )
    return "\n".join(lines)
