"""The Data screen (from Home and Configure), the live notes under the Configure form, and one
snapshot on a small fixed series."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select
from tui_helpers import ScreenApp, screen_text, set_value, wait_for

from tasks.data.info import DatasetError
from tasks.data.text import load_reviews, token_strings
from tui.app import make_app
from tui.data_report import sections
from tui.screens.architecture import ArchChoice
from tui.screens.configure import ConfigureScreen
from tui.screens.data import DataScreen
from tui.widgets.data_notes import DataNotes
from tui.widgets.data_plot import DataPlot
from tui.widgets.dataset_picker import LOCAL
from tui.widgets.field import Field

SIZE = (120, 40)
WORDS = [
    "good",
    "bad",
    "film",
    "plot",
    "actor",
    "great",
    "awful",
    "boring",
    "fine",
    "dull",
    "superb",
    "story",
]


def polarity(folder: Path) -> Path:
    """rt-polarity's format: 40 seeded snippets per label of 2 to 40 words."""
    rng = random.Random(1)
    folder.mkdir()
    for suffix in ("pos", "neg"):
        lines = (" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 40))) for _ in range(40))
        (folder / f"rt-polarity.{suffix}").write_text("\n".join(lines) + "\n")
    return folder


def monthly(path: Path) -> Path:
    """60 months of trend and a yearly cycle (no noise: the same picture everywhere)."""
    rows = ["month,value"] + [
        f"{2000 + t // 12}-{t % 12 + 1:02d},{50 + t + 8 * math.sin(2 * math.pi * t / 12):.3f}"
        for t in range(60)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def figures(screen: DataScreen) -> str:
    """Every section of the Figures panel (scrolled out of view or not)."""
    return "\n".join(str(s.render()) for s in screen.query(".data-section"))


def status(screen: DataScreen) -> str:
    return str(screen.query_one("#data-status").render())


async def shown(pilot: Pilot, screen: DataScreen) -> None:
    """Until the profile's figures are drawn (its first section's title is on screen)."""

    def drawn() -> bool:
        if screen.profile is None:
            return False
        first = sections(screen.profile.report(screen.settings))[0][0]
        return first in screen_text(pilot.app)

    await wait_for(pilot, drawn)


async def test_a_local_file_shows_its_figures_and_plots(tmp_path: Path) -> None:
    folder = polarity(tmp_path / "pol")
    screen = DataScreen("sentiment", str(folder))
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, screen)
        text = screen_text(app)
        data = load_reviews(str(folder))
        assert "Examples" in text
        assert re.search(rf"│ all +{len(data.train)} +{len(data.val)} +{len(data.test)} ", text)
        assert "majority class" in text and "coverage of val/test" in figures(screen)
        assert len(screen.query(DataPlot)) == 1  # the length histogram
        assert not screen.has_class("-computing")  # the progress bar is gone
        assert status(screen) == "computed and cached"
        plot = screen.query_one(DataPlot)
        for _ in range(3):
            plot.refresh()
            await pilot.pause()
        assert plot.builds == 1  # a still figure is built once per size


async def test_bad_input_is_one_line_and_the_screen_keeps_working(tmp_path: Path) -> None:
    bad = tmp_path / "three.csv"
    bad.write_text("when,a,b\n2020-01-01,1,2\n2020-01-02,3,4\n")
    good = monthly(tmp_path / "good.csv")
    screen = DataScreen("timeseries", str(bad))
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "choose the value column" in status(screen))
        assert "\n" not in status(screen) and screen.profile is None
        await set_value(pilot, "#dataset-path", str(tmp_path / "missing.csv"))
        await wait_for(pilot, lambda: "no such file or folder" in status(screen))
        await set_value(pilot, "#dataset-path", str(good))
        await shown(pilot, screen)
        assert "60 values, 2000-01 to 2004-12" in figures(screen)
        assert len(screen.query(DataPlot)) >= 6  # series, acf, decomposition, transforms


async def test_a_dataset_to_download_waits_for_ctrl_r(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(name: str, progress: object = None) -> Path:
        raise DatasetError(f"could not download {name}: connection refused")

    monkeypatch.setattr("tasks.data.resolve.fetch", offline)
    screen = DataScreen("sentiment")
    app = ScreenApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "rt-polarity is not on this machine yet: ctrl+r downloads it" in status(screen)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "connection refused" in status(screen))
        assert screen.profile is None and not screen.query(DataPlot)


async def test_home_d_opens_the_data_screen_of_the_highlighted_task() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DataScreen))
        assert app.screen.task_name == "charlm"


async def test_configure_notes_follow_the_typing_and_f2_opens_the_data(tmp_path: Path) -> None:
    folder = polarity(tmp_path / "pol")
    app = ScreenApp(ConfigureScreen("sentiment", ArchChoice("gru", 1, 32, 16)))
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        app.screen.query_one("#dataset", Select).value = LOCAL
        await set_value(pilot, "#dataset-path", str(folder))
        notes = app.screen.query_one(DataNotes)
        await wait_for(pilot, lambda: notes.profile is not None)
        data = load_reviews(str(folder))
        lengths = [len(token_strings(t)) for part in (data.train, data.val, data.test)
                   for t, _ in part]  # fmt: skip
        seq_len = app.screen.query_one("#field-seq_len", Field)
        for value in (400, 20, 5):
            await set_value(pilot, "#field-seq_len-input", str(value))
            share = sum(n > value for n in lengths) / len(lengths)
            assert seq_len.note.startswith(f"cuts {100 * share:.1f}% of texts")
        assert app.screen.query_one("#field-vocab_size", Field).note.startswith("covers ")
        await set_value(pilot, "#field-seq_len-input", "0")  # invalid: the error, not the note
        assert seq_len.has_class("-invalid")
        await set_value(pilot, "#field-seq_len-input", "20")
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, DataScreen))
        screen = app.screen
        assert screen.settings.seq_len == 20
        await shown(pilot, screen)
        assert screen.query_one("#dataset-path", Input).value == str(folder)
        assert "--seq-len 20 cuts" in figures(screen)


def test_data_screen_snapshot(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative path on screen: the same picture everywhere
    monthly(tmp_path / "monthly.csv")

    async def run_before(pilot: Pilot) -> None:
        screen = DataScreen("timeseries", "monthly.csv")
        await pilot.app.push_screen(screen)
        await shown(pilot, screen)
        await pilot.pause()

    assert snap_compare(make_app(preload_torch=False), terminal_size=(120, 36),
                        run_before=run_before)  # fmt: skip
