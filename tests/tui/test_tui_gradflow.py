"""The gradient-flow lab: heatmap, profile chart, loss and caption from events; a live run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from textual.widgets import Input
from tui_helpers import ScreenApp, screen_text, wait_for

from tasks.engine.events import EvalDone, Failed, StepLogged
from tasks.gradflow.task import GradientProfile
from tasks.registry import default_config
from tui.screens.gradflow import FlowRun, GradFlowScreen
from tui.widgets.grad_heatmap import OVERFLOW, PALETTE, GradHeatmap, _colour, log_grid
from tui.widgets.loss_chart import LossChart


def step_event(step: int, decay: float, length: int = 40, exploding: bool = False) -> StepLogged:
    """A step whose profile decays geometrically by `decay` per step back in time."""
    norms = decay ** np.arange(length - 1, -1, -1)  # t = 1..N: the end has the largest
    profile = GradientProfile.measured(
        step, norms[None], 2 * norms[None], 1e4 if exploding else 2.0, 1.0, 1.0
    )
    return StepLogged(step, 0, 0.1, 0.5 / step, 1e-3, 2.0, 100.0, 1.0, None, profile.to_dict())


def test_log_grid_bins_time_steps_and_marks_overflow() -> None:
    columns = [[1.0, 10.0, 100.0, 1000.0], [None, 1.0, 0.0, 1.0]]
    grid = log_grid(columns, rows=2, width=10)
    assert grid.shape == (2, 2)
    assert grid[0, 0] == 0.5 and grid[1, 0] == 2.5  # mean log10 of each half
    assert math.isnan(grid[0, 1])  # an overflowed value marks its cell
    assert grid[1, 1] == 0.0  # a zero gradient does not drag the mean to -inf
    assert _colour(math.nan, 0, 1) == OVERFLOW
    assert _colour(0.0, 0.0, 3.0) == PALETTE[0] and _colour(3.0, 0.0, 3.0) == PALETTE[-1]
    assert log_grid([[1.0]] * 50, rows=1, width=5).shape == (1, 5)  # columns sampled to fit


async def test_two_runs_side_by_side_from_events() -> None:
    rnn = default_config("gradflow", "rnn", seq_len=40)
    lstm = default_config("gradflow", "lstm", seq_len=40)
    screen = GradFlowScreen([FlowRun(rnn, None), FlowRun(lstm, None)])
    app = ScreenApp(screen)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        for step in (1, 25, 50):
            screen.post_message(GradFlowScreen.EventArrived(0, step_event(step, 0.5)))
            screen.post_message(GradFlowScreen.EventArrived(1, step_event(step, 0.98)))
        metrics = {"val_loss": 0.15, "val_mse": 0.15, "baseline_mse": 0.167}
        screen.post_message(GradFlowScreen.EventArrived(1, EvalDone(50, 0, metrics, False)))
        await wait_for(
            pilot, lambda: len(screen.query_one("#gf-heatmap-1", GradHeatmap).steps) == 3
        )
        await wait_for(pilot, lambda: "= 4.55e-01" in screen_text(app))  # the last caption
        assert screen.query_one("#gf-heatmap-0", GradHeatmap).steps == [1, 25, 50]
        chart = screen.query_one("#gf-profile", LossChart)
        assert set(chart.series) == {"rnn (1)", "lstm (2)"}
        xs, ys = chart.series["rnn (1)"]
        assert xs[0] == 0 and xs[-1] == 39  # distance from the end
        assert ys[-1] - ys[0] == pytest.approx(39 * math.log10(0.5), rel=1e-3)
        [baseline] = screen.query_one("#gf-loss-1", LossChart).references
        assert (baseline.label, baseline.value, baseline.split) == ("predicting 1", 0.167, "val")
        text = screen_text(app)
        assert "||dL/dh_1|| / ||dL/dh_T|| = 1.82e-12" in text  # 0.5 ** 39, 4 digits
        assert "= 4.55e-01" in text  # 0.98 ** 39
        assert "t=1" in text and "log10 ||dL/dh_t||" in text
        assert not screen.check_action("compare", ())  # two runs already
        await pilot.press("j")  # the other quantity: ||u^T dh_T/dh_t||
        heatmap = screen.query_one("#gf-heatmap-0", GradHeatmap)
        await wait_for(pilot, lambda: heatmap.columns[0][-1] == 2.0)
        assert heatmap.steps == [1, 25, 50] and heatmap.columns[0][-1] == 2.0
        assert chart.ylabel == "log10 ||u^T dh_T/dh_t||" and "rnn (1)" in chart.series
        await pilot.press("j")
        await wait_for(pilot, lambda: heatmap.columns[0][-1] == 1.0)
        assert chart.ylabel == "log10 ||dL/dh_t||"


async def test_exploding_and_failure_are_reported() -> None:
    screen = GradFlowScreen([FlowRun(default_config("gradflow", "rnn", seq_len=40), None)])
    app = ScreenApp(screen)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen.post_message(GradFlowScreen.EventArrived(0, step_event(5, 3.0, exploding=True)))
        await wait_for(pilot, lambda: "exploding" in screen.notes[0])
        assert "1e+04 before clipping" in screen_text(app)
        reason = "loss became nan at step 6; training stopped (try a lower --lr or a --clip value)"
        screen.post_message(GradFlowScreen.EventArrived(0, Failed(6, reason, None)))
        await wait_for(pilot, lambda: screen.notes[0].startswith("failed"))
        assert "loss became nan" in screen_text(app)


async def test_switches_start_two_live_runs() -> None:
    """The lab's switches: a bad T is refused with one line; then two real runs draw heatmaps."""
    screen = GradFlowScreen()
    app = ScreenApp(screen)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen.query_one("#field-seq_len-input", Input).value = "1"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.setting_up and not screen.runs
        assert any("between 2 and 1000" in n.message for n in app._notifications)
        screen.query_one("#field-seq_len-input", Input).value = "12"
        screen.query_one("#field-minutes-input", Input).value = "0.05"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(screen.runs) == 2)
        assert [r.config.arch for r in screen.runs] == ["rnn", "lstm"]
        assert all(r.config.threads == 1 and r.config.seq_len == 12 for r in screen.runs)
        await wait_for(pilot, lambda: all(n.startswith("finished") for n in screen.notes), 120)
        for i in range(2):
            heatmap = screen.query_one(f"#gf-heatmap-{i}", GradHeatmap)
            # probed steps: 1, then every 25th; only the newest probe per step event is shown
            assert heatmap.steps == sorted(set(heatmap.steps))
            assert heatmap.steps and all(s == 1 or s % 25 == 0 for s in heatmap.steps)
            assert all(len(column) == 12 for column in heatmap.columns)
        assert "finished, val_loss" in screen_text(app)


