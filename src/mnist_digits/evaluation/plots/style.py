"""The house style of every plot, its colours and the drawing helpers the figures share.

Figures are built as ``Figure`` objects, never through pyplot's global state, so nothing leaks
between calls and no display is needed.

Colours are colour-blind safe: Okabe & Ito's palette for lines and bars, seaborn's 10-colour
``colorblind`` palette plus a distinct marker per class for scatter plots, single-hue maps for
counts, and ColorBrewer's blue-red map for signed values. Where colour carries meaning, a
marker, line style or symbol carries it too (✓/✗ in galleries, markers in scatter plots).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any, ParamSpec

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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


def styled(fn: Callable[P, Figure]) -> Callable[P, Figure]:
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


def new_figure(width: float, height: float, title: str | None = None) -> Figure:
    """A blank figure of width x height inches with constrained layout and a title."""
    fig = Figure(figsize=(width, height), layout="constrained", dpi=DPI)
    if title:
        fig.suptitle(title)
    return fig


def ink_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (by relative luminance)."""
    r, g, b = matplotlib.colors.to_rgb(colour)
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def run_colour(i: int) -> str:
    """The colour of the i-th run in comparisons, in Okabe & Ito's order."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def draw_digit(ax: Axes, image: np.ndarray) -> None:
    """Draw a 28 x 28 uint8 digit as dark ink on white, without ticks."""
    ax.imshow(255 - image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#bbbbbb")


def percent(p: float) -> str:
    """A probability as a percentage; one decimal from 99.5% so 99.6 is not shown as 100."""
    if p >= 0.9995:
        return ">99.9%"
    return f"{100 * p:.1f}%" if p >= 0.995 else f"{100 * p:.0f}%"
