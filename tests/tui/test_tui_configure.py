"""The configure screen: defaults, validation as you type, dataset picking and downloading."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Button, Input, Select
from tui_helpers import ScreenApp, set_value, wait_for

from tasks.data.catalogue import get_dataset
from tasks.data.info import DatasetError
from tasks.data.resolve import status
from tasks.engine.settings import TrainConfig
from tui.screens.architecture import ArchChoice
from tui.screens.configure import ConfigureScreen
from tui.widgets.dataset_picker import LOCAL, DatasetPicker
from tui.widgets.field import Field

CHOICE = ArchChoice("lstm", layers=1, hidden=32, embed=16)


def start_disabled(app: App) -> bool:
    return app.screen.query_one("#start", Button).disabled


async def test_an_error_goes_under_the_field_the_config_error_names() -> None:
    """A rule across settings (`check()`) names its field; the form shows it there, unparsed."""
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await set_value(pilot, "#field-epochs-input", "")
        assert app.screen.query_one("#field-epochs", Field).error == (
            "give epochs or minutes (or both)"
        )
        assert app.screen.query_one("#field-minutes", Field).error == ""


async def test_defaults_are_task_and_architecture_aware() -> None:
    app = ScreenApp(ConfigureScreen("charlm", ArchChoice("numpy-rnn", 1, 100, 64)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#field-lr-input", Input).value == "0.1"
        assert screen.query_one("#field-batch-input", Input).value == "1"
        assert screen.query_one("#field-seq_len-input", Input).value == "25"


@pytest.mark.parametrize(
    ("name", "text", "error", "good"),
    [
        ("lr", "0", "must be a positive number (got 0.0)", "0.01"),
        ("lr", "1e", "must be a number, e.g. 0.003 or 3e-3", "1e-3"),
        ("seq_len", "0", "must be a positive integer (got 0)", "64"),
        ("dropout", "1.5", "must be in [0, 1) (got 1.5)", "0.1"),
        ("batch", "", "required", "8"),
        ("eval_every_s", "0", "must be a positive number (got 0.0)", "10"),
    ],
)
async def test_invalid_input_is_explained_inline_and_blocks_start(
    name: str, text: str, error: str, good: str
) -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not start_disabled(app)
        await set_value(pilot, f"#field-{name}-input", text)
        field = app.screen.query_one(f"#field-{name}", Field)
        assert field.error == error
        assert field.has_class("-invalid")
        assert start_disabled(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.results == []
        await set_value(pilot, f"#field-{name}-input", good)
        assert field.error == ""
        assert not start_disabled(app)


async def test_epochs_or_minutes_is_required() -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await set_value(pilot, "#field-epochs-input", "")
        assert app.screen.query_one("#field-epochs", Field).error.startswith("give epochs")
        assert start_disabled(app)
        await set_value(pilot, "#field-minutes-input", "0.5")
        assert not start_disabled(app)


async def test_local_path_is_checked_and_returned(small_text: Path) -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#dataset", Select).value = LOCAL
        await pilot.pause()
        assert start_disabled(app)
        app.screen.query_one("#dataset-path", Input).value = str(small_text) + ".missing"
        await pilot.pause()
        assert "no such file" in str(app.screen.query_one("#configure-error").render())
        assert start_disabled(app)
        app.screen.query_one("#dataset-path", Input).value = str(small_text)
        await pilot.pause()
        await set_value(pilot, "#field-epochs-input", "3")
        await pilot.press("ctrl+r")
        await pilot.pause()
        [config] = app.results
        assert isinstance(config, TrainConfig)
        assert (config.dataset, config.epochs, config.hidden, config.layers) == (
            str(small_text),
            3,
            32,
            1,
        )


async def test_offline_default_starts_without_download() -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one(DatasetPicker).select("pydoc-prose")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.results[0].dataset == "pydoc-prose"


async def test_download_shows_progress_then_starts(monkeypatch, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    def fake_fetch(name, progress=None):
        for done in range(0, 1_115_394, 200_000):
            progress(done, 1_115_394)
            seen.append((done, 1_115_394))
        path = tmp_path / "input.txt"
        path.write_text("text")
        return path

    monkeypatch.setattr("tui.screens.configure.fetch", fake_fetch)
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "download 1.1 MB when you start" in str(
            app.screen.query_one("#dataset-status").render()
        )
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.results != [])
        assert app.results[0].dataset == "tiny-shakespeare"
        assert seen


async def test_failed_download_says_why_and_offers_the_offline_default(monkeypatch) -> None:
    def failing_fetch(name, progress=None):
        progress(0, 1_115_394)
        raise DatasetError("could not download tiny-shakespeare", reason="connection refused")

    monkeypatch.setattr("tui.screens.configure.fetch", failing_fetch)
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        picker = app.screen.query_one(DatasetPicker)
        await wait_for(pilot, lambda: picker.failure != "")
        assert picker.failure == "connection refused"
        text = str(app.screen.query_one("#dataset-failure-text").render())
        assert "Could not download it: connection refused." in text
        assert "Python documentation prose" in text
        assert app.results == []
        await pilot.click("#dataset-offline")
        await pilot.pause()
        assert picker.value == "pydoc-prose"
        assert picker.failure == ""
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.results[0].dataset == "pydoc-prose"


@pytest.mark.parametrize(
    ("task", "dataset", "copy"),
    [("names", "names", "folder"), ("sentiment", "rt-polarity", "folder"),
     ("sentiment", "imdb", "file")],
)  # fmt: skip
async def test_a_download_with_no_offline_default_says_so(
    task: str, dataset: str, copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before Start: the status line says there is nothing to fall back on; after a failed
    download: what to do instead (and no offline button)."""

    def failing_fetch(name, progress=None):
        raise DatasetError(f"could not download {name}", reason="connection refused")

    monkeypatch.setattr("tui.screens.configure.fetch", failing_fetch)
    app = ScreenApp(ConfigureScreen(task, ArchChoice("gru", 1, 32, 32)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        picker = app.screen.query_one(DatasetPicker)
        picker.select(dataset)
        await pilot.pause()
        line = str(app.screen.query_one("#dataset-status").render())
        expected = f"{status(get_dataset(dataset))} when you start; no offline default: if it "
        assert expected + f"fails, give a local {copy} · " in line, line
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: picker.failure != "")
        text = str(app.screen.query_one("#dataset-failure-text").render())
        assert text == (
            "Could not download it: connection refused. "
            "There is no offline default: choose a local file or folder above."
        )
        assert not app.screen.query("#dataset-offline") and app.results == []


async def test_a_download_with_an_offline_default_does_not_warn() -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        line = str(app.screen.query_one("#dataset-status").render())
        assert "download 1.1 MB when you start · " in line and "offline" not in line


async def test_escape_goes_back_with_none() -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_a_task_with_its_own_settings_gets_their_rows() -> None:
    app = ScreenApp(ConfigureScreen("timeseries", ArchChoice("lstm", 1, 16, 64)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#field-horizon-input", Input).value == "1"
        await set_value(pilot, "#field-horizon-input", "12")
        assert not start_disabled(app)
        assert screen.config is not None and screen.config.horizon == 12
        await set_value(pilot, "#field-horizon-input", "0")
        assert start_disabled(app)


async def test_charlm_has_no_forecast_rows() -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not app.screen.query("#field-horizon-input")


async def test_translation_settings_are_in_the_form() -> None:
    app = ScreenApp(ConfigureScreen("translation", ArchChoice("gru", 1, 32, 32, True, True)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await set_value(pilot, "#field-beam-input", "3")
        await set_value(pilot, "#field-direction-input", "en-de")
        assert app.screen.config is not None
        assert (app.screen.config.beam, app.screen.config.direction) == (3, "en-de")
        await set_value(pilot, "#field-teacher_forcing-input", "1.5")
        assert start_disabled(app)


async def test_sentiment_word_vectors_are_optional() -> None:
    app = ScreenApp(ConfigureScreen("sentiment", ArchChoice("gru", 1, 32, 32, True, True)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.config is not None and app.screen.config.word_vectors is None
        await set_value(pilot, "#field-word_vectors-input", "imdb")
        assert app.screen.config is not None and app.screen.config.word_vectors == "imdb"
        assert not start_disabled(app)


async def test_the_summary_counts_the_blocks_mlps_when_block_is_on() -> None:
    from models.registry import ARCHITECTURES

    app = ScreenApp(ConfigureScreen("charlm", ArchChoice("mingru", layers=2, hidden=64, embed=16)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one("#configure-summary")
        mingru = ARCHITECTURES["mingru"]
        with_blocks = mingru.parameter_count(16, 64, 2, block=True)
        text = str(summary.render())
        assert f"{with_blocks:,}" in text and "residual blocks" in text
        app.screen.query_one("#field-block Select", Select).value = "off"
        plain = mingru.parameter_count(16, 64, 2, block=False)
        assert plain < with_blocks
        await wait_for(pilot, lambda: f"{plain:,}" in str(summary.render()))
        assert "residual blocks" not in str(summary.render())
