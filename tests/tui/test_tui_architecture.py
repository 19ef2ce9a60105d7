"""The architecture screen: every registry entry, live parameter count, validation, result."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input, Switch
from tui_helpers import ScreenApp, screen_text

from models.registry import ARCHITECTURES
from tasks.registry import TASKS
from tui.screens.architecture import ArchChoice, ArchitectureScreen
from tui.widgets.arch_card import ArchCard
from tui.widgets.arch_list import ArchList


async def test_lists_the_task_architectures_and_shows_the_first() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        archs = app.screen.query_one(ArchList)
        ids = [archs.get_option_at_index(i).id for i in range(archs.option_count)]
        assert ids == list(TASKS["charlm"].archs)
        assert app.screen.query_one(ArchCard).arch == TASKS["charlm"].archs[0]


@pytest.mark.parametrize("arch", TASKS["charlm"].archs)
async def test_parameter_count_follows_the_sizes(arch: str) -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        archs = screen.query_one(ArchList)
        archs.highlighted = archs.get_option_index(arch)
        await pilot.pause()
        card = screen.query_one(ArchCard)
        assert card.arch == arch
        screen.query_one("#field-hidden-input", Input).value = "48"
        await pilot.pause()
        expected_input = 65 if arch == "numpy-rnn" else card.input_size
        assert card.parameters() == ARCHITECTURES[arch].parameter_count(
            expected_input, 48, card.layers, False
        )
        assert f"{card.parameters():,}" in screen_text(app)


async def test_bad_size_shows_an_error_and_disables_next() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#field-hidden-input", Input).value = "0"
        await pilot.pause()
        assert screen.query_one("#field-hidden").error == "must be at least 1"
        assert screen.query_one("#arch-next", Button).disabled
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.results == []  # still here
        screen.query_one("#field-hidden-input", Input).value = ""
        await pilot.pause()
        assert screen.query_one("#field-hidden").error == "required"


async def test_options_the_task_does_not_use_are_disabled() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for option in ("bidirectional", "attention"):
            assert app.screen.query_one(f"#{option}", Switch).disabled


async def test_next_returns_the_choice_and_escape_returns_none() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        archs = app.screen.query_one(ArchList)
        archs.highlighted = archs.get_option_index("gru")
        await pilot.pause()
        app.screen.query_one("#field-hidden-input", Input).value = "64"
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.results == [ArchChoice("gru", layers=2, hidden=64, embed=64)]

    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
