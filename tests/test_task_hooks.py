"""The optional task hooks: every task has them (defaults in `TaskBase`), the trainer calls them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from engine_fixtures import CountingTask, engine_config

from tasks.engine.base import TaskBase
from tasks.engine.trainer import Trainer
from tasks.registry import TASKS, create_task


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_derives_from_task_base(tmp_path: Path, task: str) -> None:
    assert isinstance(create_task(engine_config(task, tmp_path)), TaskBase)


def test_the_defaults() -> None:
    base = TaskBase()
    assert base.end_epoch(1) is False
    assert base.pop_gradient_profile() is None
    assert base.details() == {}


class HookedTask(CountingTask):
    """A fake task that asks to stop after `stop_after` epochs and hands out a profile a step
    (10 epochs of 3 steps)."""

    def __init__(self, stop_after: int) -> None:
        super().__init__(epochs=10, per_epoch=3, tokens=4)
        self.stop_after, self.ended = stop_after, []

    def end_epoch(self, epoch: int) -> bool:
        self.ended.append(epoch)
        return epoch >= self.stop_after

    def pop_gradient_profile(self) -> dict | None:
        return {"step": self.steps}


def test_end_epoch_true_stops_after_that_epochs_checkpoint(tmp_path: Path) -> None:
    task = HookedTask(stop_after=2)
    events = list(Trainer(task, tmp_path / "run").run(threading.Event()))
    assert task.ended == [1, 2]
    saves = [(e.reason, e.step) for e in events if e.kind == "checkpoint"]
    assert saves[-1] == ("epoch", 6) and "final" not in dict(saves)  # evaluated at step 6
    assert events[-1].kind == "finished" and not events[-1].stopped
    steps = [e for e in events if e.kind == "step"]
    assert [e.gradients for e in steps] == [{"step": n} for n in range(1, 7)]
