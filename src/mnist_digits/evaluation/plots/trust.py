"""How far to trust the model: reliability before and after temperature scaling, confidence
on an unrelated dataset, and accuracy under corruptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from mnist_digits.core import metrics
from mnist_digits.evaluation.plots.style import (
    BLUE,
    ORANGE,
    VERMILLION,
    ink_on,
    new_figure,
    run_colour,
    styled,
)


def _reliability_panel(ax: Axes, ax_count: Axes, bins: Mapping[str, Sequence[float]]) -> None:
    """Accuracy per confidence bin against the diagonal, with the bin counts below."""
    lower, upper = np.asarray(bins["lower"]), np.asarray(bins["upper"])
    count = np.asarray(bins["count"])
    used = count > 0
    centre, width = (lower + upper) / 2, upper - lower
    acc, conf = 100 * np.asarray(bins["accuracy"]), 100 * np.asarray(bins["confidence"])
    ax.bar(
        centre[used] * 100,
        acc[used],
        width[used] * 100,
        color=BLUE,
        edgecolor="white",
        label="accuracy in bin",
    )
    ax.bar(
        centre[used] * 100,
        (conf - acc)[used],
        width[used] * 100,
        bottom=acc[used],
        color="none",
        edgecolor=VERMILLION,
        hatch="///",
        lw=0.8,
        label="gap to confidence",
    )
    ax.plot([0, 100], [0, 100], ls="--", color="#444444", lw=1, label="perfect calibration")
    ax.set(xlim=(0, 100), ylim=(0, 100), ylabel="accuracy (%)")
    ax.tick_params(labelbottom=False)
    ax_count.bar(centre[used] * 100, count[used], width[used] * 100, color="#999999")
    ax_count.set(xlim=(0, 100), yscale="log", ylim=(0.5, None), ylabel="images\n(log)")
    ax_count.set_xlabel("confidence (max probability, %)")
    ax_count.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))


@styled
def reliability_diagram(
    logits: np.ndarray, labels: np.ndarray, temperature: float, n_bins: int = 15
) -> Figure:
    """Reliability diagrams before and after temperature scaling, with ECE in the titles.

    Args:
        logits: (N, C) scores of the evaluated set.
        labels: (N,) true classes.
        temperature: The fitted temperature (from the validation split).
        n_bins: Equal-width confidence bins, 15 as for the ECE.
    """
    fig = new_figure(11, 5.2, "Reliability diagram: is the confidence the accuracy?")
    panels: Any = fig.subfigures(1, 2)  # an array of 2 SubFigures
    for panel, t, name in ((panels[0], 1.0, "Before"), (panels[1], temperature, "After")):
        probs = metrics.softmax(logits, t)
        ece = metrics.expected_calibration_error(probs, labels, n_bins)
        ax, ax_count = panel.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        _reliability_panel(ax, ax_count, metrics.reliability_bins(probs, labels, n_bins))
        ax.set_title(f"{name} temperature scaling (T = {t:.3g}): ECE {100 * ece:.2f}%")
        if name == "Before":
            ax.legend(loc="upper left", fontsize=8)
    return fig


@styled
def confidence_histogram(
    in_logits: np.ndarray, ood_logits: np.ndarray, in_name: str, ood_name: str, auroc: float
) -> Figure:
    """How confident the model is on its own test set and on an unrelated dataset.

    Overlaid step histograms of the maximum softmax probability (solid blue and dashed
    orange), on a log count scale since most in-distribution images sit at the top.
    """
    fig = new_figure(7.5, 3.6, f"Out-of-distribution: max-softmax confidence (AUROC {auroc:.3f})")
    ax = fig.subplots()
    bins = np.linspace(0.1, 1.0, 46).tolist()  # 2-point wide bins from 0.1 (the floor is 1/C)
    for logits, name, colour, style in (
        (in_logits, in_name, BLUE, "-"),
        (ood_logits, ood_name, ORANGE, "--"),
    ):
        conf = metrics.max_softmax_score(logits)
        ax.hist(conf, bins=bins, histtype="step", lw=2, ls=style, color=colour, label=name)
    ax.set(yscale="log", xlabel="max softmax probability", ylabel="images (log scale)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.legend(loc="upper left", title="AUROC 1.0: fully separable; 0.5: chance")
    return fig


def _inner_labels(ax: Axes, y: np.ndarray, values: Sequence[float], colour: str) -> None:
    """Each horizontal bar's value inside its end, where no reference line crosses it."""
    for yy, value in zip(y, values, strict=True):
        ax.text(
            value - 0.8,
            yy,
            f"{value:.1f}",
            ha="right",
            va="center",
            fontsize=7,
            color=colour,
            fontweight="bold",
        )


@styled
def corruption_accuracy(
    accuracy: Mapping[str, Mapping[str, float]], clean: Mapping[str, float]
) -> Figure:
    """Accuracy under each corruption as horizontal bars, hardest at the bottom.

    Args:
        accuracy: Run name -> corruption name -> accuracy (0..1).
        clean: Run name -> accuracy on the clean test set, drawn as a dashed line.
    """
    runs = list(accuracy)
    names = sorted(accuracy[runs[0]], key=lambda k: accuracy[runs[0]][k])
    mce = {r: 100 * float(np.mean([1 - a for a in accuracy[r].values()])) for r in runs}
    each = [f"{r}: {mce[r]:.1f}%" if len(runs) > 1 else f"{mce[r]:.1f}%" for r in runs]
    title = f"Accuracy under corruptions (mean corruption error {', '.join(each)})"
    fig = new_figure(9, 0.32 * len(names) * max(1, len(runs)) ** 0.5 + 1.6, title)
    ax = fig.subplots()
    y = np.arange(len(names))
    height = 0.8 / len(runs)
    for i, run in enumerate(runs):
        pct = [100 * accuracy[run][k] for k in names]
        offset = ((len(runs) - 1) / 2 - i) * height  # the first run on top, as in the legend
        ax.barh(y + offset, pct, height, color=run_colour(i), label=run)
        _inner_labels(ax, y + offset, pct, ink_on(run_colour(i)))
        label = f"{run}: clean test set {100 * clean[run]:.2f}%"
        ax.axvline(100 * clean[run], color=run_colour(i), ls="--", lw=1.2, label=label)
    ax.set_yticks(y, [k.replace("_", " ") for k in names])
    ax.set(xlim=(0, 108), xlabel="accuracy on the corrupted test set (%)")
    ax.legend(loc="lower right", fontsize=8)
    return fig


@styled
def reject_roc(users: Mapping[str, Any]) -> Figure:
    """ROC of the reject score on held-out families: digits accepted against non-digits
    accepted as the threshold moves, with the checkpoint's operating point marked."""
    fig = new_figure(5.2, 4.6, "Accepting digits, turning away the rest")
    ax = fig.subplots()
    roc, point = users["roc"], users["operating_point"]
    ax.plot(roc["fpr"], roc["tpr"], color=BLUE, label=f"AUROC {users['auroc']:.4f}")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1)
    ax.scatter(
        [point["others_accepted"]], [point["digits_accepted"]], color=VERMILLION, zorder=3,
        label=f"threshold {users['threshold']:.2f}",
    )  # fmt: skip
    ax.set_xlabel("non-digits accepted (held-out families)")
    ax.set_ylabel("digits accepted (held-out families)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right", fontsize=9)
    return fig
