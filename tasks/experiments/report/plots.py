"""The report's plots: matplotlib figures written as SVG to inline in the page.

Figures are made with `matplotlib.figure.Figure` directly, never through pyplot, so no GUI
backend is chosen and nothing global is left behind; `savefig(format="svg")` renders them
(text as SVG text, no dates in the metadata, ids salted by the plot's key so two plots of a
page never share one). The XML prolog is cut so the `<svg>` element inlines. matplotlib is
imported inside `render`: the report package loads without it.

Each function takes plain data (lists, arrays, `Line`s) and returns the SVG text.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tasks.data.info import Reference

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
}
"""matplotlib settings of every plot (applied while it is drawn and saved)."""

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Run colours (tab10), in order."""
SPLIT_COLORS = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#2ca02c"}
"""The colour of each split's curve in a single run's plots."""
REFERENCE_STYLES = (("#444444", "--"), ("#8c564b", "-."), ("#7f7f7f", ":"), ("#9467bd", "--"))
"""(colour, line style) of the reference lines, in order."""
MAX_POINTS = 1500
"""A line keeps at most this many points (evenly picked), so the SVG stays small."""


@dataclass(frozen=True)
class Line:
    """One drawn series: points (None: a gap), its look, its legend label ("" for none)."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    color: str
    width: float = 1.5
    style: str = "-"
    """A matplotlib line style; "none" draws the markers alone."""
    marker: str | None = None
    size: float = 4.0
    """Marker size."""
    alpha: float = 1.0
    steps: bool = False
    """Drawn as a staircase (a best-so-far line)."""


def split_line(
    split: str, xs: Sequence[float], ys: Sequence[float], label: str = "", color: str | None = None
) -> Line:
    """A split's curve as every plot draws it: train thin and light, val with dots, test as
    crosses (its points are not joined)."""
    color = color or SPLIT_COLORS.get(split, "#333333")
    label = label or split
    if split == "train":
        return Line(label, xs, ys, color, width=1.0, alpha=0.6)
    if split == "test":
        return Line(label, xs, ys, color, style="none", marker="P", size=7)
    return Line(label, xs, ys, color, width=1.6, marker="o", size=3)


def render(key: str, size: tuple[float, float], draw: Callable[[Figure], None]) -> str:
    """Draw a figure of `size` inches with `draw(fig)` and return its `<svg>` element.

    `key` salts the SVG's ids: give each plot of a page its own.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(STYLE | {"svg.hashsalt": key}):
        fig = Figure(figsize=size, layout="constrained")
        draw(fig)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :].strip()


def _thin(xs: Sequence[float], ys: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(xs, dtype=float)
    y = np.asarray([math.nan if v is None else v for v in ys], dtype=float)
    if len(x) > MAX_POINTS:
        pick = np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int)
        x, y = x[pick], y[pick]
    return x, y


def _draw_line(ax: Axes, line: Line) -> None:
    x, y = _thin(line.xs, line.ys)
    ax.plot(
        x,
        y,
        color=line.color,
        linewidth=line.width,
        linestyle=line.style,
        marker=line.marker,
        markersize=line.size,
        alpha=line.alpha,
        label=line.label or None,
        drawstyle="steps-post" if line.steps else "default",
    )


