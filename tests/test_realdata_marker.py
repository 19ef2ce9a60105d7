"""The `realdata` marker follows the `real_data` fixture through other fixtures, and a test that
calls `shared_data()` without it fails instead of reading the real data unmarked."""

from __future__ import annotations

import pytest

SAMPLE = """
import pytest
from realdata import shared_data


@pytest.fixture(scope="module")
def corpus(real_data):
    return real_data / "corpus"


@pytest.fixture
def sample(corpus, tmp_path):
    return tmp_path


def test_direct(real_data):
    pass


def test_through_two_fixtures(sample):
    pass


def test_synthetic(tmp_path):
    pass


def test_unmarked_call():
    shared_data()
"""

PLUGINS = ("-p", "realdata", "-p", "no:textual-snapshot")  # the snapshot plugin is one per process


def test_users_of_real_data_are_marked_and_deselectable(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sample=SAMPLE)
    items, _ = pytester.inline_genitems(*PLUGINS)
    marked = {item.name for item in items if item.get_closest_marker("realdata")}
    assert marked == {"test_direct", "test_through_two_fixtures"}
    kept = pytester.runpytest_inprocess(*PLUGINS, "-m", "not realdata", "--collect-only", "-q")
    assert [line for line in kept.outlines if "::" in line] == [
        "test_sample.py::test_synthetic",
        "test_sample.py::test_unmarked_call",
    ]


def test_calling_shared_data_without_the_marker_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sample=SAMPLE)
    result = pytester.runpytest_inprocess(*PLUGINS, "-k", "unmarked_call")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*without the realdata marker: take the `real_data` fixture*"])
