"""The train screen: events to widgets, pause/save/stop, failures, bounded chart redraws."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fake_events import TASK_DATASETS, FakeTrainer, nan_failure, run_until, steps
from tui_helpers import ScreenApp, screen_text, tiny_config, wait_for

from tasks.engine.runs import read_history, read_run
from tasks.engine.settings import ConfigError
from tui import messages
from tui.screens.train import TrainScreen
from tui.widgets.loss_chart import REDRAW_S, downsample, integer_ticks
from tui.widgets.quantity_charts import QuantityCharts
from tui.widgets.run_stats import RunStats
from tui.widgets.train_progress import TrainProgress


def fake_screen(
    events, delay: float = 0.0, hold: bool = False, task: str = "charlm"
) -> tuple[TrainScreen, FakeTrainer]:
    trainer = FakeTrainer(events, delay=delay, hold=hold)
    screen = TrainScreen(lambda: trainer, task=task, dataset=TASK_DATASETS[task], epochs=2)
    return screen, trainer


def test_bridge_maps_every_event_kind() -> None:
    events = run_until(100)
    kinds = {type(messages.for_event(e)).__name__ for e in events}
    assert kinds == {"RunStarted", "StepLogged", "EvalLogged"}
    assert isinstance(messages.for_event(nan_failure()), messages.RunFailed)


def test_step_axis_ticks_are_whole_numbers_from_end_to_end() -> None:
    assert integer_ticks(1, 44) == [1, 12, 22, 33, 44]  # plotext alone labelled these 11.8, ...
    assert integer_ticks(1.5, 420) == [2, 106, 211, 315, 420]
    assert integer_ticks(0, 2) == [0, 1, 2]  # never the same tick twice
    assert integer_ticks(0, 5) == [0, 1, 2, 3, 4, 5]  # a sweep's six trials: none left out
    assert integer_ticks(0.5, 9.5) == list(range(1, 10))
    assert integer_ticks(0, 10) == [0, 2, 5, 8, 10]  # 11 integers: spread


def test_downsample_keeps_ends_and_limit() -> None:
    xs = list(range(10_000))
    ys = [float(x) for x in xs]
    dx, dy = downsample(xs, ys, 200)
    assert len(dx) <= 200
    assert dx[-1] == 9_999 and dy[-1] == 9_999.0
    assert dx[0] < 100


async def test_events_drive_chart_stats_and_progress() -> None:
    screen, _ = fake_screen(run_until(300))
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.state == "stopped" or
                       (screen.query_one(RunStats).step is not None and
                       screen.query_one(RunStats).step.step == 300))  # fmt: skip
        # the chart and the numbers repaint on their timers (every REDRAW_S / STATS_EVERY_S)
        await wait_for(pilot, lambda: "5-gram · val 1.69" in screen_text(app))
        charts = screen.query_one(QuantityCharts)
        assert [q.name for q in charts.shown()] == ["nats/char"]  # the loss is the metric
        curves = charts.curves["nats/char"]
        assert len(curves.series["train"][0]) == 30
        assert curves.series["val"][0] == [100.0, 200.0, 300.0]
        assert [r.label for r in curves.references] == ["5-gram", "nanoGPT CPU", "baby GPT (A100)"]
        stats = screen.query_one(RunStats)
        assert stats.best == stats.metrics["val_loss"]
        assert screen.query_one(TrainProgress).progress == 0.5
        text = screen_text(app)
        for needle in ("21,500", "3,320,129", "300 / 600", "nanoGPT CPU · val 1.88"):
            assert needle in text, needle
        assert "loss (nats/char) · lower is better" in text
        assert not screen.check_action("cycle_chart", ())  # nothing else to show


async def test_the_metric_has_its_own_chart_with_only_its_references() -> None:
    screen, _ = fake_screen(run_until(300, task="sentiment"), task="sentiment")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        charts = screen.query_one(QuantityCharts)
        # the full evaluation at step 300 is the last event (the references are drawn from the
        # start, so their text alone does not say that the events have all arrived)
        await wait_for(pilot, lambda: "test" in charts.curves["accuracy"].series)
        await wait_for(pilot, lambda: "NBSVM · test 0.794" in screen_text(app))
        assert [q.name for q in charts.shown()] == ["loss", "accuracy"]  # two fit, stacked
        accuracy, loss, f1 = (charts.curves[n] for n in ("accuracy", "loss", "F1"))
        assert accuracy.series["val"][0] == [100.0, 200.0, 300.0]
        assert accuracy.series["test"] == ([300.0], [0.758])  # the full evaluation only
        assert loss.series["val"][0] == [100.0, 200.0] and loss.series["test"][0] == [300.0]
        assert f1.series == {"test": ([300.0], [0.766])}
        assert [r.label for r in accuracy.references] == ["NBSVM"]
        assert loss.references == () and f1.references == ()
        text = screen_text(app)
        assert "accuracy · higher is better" in text and "loss · lower is better" in text
        await pilot.press("c")  # the second chart switches to F1; the loss stays
        await wait_for(pilot, lambda: "F1 · higher is better" in screen_text(app))
        assert [q.name for q in charts.shown()] == ["loss", "F1"]
        assert "NBSVM" not in screen_text(app)


async def test_one_chart_at_a_time_on_a_small_terminal() -> None:
    screen, _ = fake_screen(run_until(300, task="translation"), task="translation")
    app = ScreenApp(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        charts = screen.query_one(QuantityCharts)
        await wait_for(pilot, lambda: len(charts.curves["BLEU"].series.get("val", ([],))[0]) == 3)
        assert [q.name for q in charts.shown()] == ["loss"]
        assert "c: BLEU" in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: "BLEU · higher is better" in screen_text(app))
        assert [q.name for q in charts.shown()] == ["BLEU"]
        assert "GRU + attention · test 28.3" in screen_text(app)


async def test_baselines_measured_by_the_run_are_drawn_on_their_quantity() -> None:
    screen, _ = fake_screen(run_until(200, task="timeseries"), task="timeseries")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        charts = screen.query_one(QuantityCharts)
        await wait_for(pilot, lambda: len(charts.curves["RMSE"].references) == 3)
        rmse = charts.curves["RMSE"]
        labels = {r.label: (r.value, r.split) for r in rmse.references}
        assert labels == {"seasonal naive + drift": (15.7, "test"), "persistence": (46.1, "test"),
                          "seasonal naive": (41.92, "test")}  # fmt: skip
        assert charts.curves["loss"].references == ()


async def test_pause_save_and_stop_keys(tmp_path: Path) -> None:
    screen, trainer = fake_screen(run_until(100), hold=True)
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.state == "training")
        await pilot.press("space")
        assert screen.state == "paused" and trainer.pause.is_set()
        await pilot.press("s")
        assert trainer.save_requested.is_set()
        await pilot.press("space")
        assert screen.state == "training" and not trainer.pause.is_set()
        await wait_for(pilot, lambda: trainer.saves == 1)
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.state == "stopped")
        assert "stopped" in screen_text(app)
        assert screen.checkpoint == Path("/runs/demo/last.pt")


async def test_nan_shows_a_clear_message_and_keeps_the_checkpoint() -> None:
    events = [*run_until(120), nan_failure(120)]
    screen, _ = fake_screen(events)
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.state == "failed")
        await pilot.pause()
        text = screen_text(app)
        assert "Training failed: loss became nan at step 121" in text
        assert "The last good checkpoint is kept: /runs/demo/last.pt" in text


async def test_an_error_while_building_is_shown() -> None:
    def build():
        raise ConfigError("--seq-len 128 is longer than the data allows: use a smaller --seq-len")

    screen = TrainScreen(build, task="charlm", dataset="x.txt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.state == "failed")
        await pilot.pause()
        assert "--seq-len 128 is longer than the data allows" in screen_text(app)


async def test_chart_redraws_at_a_bounded_rate() -> None:
    screen = TrainScreen(None, task="charlm", dataset="tiny-shakespeare")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chart = screen.query_one(QuantityCharts).charts[0]
        before = chart.redraws
        start = time.monotonic()
        for event in steps(2_000, total=2_000, every=1):  # 2000 points, posted at once
            screen.post_message(messages.for_event(event))
        await wait_for(pilot, lambda: len(chart.series.get("train", ([],))[0]) == 2_000)
        await wait_for(pilot, lambda: chart.redraws > before)  # the last points are drawn too
        elapsed = time.monotonic() - start
        assert chart.redraws - before <= elapsed / REDRAW_S + 2


async def test_real_tiny_run_trains_and_saves(small_text: Path) -> None:
    screen = TrainScreen.new(tiny_config(small_text))
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.state in ("finished", "failed"), 60)
        assert screen.state == "finished", screen.failure
        assert screen.checkpoint is not None and screen.checkpoint.is_file()
        info = read_run(screen.run_dir)
        assert info is not None and info.status == "finished"
        summary = json.loads((screen.run_dir / "summary.json").read_text())
        assert summary["metrics"]["val_loss"] > 0


async def test_leaving_while_training_asks_and_stops(small_text: Path) -> None:
    screen = TrainScreen.new(tiny_config(small_text, epochs=200))
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.state == "training", 60)
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is not screen, 60)  # the child saves, exits
        assert screen.stop_event.is_set() and screen.state == "stopped"
        assert read_run(screen.run_dir).status == "stopped"
        history = read_history(screen.run_dir)
        assert history[-1]["event"] == "finished" and history[-1]["stopped"]
        stop = [e for e in history if e["event"] == "checkpoint"][-1]
        assert stop["reason"] == "stop" and stop["path"] == str(screen.run_dir / "last.pt")
        assert (screen.run_dir / "last.pt").is_file()


async def test_chart_text_is_reused_until_the_figure_changes() -> None:
    screen = TrainScreen(None, task="charlm", dataset="tiny-shakespeare")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chart = screen.query_one(QuantityCharts).charts[0]
        chart.add_point("train", 1, 2.0)
        chart.add_point("train", 2, 1.5)
        chart.replot()
        first = chart.figure_lines()
        assert chart.figure_lines() is first  # a repaint (e.g. a modal closing) draws nothing
        chart.add_point("train", 3, 1.2)
        chart.replot()
        assert chart.figure_lines() is not first
