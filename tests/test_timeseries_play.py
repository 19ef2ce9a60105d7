"""The forecasting Play screen: a real checkpoint, the chart's series, horizon and origin."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_timeseries import monthly_csv
from textual.widgets import Input, Static
from tui_helpers import ScreenApp, wait_for

from tui.cli import main
from tui.screens.forecast_play import ForecastPlayScreen
from tui.screens.play import play_screen_for
from tui.widgets.loss_chart import LossChart


@pytest.fixture
def checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    data = monthly_csv(tmp_path / "sales.csv")
    run = tmp_path / "run"
    args = ["train", "timeseries", "--dataset", str(data), "--hidden", "8", "--seq-len", "12",
            "--epochs", "1", "--threads", "1", "--out", str(run), "--json"]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    return run / "last.pt"


async def test_forecast_screen_draws_forecast_and_baselines(checkpoint: Path) -> None:
    screen = play_screen_for(checkpoint)
    assert isinstance(screen, ForecastPlayScreen)
    app = ScreenApp(screen)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: screen.last_forecast is not None)
        chart = screen.query_one(LossChart)
        assert {"series", "test part", "forecast", "persistence", "seasonal naive"} <= set(
            chart.series
        )
        first = screen.last_forecast
        assert first.origin == 119 and len(first.values) == 12  # from the end, a year ahead
        metrics = str(screen.query_one("#forecast-metrics", Static).render())
        assert "model RMSE" in metrics and "persistence RMSE" in metrics

        screen.query_one("#field-horizon-input", Input).value = "6"
        screen.query_one("#field-origin-input", Input).value = "2007-12"
        await pilot.pause()
        await pilot.press("ctrl+g")
        await pilot.pause()
        f = screen.last_forecast
        assert (f.origin_date, len(f.values)) == ("2007-12", 6)
        assert f.actual[0] is not None  # inside the series: the truth is drawn too
        assert len(chart.series["forecast"][0]) == 7  # the origin and 6 steps

        await pilot.press("pagedown")
        await pilot.pause()
        assert screen.last_forecast.origin_date == "2008-01"

        screen.query_one("#field-horizon-input", Input).value = "0"
        await pilot.pause()
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert screen.query_one("#field-horizon").error == "between 1 and 2000"
        assert screen.last_forecast.origin_date == "2008-01"  # unchanged

        screen.query_one("#field-horizon-input", Input).value = "3"
        screen.query_one("#field-origin-input", Input).value = "1800-01"
        await pilot.pause()
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "is not a date of the series" in screen.query_one("#field-origin").error
