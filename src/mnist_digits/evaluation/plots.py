"""Every figure of the evaluation and the report, with matplotlib (Agg) and seaborn heat maps.

Each function takes plain numbers and arrays and returns a ``matplotlib.figure.Figure``;
``to_png`` renders one to PNG bytes. Figures are built as ``Figure`` objects, never through
pyplot's global state, so nothing leaks between calls and no display is needed.

Colours are colour-blind safe: Okabe & Ito's palette for lines and bars, seaborn's 10-colour
``colorblind`` palette plus a distinct marker per class for scatter plots, single-hue maps for
counts, and ColorBrewer's blue-red map for signed values. Where colour carries meaning, a
marker, line style or symbol carries it too (✓/✗ in galleries, markers in scatter plots).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec

import matplotlib
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from mnist_digits.core import metrics

# Okabe & Ito (2008): distinguishable with any common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
BLUE, ORANGE, GREEN, VERMILLION, PINK = OKABE_ITO[:5]
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
DPI = 110
_STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
}

P = ParamSpec("P")


def _styled(fn: Callable[P, Figure]) -> Callable[P, Figure]:
    """Build the figure under the house style (fonts are fixed when artists are created)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
            return fn(*args, **kwargs)

    return wrapper


def to_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes with the Agg backend, at the figure's own dpi."""
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()


def _figure(width: float, height: float, title: str | None = None) -> Figure:
    """A blank figure of width x height inches with constrained layout and a title."""
    fig = Figure(figsize=(width, height), layout="constrained", dpi=DPI)
    if title:
        fig.suptitle(title)
    return fig


def _ink_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (by relative luminance)."""
    r, g, b = matplotlib.colors.to_rgb(colour)
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def run_colour(i: int) -> str:
    """The colour of the i-th run in comparisons, in Okabe & Ito's order."""
    return OKABE_ITO[i % len(OKABE_ITO)]


# ----------------------------------------------------------------------------- data


