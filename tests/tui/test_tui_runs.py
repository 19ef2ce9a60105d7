"""Runs: the table, curves, comparing, resume and play requests, deleting with confirmation."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable
from tui_helpers import (
    ScreenApp,
    screen_text,
    sent,
    wait_for,
    write_fake_run,
    write_task_run,
)

from tasks.engine.runs import HISTORY
from tui.app import make_app
from tui.messages import PlayRequested, ResumeRequested
from tui.screens.runs import (
    RunsScreen,
    metric_cell,
    primary,
    short_date,
    short_metric,
    short_value,
)
from tui.widgets.quantity_charts import QuantityCharts


async def test_lists_runs_newest_first_with_best_metric(fake_runs: list[Path]) -> None:
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 3
        first = [str(c) for c in table.get_row_at(0)]
        assert first[1:5] == ["2025-01-03", "charlm", "rnn", "stopped"]
        assert first[6:] == ["nats 2.03", "tiny-shakespeare"]  # the best full evaluation
        text = screen_text(app)
        assert "20250103-110000" in text  # the folder, in the settings
        assert "loss (nats/char) · lower is better" in text
        charts = app.screen.query_one(QuantityCharts)
        assert set(charts.curves["nats/char"].series) == {"train", "val"}
        assert [r.value for r in charts.curves["nats/char"].references] == [1.69, 1.88, 1.47]


async def test_moving_shows_that_run_and_marking_overlays(fake_runs: list[Path]) -> None:
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert "20250102-100000" in screen_text(app)  # its folder, in the settings
        await pilot.press("space", "down", "space")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        assert [p.name[:15] for p in screen.marked] == ["20250102-100000", "20250101-090000"]
        curves = screen.query_one(QuantityCharts).curves["nats/char"]
        assert set(curves.series) == {"gru train", "gru val", "lstm train", "lstm val"}
        assert len(set(curves.colors[name] for name in curves.series)) == 2  # a colour a run
        assert len(curves.references) == 3  # the same data: its references
        assert "● gru ● lstm" in screen_text(app)
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
        (fake_runs[2] / "best.pt").write_bytes(b"placeholder")  # written while Runs shows
        app.screen.look_up_checkpoint()  # what its timer does every CHECKPOINT_LOOKUP_S
        await pilot.press("p")
        await pilot.pause()
        [request] = sent(messages, PlayRequested)
        assert request.checkpoint == fake_runs[2] / "best.pt"


async def test_redrawing_the_footer_looks_at_no_files(
    fake_runs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The footer asks `check_action` about every key at each redraw; the checkpoint it needs
    was looked up when the run was shown (a stat per key per redraw held the event loop for
    tens of ms at each visit beside a training child)."""
    looked: list[Path] = []

    def counted(run_dir: Path) -> Path | None:
        looked.append(run_dir)
        return None

    from tui.screens import runs as runs_screen

    monkeypatch.setattr(runs_screen, "playable_checkpoint", counted)
    monkeypatch.setattr(runs_screen, "CHECKPOINT_LOOKUP_S", 3600.0)  # its timer: not now
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = len(looked)
        for _ in range(5):
            app.screen.refresh_bindings()
            await pilot.pause()
        assert app.screen.check_action("play", ()) is False
        assert len(looked) == before > 0


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


def test_values_in_the_table_have_three_digits_and_no_exponent() -> None:
    values = (0.7812, 31.24, 30.96, 1.5234, 0.001023, 0.78, 99.97, 142.5, 2345.6)
    assert [short_value(v) for v in values] == [
        "0.781", "31.2", "31", "1.52", "0.00102", "0.78", "100", "142", "2,346"
    ]  # fmt: skip


