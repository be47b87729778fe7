"""Training curves: loss, accuracy and the learning-rate schedule against epochs, for one run
or several overlaid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from mnist_digits.evaluation.plots.style import BLUE, GREEN, ORANGE, new_figure, run_colour, styled


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


@styled
def training_curves(runs: Sequence[Curves]) -> Figure:
    """Loss, accuracy and learning rate against epochs for one or several runs, overlaid.

    Training figures average over an epoch, so they sit at its middle (dashed, hollow
    markers); validation is measured at its end (solid, filled). With several runs each has
    its colour. Loss uses a log scale, where late epochs still show.
    """
    fig = new_figure(12, 3.6, "Training curves" if len(runs) == 1 else "Training curves compared")
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