def _digit(ax: Axes, image: np.ndarray) -> None:
    """Draw a 28 x 28 uint8 digit as dark ink on white, without ticks."""
    ax.imshow(255 - image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#bbbbbb")


def _grid_shape(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return int(np.ceil(n / cols)), cols


@_styled
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
    fig = _figure(1.25 * cols, (1.25 + 0.17 * lines) * rows + 0.5, title)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= len(captions):
            ax.set_visible(False)
            continue
        _digit(ax, images[i])
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


@_styled
def class_distribution(counts: Mapping[str, Sequence[int]], classes: Sequence[str]) -> Figure:
    """Images per class for each split, as grouped bars with the count on each.

    Args:
        counts: Split name -> count per class (C,), e.g. {"train": [...], "test": [...]}.
        classes: The C class names.
    """
    fig = _figure(8, 3.4, "Class distribution")
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


# ----------------------------------------------------------------------------- training


@dataclass(frozen=True)
class Curves:
    """One run's history for ``training_curves``.

    Attributes:
        name: Run name for the legend.
        epochs: (E,) epoch numbers, 1-based.
        train_loss: (E,) mean training loss over each epoch.
        val_loss: (E,) validation loss at the end of each epoch.
        train_acc: (E,) training accuracy over each epoch, 0..1.
        val_acc: (E,) validation accuracy at the end of each epoch, 0..1.
        lr_epoch: (S,) positions in epochs (fractional) of the learning-rate trace.
        lr: (S,) learning rate at those positions.
    """

    name: str
    epochs: Sequence[float]
    train_loss: Sequence[float]
    val_loss: Sequence[float]
    train_acc: Sequence[float]
    val_acc: Sequence[float]
    lr_epoch: Sequence[float] = ()
    lr: Sequence[float] = ()


def _curve_legend(ax: Axes, runs: Sequence[Curves]) -> None:
    """Legend: split by line style (always), run by colour (when there are several)."""
    from matplotlib.lines import Line2D

    c_train, c_val = (BLUE, ORANGE) if len(runs) == 1 else ("#555555", "#555555")
    handles = [
        Line2D([], [], color=c_train, ls="--", marker="o", mfc="white", label="train (mean)"),
        Line2D([], [], color=c_val, ls="-", marker="o", label="validation (at end)"),
    ]
    if len(runs) > 1:
        handles += [
            Line2D([], [], color=run_colour(i), lw=3, label=r.name) for i, r in enumerate(runs)
        ]
    ax.legend(handles=handles, fontsize=8)


def _epoch_axes(axes: Sequence[Axes], last: float) -> None:
    """Whole-epoch ticks from 0 to the last epoch on every panel, so they line up."""
    for ax in axes:
        ax.set_xlim(0, max(last, 1.0) * 1.02)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)


def _log_axis_plain(ax: Axes) -> None:
    """Log-scale y ticks at 1, 2 and 5 per decade, written 0.05 rather than 5x10^-2."""
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


@_styled
def training_curves(runs: Sequence[Curves]) -> Figure:
    """Loss, accuracy and learning rate against epochs for one or several runs, overlaid.

    Training figures average over an epoch, so they sit at its middle (dashed, hollow
    markers); validation is measured at its end (solid, filled). With several runs each has
    its colour. Loss uses a log scale, where late epochs still show.
    """
    fig = _figure(12, 3.6, "Training curves" if len(runs) == 1 else "Training curves compared")
    ax_loss, ax_acc, ax_lr = fig.subplots(1, 3)
    for i, run in enumerate(runs):
        c_train, c_val = (BLUE, ORANGE) if len(runs) == 1 else (run_colour(i), run_colour(i))
        mid = np.asarray(run.epochs, dtype=float) - 0.5
        for ax, train, val in (
            (ax_loss, run.train_loss, run.val_loss),
            (ax_acc, 100 * np.asarray(run.train_acc), 100 * np.asarray(run.val_acc)),
        ):
            ax.plot(mid, train, ls="--", marker="o", mfc="white", color=c_train)
            ax.plot(run.epochs, val, ls="-", marker="o", color=c_val)
        if len(run.lr):
            ax_lr.plot(run.lr_epoch, run.lr, color=run_colour(i) if len(runs) > 1 else GREEN)
    ax_loss.set(title="Loss", ylabel="cross-entropy (log scale)", yscale="log")
    ax_acc.set(title="Accuracy", ylabel="accuracy (%)")
    ax_lr.set(title="Learning rate schedule", ylabel="learning rate")
    ax_lr.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.3g}"))
    _log_axis_plain(ax_loss)
    _epoch_axes((ax_loss, ax_acc, ax_lr), max((max(r.epochs, default=0) for r in runs), default=1))
    _curve_legend(ax_acc, runs)
    if not any(len(r.lr) for r in runs):
        ax_lr.text(0.5, 0.5, "no schedule recorded", ha="center", transform=ax_lr.transAxes)
    return fig


# ----------------------------------------------------------------------------- errors


@_styled
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
    fig = _figure(6.4, 5.4, title)
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


@_styled
def per_class_accuracy(
    values: Mapping[str, Sequence[float]], classes: Sequence[str], overall: Mapping[str, float]
) -> Figure:
    """Accuracy (recall) of each class for one or several runs, as grouped bars.

    The axis starts near the lowest value, not at 0, so differences of tenths of a percent
    show; each bar carries its value and a dashed line marks each run's overall accuracy.
    """
    fig = _figure(10, 3.8, "Accuracy per class")
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


def _percent(p: float) -> str:
    """A probability as a percentage; one decimal from 99.5% so 99.6 is not shown as 100."""
    if p >= 0.9995:
        return ">99.9%"
    return f"{100 * p:.1f}%" if p >= 0.995 else f"{100 * p:.0f}%"


