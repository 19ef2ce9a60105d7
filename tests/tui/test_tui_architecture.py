"""The architecture screen: every registry entry in its group, the card (equations, paper, scans,
live parameter count with the blocks' MLPs), validation, the scan-view key, the result."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Button, Input, Switch
from tui_helpers import ScreenApp, screen_text, wait_for

from models.registry import ARCHITECTURES
from tasks.registry import TASKS, default_config
from tui.screens.architecture import ArchChoice, ArchitectureScreen
from tui.screens.scan_view import ScanViewScreen
from tui.widgets.arch_card import ArchCard, Count
from tui.widgets.arch_list import ArchList


async def test_lists_the_task_architectures_and_shows_the_first() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        archs = app.screen.query_one(ArchList)
        assert sorted(archs.archs) == sorted(TASKS["charlm"].archs)
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
        options = default_config("charlm", arch).core_options()  # block=True for a modern core
        expected = ARCHITECTURES[arch].parameter_count(
            expected_input, 48, card.layers, False, **options
        )
        assert card.parameters() == expected
        await wait_for(pilot, lambda: f"{expected:,}" in screen_text(app))


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


class ListApp(App[None]):
    """An `ArchList` alone."""

    def __init__(self, archs: tuple[str, ...]) -> None:
        super().__init__()
        self.archs = archs

    def compose(self) -> ComposeResult:
        yield ArchList(self.archs)


async def test_classic_cells_and_modern_cores_are_listed_under_their_own_headers() -> None:
    app = ListApp(("mingru", "lstm", "indrnn", "gru"))
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        archs = app.query_one(ArchList)
        ids = [archs.get_option_at_index(i).id for i in range(archs.option_count)]
        assert ids == ["group-classic", "lstm", "gru", "group-modern", "mingru", "indrnn"]
        assert archs.archs == ["lstm", "gru", "mingru", "indrnn"]
        assert archs.get_option("group-modern").disabled
        text = screen_text(app)
        assert "Modern cores" in text and "∥ log · chunked" in text and "sequential" in text


async def test_the_task_offers_the_modern_cores() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        archs = app.screen.query_one(ArchList)
        modern = [name for name in archs.archs if ARCHITECTURES[name].modern]
        assert "mingru" in modern
        assert archs.archs.index(modern[0]) > archs.archs.index("lstm")


async def highlight(pilot, arch: str) -> ArchCard:
    archs = pilot.app.screen.query_one(ArchList)
    archs.highlighted = archs.get_option_index(arch)
    await pilot.pause()
    card = pilot.app.screen.query_one(ArchCard)
    await wait_for(pilot, lambda: isinstance(card.counted, Count))
    return card


async def test_a_modern_core_card_shows_paper_equations_scans_and_the_block_count() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        card = await highlight(pilot, "mingru")
        arch = ARCHITECTURES["mingru"]
        text = screen_text(app)
        assert arch.paper in text
        assert arch.update_equations().splitlines()[0].strip() in text
        assert "sequential · log · chunked" in text
        with_mlp = arch.parameter_count(64, 256, 2, False, block=True)
        assert card.parameters() == with_mlp > arch.parameter_count(64, 256, 2, False)
        assert f"{with_mlp:,}" in text and "MLPs of the blocks" in text
        assert sum(n for _, n in card.counted.parts) == with_mlp


async def test_hidden_size_that_does_not_split_into_heads_is_an_error() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await highlight(pilot, "mlstm")
        screen = app.screen
        screen.query_one("#field-hidden-input", Input).value = "50"
        await pilot.pause()
        assert "heads" in screen.query_one("#field-hidden").error
        assert screen.query_one("#arch-next", Button).disabled
        card = screen.query_one(ArchCard)
        await wait_for(pilot, lambda: isinstance(card.counted, str))
        assert "split" in card.counted


async def test_f3_opens_the_scan_view_only_for_a_core_with_a_parallel_form() -> None:
    app = ScreenApp(ArchitectureScreen("charlm"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await highlight(pilot, "indrnn")
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ArchitectureScreen)
        assert any("only a sequential recurrence" in n.message for n in app._notifications)
        await highlight(pilot, "lru")
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, ScanViewScreen))
        assert app.screen.arch == "lru"
