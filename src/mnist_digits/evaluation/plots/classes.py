"""Figures with one bar, row or column per class: how the classes are balanced, the confusion
matrix and how two runs' matrices differ, and accuracy per class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from mnist_digits.evaluation.plots.style import new_figure, run_colour, styled


@styled
def class_distribution(counts: Mapping[str, Sequence[int]], classes: Sequence[str]) -> Figure:
    """Images per class for each split, as grouped bars with the count on each.

    Args:
        counts: Split name -> count per class (C,), e.g. {"train": [...], "test": [...]}.
        classes: The C class names.
    """
    fig = new_figure(8, 3.4, "Class distribution")
    ax = fig.subplots()
    width = 0.8 / max(1, len(counts))
    x = np.arange(len(classes))
    for i, (split, values) in enumerate(counts.items()):
        total = max(1, int(np.sum(values)))
        share = 100.0 * np.asarray(values) / total
        bars = ax.bar(
            x + (i - (len(counts) - 1) / 2) * width, share, width, label=split, color=run_colour(i)
        )
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=7, rotation=90, padding=2)
    ax.set_xticks(x, list(classes))
    ax.set_xlabel("class")
    ax.set_ylabel("share of the split (%)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
    ax.legend(title="split\n(count on\neach bar)", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def confusion_matrix(
    cm: np.ndarray | Sequence[Sequence[int]], classes: Sequence[str], *, normalise: bool = False
) -> Figure:
    """The confusion matrix as a heat map: rows are true classes, columns predictions.

    Colour is on a log scale so the rare mistakes show beside the large diagonal; zero cells
    are left blank. ``normalise`` divides each row by its total, giving percentages (the
    diagonal is then each class's recall).
    """
    counts = np.asarray(cm, dtype=np.float64)  # (C, C)
    values = (
        100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalise else counts
    )
    fmt = (lambda v: f"{v:.1f}" if v >= 0.05 else "<.1") if normalise else (lambda v: f"{v:.0f}")
    annot = np.where(counts > 0, np.vectorize(fmt)(values), "")
    title = "Confusion matrix, % of each true class" if normalise else "Confusion matrix, counts"
    fig = new_figure(6.4, 5.4, title)
    ax = fig.subplots()
    positive = values[counts > 0]
    # Half the smallest value as the floor, so the single mistakes are tinted, not white.
    low = 0.5 * (float(positive.min()) if positive.size else 1.0)
    sns.heatmap(
        np.where(counts > 0, values, np.nan),
        ax=ax,
        annot=annot,
        fmt="",
        annot_kws={"fontsize": 8},
        cmap="Blues",
        norm=LogNorm(vmin=low, vmax=max(float(values.max()), low * 10)),
        cbar_kws={"label": "% of the row (log scale)" if normalise else "images (log scale)"},
        linewidths=0.5,
        linecolor="#eeeeee",
        square=True,
        xticklabels=list(classes),
        yticklabels=list(classes),
    )
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.tick_params(axis="y", rotation=0)
    _plain_colorbar_ticks(ax)
    return fig


def _plain_colorbar_ticks(ax: Axes) -> None:
    """Write a log colour bar's ticks as 1, 10, 100 rather than 10^0, 10^1, 10^2."""
    colorbar = ax.collections[0].colorbar
    if colorbar is not None:
        colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))


@styled
def per_class_accuracy(
    values: Mapping[str, Sequence[float]], classes: Sequence[str], overall: Mapping[str, float]
) -> Figure:
    """Accuracy (recall) of each class for one or several runs, as grouped bars.

    The axis starts near the lowest value, not at 0, so differences of tenths of a percent
    show; each bar carries its value and a dashed line marks each run's overall accuracy.
    """
    fig = new_figure(10, 3.8, "Accuracy per class")
    ax = fig.subplots()
    x = np.arange(len(classes))
    width = 0.8 / max(1, len(values))
    lowest = min(min(v) for v in values.values()) * 100
    for i, (name, accs) in enumerate(values.items()):
        pct = 100 * np.asarray(accs)
        offset = (i - (len(values) - 1) / 2) * width
        bars = ax.bar(x + offset, pct, width, color=run_colour(i), label=f"{name}: per class")
        # A white box keeps each value readable where the dashed overall line crosses it.
        box = {"fc": "white", "ec": "none", "pad": 0.3, "alpha": 0.85}
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1, bbox=box)
        ax.axhline(
            100 * overall[name],
            color=run_colour(i),
            ls="--",
            lw=1,
            zorder=0,
            label=f"{name}: overall {100 * overall[name]:.2f}%",
        )
    bottom = max(0.0, np.floor(lowest - (100 - lowest) * 0.5))
    ax.set_ylim(bottom, 100.4)
    ax.set_xticks(x, list(classes))
    ax.set(xlabel="true class", ylabel=f"accuracy (%), axis from {bottom:g}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


@styled
def confusion_difference(
    cm_a: np.ndarray | Sequence[Sequence[int]],
    cm_b: np.ndarray | Sequence[Sequence[int]],
    classes: Sequence[str],
    names: tuple[str, str],
) -> Figure:
    """Where two runs' confusion matrices differ: the numbers are counts of b minus a.

    Colour says better or worse for run b: blue where b makes a mistake less often or gets a
    class right more often, red the other way; cells that do not change are blank.
    """
    diff = np.asarray(cm_b, dtype=np.int64) - np.asarray(cm_a, dtype=np.int64)  # (C, C)
    # Scale colours to the mistakes: the diagonal sums every row's changes and would wash
    # them out; its cells saturate instead, their numbers still exact.
    limit = max(1, int(np.abs(diff - np.diag(np.diag(diff))).max()))
    harm = diff.astype(np.float64)  # > 0: worse for b; on the diagonal more is better
    np.fill_diagonal(harm, -np.diag(diff))
    fig = new_figure(6.8, 5.8, f"Where the confusion matrices differ: {names[1]} − {names[0]}")
    ax = fig.subplots()
    sns.heatmap(
        np.where(diff != 0, harm, np.nan),
        ax=ax,
        annot=np.where(diff != 0, np.char.mod("%+d", diff), ""),
        fmt="",
        annot_kws={"fontsize": 8},
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        square=True,
        linewidths=0.5,
        linecolor="#eeeeee",
        xticklabels=list(classes),
        yticklabels=list(classes),
        cbar_kws={"ticks": [-limit, 0, limit]},
    )
    colorbar = ax.collections[0].colorbar
    if colorbar is not None:
        colorbar.set_ticklabels([f"better in\n{names[1]}", "same", f"worse in\n{names[1]}"])
    ax.set(xlabel="predicted class (numbers: change in image count)", ylabel="true class")
    ax.tick_params(axis="y", rotation=0)
    return fig
