"""The real datasets in ../shared/data (next to the repository, as in CI), for tests that need them.

A pytest plugin (tests/conftest.py loads it): a test takes the `real_data` fixture, directly or
through another fixture, and is marked `realdata` at collection, so `-m "not realdata"` leaves
it out. Calling `shared_data()` from a test without the marker fails, so the marker cannot be
forgotten.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The real datasets, next to the repository (as in CI)."""

_running: pytest.Item | None = None
"""The test being run (set by `pytest_runtest_protocol`)."""


def shared_data() -> Path:
    """The real data root; skips the test when absent, or fails under RNN_TUI_REQUIRE_DATA=1."""
    if _running is not None and _running.get_closest_marker("realdata") is None:
        pytest.fail(
            f"{_running.nodeid} reads {SHARED_DATA} without the realdata marker: take the "
            "`real_data` fixture instead of calling shared_data()"
        )
    if not SHARED_DATA.is_dir():
        message = f"real data not found at {SHARED_DATA}"
        if os.environ.get("RNN_TUI_REQUIRE_DATA"):
            pytest.fail(message + " (RNN_TUI_REQUIRE_DATA is set: CI must run the real-data tests)")
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real data root (../shared/data); a test that uses it is marked `realdata`."""
    return shared_data()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `realdata` every test whose fixtures, followed through, include `real_data`."""
    for item in items:
        if "real_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Remember which test runs, for `shared_data`'s check."""
    global _running
    outer, _running = _running, item
    try:
        return (yield)
    finally:
        _running = outer
