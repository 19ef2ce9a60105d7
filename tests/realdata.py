"""Where the real datasets are (../shared/data next to the repository, as in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The real datasets, next to the repository (as in CI)."""


def shared_data() -> Path:
    """The real data root; skips the test when absent, or fails under RNN_TUI_REQUIRE_DATA=1."""
    if not SHARED_DATA.is_dir():
        message = f"real data not found at {SHARED_DATA}"
        if os.environ.get("RNN_TUI_REQUIRE_DATA"):
            pytest.fail(message + " (RNN_TUI_REQUIRE_DATA is set: CI must run the real-data tests)")
        pytest.skip(message)
    return SHARED_DATA
