"""The run-folder format (`tasks.engine.runs`): summary, history and checkpoint look-ups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.engine.runs import (
    BEST_CHECKPOINT,
    HISTORY,
    LAST_CHECKPOINT,
    SUMMARY,
    append_history,
    history_stamp,
    playable_checkpoint,
    read_history,
    read_run,
    read_summary,
    resumable_checkpoint,
    write_summary,
)


def test_play_takes_the_latest_checkpoint_else_the_best(tmp_path: Path) -> None:
    assert playable_checkpoint(tmp_path) is None
    (tmp_path / BEST_CHECKPOINT).write_bytes(b"")
    assert playable_checkpoint(tmp_path) == tmp_path / BEST_CHECKPOINT
    (tmp_path / LAST_CHECKPOINT).write_bytes(b"")
    assert playable_checkpoint(tmp_path) == tmp_path / LAST_CHECKPOINT


def test_resume_needs_the_latest_checkpoint(tmp_path: Path) -> None:
    (tmp_path / BEST_CHECKPOINT).write_bytes(b"")
    assert resumable_checkpoint(tmp_path) is None  # a best checkpoint alone cannot resume
    (tmp_path / LAST_CHECKPOINT).write_bytes(b"")
    assert resumable_checkpoint(tmp_path) == tmp_path / LAST_CHECKPOINT


def test_summary_round_trip(tmp_path: Path) -> None:
    write_summary(tmp_path, {"task": "names", "status": "running", "step": 7})
    assert read_summary(tmp_path) == {"task": "names", "status": "running", "step": 7}
    run = read_run(tmp_path)
    assert run is not None and (run.task, run.status, run.step) == ("names", "running", 7)


@pytest.mark.parametrize("content", [None, "{torn", "[1, 2]"])
def test_an_unreadable_summary_is_no_run(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / SUMMARY).write_text(content)
    assert read_summary(tmp_path) == {}
    assert read_run(tmp_path) is None


def test_history_skips_a_torn_last_line_and_stamps_changes(tmp_path: Path) -> None:
    assert read_history(tmp_path) == [] and history_stamp(tmp_path) == 0.0
    step = {"event": "step", "step": 1, "loss": 3.5}
    evaluation = {"event": "eval", "step": 1, "metrics": {"val_loss": 3.4}}
    append_history(tmp_path, step)
    append_history(tmp_path, {"event": "step", "step": "1"})  # parses, but no usable record
    append_history(tmp_path, evaluation)
    path = tmp_path / HISTORY
    with path.open("a") as handle:
        handle.write('{"event": "st')  # a crash mid-write
    assert read_history(tmp_path) == [step, evaluation]
    assert history_stamp(tmp_path) == path.stat().st_mtime > 0
    assert json.loads(path.read_text().splitlines()[0]) == step
