"""The optional task hooks: every task has them (defaults in `TaskBase`), the trainer calls them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from engine_fixtures import engine_config

from tasks.engine.base import StepStats, TaskBase
from tasks.engine.settings import TrainConfig
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


class HookedTask(TaskBase):
    """A fake task that asks to stop after `stop_after` epochs and hands out a profile a step."""

    name = "charlm"
    primary_metric = "val_loss"
    lower_is_better = True
    dataset_note = ""

    def __init__(self, stop_after: int) -> None:
        self.config = TrainConfig(epochs=10, log_every_s=0.0, eval_every_s=1e9)
        self.stop_after, self.steps, self.ended = stop_after, 0, []

    def parameter_count(self) -> int:
        return 1

    def batches(self, epoch: int) -> list[int]:
        return [0, 1, 2]

    def start_epoch(self, epoch: int) -> None:
        pass

    def train_step(self, batch: int, lr: float) -> StepStats:
        self.steps += 1
        return StepStats(1.0 / self.steps, 1.0, 4)

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        return {"val_loss": 1.0 / max(self.steps, 1)}

    def state_dict(self) -> dict:
        return {"steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]

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
