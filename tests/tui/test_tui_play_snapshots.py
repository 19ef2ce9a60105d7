"""A snapshot of each task's Play screen on a real tiny checkpoint (fixed seed, synthetic data).

The charlm Play screen's snapshot (with a stand-in generator) is in test_tui_snapshots.py. Each
checkpoint here is trained for a few seconds on its `engine_fixtures` dataset, written with a
relative path in the test's own folder, so every line on screen is the same on every run.
Update with `pytest tests/tui/test_tui_play_snapshots.py --snapshot-update` and look at them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_fixtures import engine_config
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from tui_helpers import wait_for, wait_until_ready

from tasks.engine.trainer import Trainer
from tasks.registry import create_task
from tui.app import make_app
from tui.screens.forecast_play import ForecastPlayScreen
from tui.screens.sentiment_play import SentimentPlayScreen
from tui.screens.translate_play import TranslatePlayScreen

SIZE = (120, 36)


def tiny_checkpoint(task: str, **overrides: object) -> Path:
    """Train a tiny `task` model on its synthetic data in the current folder: demo/last.pt."""
    config = engine_config(task, Path("."), **overrides)
    events = list(Trainer(create_task(config), "demo").run())
    assert events[-1].kind == "finished"
    return Path("demo") / "last.pt"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Data and runs under relative names, so no temporary path shows on screen."""
    monkeypatch.chdir(tmp_path)


def test_sentiment_play(snap_compare) -> None:
    checkpoint = tiny_checkpoint("sentiment", epochs=10, lr=1e-2, dropout=0.0)

    async def run_before(pilot: Pilot) -> None:
        screen = SentimentPlayScreen(checkpoint)
        await pilot.app.push_screen(screen)
        await wait_until_ready(pilot, screen)
        screen.query_one("#review", TextArea).text = "The plot was wonderful and the actor superb."
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: screen.last_prediction is not None)

    assert snap_compare(make_app(preload_torch=False), terminal_size=SIZE, run_before=run_before)


def test_translate_play(snap_compare) -> None:
    checkpoint = tiny_checkpoint("translation", epochs=20, lr=1e-2, dropout=0.0)

    async def run_before(pilot: Pilot) -> None:
        screen = TranslatePlayScreen(checkpoint)
        await pilot.app.push_screen(screen)
        await wait_until_ready(pilot, screen)
        source = screen.query_one("#source", Input)
        # Typed into the focused box, as a person does: the box scrolls to the cursor at the
        # end. (Setting `value` scrolled it or not depending on whether the focus the ready
        # screen gives the box arrived before or after the value.)
        await wait_for(pilot, lambda: source.has_focus)
        await pilot.press(*"Ein mann läuft auf die straße.")
        assert source.value == "Ein mann läuft auf die straße."
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: screen.last_translation is not None)

    assert snap_compare(make_app(preload_torch=False), terminal_size=SIZE, run_before=run_before)


def test_forecast_play(snap_compare) -> None:
    checkpoint = tiny_checkpoint("timeseries", epochs=3)

    async def run_before(pilot: Pilot) -> None:
        screen = ForecastPlayScreen(checkpoint)
        await pilot.app.push_screen(screen)
        await wait_for(pilot, lambda: screen.last_forecast is not None)  # from the end, at once

    assert snap_compare(make_app(preload_torch=False), terminal_size=SIZE, run_before=run_before)