def lines(
    key: str,
    title: str,
    xlabel: str,
    ylabel: str,
    series: Sequence[Line],
    references: Sequence[Reference] = (),
    *,
    marks: Sequence[tuple[float, str]] = (),
    xticks: tuple[Sequence[float], Sequence[str]] | None = None,
    log_y: bool = False,
    legend_outside: bool = False,
    size: tuple[float, float] = (6.4, 3.4),
) -> str:
    """Lines on one axis, with reference results as labelled horizontal lines and `marks` as
    labelled vertical ones ((x, label) each)."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        for line in series:
            _draw_line(ax, line)
        for i, ref in enumerate(references):
            color, style = REFERENCE_STYLES[i % len(REFERENCE_STYLES)]
            ax.axhline(ref.value, color=color, linestyle=style, linewidth=1, label=ref.line_label)
        for x, label in marks:
            ax.axvline(x, color="#999999", linewidth=1, linestyle=":")
            ax.annotate(
                label,
                (x, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -10),
                textcoords="offset points",
                fontsize=8,
                color="#666666",
            )
        if xticks is not None:
            ax.set_xticks(list(xticks[0]), list(xticks[1]))
        if log_y:
            ax.set_yscale("log")
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if ax.get_legend_handles_labels()[0]:
            if legend_outside:
                fig.legend(loc="outside right upper")
            else:
                ax.legend(loc="best")

    return render(key, size, draw)


def heatmap(
    key: str,
    values: Sequence[Sequence[float]],
    xlabels: Sequence[str],
    ylabels: Sequence[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    annotations: Sequence[Sequence[str]] | None = None,
    colorbar: str = "",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
) -> str:
    """A matrix with a label on every row and column (attention, a confusion matrix), each
    cell annotated when `annotations` are given; sized to its shape."""
    matrix = np.asarray(values, dtype=float)
    rows, cols = matrix.shape
    width = min(max(2.6 + 0.42 * cols, 4.0), 11.0)
    height = min(max(1.6 + 0.3 * rows, 2.8), 9.0)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        image = ax.imshow(
            matrix, cmap=cmap, aspect="auto", interpolation="nearest", vmin=vmin, vmax=vmax
        )
        ax.set_xticks(
            range(cols),
            list(xlabels),
            rotation=60 if cols > 3 else 0,
            ha="right" if cols > 3 else "center",
            rotation_mode="anchor",
        )
        ax.set_yticks(range(rows), list(ylabels))
        ax.grid(False)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if annotations is not None:
            for r in range(rows):
                for c in range(cols):
                    red, green, blue, _ = image.cmap(image.norm(matrix[r, c]))
                    dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # the cell's luminance
                    color = "white" if dark else "black"
                    ax.text(
                        c, r, annotations[r][c], ha="center", va="center", color=color, fontsize=10
                    )
        if colorbar:
            fig.colorbar(image, ax=ax, label=colorbar, shrink=0.9)

    return render(key, (width, height), draw)


@dataclass(frozen=True)
class Panel:
    """One map of `grid_maps`: a grid (rows, columns) of log values, NaN for an overflow."""

    title: str
    grid: np.ndarray
    xticks: tuple[Sequence[float], Sequence[str]]
    """Column positions and their labels."""
    extent_rows: tuple[float, float]
    """The row axis' first and last value (e.g. time step 1 and T)."""


def grid_maps(
    key: str,
    panels: Sequence[Panel],
    *,
    xlabel: str,
    ylabel: str,
    colorbar: str,
    cmap: str = "plasma",
) -> str:
    """Maps side by side (a raster each), rows upwards, NaN cells red, one colour bar each."""

    def draw(fig: Figure) -> None:
        import matplotlib

        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        colors = matplotlib.colormaps[cmap].with_extremes(bad="#ff0000")
        for ax, panel in zip(axes, panels, strict=True):
            low, high = panel.extent_rows
            image = ax.imshow(
                panel.grid,
                cmap=colors,
                aspect="auto",
                interpolation="nearest",
                origin="lower",
                extent=(-0.5, panel.grid.shape[1] - 0.5, low, high),
            )
            ax.set_xticks(list(panel.xticks[0]), list(panel.xticks[1]))
            ax.grid(False)
            ax.set(title=panel.title, xlabel=xlabel, ylabel=ylabel)
            fig.colorbar(image, ax=ax, label=colorbar, shrink=0.9)

    return render(key, (5.2 * len(panels), 3.6), draw)


def bars(key: str, values: dict[str, float], *, title: str, xlabel: str) -> str:
    """Horizontal bars, the largest on top, each labelled with its value."""
    names = list(values)[::-1]
    numbers = [values[n] for n in names]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        drawn = ax.barh(names, numbers, color=PALETTE[0])
        ax.bar_label(drawn, fmt="%.3f", padding=3, fontsize=8)
        ax.set(title=title, xlabel=xlabel)
        ax.set_xlim(0, max([*numbers, 0.0]) * 1.15 or 1)
        ax.grid(axis="y", visible=False)

    return render(key, (6.4, 1.2 + 0.32 * len(names)), draw)