def _prediction_captions(
    labels: np.ndarray, probs: np.ndarray, classes: Sequence[str], index: np.ndarray
) -> list[str]:
    """'true 4 · pred 9' over '87% · #1234' (confidence, position in the set) per row."""
    pred = probs.argmax(axis=1)  # (N,)
    return [
        f"true {classes[int(t)]} · pred {classes[int(p)]}\n{_percent(probs[i, p])} · #{index[i]}"
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


def correct_and_wrong(
    images: np.ndarray, labels: np.ndarray, probs: np.ndarray, classes: Sequence[str], n: int = 8
) -> Figure:
    """``n`` right answers (first row) above ``n`` mistakes (second row), in dataset order."""
    hits = probs.argmax(axis=1) == labels
    idx = np.r_[np.flatnonzero(hits)[:n], np.flatnonzero(~hits)[:n]]
    title = "Correct (✓, top row) versus misclassified (✗, bottom row)"
    return prediction_gallery(images[idx], labels[idx], probs[idx], classes, title, idx)


# ----------------------------------------------------------------------------- calibration


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


@_styled
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
    fig = _figure(11, 5.2, "Reliability diagram: is the confidence the accuracy?")
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


@_styled
def confidence_histogram(
    in_logits: np.ndarray, ood_logits: np.ndarray, in_name: str, ood_name: str, auroc: float
) -> Figure:
    """How confident the model is on its own test set and on an unrelated dataset.

    Overlaid step histograms of the maximum softmax probability (solid blue and dashed
    orange), on a log count scale since most in-distribution images sit at the top.
    """
    fig = _figure(7.5, 3.6, f"Out-of-distribution: max-softmax confidence (AUROC {auroc:.3f})")
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


# ----------------------------------------------------------------------------- robustness


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


@_styled
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
    fig = _figure(9, 0.32 * len(names) * max(1, len(runs)) ** 0.5 + 1.6, title)
    ax = fig.subplots()
    y = np.arange(len(names))
    height = 0.8 / len(runs)
    for i, run in enumerate(runs):
        pct = [100 * accuracy[run][k] for k in names]
        offset = ((len(runs) - 1) / 2 - i) * height  # the first run on top, as in the legend
        ax.barh(y + offset, pct, height, color=run_colour(i), label=run)
        _inner_labels(ax, y + offset, pct, _ink_on(run_colour(i)))
        label = f"{run}: clean test set {100 * clean[run]:.2f}%"
        ax.axvline(100 * clean[run], color=run_colour(i), ls="--", lw=1.2, label=label)
    ax.set_yticks(y, [k.replace("_", " ") for k in names])
    ax.set(xlim=(0, 108), xlabel="accuracy on the corrupted test set (%)")
    ax.legend(loc="lower right", fontsize=8)
    return fig


# ----------------------------------------------------------------------------- the model inside


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


@_styled
def embedding(
    coords: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    explained: np.ndarray | Sequence[float],
) -> Figure:
    """A 2-D PCA of penultimate-layer features, one colour and marker per class.

    Each class's name is printed at its centroid, so the plot reads without the legend.
    """
    fig = _figure(7.5, 6.2, "Penultimate-layer features, PCA to 2-D")
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


@_styled
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
    fig = _figure(6.6, 2.0 * n + 1.3, "What drove each prediction")
    axes = fig.subplots(n, 3, squeeze=False)
    occ, grad = _scaled(occlusion), _scaled(gradients)
    for i in range(n):
        _digit(axes[i, 0], images[i])
        right = pred[i] == labels[i]
        axes[i, 0].set_ylabel(
            f"{'✓' if right else '✗'} true {classes[labels[i]]}\npred {classes[pred[i]]} "
            f"({_percent(probs[i, pred[i]])})",
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


# ----------------------------------------------------------------------------- comparison


@_styled
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
    fig = _figure(6.8, 5.8, f"Where the confusion matrices differ: {names[1]} − {names[0]}")
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
