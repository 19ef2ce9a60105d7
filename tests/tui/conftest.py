"""Fixtures for the app's tests: no cursor blink, isolated user folders, a small text, fake runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import play_text
from textual.widgets import Input, TextArea
from tui_helpers import tiny_config, write_fake_run

from tui.app import quiet_openmp

quiet_openmp()  # as `rnn-tui` does, in case torch is not imported yet


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes snapshots depend on timing."""
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Runs and the download cache live in tmp_path; no data root, so status is predictable."""
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNN_TUI_DATA", raising=False)
    monkeypatch.setenv("RNN_TUI_SCREENSHOTS", str(tmp_path / "shots"))
    os.environ.pop("RNN_TUI_DATA", None)
    yield tmp_path


@pytest.fixture
def small_text(tmp_path: Path) -> Path:
    """A 6 kB seeded play in verse (speakers such as "ROMEO:"): trains in about a second."""
    path = tmp_path / "small.txt"
    path.write_text(play_text(6_000))
    return path


@pytest.fixture
def trained_run(small_text: Path, user_dirs: Path) -> Path:
    """A finished tiny run in the runs folder (trained headless, about a second)."""
    import threading

    from tasks.engine.runs import new_run_dir
    from tasks.engine.trainer import Trainer
    from tasks.registry import create_task

    config = tiny_config(small_text)
    trainer = Trainer(create_task(config), new_run_dir("charlm", "lstm", str(small_text)))
    for _ in trainer.run(threading.Event()):
        pass
    return trainer.run_dir


@pytest.fixture
def fake_runs(user_dirs: Path) -> list[Path]:
    """Three saved runs with fixed names, dates and curves."""
    root = user_dirs / "home" / "runs"
    return [
        write_fake_run(root, "20250101-090000-charlm-lstm-tiny-shakespeare", "lstm",
                       "2025-01-01 09:00:00", 1.55),
        write_fake_run(root, "20250102-100000-charlm-gru-tiny-shakespeare", "gru",
                       "2025-01-02 10:00:00", 1.62),
        write_fake_run(root, "20250103-110000-charlm-rnn-tiny-shakespeare", "rnn",
                       "2025-01-03 11:00:00", 1.95, status="stopped", steps=250),
    ]  # fmt: skip
