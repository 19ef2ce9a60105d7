"""Play for time-series checkpoints: the series, its test part, the model's forecast from any
origin and the naive baselines in one chart, with the metrics beside it.

The checkpoint is loaded in a thread worker (`SeriesForecaster`); a forecast of a tiny model
takes milliseconds, so it runs on the UI thread whenever the horizon or the origin changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Button, Footer, Header, Label, Static

from tui.screens.model_play import ModelPlayScreen
from tui.widgets.field import Field
from tui.widgets.loss_chart import LossChart

METRICS = (
    ("test_rmse", "model RMSE"),
    ("persistence_rmse", "persistence RMSE"),
    ("seasonal_naive_rmse", "seasonal naive RMSE"),
    ("test_mae", "model MAE"),
    ("test_r2", "model R²"),
    ("val_rmse", "validation RMSE"),
)
"""Checkpoint metric -> label, in the order shown beside the chart."""

COLORS = {"series": "gray", "test part": "white", "forecast": "orange",
          "persistence": "blue", "seasonal naive": "green", "origin": "red"}  # fmt: skip
"""Chart series -> plotext colour."""


class ForecastPlayScreen(ModelPlayScreen):
    """Horizon and origin on the left with the metrics; the chart on the right."""

    HELP = """\
### Play: forecasting

The chart shows the series (grey), its **test part** (white), the model's **forecast** (orange)
of the next **horizon** steps after the **origin** (red), and the two baselines from the same
origin: **persistence** (the last known value, blue) and the **seasonal naive** (the value one
season back, green). Type an origin (a date of the series, or a step index; empty: the end of
the series) or move it one step with **page up / page down**; **ctrl+g** forecasts again.

