"""One snapshot per screen, on fixed fake data at a fixed terminal size; the Train and Runs
screens for every task, at 80x24 and 120x40.

Update after an intended visual change with
`pytest tests/tui/test_tui_snapshots.py --snapshot-update -k NAME` (only the tests you changed)
and look at the report; the snapshots break on Textual upgrades (its minor version is pinned).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_events import TASK_DATASETS, FakeGenerator, run_until
from textual.pilot import Pilot
from tui_helpers import wait_for, write_task_run

from tasks.registry import TASKS
from tui import messages
from tui.app import make_app
from tui.screens.architecture import ArchChoice, ArchitectureScreen
from tui.screens.configure import ConfigureScreen
from tui.screens.play import CharPlayScreen
from tui.screens.runs import RunsScreen
from tui.screens.train import TrainScreen
from tui.widgets.quantity_charts import QuantityCharts

SIZE = (110, 34)

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
"""The Train and Runs screens at the smallest supported terminal and a roomy one."""

CHART_TASKS = [task for task in TASK_DATASETS if task in TASKS]
"""The tasks whose Train and Runs screens are pictured (fake data: `fake_events`)."""


@pytest.fixture
def charlm_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only charlm, so tasks added to the registry later do not change these pictures."""
    for name in list(TASKS):
        if name != "charlm":
            monkeypatch.delitem(TASKS, name)


def two_runs(root: Path, task: str) -> None:
    """A finished run of `task` and a slower one stopped earlier (only this task's, so a task
    added later changes no other picture)."""
    write_task_run(root, task, "gru", "2025-01-02 10:00:00")
    write_task_run(root, task, "lstm", "2025-01-01 09:00:00", steps=450, status="stopped",
                   pace=1.6)  # fmt: skip


def app():
    return make_app(preload_torch=False)


def test_every_task_has_fake_data() -> None:
    assert set(TASKS) <= set(TASK_DATASETS), "add the task's fake run to fake_events.py"


@pytest.mark.usefixtures("charlm_only")
def test_home(snap_compare) -> None:
    assert snap_compare(app(), terminal_size=SIZE)


@pytest.mark.usefixtures("charlm_only")
def test_help(snap_compare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, press=["f1"])


@pytest.mark.usefixtures("charlm_only")
def test_architecture(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.app.push_screen(ArchitectureScreen("charlm"))
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.usefixtures("charlm_only")
def test_configure(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.app.push_screen(ConfigureScreen("charlm", ArchChoice("lstm", 2, 512, 64)))
        await pilot.pause()
        pilot.app.screen.query_one("#field-lr-input").value = "0"  # one inline error
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.usefixtures("charlm_only")
def test_play(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = CharPlayScreen("/runs/demo/last.pt", generator=FakeGenerator())
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen.query_one("#field-length-input").value = "400"
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: not screen.generating and len(
            screen.query_one("#output").pieces) == 400)  # fmt: skip
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("task", CHART_TASKS)
def test_train(snap_compare, task: str, size: str) -> None:
    """The loss and the task's metric, each on its own chart with its own references."""
    info = TASKS[task]

    async def run_before(pilot: Pilot) -> None:
        dataset = TASK_DATASETS[task]
        screen = TrainScreen(None, task=task, dataset=dataset, epochs=2,
                             heading=f"{info.title} · lstm · {dataset}")  # fmt: skip
        await pilot.app.push_screen(screen)
        for event in run_until(420, task=task):
            screen.post_message(messages.for_event(event))
        charts = screen.query_one(QuantityCharts)
        loss = charts.curves[info.loss_quantity.name].series
        await wait_for(pilot, lambda: len(loss.get("train", ([],))[0]) == 42)  # all in
        screen.state = "training"
        screen.show_latest_step()
        charts.replot()
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("task", CHART_TASKS)
def test_runs(snap_compare, user_dirs: Path, task: str, size: str) -> None:
    """Two runs of `task`; the finished one highlighted: its best metric, its charts."""
    two_runs(user_dirs / "home" / "runs", task)

    async def run_before(pilot: Pilot) -> None:
        screen = RunsScreen()
        await pilot.app.push_screen(screen)
        await pilot.pause()
        screen.query_one(QuantityCharts).replot()
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_runs_compare(snap_compare, user_dirs: Path, size: str) -> None:
    """Two sentiment runs overlaid, a colour each, per quantity."""
    two_runs(user_dirs / "home" / "runs", "sentiment")

    async def run_before(pilot: Pilot) -> None:
        screen = RunsScreen()
        await pilot.app.push_screen(screen)
        await pilot.pause()
        await pilot.press("space", "down", "space")
        await pilot.pause()
        screen.query_one(QuantityCharts).replot()
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZES[size], run_before=run_before)