async def test_a_metric_chart_first_and_the_best_metric_readable_at_80_columns(
    user_dirs: Path,
) -> None:
    root = user_dirs / "home" / "runs"
    write_task_run(root, "translation", "gru", "2025-01-06 10:00:00")
    write_task_run(root, "sentiment", "lstm", "2025-01-02 09:00:00", steps=450, pace=1.6)
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "BLEU 31 " in text and "acc 0.745" in text  # short names, whole values
        charts = app.screen.query_one(QuantityCharts)
        assert [q.name for q in charts.shown()] == ["BLEU"]  # one fits: the metric
        assert "BLEU · higher is better" in text and "GRU · test 20.6" in text
        await pilot.press("c")
        await wait_for(pilot, lambda: "loss · lower is better" in screen_text(app))
        assert "GRU · test" not in screen_text(app)  # BLEU's references stay on BLEU's chart
        await pilot.press("down")  # the sentiment run: its accuracy, then F1, then its loss
        await wait_for(pilot, lambda: "NBSVM · test 0.794" in screen_text(app))
        assert [q.name for q in charts.shown()] == ["accuracy"]


async def test_long_histories_are_read_in_a_thread(
    fake_runs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `INLINE_HISTORY_BYTES` the histories are read off the event loop: the table has
    each run's latest metric from its summary and the charts say they wait; then both fill."""
    from tui.screens import runs as runs_screen

    monkeypatch.setattr(runs_screen, "INLINE_HISTORY_BYTES", 0)
    gate = threading.Event()
    read = runs_screen.read_chart_history
    monkeypatch.setattr(
        runs_screen, "read_chart_history", lambda p, since: gate.wait(20) and read(p, since)
    )
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            await wait_for(pilot, lambda: "reading the run's history…" in screen_text(app))
            screen = app.screen
            assert isinstance(screen, RunsScreen)
            run = screen.runs[0]
            assert str(screen.query_one(DataTable).get_row_at(0)[6]) == metric_cell(
                run, *primary(run)
            )
            charts = screen.query_one(QuantityCharts)
            assert charts.curves["nats/char"].series == {}
        finally:
            gate.set()
        await wait_for(pilot, lambda: set(charts.curves["nats/char"].series) == {"train", "val"})
        assert "reading the run's history…" not in screen_text(app)


async def test_a_visit_fills_the_table_and_draws_the_charts_once(
    fake_runs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visit fills the table and draws the highlighted run once: not again when the filled
    table highlights its row, nor when the first layout gives the screen its width (the first
    visit did both, half of its event-loop block beside a training child)."""
    calls: list[str] = []
    for name in ("_fill", "_show"):
        method = getattr(RunsScreen, name)

        def counted(self: RunsScreen, method=method, name=name) -> None:
            calls.append(name)
            method(self)

        monkeypatch.setattr(RunsScreen, name, counted)
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for visit in (1, 2):
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
            for _ in range(5):
                await pilot.pause()
            assert calls == ["_fill", "_show"] * visit
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, RunsScreen))
        await pilot.press("r", "down")
        await wait_for(pilot, lambda: "20250102-100000" in screen_text(app))
        assert calls[-2:] == ["_show", "_show"]  # the visit's, then the next run's


async def test_the_app_keeps_one_runs_screen_and_reads_what_changed(
    fake_runs: list[Path],
) -> None:
    """Runs is built once (a visit costs no compose beside a training child) and each later
    visit reads the runs folder again: a run saved meanwhile is listed, and a run's steps
    written meanwhile are read on from where the last visit stopped."""
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        runs = app.screen
        assert runs.query_one(DataTable).row_count == 3
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RunsScreen))
        assert runs.is_mounted  # kept, not removed
        stopped = fake_runs[2]  # the newest, highlighted, trains on meanwhile
        assert runs.history(stopped).steps[-1] < 300
        with (stopped / HISTORY).open("a") as handle:
            handle.write(json.dumps({"event": "step", "step": 300, "loss": 1.9}) + "\n")
        write_fake_run(fake_runs[0].parent, "20250104-120000-charlm-gru-tiny-shakespeare",
                       "gru", "2025-01-04 12:00:00", 1.5)  # fmt: skip
        await pilot.press("r")
        await wait_for(pilot, lambda: app.screen is runs)
        table = runs.query_one(DataTable)
        assert table.row_count == 4
        assert [str(c) for c in table.get_row_at(0)][1] == "2025-01-04"
        assert "20250104-120000" in screen_text(app)  # its settings: it is highlighted
        assert runs.history(stopped).steps[-1] == 300  # read on from the last visit
