"""`QuantityCharts`: a task's quantities, each on a chart of its own, two at a time if they fit.

A loss and an accuracy never share an axis, and a reference line is drawn only on the chart of
its quantity (`Curves.set_references` refuses any other). Where there is room (a tall Train
screen, a wide Runs screen) the loss is on the first chart and the primary metric on the
second; on a small terminal one chart shows one quantity at a time. `cycle` switches what the
switchable chart shows (the screens bind it to **c**). Each chart's border names its quantity
and says whether higher or lower is better (top), and which series is which (bottom), so no
legend covers the curves; reference lines are labelled on the lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container, Vertical

from tasks.data.info import Reference
from tasks.engine.quantity import Quantity
from tui.widgets.loss_chart import Curves, LossChart, rich_color

SPLIT_COLORS = {"train": "cyan", "val": "orange", "test": "green"}
"""The colour of each split's series, the same on every chart."""

RUN_MARKERS = {"train": "braille", "val": "dot", "test": "+"}
"""With several runs overlaid (a colour each), how each split's points are drawn (test's are
not joined)."""
RUN_MARKER_KEYS = {"train": "─", "val": "•", "test": "+"}
"""How the lower border shows `RUN_MARKERS`."""

STACKED_MIN_HEIGHT = 26
"""Two charts one above the other from this many rows (each panel 13, its plot about 9)."""
SIDE_MIN_WIDTH = 80
"""Else two charts side by side from this many columns (each panel 40)."""


