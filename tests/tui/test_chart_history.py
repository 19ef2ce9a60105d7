"""What Runs keeps of a history (tui/chart_history.py): the steps' losses as arrays, the
evaluations' step, metrics and fullness; damaged lines skipped as every reader skips them."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

from tasks.engine.runs import HISTORY, history_stamp
from tui.chart_history import ChartHistory, read_chart_history


def test_steps_as_arrays_and_evaluations_as_records(tmp_path: Path) -> None:
    records = [
        {"event": "step", "step": 1, "loss": 4.0, "lr": 0.1, "tokens_per_s": 9.0},
        {"event": "eval", "step": 1, "metrics": {"val_loss": 3.5}, "full": False},
        {"event": "step", "step": 3, "loss": 3.0, "grad_norm": 1.0},
        {"event": "eval", "step": 3, "metrics": {"val_loss": 2.5, "test_loss": 2.6}, "full": True},
        {"event": "finished", "metrics": {"val_loss": 2.5}},
    ]
    lines = [json.dumps(r) for r in records]
    lines.insert(2, '{"event": "step", "step": 2, "loss": "NaN?"}')  # not of a step's shape
    (tmp_path / HISTORY).write_text("\n".join(lines) + '\n{"event": "st')  # torn at the end
    history = read_chart_history(tmp_path)
    assert history.steps == array("d", [1, 3]) and history.losses == array("d", [4.0, 3.0])
    assert history.evals == [
        {"step": 1, "metrics": {"val_loss": 3.5}, "full": False},
        {"step": 3, "metrics": {"val_loss": 2.5, "test_loss": 2.6}, "full": True},
    ]
    assert history.stamp == history_stamp(tmp_path) > 0


def test_a_run_without_history_has_an_empty_one(tmp_path: Path) -> None:
    assert read_chart_history(tmp_path) == ChartHistory()


def _step(step: int) -> str:
    return json.dumps({"event": "step", "step": step, "loss": 1.0 / step}) + "\n"


def test_a_growing_history_is_read_on_from_where_it_was(tmp_path: Path) -> None:
    """A read given the last one reads only what was written since; a line being written (no
    newline, not yet JSON) waits for the next read, which meets it whole."""
    path = tmp_path / HISTORY
    path.write_text(_step(1) + _step(2))
    first = read_chart_history(tmp_path)
    assert first.offset == path.stat().st_size
    with path.open("a") as handle:
        handle.write(_step(3) + _step(4)[:10])  # the fourth line half written
    second = read_chart_history(tmp_path, first)
    assert list(second.steps) == [1, 2, 3]
    assert list(first.steps) == [1, 2]  # the earlier read is left as it was
    with path.open("a") as handle:
        handle.write(_step(4)[10:])
    third = read_chart_history(tmp_path, second)
    assert list(third.steps) == [1, 2, 3, 4]
    assert third == read_chart_history(tmp_path)  # as a read from the start gives


def test_a_history_made_again_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / HISTORY
    path.write_text(_step(1) + _step(2) + _step(3))
    before = read_chart_history(tmp_path)
    path.unlink()  # the run deleted and a new one saved under its name
    path.write_text(_step(7))
    assert list(read_chart_history(tmp_path, before).steps) == [7]
    path.write_text(_step(8))  # the same file, shorter than what was read
    assert list(read_chart_history(tmp_path, before).steps) == [8]
