"""Shared fixtures: isolated user folders, the real data in ../shared/data, small texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from realdata import shared_data


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


@pytest.fixture(scope="session")
def shakespeare_path() -> Path:
    return shared_data() / "tiny-shakespeare" / "input.txt"


@pytest.fixture
def small_text(tmp_path: Path) -> Path:
    """A 30 kB slice of Tiny Shakespeare written to a temporary file."""
    source = shared_data() / "tiny-shakespeare" / "input.txt"
    path = tmp_path / "small.txt"
    path.write_text(source.read_text()[:30_000])
    return path