The metrics on the left are the checkpoint's one-step test scores, in the series' units, on
exactly the same targets for the model and the baselines.
"""

    BINDINGS = [
        Binding("ctrl+g", "forecast", "Forecast", priority=True),
        Binding("pageup", "move(-1)", "Origin −1"),
        Binding("pagedown", "move(1)", "Origin +1"),
        Binding("escape", "back", "Back"),
    ]

    task_name = "timeseries"

    origin: reactive[int | None] = reactive(None)
    """The last known step of the forecast (None until the model is loaded)."""

    def __init__(self, checkpoint: str | Path, forecaster: Any = None) -> None:
        """Play with a timeseries checkpoint.

        Args:
            checkpoint: the `.pt` file.
            forecaster: an already loaded `SeriesForecaster` (or a stand-in with `series`,
                `config`, `metrics`, `task.split` and `forecast`); by default it is loaded in a
                worker.
        """
        super().__init__(checkpoint, forecaster)
        self.last_forecast: Any = None
        """The `Forecast` drawn now (tests read it)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="play-body"):
            with VerticalScroll(id="play-controls", classes="panel"):
                yield Field("horizon", "Horizon", 12, "int", inline=True)
                yield Field("origin", "Origin", "", "text", inline=True, optional=True,
                            placeholder="end of series")  # fmt: skip
                with Horizontal(id="play-buttons"):
                    yield Button("Forecast", id="forecast", variant="primary")
                    yield Button("From end", id="from-end")
                yield Label("Metrics (one-step, test)", classes="hint")
                yield Static("", id="forecast-metrics")
                yield Static("", id="forecast-table")
            with Vertical(id="play-output", classes="panel"):
                yield LossChart(title="", ylabel="value", xlabel="step", id="forecast-chart")
                yield Static("", id="play-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#play-controls").border_title = "Forecast"
        self.query_one("#play-output").border_title = "Series"
        self.query_one(LossChart).empty_message = "loading the model…"

    # -- loading -----------------------------------------------------------------------------

    @property
    def forecaster(self) -> Any:
        """The loaded `SeriesForecaster` (None until then)."""
        return self.model

    def ready_text(self, description: str) -> Text:
        """Ready, with the series' note (if any) in yellow."""
        status = super().ready_text(description)
        note = self.forecaster.series.note
        if note:
            status.append(f" · {note}", style="yellow")
        return status

    def model_ready(self, description: str) -> None:
        f = self.forecaster
        self.query_one("#field-horizon", Field).text = max(f.config.horizon, 12)
        self.query_one("#forecast-metrics", Static).update(self._metrics_text())
        self.origin = len(f.series) - 1

    def _metrics_text(self) -> Text:
        metrics = self.forecaster.metrics
        text = Text()
        for key, label in METRICS:
            if key in metrics:
                value = metrics[key]
                style = ""
                if key == "test_rmse" and "persistence_rmse" in metrics:
                    style = "green" if value < metrics["persistence_rmse"] else "red"
                text.append(f"{label:22}", style="dim")
                text.append(f"{value:.4g}\n", style=style)
        if not text:
            text.append("no metrics in this checkpoint", style="dim")
        return text

    # -- forecasting -------------------------------------------------------------------------

    def settings(self) -> tuple[int, int | str | None] | None:
        """(horizon, origin) from the fields, or None (errors shown inline)."""
        horizon_field = self.query_one("#field-horizon", Field)
        try:
            horizon = horizon_field.parse()
            horizon_field.error = "" if 1 <= horizon <= 2000 else "between 1 and 2000"
        except ValueError as exc:
            horizon_field.error = str(exc)
        if horizon_field.error:
            return None
        origin_field = self.query_one("#field-origin", Field)
        origin_field.error = ""
        text = origin_field.text.strip()
        origin: int | str | None = None
        if text:
            origin = int(text) if text.lstrip("-").isdigit() else text
        return horizon, origin

    @on(Button.Pressed, "#forecast")
    def action_forecast(self) -> None:
        """Forecast with the horizon and the origin typed."""
        if self.forecaster is None:
            return
        settings = self.settings()
        if settings is None:
            return
        horizon, origin = settings
        try:
            index = self.forecaster.origin_index(origin)
        except ValueError as exc:
            self.query_one("#field-origin", Field).error = str(exc).replace("--origin ", "")
            return
        self.draw(horizon, index)

    @on(Button.Pressed, "#from-end")
    def _from_end(self) -> None:
        self.query_one("#field-origin", Field).text = ""
        self.action_forecast()

    def action_move(self, steps: int) -> None:
        """Move the origin by `steps` and forecast again."""
        if self.forecaster is None or self.origin is None:
            return
        n = len(self.forecaster.series)
        first = self.forecaster.task.min_target - 1
        index = min(max(self.origin + steps, first), n - 1)
        self.query_one("#field-origin", Field).text = self.forecaster.series.date_text(index)
        self.action_forecast()

    def watch_origin(self, origin: int | None) -> None:
        if origin is not None and self.last_forecast is None:
            self.action_forecast()

    def draw(self, horizon: int, origin: int) -> None:
        """Forecast `horizon` steps after `origin` and redraw the chart and the table."""
        f = self.forecaster
        try:
            result = f.forecast(horizon, origin)
        except ValueError as exc:
            self.query_one("#play-status", Static).update(Text(f"error: {exc}", style="red"))
            return
        self.last_forecast = result
        self.origin = origin
        series, split = f.series, f.task.split
        n = len(series)
        span = max(n - split.test_start, 3 * horizon, 24)
        start = max(0, min(split.test_start, origin) - span)
        end = min(n, max(origin + horizon + 1, split.test_start))
        y = series.values
        chart = self.query_one(LossChart)
        chart.clear()
        xs = list(range(start, min(end, split.test_start) + 1))
        chart.set_series("series", xs, y[xs[0] : xs[-1] + 1], color=COLORS["series"])
        if split.test_start < n:
            tx = list(range(split.test_start, n))
            chart.set_series("test part", tx, y[split.test_start :], color=COLORS["test part"])
        path_x = [origin, *range(origin + 1, origin + horizon + 1)]
        chart.set_series("forecast", path_x, [y[origin], *result.values], color=COLORS["forecast"])
        chart.set_series("persistence", path_x, [y[origin], *result.persistence],
                         color=COLORS["persistence"])  # fmt: skip
        naive = [v for v in result.seasonal_naive if v is not None]
        if len(naive) == horizon:
            chart.set_series("seasonal naive", path_x, [y[origin], *naive],
                             color=COLORS["seasonal naive"])  # fmt: skip
        chart.set_series("origin", [origin], [y[origin]], color=COLORS["origin"])
        chart.chart_title = (
            f"{f.config.dataset} · test from {series.date_text(split.test_start)} · "
            f"forecast {horizon} after {result.origin_date}"
        )
        chart.xlabel = f"step ({series.date_text(start)} = {start})"
        chart.ylabel = series.unit or series.column
        chart.replot()
        self.query_one("#forecast-table", Static).update(self._table(result))
        errors = [v - a for v, a in zip(result.values, result.actual, strict=True) if a is not None]
        status = f"forecast {horizon} step(s) after {result.origin_date}"
        if errors:
            rmse = (sum(e * e for e in errors) / len(errors)) ** 0.5
            status += f" · RMSE over the {len(errors)} known step(s) {rmse:.4g}"
        self.query_one("#play-status", Static).update(status)

    def _table(self, result: Any) -> Text:
        text = Text("\n")
        text.append(f"{'date':10} {'model':>8} {'actual':>8}\n", style="bold")
        for d, v, a in list(zip(result.dates, result.values, result.actual, strict=True))[:24]:
            actual = "" if a is None else f"{a:.4g}"
            text.append(f"{d:10} {v:8.4g} {actual:>8}\n")
        if len(result.dates) > 24:
            text.append(f"… {len(result.dates) - 24} more", style="dim")
        return text

    @on(Field.Edited)
    def _edited(self) -> None:
        self.settings()
