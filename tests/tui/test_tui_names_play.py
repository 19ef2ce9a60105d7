"""The names Play screen on a real tiny checkpoint: the languages update as a surname is typed,
bad input shows a message and the screen keeps working, examples with one key; a snapshot; and
the whole way from Home through training to this screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_fixtures import engine_config, names_data
from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_helpers import ScreenApp, screen_text, train_and_play, wait_for, wait_until_ready

from tasks.engine.trainer import Trainer
from tasks.registry import create_task
from tui.app import make_app
from tui.screens.names_play import EXAMPLES, NamesPlayScreen, language_bars
from tui.screens.play import play_screen_for

SIZE = (120, 36)


def tiny_checkpoint(folder: Path) -> Path:
    """A model trained for a few seconds on surnames whose language shows in the ending."""
    config = engine_config("names", folder, hidden=32, embed=16, batch=8, epochs=12, lr=1e-2,
                           warmup_steps=0, dropout=0.0)  # fmt: skip
    events = list(Trainer(create_task(config), folder / "demo").run())
    assert events[-1].kind == "finished"
    return folder / "demo" / "last.pt"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("names"))


def guessed(screen: NamesPlayScreen) -> str | None:
    """The name the languages on screen belong to (None: none shown)."""
    return None if screen.last_guess is None else screen.last_guess.name


def test_language_bars() -> None:
    drawn = language_bars((("Russian", 0.75), ("Czech", 0.25)), width=8)
    assert drawn.plain == "Russian ██████░░  75.0%\nCzech   ██░░░░░░  25.0%\n"
    bold = [s for s in drawn.spans if "bold" in str(s.style)]
    assert [drawn.plain[s.start : s.end] for s in bold] == ["Russian "]


async def test_typing_updates_the_languages(checkpoint: Path) -> None:
    screen = play_screen_for(checkpoint)
    assert isinstance(screen, NamesPlayScreen)
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until_ready(pilot, screen)
        assert "3 languages" in str(screen.query_one("#play-status", Static).render())
        assert screen.query_one("#name", Input).has_focus
        seen = []
        for end in range(1, len("Dostoevsky") + 1):
            typed = "Dostoevsky"[:end]
            await pilot.press(typed[-1])
            await wait_for(pilot, lambda typed=typed: guessed(screen) == typed)
            seen.append(screen.last_guess)
        assert len({g.top for g in seen}) > 1  # the guess changed as the name grew
        assert seen[-1].top[0][0] == "Russian" and len(seen[-1].top) == 3
        text = screen_text(app)
        assert "Russian" in text and "█" in text and "read as 'dostoevsky'" in text

        await pilot.press("2")
        await wait_for(pilot, lambda: screen.last_guess is None)
        assert "has no digits" in screen_text(app)
        await pilot.press("backspace")
        await wait_for(pilot, lambda: guessed(screen) == "Dostoevsky")

        screen.query_one("#name", Input).value = "   "
        await wait_for(pilot, lambda: screen.last_guess is None)
        assert "type a surname" in screen_text(app)

        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: guessed(screen) == EXAMPLES[0])
        assert screen.query_one("#name", Input).value == EXAMPLES[0]


async def test_a_broken_checkpoint_shows_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "run" / "last.pt"
    bad.parent.mkdir()
    bad.write_bytes(b"not a checkpoint")
    screen = NamesPlayScreen(bad)
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "error:" in screen_text(app))
        await pilot.press("ctrl+n")  # nothing loaded: nothing happens
        assert screen.last_guess is None and screen.query_one("#name", Input).value == ""


def test_names_play_snapshot(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the checkpoint's path on screen is relative
    checkpoint = tiny_checkpoint(Path("."))

    async def run_before(pilot: Pilot) -> None:
        screen = NamesPlayScreen(checkpoint)
        await pilot.app.push_screen(screen)
        await wait_until_ready(pilot, screen)
        name = screen.query_one("#name", Input)
        await wait_for(pilot, lambda: name.has_focus)  # focus after the value would select it
        name.value = "Yamamoto"
        await wait_for(pilot, lambda: screen.last_guess is not None)

    assert snap_compare(make_app(preload_torch=False), terminal_size=SIZE, run_before=run_before)


async def test_home_to_train_to_play(tmp_path: Path) -> None:
    """The real app: choose names, train a tiny model on a local folder, then play with it."""
    data = Path(names_data(tmp_path))
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        play = await train_and_play(pilot, "names", data, NamesPlayScreen)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: guessed(play) == EXAMPLES[0])
