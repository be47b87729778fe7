"""Grids of digits: a sample of a dataset, and predictions with their mistakes marked."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from mnist_digits.evaluation.plots.style import VERMILLION, draw_digit, new_figure, percent, styled


def _grid_shape(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return int(np.ceil(n / cols)), cols


@styled
def gallery(
    images: np.ndarray,
    captions: Sequence[str],
    title: str,
    *,
    cols: int = 8,
    wrong: Sequence[bool] | None = None,
) -> Figure:
    """A grid of digits with a caption under each.

    Args:
        images: uint8 (N, 28, 28).
        captions: N short captions (use ``\\n`` for two lines).
        title: The figure title.
        cols: Images per row.
        wrong: Marks each image as a mistake (vermillion caption and ✗) or right (✓), or None.
    """
    n = max(1, len(captions))
    rows, cols = _grid_shape(n, cols)
    lines = max((c.count("\n") + 1 for c in captions), default=1)
    fig = new_figure(1.25 * cols, (1.25 + 0.17 * lines) * rows + 0.5, title)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= len(captions):
            ax.set_visible(False)
            continue
        draw_digit(ax, images[i])
        text, colour = captions[i], "black"
        if wrong is not None:
            text, colour = (f"✗ {text}", VERMILLION) if wrong[i] else (f"✓ {text}", "black")
        ax.set_xlabel(text, fontsize=9, color=colour, linespacing=1.1)
    if not captions:
        axes[0].set_visible(True)
        axes[0].text(0.5, 0.5, "nothing to show", ha="center", va="center")
        axes[0].set_axis_off()
    return fig


def sample_grid(
    images: np.ndarray, labels: np.ndarray, classes: Sequence[str], title: str = "Sample images"
) -> Figure:
    """Images with their labels, as the dataset stores them (uint8 (N, 28, 28), labels (N,))."""
    captions = [f"label {classes[int(y)]}" for y in labels]
    return gallery(images, captions, title, cols=10)


def _prediction_captions(
    labels: np.ndarray, probs: np.ndarray, classes: Sequence[str], index: np.ndarray
) -> list[str]:
    """'true 4 · pred 9' over '87% · #1234' (confidence, position in the set) per row."""
    pred = probs.argmax(axis=1)  # (N,)
    return [
        f"true {classes[int(t)]} · pred {classes[int(p)]}\n{percent(probs[i, p])} · #{index[i]}"
        for i, (t, p) in enumerate(zip(labels, pred, strict=True))
    ]


def prediction_gallery(
    images: np.ndarray,
    labels: np.ndarray,
    probs: np.ndarray,
    classes: Sequence[str],
    title: str,
    index: np.ndarray | None = None,
) -> Figure:
    """Digits with true class, predicted class, confidence and index; mistakes marked ✗.

    Args:
        images: uint8 (N, 28, 28).
        labels: True classes (N,).
        probs: Class probabilities (N, C).
        classes: Class names.
        title: Figure title.
        index: Each image's position in its dataset (N,), shown as #index; default 0..N-1.
    """
    index = np.arange(len(labels)) if index is None else np.asarray(index)
    captions = _prediction_captions(labels, probs, classes, index)
    wrong = (probs.argmax(axis=1) != labels).tolist()
    return gallery(images, captions, title, cols=8, wrong=wrong)


def misclassified(
    images: np.ndarray, labels: np.ndarray, probs: np.ndarray, classes: Sequence[str], n: int = 24
) -> Figure:
    """The first ``n`` mistakes in dataset order (an unselected sample of the errors).

    Args:
        images: The whole evaluated set, uint8 (N, 28, 28).
        labels: True classes (N,).
        probs: Probabilities (N, C).
        classes: Class names.
        n: How many to show.
    """
    wrong = np.flatnonzero(probs.argmax(axis=1) != labels)
    idx = wrong[:n]
    title = f"Misclassified images: the first {len(idx)} of {len(wrong)}, in dataset order"
    return prediction_gallery(images[idx], labels[idx], probs[idx], classes, title, idx)


def confident_mistakes(
    images: np.ndarray, labels: np.ndarray, probs: np.ndarray, classes: Sequence[str], n: int = 16
) -> Figure:
    """The ``n`` mistakes made with the highest confidence, most confident first."""
    wrong = np.flatnonzero(probs.argmax(axis=1) != labels)
    idx = wrong[np.argsort(-probs[wrong].max(axis=1), kind="stable")][:n]
    title = f"The {len(idx)} most confident mistakes"
    return prediction_gallery(images[idx], labels[idx], probs[idx], classes, title, idx)
