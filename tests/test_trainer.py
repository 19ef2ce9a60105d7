"""The training engine: exact resume, cooperative stop, NaN handling, events and checkpoints."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest

from tasks.base import StepStats
from tasks.charlm import CharLMTask
from tasks.checkpoint import load_checkpoint
from tasks.config import ConfigError, TrainConfig
from tasks.registry import default_config
from tasks.trainer import Trainer, learning_rate


def tiny_config(path: Path, **changes) -> TrainConfig:
    base = dict(
        dataset=str(path), hidden=32, layers=2, embed=16, batch=8, seq_len=32, epochs=2,
        dropout=0.1, log_every_s=0.0, eval_every_s=1e9,
    )  # fmt: skip
    return default_config("charlm", "lstm", **(base | changes))


def run_all(trainer: Trainer, stop: threading.Event | None = None, stop_when=None):
    stop = stop or threading.Event()
    events = []
    for event in trainer.run(stop):
        events.append(event)
        if stop_when and stop_when(event):
            stop.set()
    return events


def final_val_loss(events) -> float:
    finished = events[-1]
    assert finished.kind == "finished", events[-1]
    return finished.metrics["val_loss"]


@pytest.mark.parametrize("stop_at", ["epoch", "mid-epoch"])
def test_resume_is_exact(small_text: Path, tmp_path: Path, stop_at: str) -> None:
    config = tiny_config(small_text)
    straight = run_all(Trainer(CharLMTask(config), tmp_path / "straight"))

    steps_per_epoch = straight[0].steps_per_epoch

    def stop_when(event) -> bool:
        if stop_at == "epoch":
            return event.kind == "eval" and event.full and event.epoch == 1
        return event.kind == "step" and event.step == steps_per_epoch + 3

    first = run_all(Trainer(CharLMTask(config), tmp_path / "resumed"), stop_when=stop_when)
    assert first[-1].kind == "finished" and first[-1].stopped
    saved = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert saved["step"] < 2 * steps_per_epoch
    resumed = run_all(Trainer.resume(tmp_path / "resumed"))
    assert resumed[0].resumed_from_step == saved["step"]
    assert final_val_loss(resumed) == pytest.approx(final_val_loss(straight), abs=1e-6)


def test_resume_to_more_epochs_continues(small_text: Path, tmp_path: Path) -> None:
    config = tiny_config(small_text, epochs=1, schedule="constant")
    run_all(Trainer(CharLMTask(config), tmp_path / "run"))
    events = run_all(Trainer.resume(tmp_path / "run", epochs=2))
    assert events[0].resumed_from_step == events[0].steps_per_epoch
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 2
    # a constant schedule makes 1 + 1 epochs identical to 2 straight
    straight = run_all(Trainer(CharLMTask(config.replace(epochs=2)), tmp_path / "straight"))
    assert final_val_loss(events) == pytest.approx(final_val_loss(straight), abs=1e-6)


def test_events_and_run_folder(small_text: Path, tmp_path: Path) -> None:
    events = run_all(Trainer(CharLMTask(tiny_config(small_text, epochs=1)), tmp_path / "run"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert {"step", "eval", "checkpoint"} <= set(kinds)
    assert all(json.loads(e.to_json())["event"] == e.kind for e in events)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "finished" and "val_loss" in summary["metrics"]
    assert (tmp_path / "run" / "best.pt").exists()
    metrics = events[-1].metrics
    assert metrics["val_bpc"] == pytest.approx(metrics["val_loss"] / math.log(2), rel=1e-4)
    assert metrics["train_tokens_per_s"] > 0 and metrics["wall_s"] > 0


def test_stop_saves_a_checkpoint_within_a_batch(small_text: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    trainer = Trainer(CharLMTask(tiny_config(small_text, epochs=50)), tmp_path / "run")
    events = run_all(trainer, stop, stop_when=lambda e: e.kind == "step" and e.step == 5)
    assert events[-1].stopped
    assert [e.reason for e in events if e.kind == "checkpoint"][-1] == "stop"
    assert load_checkpoint(tmp_path / "run" / "last.pt")["step"] == 5


class NanTask:
    """A fake task whose loss becomes NaN at a given step."""

    name = "charlm"
    primary_metric = "val_loss"
    lower_is_better = True
    dataset_note = ""

    def __init__(self, nan_at: int) -> None:
        self.config = TrainConfig(epochs=3, log_every_s=0.0, eval_every_s=1e9)
        self.nan_at, self.steps = nan_at, 0

    def parameter_count(self) -> int:
        return 1

    def batches(self, epoch: int) -> list[int]:
        return list(range(4))

    def start_epoch(self, epoch: int) -> None:
        pass

    def train_step(self, batch: int, lr: float) -> StepStats:
        self.steps += 1
        loss = math.nan if self.steps >= self.nan_at else 1.0 / self.steps
        return StepStats(loss, 1.0, 10)

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        return {"val_loss": 1.0 / max(self.steps, 1)}

    def state_dict(self) -> dict:
        return {"steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]


def test_nan_stops_with_a_clear_event_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    events = run_all(Trainer(NanTask(nan_at=6), tmp_path / "run"))
    failed = events[-1]
    assert failed.kind == "failed"
    assert "loss became nan at step 6" in failed.reason.lower()
    assert failed.checkpoint == str(tmp_path / "run" / "last.pt")
    good = load_checkpoint(failed.checkpoint)
    assert good["step"] == 4 and good["task_state"] == {"steps": 4}
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "failed"


def test_a_run_needs_epochs_or_minutes(tmp_path: Path) -> None:
    task = NanTask(nan_at=99)
    task.config = TrainConfig(epochs=None, minutes=None)
    with pytest.raises(ConfigError, match="--epochs or --minutes"):
        Trainer(task, tmp_path)


def test_minutes_budget_ends_the_run(small_text: Path, tmp_path: Path) -> None:
    config = tiny_config(small_text, epochs=None, minutes=0.02)
    events = run_all(Trainer(CharLMTask(config), tmp_path / "run"))
    assert events[-1].kind == "finished" and not events[-1].stopped
    assert 1.0 <= events[-1].metrics["wall_s"] < 10


def test_learning_rate_schedule() -> None:
    config = TrainConfig(lr=1.0, warmup_steps=10)
    assert learning_rate(config, 0, 0.0) == pytest.approx(0.1)
    assert learning_rate(config, 50, 0.0) == pytest.approx(1.0)
    assert learning_rate(config, 50, 0.5) == pytest.approx(0.55)
    assert learning_rate(config, 50, 1.0) == pytest.approx(0.1)
    constant = config.replace(schedule="constant")
    assert learning_rate(constant, 50, 0.9) == 1.0
