"""Shared fixtures: isolated user folders, one torch thread, a small synthetic text; the real data
in ../shared/data through the `real_data` fixture (tests/realdata.py marks its users)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_fixtures import play_text

pytest_plugins = ("pytester", "realdata")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Test models are tiny: one thread is as fast, and immune to a busy second core."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Runs, cache and data root never touch the real user folders."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("RNN_TUI_HOME", str(base / "home"))
    monkeypatch.setenv("RNN_TUI_CACHE", str(base / "cache"))
    monkeypatch.delenv("RNN_TUI_DATA", raising=False)


@pytest.fixture
def small_text(tmp_path: Path) -> Path:
    """A 30 kB seeded play in verse (speakers such as "ROMEO:") written to a temporary file."""
    path = tmp_path / "small.txt"
    path.write_text(play_text(30_000))
    return path
