"""The whole flow through the real app, and quitting in the middle of training."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import set_value, tiny_config, train_through_the_app, wait_for, wait_until_ready

from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.runs import list_runs, read_run
from tui.app import make_app
from tui.screens.home import HomeScreen
from tui.screens.play import CharPlayScreen
from tui.screens.runs import RunsScreen
from tui.screens.train import TrainScreen
from tui.widgets.generated_text import GeneratedText
from tui.widgets.loss_chart import LossChart
from tui.widgets.quantity_charts import QuantityCharts


async def new_tiny_run(pilot, small_text: Path, arch: str) -> TrainScreen:
    """Home -> architecture -> configure -> train, with a tiny model."""
    sizes = {"hidden": "32", "layers": "1", "embed": "16"}
    settings = {"batch": "8", "seq_len": "32", "epochs": "1", "threads": "1", "warmup_steps": "5"}
    return await train_through_the_app(pilot, small_text, sizes, settings, arch)


async def test_home_to_train_to_play_to_runs_to_compare_to_resume(small_text: Path) -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # train a first model
        train = await new_tiny_run(pilot, small_text, "lstm")
        first_run = train.run_dir
        assert train.query_one(QuantityCharts).curves["nats/char"].series["val"][1]

        # play with it
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, CharPlayScreen))
        play = app.screen
        await wait_until_ready(pilot, play)
        await set_value(pilot, "#field-length-input", "40")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(play.query_one(GeneratedText).pieces) == 40, 30)
        await wait_for(pilot, lambda: not play.generating)

        # back home (play -> train -> home), and a second model
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is train)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await new_tiny_run(pilot, small_text, "gru")

        # runs: compare both
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        runs = app.screen
        assert len(runs.runs) == 2
        await pilot.press("space", "down", "space")
        await pilot.pause()
        assert len(runs.marked) == 2
        assert len(runs.query_one(LossChart).series) == 4

        # resume the first run to two epochs
        assert runs.current is not None and runs.current.path == first_run
        steps_before = read_run(first_run).step
        await pilot.press("r")
        await pilot.pause()
        await set_value(pilot, "#field-epochs-input", "2")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
        resumed = app.screen
        assert len(resumed.query_one(QuantityCharts).curves["nats/char"].series["train"][0]) > 0
        await wait_for(pilot, lambda: resumed.state in ("finished", "failed"), 60)
        assert resumed.state == "finished", resumed.failure
        info = read_run(first_run)
        assert info is not None and info.status == "finished"
        assert info.step > steps_before
        assert load_checkpoint(first_run / "last.pt")["epoch"] == 2

        # back to the runs list, which shows the new state
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert {r.status for r in list_runs()} == {"finished"}


async def test_quitting_mid_training_stops_the_worker_and_keeps_the_checkpoint(
    small_text: Path,
) -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = TrainScreen.new(tiny_config(small_text, epochs=500))
        await app.push_screen(screen)
        curves = screen.query_one(QuantityCharts).curves["nats/char"]
        await wait_for(pilot, lambda: bool(curves.series.get("train")), 60)  # a step was made
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, 30)  # a hang guard, not a timing
    assert screen.stop_event.is_set()
    info = read_run(screen.run_dir)
    assert info is not None and info.status == "stopped"
    state = load_checkpoint(screen.run_dir / "last.pt")
    assert state["step"] == info.step > 0


async def test_help_and_command_palette_are_reachable() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Runs" in commands and any(c.startswith("New run:") for c in commands)


async def test_screenshot_key_saves_an_svg(user_dirs: Path) -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f12")
        await pilot.pause()
    [svg] = (user_dirs / "shots").glob("*.svg")
    assert "Character-level" in svg.read_text()
