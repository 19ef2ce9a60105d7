"""`LossChart`: curves over training steps with reference lines, redrawn at a bounded rate.

What a chart draws is a `Curves`: named series of one quantity and the reference lines of that
quantity only. A redraw rebuilds the whole plotext figure (about 10 ms of Python on the UI
thread), so points are only collected when they arrive and the figure is rebuilt at most every
`REDRAW_S` (not at all while hidden), and long histories are averaged down to about two points
per column. The figure's text goes straight to strips (`ansi_strips`) and is kept until the
figure, size or theme changes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from textual.geometry import Size
from textual.strip import Strip
from textual_plotext import PlotextPlot

from tasks.data.info import Reference
from tasks.engine.quantity import Quantity
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


REFERENCE_COLOR = "gray"
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
    """Whole-number ticks from `lo` to `hi`: every integer when there are at most `2 * count`
    of them (a sweep's six trials: 0 to 5, none left out), else `count` spread evenly with
    both ends included."""
    first, last = math.ceil(lo), math.floor(hi)
    if 0 <= last - first < 2 * count:
        return list(range(first, last + 1))
    return sorted({round(lo + (hi - lo) * i / (count - 1)) for i in range(count)})


class WrongQuantity(ValueError):
    """A reference line offered to a chart of another quantity."""


@dataclass
class Curves:
    """What one chart draws: named series of (step, value) points of one quantity, how each
    looks, and reference lines of that quantity only. `version` counts changes (a chart
    showing it redraws when it moves)."""

    quantity: Quantity | None = None
    """What the values are (None: a chart of no declared quantity, e.g. a gradient profile)."""
    series: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    """Series name -> (steps, values), in insertion order."""
    markers: dict[str, str] = field(default_factory=dict)
    """Series name -> plotext marker (default: braille lines)."""
    colors: dict[str, str] = field(default_factory=dict)
    """Series name -> colour (default: the next of `COLORS`)."""
    scattered: set[str] = field(default_factory=set)
    """Series drawn as points only, not joined."""
    references: tuple[Reference, ...] = ()
    """Drawn as dim horizontal lines."""
    empty_message: str = "waiting for the first steps…"
    """Said in the plot area while there is nothing to draw."""
    steps_like: Curves | None = None
    """Other curves whose steps the step axis spans too (a metric's chart takes the loss's, so
    their step axes line up)."""
    version: int = 0

    def add_point(self, name: str, x: float, y: float, marker: str | None = None) -> None:
        """Append one point to a series (created on first use)."""
        xs, ys = self.series.setdefault(name, ([], []))
        xs.append(float(x))
        ys.append(float(y))
        if marker:
            self.markers[name] = marker
        self.version += 1

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
            self.colors[name] = color
        self.version += 1

    def set_references(self, references: Iterable[Reference]) -> None:
        """Replace the reference lines; each must be of this quantity (`WrongQuantity`)."""
        references = tuple(references)
        for ref in references:
            if self.quantity is None or ref.quantity != self.quantity.name:
                drawn = self.quantity.name if self.quantity else "no declared quantity"
                raise WrongQuantity(
                    f"{ref.label} is a {ref.quantity} reference; this chart draws {drawn}"
                )
        if references != self.references:
            self.references = references
            self.version += 1

    def clear(self) -> None:
        """Remove every series (the reference lines stay)."""
        self.series.clear()
        self.markers.clear()
        self.colors.clear()
        self.version += 1

    def span(self) -> tuple[float, float] | None:
        """The first and last step of its series (each in step order), None when empty."""
        ends = [x for xs, _ in self.series.values() if xs for x in (xs[0], xs[-1])]
        return (min(ends), max(ends)) if ends else None


class LossChart(PlotextPlot):
    """Draws one `Curves`: its series over steps and its labelled horizontal reference lines."""

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
        """The y axis (the quantity's name when the curves have one)."""
        self.xlabel = xlabel
        """The x axis."""
        self.curves = Curves()
        """What is drawn (`show` swaps it)."""
        self.legend = True
        """Whether plotext draws the series' legend in the plot (False when the panel around
        the chart says which series is which)."""
        self._drawn_version = -1
        self._themed = ""
        self._plotted_size = Size(0, 0)
        """The app theme and the size of the last replot."""
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

    def on_unmount(self) -> None:
        """Let go of the points and the drawn lines now: a widget of a screen that was left is
        freed only by a full garbage collection, which the app runs seldom."""
        self.curves, self._rendered = Curves(), None

    # -- data (cheap: no drawing here) -------------------------------------------------------

    def show(self, curves: Curves) -> None:
        """Draw `curves` from now on (at the next redraw)."""
        self.curves = curves
        if curves.quantity is not None:
            self.ylabel = curves.quantity.name
        self._drawn_version = -1

    @property
    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        """The curves' series: name -> (steps, values)."""
        return self.curves.series

    @property
    def series_colors(self) -> dict[str, str]:
        """The curves' colours by series name."""
        return self.curves.colors

    @property
    def references(self) -> tuple[Reference, ...]:
        """The curves' reference lines."""
        return self.curves.references

    @property
    def empty_message(self) -> str:
        """Said in the plot area while the curves have nothing to draw."""
        return self.curves.empty_message

    @empty_message.setter
    def empty_message(self, text: str) -> None:
        self.curves.empty_message = text
        self.curves.version += 1

    def add_point(self, name: str, x: float, y: float, marker: str | None = None) -> None:
        """Append one point to a series of the curves (created on first use)."""
        self.curves.add_point(name, x, y, marker)

    def set_series(
        self,
        name: str,
        xs: Sequence[float],
        ys: Sequence[float],
        marker: str | None = None,
        color: str | None = None,
    ) -> None:
        """Replace a series of the curves."""
        self.curves.set_series(name, xs, ys, marker, color)

    def set_references(self, references: Iterable[Reference]) -> None:
        """Replace the reference lines (each of the curves' quantity, else `WrongQuantity`)."""
        self.curves.set_references(references)

    def clear(self) -> None:
        """Remove every series (the reference lines stay)."""
        self.curves.clear()

    # -- drawing -----------------------------------------------------------------------------

    def _redraw_if_dirty(self) -> None:
        if self.curves.version == self._drawn_version or not self.region:
            return  # nothing new, or hidden: drawn when shown
        interval = max(REDRAW_S, self.render_cost / BUSY_FRACTION)
        if time.monotonic() - self._last_draw >= interval - 0.01:
            self.replot()

    def render_line(self, y: int) -> Strip:
        """Line `y` of the figure (Textual's line API: no `Text` to convert on each redraw)."""
        lines = self.figure_lines()
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.rich_style)

    def figure_lines(self) -> list[Strip]:
        """The figure, one strip per line, built again only when it or the size or theme
        changed (Textual also repaints on a screen switch or a modal over the screen)."""
        width, height = self.size
        if self.app.theme != self._themed or self.size != self._plotted_size:
            self.replot()  # the labels are placed for the size; their background is the theme's
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
        curves = self.curves
        self._drawn_version = curves.version
        self._last_draw = time.monotonic()
        self.redraws += 1
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self._themed, self._plotted_size = self.app.theme, self.size
        plt.theme(self._get_plotext_theme_name(self._themed))  # before text: it takes the
        plt.title(self.chart_title)  # canvas colour as its background
        plt.xlabel(self.xlabel)
        plt.ylabel(self.ylabel)
        limit = max(2 * max(self.size.width, 40), 40)
        drawn = [
            (name, *downsample(xs, ys, limit)) for name, (xs, ys) in curves.series.items() if xs
        ]
        if not drawn:
            plt.text(curves.empty_message, x=0.5, y=0.5, alignment="center", color="gray")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            self.refresh()
            return
        lo, hi = min(px[0] for _, px, _ in drawn), max(px[-1] for _, px, _ in drawn)
        other = curves.steps_like.span() if curves.steps_like is not None else None
        if other is not None:
            lo, hi = min(lo, other[0]), max(hi, other[1])
        if hi == lo:
            hi = lo + 1  # one step: plotext divides by the width of the axis
        if other is not None:
            plt.xlim(lo, hi)
        if all(x == int(x) for xs, _ in curves.series.values() for x in xs[:1] + xs[-1:]):
            plt.xticks(integer_ticks(lo, hi))  # steps: plotext would label a narrow axis 11.8
        for ref in curves.references:  # first: the curves are drawn over them
            plt.plot([lo, hi], [ref.value, ref.value], color=REFERENCE_COLOR, marker="-")
        names = list(curves.series)
        for name, px, py in drawn:
            color = curves.colors.get(name, COLORS[names.index(name) % len(COLORS)])
            marker = curves.markers.get(name, "braille" if len(px) > 1 else "dot")
            label = name if self.legend else None
            if len(px) == 1 or name in curves.scattered:
                plt.scatter(px, py, label=label, color=color, marker=marker)
            else:
                plt.plot(px, py, label=label, color=color, marker=marker)
        if curves.references:
            values = [y for _, _, py in drawn for y in py] + [r.value for r in curves.references]
            rows = self.size.height - 4 - (1 if self.chart_title else 0)
            for text, y, side in reference_labels(
                curves.references, [(py[0], py[-1]) for _, _, py in drawn],
                (min(values), max(values)), rows, self.size.width - 8,
            ):  # fmt: skip
                plt.text(text, x=lo if side == "left" else hi, y=y, alignment=side,
                         color=REFERENCE_COLOR)  # fmt: skip
        self.refresh()


def reference_labels(
    references: Sequence[Reference],
    ends: Sequence[tuple[float, float]],
    span: tuple[float, float],
    rows: int,
    width: int,
) -> list[tuple[str, float, str]]:
    """Where to write the reference lines' labels on a plot: (text, y, "left" or "right").

    Each label is written on its line, at the end of the plot where the curves (`ends`: each
    series' first and last value) are farther from it. Lines closer than about a row and a
    half of the plot (`span` of values over `rows`) share one label, and a label is cut to
    `width` characters.
    """
    per_row = (span[1] - span[0]) / max(rows - 1, 1)
    groups: list[list[Reference]] = []
    for ref in sorted(references, key=lambda r: r.value):
        if groups and ref.value - groups[-1][-1].value < 1.5 * per_row:
            groups[-1].append(ref)
        else:
            groups.append([ref])
    labels = []
    for group in groups:
        group.reverse()  # top to bottom, as the lines are
        y = group[len(group) // 2].value
        text = f" {group_label(group, width - 2)} "
        if len(text) > width:
            text = text[: max(width - 1, 0)] + "…"
        left = min((abs(first - y) for first, _ in ends), default=0.0)
        right = min((abs(last - y) for _, last in ends), default=0.0)
        labels.append((text, y, "left" if left >= right else "right"))
    return labels


def group_label(group: Sequence[Reference], width: int) -> str:
    """One label for reference lines drawn in about the same row, within `width` if it can:
    each name and value; else one name cut short (`GRU + atte… · test 28.3`); else the
    values alone."""
    splits = " ".join(dict.fromkeys(r.split for r in group))
    if len(group) == 1:
        ref = group[0]
        tail = f" · {ref.split} {ref.value:.4g}"
        room = width - len(tail)
        name = ref.label if len(ref.label) <= room else ref.label[: max(room - 1, 1)] + "…"
        return name + tail
    if " " in splits:
        full = " · ".join(r.line_label for r in group)
    else:
        full = f"{splits}: " + " · ".join(f"{r.label} {r.value:.4g}" for r in group)
    values = f"{splits}: " + ", ".join(f"{r.value:.4g}" for r in group)
    return full if len(full) <= width else values
