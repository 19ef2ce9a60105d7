"""Fixtures for the app's tests: no cursor blink, isolated user folders, a small text, fake runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

SHAKESPEARE = Path(__file__).resolve().parents[3] / "shared" / "data" / "tiny-shakespeare" / "input.txt"


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
    """A 6 kB slice of Tiny Shakespeare (or a fixed pangram text): trains in about a second."""
    if SHAKESPEARE.is_file():
        text = SHAKESPEARE.read_text()[:6_000]
    else:
        text = "The quick brown fox jumps over the lazy dog.\n" * 140
    path = tmp_path / "small.txt"
    path.write_text(text)
    return path
