"""The training engine on every registered task: one step per registry entry, exact resume,
cooperative stop, the time budget, events and run folders; NaN handling and the schedule.

Each task trains on its small synthetic dataset from `engine_fixtures` (no real data, no skips).
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from engine_fixtures import BUILDERS, CountingTask, engine_config

from models.registry import get_architecture
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.settings import BACKENDS, ConfigError, TrainConfig
from tasks.engine.trainer import Trainer, learning_rate
from tasks.registry import TASKS, create_task

ENTRIES = [
    (task, arch, backend)
    for task, info in TASKS.items()
    for arch in info.archs
    for backend in [b for b in get_architecture(arch).backends if b in BACKENDS] or [None]
]
"""Every (task, architecture, backend) the registries offer."""


def run_all(trainer: Trainer, stop: threading.Event | None = None, stop_when=None) -> list:
    stop = stop or threading.Event()
    events = []
    for event in trainer.run(stop):
        events.append(event)
        if stop_when and stop_when(event):
            stop.set()
    return events


def flat(state: Any, prefix: str = "") -> dict[str, Any]:
    """A nested state dict as {"a.b.0": leaf}, for comparing two checkpoints leaf by leaf."""
    if isinstance(state, dict):
        return {k: v for key, sub in state.items() for k, v in flat(sub, f"{prefix}{key}.").items()}
    if isinstance(state, (list, tuple)):
        return {k: v for i, sub in enumerate(state) for k, v in flat(sub, f"{prefix}{i}.").items()}
    return {prefix: state}


def assert_same_state(a: dict[str, Any], b: dict[str, Any]) -> None:
    left, right = flat(a), flat(b)
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, right[key]), key
        elif isinstance(value, np.ndarray):
            assert np.array_equal(value, right[key]), key
        else:
            assert value == right[key], key


def model_metrics(finished) -> dict[str, float]:
    """The final metrics that depend on the weights alone (not on the clock)."""
    assert finished.kind == "finished", finished
    return {k: v for k, v in finished.metrics.items() if k not in ("wall_s", "train_tokens_per_s")}


def test_every_registered_task_has_a_synthetic_dataset() -> None:
    """A task added to the registry adds its builder to engine_fixtures.BUILDERS."""
    assert set(TASKS) <= set(BUILDERS), (
        f"no engine fixture for {sorted(set(TASKS) - set(BUILDERS))}"
    )


@pytest.mark.parametrize(("task", "arch", "backend"), ENTRIES)
def test_one_training_step_per_entry(tmp_path: Path, task: str, arch: str, backend: str) -> None:
    """pytorch/examples' `--epochs 1 --dry-run`: every entry builds, steps and evaluates."""
    config = engine_config(task, tmp_path, arch, backend=backend)
    model = create_task(config)
    model.start_epoch(0)
    stats = model.train_step(model.batches(0)[0], lr=config.lr)
    assert math.isfinite(stats.loss) and stats.loss > 0
    assert math.isfinite(stats.grad_norm) and stats.grad_norm > 0 and stats.tokens > 0
    metric = model.evaluate(quick=True)[TASKS[task].primary_metric]
    assert math.isfinite(metric)
    assert model.parameter_count() > 0


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("stop_at", ["epoch end", "mid-epoch"])
def test_resume_is_exact(tmp_path: Path, task: str, stop_at: str) -> None:
    """Stopped after k steps and resumed, a run ends with the weights of a straight run."""
    config = engine_config(task, tmp_path, epochs=2)
    straight = run_all(Trainer(create_task(config), tmp_path / "straight"))
    per_epoch = straight[0].steps_per_epoch
    assert per_epoch >= 2
    k = per_epoch if stop_at == "epoch end" else per_epoch + 1

    first = run_all(
        Trainer(create_task(config), tmp_path / "resumed"),
        stop_when=lambda e: e.kind == "step" and e.step == k,
    )
    assert first[-1].kind == "finished" and first[-1].stopped
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["step"] == k
    resumed = run_all(Trainer.resume(tmp_path / "resumed"))
    assert resumed[0].resumed_from_step == k

    assert model_metrics(resumed[-1]) == model_metrics(straight[-1])
    ends = [load_checkpoint(tmp_path / run / "last.pt") for run in ("straight", "resumed")]
    assert ends[0]["step"] == ends[1]["step"] == 2 * per_epoch
    assert_same_state(ends[0]["task_state"], ends[1]["task_state"])


