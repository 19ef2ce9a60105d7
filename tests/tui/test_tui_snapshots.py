"""One snapshot per screen, on fixed fake data at a fixed terminal size.

Update after an intended visual change with
`pytest tests/tui/test_tui_snapshots.py --snapshot-update`
and look at the report; the snapshots break on Textual upgrades (its minor version is pinned).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_events import FakeGenerator, run_until
from textual.pilot import Pilot
from tui_helpers import wait_for

from tasks.registry import TASKS
from tui import messages
from tui.app import make_app
from tui.screens.architecture import ArchChoice, ArchitectureScreen
from tui.screens.configure import ConfigureScreen
from tui.screens.play import CharPlayScreen
from tui.screens.runs import RunsScreen
from tui.screens.train import TrainScreen
from tui.widgets.loss_chart import LossChart

SIZE = (110, 34)


@pytest.fixture(autouse=True)
def fixed_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only charlm, so tasks added to the registry later do not change these pictures."""
    for name in list(TASKS):
        if name != "charlm":
            monkeypatch.delitem(TASKS, name)


def app():
    return make_app(preload_torch=False)


def test_home(snap_compare) -> None:
    assert snap_compare(app(), terminal_size=SIZE)


def test_help(snap_compare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, press=["f1"])


def test_architecture(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.app.push_screen(ArchitectureScreen("charlm"))
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run_before)


def test_configure(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.app.push_screen(ConfigureScreen("charlm", ArchChoice("lstm", 2, 512, 64)))
        await pilot.pause()
        pilot.app.screen.query_one("#field-lr-input").value = "0"  # one inline error
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run_before)


def test_train(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = TrainScreen(
            None,
            task="charlm",
            dataset="tiny-shakespeare",
            epochs=2,
            heading="Character-level text generation · lstm · tiny-shakespeare",
        )
        await pilot.app.push_screen(screen)
        for event in run_until(420):
            screen.post_message(messages.for_event(event))
        chart = screen.query_one("#loss-chart", LossChart)
        await wait_for(pilot, lambda: len(chart.series.get("train", ([],))[0]) == 42)  # all in
        screen.state = "training"
        screen.show_latest_step()
        screen.query_one("#loss-chart", LossChart).replot()
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run_before)


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


def test_runs_compare(snap_compare, fake_runs: list[Path]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.app.push_screen(RunsScreen())
        await pilot.pause()
        await pilot.press("down", "space", "down", "space")
        await pilot.pause()
        pilot.app.screen.query_one(LossChart).replot()
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=run_before)
