"""Runs: the table, curves, comparing, resume and play requests, deleting with confirmation."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import DataTable
from tui_helpers import ScreenApp, screen_text, sent, wait_for

from tui.messages import PlayRequested, ResumeRequested
from tui.screens.runs import RunsScreen, short_date, short_metric
from tui.widgets.loss_chart import LossChart


async def test_lists_runs_newest_first_with_best_metric(fake_runs: list[Path]) -> None:
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 3
        first = [str(c) for c in table.get_row_at(0)]
        assert first[1:6] == ["2025-01-03", "charlm", "rnn", "tiny-shakespeare", "stopped"]
        assert first[7] == "loss 2.03"
        text = screen_text(app)
        assert "Curves · 20250103-110000-charlm-rnn-tiny-shakespeare" in text
        chart = app.screen.query_one(LossChart)
        assert set(chart.series) == {"train", "val"}
        assert chart.anchors["5-gram"] == 1.69


async def test_moving_shows_that_run_and_marking_overlays(fake_runs: list[Path]) -> None:
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert "Curves · 20250102-100000-charlm-gru" in screen_text(app)
        await pilot.press("space", "down", "space")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        assert [p.name[:15] for p in screen.marked] == ["20250102-100000", "20250101-090000"]
        chart = screen.query_one(LossChart)
        assert len(chart.series) == 4  # train and val of each
        assert len(set(chart.series_colors.values())) == 2  # one colour per run
        assert chart.anchors == {}
        assert "Comparing 2 run(s)" in screen_text(app)
        await pilot.press("escape")  # clears the marks first
        await pilot.pause()
        assert screen.marked == [] and app.screen is screen


async def test_resume_asks_for_epochs_then_requests(fake_runs: list[Path]) -> None:
    (fake_runs[2] / "last.pt").write_bytes(b"placeholder")
    messages: list = []
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert type(app.screen).__name__ == "ResumeScreen"
        await pilot.press("enter")
        await pilot.pause()
        [request] = sent(messages, ResumeRequested)
        assert request.run_dir == fake_runs[2] and request.epochs == 2


async def test_play_requests_the_checkpoint(fake_runs: list[Path]) -> None:
    messages: list = []
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        await pilot.press("p")  # no checkpoint in the fake run: disabled
        await pilot.pause()
        assert not sent(messages, PlayRequested)
        (fake_runs[2] / "best.pt").write_bytes(b"placeholder")
        app.screen.refresh_bindings()
        await pilot.press("p")
        await pilot.pause()
        [request] = sent(messages, PlayRequested)
        assert request.checkpoint == fake_runs[2] / "best.pt"


async def test_delete_asks_first(fake_runs: list[Path]) -> None:
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")
        await pilot.pause()
        assert fake_runs[2].exists()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: not fake_runs[2].exists())
        assert app.screen.query_one(DataTable).row_count == 2


async def test_no_runs_says_how_to_make_one() -> None:
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "No saved runs yet" in screen_text(app))


def test_dates_this_year_drop_the_year() -> None:
    this_year = time.strftime("%Y")
    assert short_date(f"{this_year}-11-27 03:40:12") == "11-27 03:40"
    assert short_date("2025-01-03 11:00:00") == "2025-01-03"
    assert short_metric("val_loss") == "loss" and short_metric("test_bleu") == "bleu"
    assert short_metric("rmse") == "rmse"