class QuantityCharts(Container):
    """Up to two panels, each a `LossChart` of one quantity's `Curves`."""

    DEFAULT_CSS = """
    QuantityCharts { width: 1fr; height: 1fr; layout: vertical; }
    QuantityCharts.-side { layout: horizontal; }
    QuantityCharts > .chart-panel { width: 1fr; height: 1fr; padding: 0; }
    """

    def __init__(self, *, primary_first: bool = False, id: str | None = None) -> None:
        """Charts with no quantities yet (`set_quantities`).

        Args:
            primary_first: with room for one chart, show the primary metric first (else the
                loss).
        """
        super().__init__(id=id)
        self.primary_first = primary_first
        self.quantities: tuple[Quantity, ...] = ()
        """The loss first, the primary metric second, then the rest."""
        self.curves: dict[str, Curves] = {}
        """Quantity name -> what its chart draws (kept while another is shown)."""
        self.runs: list[tuple[str, str]] = []
        """With several runs overlaid: (label, colour) of each, for the lower border."""
        self.two_at_a_time = False
        """Whether two charts fit (set on resize)."""
        self._metric = 0
        """With two charts: which of the quantities after the loss the second one shows."""
        self._single = 0
        """With one chart: which quantity it shows."""

    def compose(self) -> ComposeResult:
        for _ in range(2):
            with Vertical(classes="panel chart-panel"):
                chart = LossChart()
                chart.legend = False  # the panel's lower border says which series is which
                yield chart

    @property
    def charts(self) -> list[LossChart]:
        """The two charts (the second is hidden while one is shown)."""
        return list(self.query(LossChart))

    # -- data --------------------------------------------------------------------------------

    def set_quantities(
        self, quantities: Sequence[Quantity], empty: dict[str, str] | None = None
    ) -> None:
        """Start over with these quantities (the loss first, then the primary metric) and
        empty curves; `empty` says what each chart says while it has no points."""
        if tuple(quantities) != self.quantities:
            self._metric = 0
            self._single = 1 if self.primary_first and len(quantities) > 1 else 0
        self.quantities = tuple(quantities)
        self.runs = []
        self.curves = {q.name: Curves(q, colors=dict(SPLIT_COLORS)) for q in quantities}
        for q in quantities[1:]:
            self.curves[q.name].steps_like = self.curves[quantities[0].name]
        for name, text in (empty or {}).items():
            self.curves[name].empty_message = text
        if self.is_mounted:
            self.lay_out()

    def set_empty(self, message: str) -> None:
        """No quantities: one blank chart saying `message`."""
        self.set_quantities(())
        chart = self.charts[0]
        chart.show(Curves(empty_message=message))
        panel = chart.parent
        assert isinstance(panel, Vertical)
        panel.border_title = "Curves"
        panel.border_subtitle = ""

    def add_run(
        self, quantity: Quantity, label: str, color: str, series: dict[str, tuple[list, list]]
    ) -> None:
        """One of several overlaid runs: its series of `quantity` by split, in its colour."""
        if (label, color) not in self.runs:
            self.runs.append((label, color))
        curves = self.curves[quantity.name]
        for split, (xs, ys) in series.items():
            curves.set_series(f"{label} {split}", xs, ys, RUN_MARKERS[split], color)
            if split == "test":
                curves.scattered.add(f"{label} {split}")  # a few full evaluations: points

    def add_point(self, quantity: str, series: str, x: float, y: float) -> None:
        """One point of a series of `quantity` (drawn at the next redraw if shown)."""
        self.curves[quantity].add_point(series, x, y)

    def set_references(self, quantity: str, references: Iterable[Reference]) -> None:
        """The reference lines of `quantity` (each must be of it: `WrongQuantity`)."""
        self.curves[quantity].set_references(references)

    # -- layout ------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.lay_out()

    def on_mount(self) -> None:
        self.lay_out()

    def on_unmount(self) -> None:
        """Let go of the curves now (a run's whole history, on Runs), not at the next full
        garbage collection."""
        self.curves, self.runs = {}, []

    def shown(self) -> list[Quantity]:
        """The quantities on screen now, in panel order."""
        q = self.quantities
        if len(q) <= 1:
            return list(q)
        if self.two_at_a_time:
            return [q[0], q[1 + self._metric % (len(q) - 1)]]
        return [q[self._single % len(q)]]

    @property
    def can_cycle(self) -> bool:
        """Whether some quantity is not on screen (`cycle` would show it)."""
        return len(self.quantities) > len(self.shown())

    def cycle(self) -> None:
        """Show the next quantity on the switchable chart (the second, or the only one)."""
        if self.two_at_a_time:
            self._metric += 1
        else:
            self._single += 1
        self.lay_out()
        self.replot()

    def lay_out(self) -> None:
        """Choose one or two charts for the size, and point each at its quantity's curves."""
        width, height = self.size
        two = len(self.quantities) > 1 and (height >= STACKED_MIN_HEIGHT or width >= SIDE_MIN_WIDTH)
        self.two_at_a_time = two
        self.set_class(two and height < STACKED_MIN_HEIGHT, "-side")
        shown = self.shown()
        for i, chart in enumerate(self.charts):
            panel = chart.parent
            assert isinstance(panel, Vertical)
            panel.display = i < max(len(shown), 1)
            if i >= len(shown):
                continue
            curves = self.curves[shown[i].name]
            if chart.curves is not curves:
                chart.show(curves)
            panel.border_title = shown[i].heading
            panel.border_subtitle = self._key(shown[i], i == len(shown) - 1)

    def _key(self, quantity: Quantity, last: bool) -> Text:
        """Which series is which (and, on the switchable chart, what c shows next), for the
        lower border; the split markers of overlaid runs are left out when it is too long."""
        key = Text()
        if self.runs:
            for label, color in self.runs:
                key.append("● ", rich_color(color)).append(f"{label} ")
            markers = " · " + " ".join(f"{RUN_MARKER_KEYS[s]} {s}" for s in quantity.splits)
        else:
            for split in quantity.splits:
                key.append("━ ", rich_color(SPLIT_COLORS[split])).append(f"{split} ")
            markers = ""
        key.rstrip()
        hint = f"· c: {self._next_name()}" if self.can_cycle and last else ""
        room = self.size.width // (2 if self.has_class("-side") else 1) - 6
        if len(key) + len(markers) + len(hint) < room:
            key.append(markers)
        return key.append(" ").append(hint, "dim") if hint else key

    def _next_name(self) -> str:
        q = self.quantities
        if self.two_at_a_time:
            return q[1 + (self._metric + 1) % (len(q) - 1)].name
        return q[(self._single + 1) % len(q)].name

    def replot(self) -> None:
        """Redraw the charts on screen now (normally left to their timers)."""
        for chart, _ in zip(self.charts, self.shown(), strict=False):
            chart.replot()
