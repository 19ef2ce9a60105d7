"""The app in a terminal resized while a run trains, and in one too small for its screens."""

from __future__ import annotations

import random

from fake_events import TASK_DATASETS, FakeTrainer, run_until
from textual.widgets import Footer, Header
from tui_helpers import screen_text, wait_for

from tui.app import make_app
from tui.screens.help import HelpScreen
from tui.screens.train import TrainScreen
from tui.widgets.quantity_charts import QuantityCharts
from tui.widgets.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmall

TOO_SMALL = "The terminal is too small"


async def test_resized_100_times_while_training_the_chart_redraws_at_the_new_size() -> None:
    trainer = FakeTrainer(run_until(600), delay=0.005, hold=True)
    screen = TrainScreen(lambda: trainer, task="charlm", dataset=TASK_DATASETS["charlm"], epochs=2)
    app = make_app(preload_torch=False)
    rng = random.Random(18)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.state == "training")
        charts = screen.query_one(QuantityCharts)
        chart, train = charts.charts[0], charts.curves["nats/char"].series
        await wait_for(pilot, lambda: chart._rendered is not None)
        first, points = chart.size, len(train.get("train", ([],))[0])
        for _ in range(100):  # below the minimum now and then: the message, then the layout
            await pilot.resize_terminal(rng.randint(30, 200), rng.randint(8, 70))
        await pilot.resize_terminal(160, 50)

        def redrawn() -> bool:  # the strips on screen were built for the chart's new size
            drawn = chart._rendered
            grown = chart.size.width > first.width
            return grown and drawn is not None and drawn[0][1] == chart.size

        await wait_for(pilot, redrawn)
        assert chart.size.height > first.height
        assert screen.state == "training" and not screen.has_class("-too-small")
        assert TOO_SMALL not in screen_text(app)
        await wait_for(pilot, lambda: len(train["train"][0]) > points)  # it went on training


async def test_a_terminal_too_small_shows_a_message_instead_of_the_layout() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(MIN_WIDTH - 1, MIN_HEIGHT)) as pilot:
        await wait_for(pilot, lambda: TOO_SMALL in screen_text(app))
        home = app.screen
        text = screen_text(app)
        assert f"{MIN_WIDTH - 1}×{MIN_HEIGHT}; rnn-tui needs {MIN_WIDTH}×{MIN_HEIGHT}" in text
        assert not home.query_one(Footer).display and not home.query_one(Header).display

        await pilot.resize_terminal(MIN_WIDTH, MIN_HEIGHT)  # large enough: the layout is back
        await wait_for(pilot, lambda: TOO_SMALL not in screen_text(app))
        assert home.query_one(Footer).display and not home.query_one(TooSmall).display

        await pilot.resize_terminal(MIN_WIDTH + 40, MIN_HEIGHT - 1)  # too short
        await wait_for(pilot, lambda: TOO_SMALL in screen_text(app))
        await pilot.press("f1")  # a screen opened while too small says so too
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await wait_for(pilot, lambda: TOO_SMALL in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is home)
        await pilot.resize_terminal(MIN_WIDTH + 40, MIN_HEIGHT + 10)
        await wait_for(pilot, lambda: TOO_SMALL not in screen_text(app))
        assert home.query_one(Footer).display