@pytest.mark.parametrize("task", list(TASKS))
def test_stop_ends_within_one_batch_and_leaves_a_loadable_checkpoint(
    tmp_path: Path, task: str
) -> None:
    run = tmp_path / "run"
    events = run_all(
        Trainer(create_task(engine_config(task, tmp_path, epochs=1000)), run),
        stop_when=lambda e: e.kind == "step" and e.step == 3,
    )
    assert events[-1].kind == "finished" and events[-1].stopped
    assert max(e.step for e in events if e.kind == "step") == 3  # no batch after the stop
    saved = [e for e in events if e.kind == "checkpoint"][-1]
    assert (saved.reason, saved.step, saved.path) == ("stop", 3, str(run / "last.pt"))
    assert load_checkpoint(run / "last.pt", task=task)["step"] == 3
    assert Trainer.resume(run).step == 3
    assert json.loads((run / "summary.json").read_text())["status"] == "stopped"


@pytest.mark.parametrize("task", list(TASKS))
def test_minutes_budget_ends_the_run(tmp_path: Path, task: str) -> None:
    """By the trainer's own clock: no batch starts once the budget is spent, and it is spent."""
    config = engine_config(task, tmp_path, epochs=None, minutes=0.005)
    assert config.epochs is None  # only the budget can end this run
    trainer = Trainer(create_task(config), tmp_path / "run")
    events = run_all(trainer)
    assert events[-1].kind == "finished" and not events[-1].stopped
    budget_s = config.minutes * 60
    steps = [e for e in events if e.kind == "step"]
    assert [e.step for e in steps] == list(range(1, trainer.step + 1))  # a step event per step
    assert all(e.elapsed_s < budget_s for e in steps[:-1])  # each next batch began in budget
    assert trainer.elapsed_s >= budget_s and events[-1].metrics["wall_s"] >= budget_s


@pytest.mark.parametrize("task", list(TASKS))
def test_events_and_run_folder(tmp_path: Path, task: str) -> None:
    run = tmp_path / "run"
    events = run_all(Trainer(create_task(engine_config(task, tmp_path, epochs=1)), run))
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert {"step", "eval", "checkpoint"} <= set(kinds)
    assert all(json.loads(e.to_json())["event"] == e.kind for e in events)
    history = [
        json.loads(line)["event"] for line in (run / "history.jsonl").read_text().splitlines()
    ]
    assert history == kinds[1:]  # every event but "started" is kept
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and TASKS[task].primary_metric in summary["metrics"]
    assert (run / "best.pt").exists() and (run / "last.pt").exists()
    metrics = events[-1].metrics
    assert metrics["train_tokens_per_s"] > 0 and metrics["wall_s"] > 0


def test_charlm_reports_bits_per_character(tmp_path: Path) -> None:
    events = run_all(Trainer(create_task(engine_config("charlm", tmp_path, epochs=1)), tmp_path))
    metrics = events[-1].metrics
    assert metrics["val_bpc"] == pytest.approx(metrics["val_loss"] / math.log(2), rel=1e-4)


def test_resume_to_more_epochs_continues(tmp_path: Path) -> None:
    config = engine_config("charlm", tmp_path, epochs=1, schedule="constant")
    run_all(Trainer(create_task(config), tmp_path / "run"))
    events = run_all(Trainer.resume(tmp_path / "run", epochs=2))
    assert events[0].resumed_from_step == events[0].steps_per_epoch
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 2
    # a constant schedule makes 1 + 1 epochs identical to 2 straight
    straight = run_all(Trainer(create_task(config.replace(epochs=2)), tmp_path / "straight"))
    assert model_metrics(events[-1]) == model_metrics(straight[-1])


class NanTask(CountingTask):
    """A fake task whose loss becomes NaN at a given step (3 epochs of 4 steps)."""

    def __init__(self, nan_at: int) -> None:
        super().__init__(epochs=3, per_epoch=4, tokens=10)
        self.nan_at = nan_at

    def loss_at(self, step: int) -> float:
        return math.nan if step >= self.nan_at else 1.0 / step


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


def test_learning_rate_schedule() -> None:
    config = TrainConfig(lr=1.0, warmup_steps=10)
    assert learning_rate(config, 0, 0.0) == pytest.approx(0.1)
    assert learning_rate(config, 50, 0.0) == pytest.approx(1.0)
    assert learning_rate(config, 50, 0.5) == pytest.approx(0.55)
    assert learning_rate(config, 50, 1.0) == pytest.approx(0.1)
    constant = config.replace(schedule="constant")
    assert learning_rate(constant, 50, 0.9) == 1.0
