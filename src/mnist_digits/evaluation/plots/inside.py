"""Inside the model: its penultimate-layer features in 2-D, and what drove a prediction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mnist_digits.evaluation.plots.style import (
    MARKERS,
    VERMILLION,
    draw_digit,
    new_figure,
    percent,
    styled,
)


def _centroid_labels(
    ax: Axes, coords: np.ndarray, labels: np.ndarray, classes: Sequence[str], palette: Any
) -> None:
    """Each class's name in a box at the median of its points."""
    for c, name in enumerate(classes):
        pts = coords[labels == c]  # (K, 2)
        if len(pts):
            cx, cy = np.median(pts, axis=0)
            box = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": palette[c], "alpha": 0.85}
            ax.text(
                cx, cy, name, fontsize=13, fontweight="bold", ha="center", va="center", bbox=box
            )


@styled
def embedding(
    coords: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    explained: np.ndarray | Sequence[float],
) -> Figure:
    """A 2-D PCA of penultimate-layer features, one colour and marker per class.

    Each class's name is printed at its centroid, so the plot reads without the legend.
    """
    fig = new_figure(7.5, 6.2, "Penultimate-layer features, PCA to 2-D")
    ax = fig.subplots()
    palette = sns.color_palette("colorblind", len(classes))
    for c, name in enumerate(classes):
        pts = coords[labels == c]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=16,
            alpha=0.75,
            color=palette[c],
            marker=MARKERS[c % len(MARKERS)],
            label=name,
            edgecolors="#555555",  # a thin outline keeps the yellow and pink visible on white
            linewidths=0.25,
        )
    _centroid_labels(ax, coords, labels, classes, palette)
    ax.set(
        xlabel=f"PC 1 ({100 * explained[0]:.0f}% of variance)",
        ylabel=f"PC 2 ({100 * explained[1]:.0f}% of variance)",
    )
    ax.legend(
        title="true class", markerscale=2, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5)
    )
    return fig


def _scaled(maps: np.ndarray) -> np.ndarray:
    """Each map (N, H, W) divided by its own largest magnitude, so every row uses the range."""
    peak = np.abs(maps).reshape(len(maps), -1).max(axis=1)  # (N,)
    return maps / np.maximum(peak, 1e-12)[:, None, None]


def _bare(ax: Axes, image: np.ndarray, colour: str) -> None:
    """No ticks, and the digit's outline (ink above half) drawn over a map."""
    ax.contour(image, levels=[128], colors=colour, linewidths=0.7)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#bbbbbb")


@styled
def saliency(
    images: np.ndarray,
    occlusion: np.ndarray,
    gradients: np.ndarray,
    labels: np.ndarray,
    probs: np.ndarray,
    classes: Sequence[str],
) -> Figure:
    """What drove each prediction: the digit, its occlusion map and its SmoothGrad map.

    Both maps are scaled per image (each row uses the full colour range) and carry the
    digit's outline.

    Args:
        images: uint8 (N, 28, 28).
        occlusion: (N, 28, 28) drop in the predicted class's logit when each area is hidden
            (``explain.occlusion_maps``): red = evidence for the prediction, blue = against.
        gradients: (N, 28, 28) SmoothGrad magnitudes (``explain.smoothgrad_maps``).
        labels: True classes (N,).
        probs: Probabilities (N, C).
        classes: Class names.
    """
    n, pred = len(images), probs.argmax(axis=1)
    fig = new_figure(6.6, 2.0 * n + 1.3, "What drove each prediction")
    axes = fig.subplots(n, 3, squeeze=False)
    occ, grad = _scaled(occlusion), _scaled(gradients)
    for i in range(n):
        draw_digit(axes[i, 0], images[i])
        right = pred[i] == labels[i]
        axes[i, 0].set_ylabel(
            f"{'✓' if right else '✗'} true {classes[labels[i]]}\npred {classes[pred[i]]} "
            f"({percent(probs[i, pred[i]])})",
            fontsize=9,
            color="black" if right else VERMILLION,
        )
        shown_occ = axes[i, 1].imshow(occ[i], cmap="RdBu_r", vmin=-1, vmax=1)
        shown_grad = axes[i, 2].imshow(grad[i], cmap="viridis", vmin=0, vmax=1)
        _bare(axes[i, 1], images[i], "black")
        _bare(axes[i, 2], images[i], "white")
    for ax, title in zip(axes[0], ("image", "occlusion", "SmoothGrad"), strict=True):
        ax.set_title(title)
    occ_text = "hiding it lowers (red) or\nraises (blue) the logit"
    grad_text = "|gradient| of the predicted\nlogit, scaled per image"
    bar: dict[str, Any] = {"orientation": "horizontal", "shrink": 0.9}
    fig.colorbar(shown_occ, ax=axes[:, 1], label=occ_text, ticks=[-1, 0, 1], **bar)
    fig.colorbar(shown_grad, ax=axes[:, 2], label=grad_text, ticks=[0, 1], **bar)
    return fig
