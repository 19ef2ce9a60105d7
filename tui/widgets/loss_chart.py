"""`LossChart`: curves over training steps with reference lines, redrawn at a bounded rate.

A redraw rebuilds the whole plotext figure (about 10 ms of Python on the UI thread), so points
are only collected when they arrive and the figure is rebuilt at most every `REDRAW_S`, and
long histories are averaged down to about two points per column. The figure's text goes
straight to strips (`ansi_strips`) and is kept until the figure, size or theme changes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.strip import Strip
from textual_plotext import PlotextPlot

from tui.widgets.ansi_strips import ansi_to_strips

REDRAW_S = 0.5
"""At most one redraw per this many seconds."""

BUSY_FRACTION = 0.1
"""On a slow or busy machine, back off so redraws take at most this share of the time."""

COLORS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white")
"""Series colours, in the order series are added."""

RICH_COLORS = {"orange": "dark_orange", "gray": "grey50"}
"""plotext colour names that Rich spells differently (for marks that match a series)."""


def rich_color(color: str) -> str:
    """The Rich name of a plotext colour."""
    return RICH_COLORS.get(color, color)


ANCHOR_COLOR = "gray"
"""Reference lines are drawn dim."""


def downsample(xs: Sequence[float], ys: Sequence[float], limit: int) -> tuple[list, list]:
    """At most `limit` points: consecutive buckets averaged (the last point is kept as is)."""
    n = len(xs)
    if n <= limit or limit < 2:
        return list(xs), list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    buckets = limit - 1
    for b in range(buckets):
        lo, hi = b * (n - 1) // buckets, (b + 1) * (n - 1) // buckets
        if hi <= lo:
            continue
        out_x.append(sum(xs[lo:hi]) / (hi - lo))
        out_y.append(sum(ys[lo:hi]) / (hi - lo))
    out_x.append(xs[-1])
    out_y.append(ys[-1])
    return out_x, out_y


def integer_ticks(lo: float, hi: float, count: int = 5) -> list[int]:
    """Up to `count` whole numbers spread evenly from `lo` to `hi` (both ends included)."""
    return sorted({round(lo + (hi - lo) * i / (count - 1)) for i in range(count)})


class LossChart(PlotextPlot):
    """Named series of (step, value) points and labelled horizontal reference lines."""

    DEFAULT_CSS = """
    LossChart { height: 1fr; min-height: 8; }
    """

    def __init__(
        self,
        *,
        title: str = "",
        ylabel: str = "loss",
        xlabel: str = "step",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.chart_title = title
        """Shown above the plot."""
        self.ylabel = ylabel
        """The y axis."""
        self.xlabel = xlabel
        """The x axis."""
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        """Series name -> (steps, values), in insertion order."""
        self.markers: dict[str, str] = {}
        """Series name -> plotext marker (default: braille lines)."""
        self.series_colors: dict[str, str] = {}
        """Series name -> colour (default: the next of `COLORS`)."""
        self.anchors: dict[str, float] = {}
        """Reference label -> value, drawn as dim horizontal lines."""
        self.empty_message = "waiting for the first steps…"
        """Said in the plot area while there is nothing to draw."""
        self._dirty = True
        self._last_draw = 0.0
        self.redraws = 0
        """How many times the figure was rebuilt (tests check the rate)."""
        self.render_cost = 0.0
        """Seconds the last render took (the redraw interval backs off when it is slow)."""
        self._rendered: tuple[tuple, list[Strip]] | None = None
        """(figure version, size, theme) and the lines drawn for them."""

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REDRAW_S, self._redraw_if_dirty)
        self.replot()

    # -- data (cheap: no drawing here) -------------------------------------------------------

    def add_point(self, name: str, x: float, y: float, marker: str | None = None) -> None:
        """Append one point to a series (created on first use)."""
        xs, ys = self.series.setdefault(name, ([], []))
        xs.append(float(x))
        ys.append(float(y))
        if marker:
            self.markers[name] = marker
        self._dirty = True

    def set_series(
        self,
        name: str,
        xs: Sequence[float],
        ys: Sequence[float],
        marker: str | None = None,
        color: str | None = None,
    ) -> None:
        """Replace a series."""
        self.series[name] = (list(map(float, xs)), list(map(float, ys)))
        if marker:
            self.markers[name] = marker
        if color:
            self.series_colors[name] = color
        self._dirty = True

    def set_anchors(self, anchors: dict[str, float]) -> None:
        """Replace the reference lines."""
        self.anchors = dict(anchors)
        self._dirty = True

    def clear(self) -> None:
        """Remove every series (the reference lines stay)."""
        self.series.clear()
        self.markers.clear()
        self.series_colors.clear()
        self._dirty = True

    # -- drawing -----------------------------------------------------------------------------

    def _redraw_if_dirty(self) -> None:
        interval = max(REDRAW_S, self.render_cost / BUSY_FRACTION)
        if self._dirty and time.monotonic() - self._last_draw >= interval - 0.01:
            self.replot()

    def render_line(self, y: int) -> Strip:
        """Line `y` of the figure (Textual's line API: no `Text` to convert on each redraw)."""
        lines = self.figure_lines()
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.rich_style)

    def figure_lines(self) -> list[Strip]:
        """The figure, one strip per line, built again only when it or the size or theme
        changed (Textual also repaints on a screen switch or a modal over the screen)."""
        width, height = self.size
        key = (self.redraws, self.size, self.app.theme)
        if self._rendered is None or self._rendered[0] != key:
            start = time.perf_counter()
            plt = self.plt
            plt.plotsize(width, height)
            plt._set_size(width, height)  # as PlotextPlot.render does: plotsize alone may not
            plt.theme(self._get_plotext_theme_name(self.app.theme))
            self._rendered = (key, ansi_to_strips(plt.build(), width))
            self.render_cost = time.perf_counter() - start
        return self._rendered[1]

    def replot(self) -> None:
        """Rebuild the figure now (normally left to the timer)."""
        self._dirty = False
        self._last_draw = time.monotonic()
        self.redraws += 1
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.chart_title)
        plt.xlabel(self.xlabel)
        plt.ylabel(self.ylabel)
        limit = max(2 * max(self.size.width, 40), 40)
        lo = hi = None
        for i, (name, (xs, ys)) in enumerate(self.series.items()):
            if not xs:
                continue
            px, py = downsample(xs, ys, limit)
            color = self.series_colors.get(name, COLORS[i % len(COLORS)])
            marker = self.markers.get(name, "braille")
            if len(px) == 1:
                plt.scatter(px, py, label=name, color=color, marker="dot")
            else:
                plt.plot(px, py, label=name, color=color, marker=marker)
            lo = min(px[0], lo) if lo is not None else px[0]
            hi = max(px[-1], hi) if hi is not None else px[-1]
        if lo is None or hi is None:
            plt.text(self.empty_message, x=0.5, y=0.5, alignment="center", color="gray")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            self.refresh()
            return
        if hi == lo:
            hi = lo + 1
        if all(x == int(x) for xs, _ in self.series.values() for x in xs[:1] + xs[-1:]):
            plt.xticks(integer_ticks(lo, hi))  # steps: plotext would label a narrow axis 11.8
        for label, value in self.anchors.items():
            plt.plot([lo, hi], [value, value], label=f"{label} {value:g}", color=ANCHOR_COLOR,
                     marker="-")  # fmt: skip
        self.refresh()
