"""Play: settings, streaming, stopping, colour by confidence; a real checkpoint end to end."""

from __future__ import annotations

from pathlib import Path

from fake_events import FakeGenerator
from textual.widgets import Button, Input, Select, Switch
from tui_helpers import ScreenApp, screen_text, wait_for, wait_until_ready

from tui.messages import TextSampled
from tui.screens.play import CharPlayScreen, checkpoint_task, play_screen_for
from tui.widgets.generated_text import GeneratedText, confidence_color


def test_confidence_colours_are_banded() -> None:
    assert confidence_color(0.95) != confidence_color(0.05)
    assert confidence_color(0.95) == confidence_color(0.91)


async def test_streams_with_the_chosen_settings() -> None:
    generator = FakeGenerator()
    screen = CharPlayScreen("/runs/demo/last.pt", generator=generator)
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen.query_one("#strategy", Select).value = "top-k"
        screen.query_one("#field-k-input", Input).value = "5"
        screen.query_one("#field-length-input", Input).value = "120"
        await pilot.pause()
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: not screen.generating and generator.calls)
        call = generator.calls[0]
        assert (call["strategy"], call["k"], call["length"], call["prime"]) == (
            "top-k",
            5,
            120,
            "ROMEO:\n",
        )
        output = screen.query_one(GeneratedText)
        assert len(output.pieces) == 120
        assert output.text.startswith("ROMEO:\nWhat light")
        assert "120 chars" in screen_text(app)


async def test_only_the_strategy_settings_are_enabled_and_checked() -> None:
    screen = CharPlayScreen("/runs/demo/last.pt", generator=FakeGenerator())
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert screen.query_one("#field-k").disabled
        assert not screen.query_one("#field-p").disabled
        screen.query_one("#field-p-input", Input).value = "1.5"
        await pilot.pause()
        assert screen.query_one("#field-p").error == "must be in (0, 1]"
        assert screen.query_one("#generate", Button).disabled
        screen.query_one("#strategy", Select).value = "greedy"
        await pilot.pause()
        assert screen.query_one("#field-temperature").disabled
        assert not screen.query_one("#generate", Button).disabled


async def test_stop_keeps_what_was_written() -> None:
    screen = CharPlayScreen("/runs/demo/last.pt", generator=FakeGenerator(delay=0.005))
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen.query_one("#field-length-input", Input).value = "5000"
        await pilot.pause()
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(screen.query_one(GeneratedText).pieces) > 10)
        await pilot.press("escape")  # stops, does not leave
        await wait_for(pilot, lambda: not screen.generating)
        count = len(screen.query_one(GeneratedText).pieces)
        assert 10 < count < 5000
        assert app.screen is screen
        await pilot.press("escape")  # now leaves
        await pilot.pause()
        assert app.screen is not screen


async def test_colour_toggle() -> None:
    screen = CharPlayScreen("/runs/demo/last.pt", generator=FakeGenerator())
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen.post_message(TextSampled([("a", 0.95), ("b", 0.05)], finished=True))
        await pilot.pause()
        output = screen.query_one(GeneratedText)
        spans = output.render().spans
        assert {str(s.style) for s in spans} >= {confidence_color(0.95), confidence_color(0.05)}
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not screen.query_one("#colour", Switch).value
        assert not output.colour
        assert all("#" not in str(s.style) for s in output.render().spans)


async def test_a_real_checkpoint_generates(trained_run: Path) -> None:
    checkpoint = trained_run / "last.pt"
    assert checkpoint_task(checkpoint) == "charlm"
    screen = play_screen_for(checkpoint)
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until_ready(pilot, screen)
        screen.query_one("#field-length-input", Input).value = "60"
        await pilot.pause()
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(screen.query_one(GeneratedText).pieces) == 60, 30)
        await wait_for(pilot, lambda: not screen.generating)
        assert all(0 < p <= 1 for _, p in screen.query_one(GeneratedText).pieces)


def test_a_missing_checkpoint_is_refused(tmp_path: Path) -> None:
    try:
        play_screen_for(tmp_path / "nope.pt")
    except ValueError as exc:
        assert "checkpoint not found" in str(exc)
    else:
        raise AssertionError("expected ValueError")