async def test_compare_adds_the_other_architecture() -> None:
    config = default_config(
        "gradflow", "lstm", seq_len=12, hidden=8, batch=4, epochs=1, threads=1, clip=0.5
    )
    screen = GradFlowScreen.new(config)
    app = ScreenApp(screen)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert not screen.check_action("start", ())
        await pilot.press("c")
        await wait_for(pilot, lambda: len(screen.runs) == 2)
        second = screen.runs[1].config
        assert (second.arch, second.seq_len, second.clip, second.hidden) == ("rnn", 12, 0.5, 8)
        await wait_for(pilot, lambda: all(n.startswith("finished") for n in screen.notes), 120)


async def test_new_gradflow_run_opens_the_lab() -> None:
    from tui.app import make_app
    from tui.messages import NewRunRequested

    app = make_app(preload_torch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app.post_message(NewRunRequested("gradflow"))
        await wait_for(pilot, lambda: isinstance(app.screen, GradFlowScreen))
        await wait_for(pilot, lambda: "Switches" in screen_text(app))
        assert app.screen.setting_up
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, GradFlowScreen))


async def test_switches_offer_the_modern_cores() -> None:
    """Run 1 and Run 2 list the modern cores; the classic switches do not reach them."""
    from textual.widgets import Select

    from tui.widgets.gradflow_setup import GradFlowSetup

    screen = GradFlowScreen()
    app = ScreenApp(screen)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        for name, value in (("arch", "lru"), ("compare", "lstm"), ("init", "orthogonal")):
            screen.query_one(f"#field-{name} Select", Select).value = value
        await pilot.pause()
        lru, lstm = screen.query_one(GradFlowSetup).configs()
        assert (lru.arch, lru.block, lru.init) == ("lru", True, "default")
        assert (lstm.arch, lstm.block, lstm.init) == ("lstm", False, "orthogonal")


async def test_a_modern_core_beside_the_lstm_on_one_chart() -> None:
    """c beside a modern core trains the LSTM with the same problem and sizes; both newest
    profiles share the chart, each in its own series."""
    config = default_config(
        "gradflow", "mingru", seq_len=12, hidden=8, batch=4, epochs=1, threads=1, clip=0.5
    )
    screen = GradFlowScreen([FlowRun(config, None)])
    app = ScreenApp(screen)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen.post_message(GradFlowScreen.EventArrived(0, step_event(1, 0.9, length=12)))
        await pilot.press("c")
        await wait_for(pilot, lambda: len(screen.runs) == 2)
        second = screen.runs[1].config
        assert (second.arch, second.seq_len, second.hidden, second.clip) == ("lstm", 12, 8, 0.5)
        assert not second.block
        chart = screen.query_one("#gf-profile", LossChart)
        await wait_for(pilot, lambda: "lstm (2)" in chart.series, 120)
        assert "mingru (1)" in chart.series
        assert len(chart.series["lstm (2)"][0]) == 12  # one point per time step
        await wait_for(pilot, lambda: screen.notes[1].startswith("finished"), 120)
