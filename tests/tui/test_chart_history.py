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
