"""The training engine: a generator of events around any `Task`, with no UI in it.

    trainer = Trainer(task, run_dir)
    for event in trainer.run(stop_event):
        print(event.to_json())

It seeds everything, schedules the learning rate (warm-up, cosine decay over epochs or over the
wall-clock budget), clips gradients, stops on NaN/inf keeping the last good checkpoint, throttles
step events by time, evaluates, writes checkpoints atomically, and stops cooperatively within one
batch when `stop` is set. Resuming from a checkpoint continues exactly as if never stopped.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.base import Task, seed_everything
from tasks.checkpoint import load_checkpoint, save_checkpoint
from tasks.config import ConfigError, TrainConfig
from tasks.events import (
    CheckpointSaved,
    EvalDone,
    Failed,
    Finished,
    Started,
    StepLogged,
    TrainEvent,
)
from tasks.runs import SUMMARY, append_history, write_json


def learning_rate(config: TrainConfig, step: int, progress: float) -> float:
    """Linear warm-up over `warmup_steps`, then cosine decay from lr to lr/10 as progress -> 1."""
    warm = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    if config.schedule == "constant":
        return config.lr * warm
    floor = config.lr / 10
    cosine = floor + 0.5 * (config.lr - floor) * (1 + math.cos(math.pi * min(progress, 1.0)))
    return cosine * warm


class Trainer:
    """Runs a task's training loop and yields `TrainEvent`s; see the module docstring."""

    def __init__(self, task: Task, run_dir: str | Path, checkpoint: dict[str, Any] | None = None):
        self.task = task
        self.config = task.config
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.config.epochs is None and self.config.minutes is None:
            raise ConfigError("give --epochs or --minutes (or both) so the run knows when to stop")
        self.pause = threading.Event()
        """Set to pause between batches (paused time does not count against the budget)."""
        self.save_requested = threading.Event()
        """Set to write a checkpoint after the current batch."""
        self.step = 0
        self.epoch = 0
        self.batch_index = 0
        self.elapsed_s = 0.0
        """Wall-clock seconds of training, evaluation and saving (pauses excluded)."""
        self._clock = time.perf_counter()
        self.tokens = 0
        self.best: float | None = None
        self.metrics: dict[str, float] = {}
        self.started = time.strftime("%Y-%m-%d %H:%M:%S")
        self._resumed = checkpoint is not None
        if checkpoint is not None:
            self._restore(checkpoint)
        else:
            seed_everything(self.config.seed)

    @classmethod
    def resume(
        cls, run_dir: str | Path, epochs: int | None = None, minutes: float | None = None
    ) -> Trainer:
        """Rebuild the task from a run's last checkpoint and continue it.

        epochs: train to this many epochs in all; minutes: this much more wall-clock time.
        """
        from tasks.registry import create_task

        state = load_checkpoint(Path(run_dir) / "last.pt")
        config = TrainConfig.from_dict(state["config"])
        if epochs is not None:
            config.epochs = epochs
        if minutes is not None:
            config.minutes = state["elapsed_s"] / 60 + minutes
        elif epochs is not None:
            config.minutes = None
        config.validate()
        return cls(create_task(config), run_dir, checkpoint=state)

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> Iterator[TrainEvent]:
        """Train until the epochs or the budget are spent, `stop` is set, or the loss is NaN."""
        stop = stop or threading.Event()
        task, config = self.task, self.config
        steps_per_epoch = len(task.batches(self.epoch))
        total = config.epochs * steps_per_epoch if config.epochs else None
        budget = config.minutes * 60 if config.minutes else None
        yield self._record(
            Started(
                run_dir=str(self.run_dir),
                task=task.name,
                arch=config.arch,
                dataset=config.dataset,
                dataset_note=task.dataset_note,
                parameters=task.parameter_count(),
                steps_per_epoch=steps_per_epoch,
                total_steps=total,
                resumed_from_step=self.step,
                config=config.to_dict(),
            )
        )
        self._write_summary("running")
        meter = _Meter()
        last_log = last_eval = self._clock = time.perf_counter()
        stopped = False
        while config.epochs is None or self.epoch < config.epochs:
            batches = task.batches(self.epoch)
            if self.batch_index == 0:
                task.start_epoch(self.epoch)
            while self.batch_index < len(batches):
                if stop.is_set():
                    stopped = True
                    break
                if self.pause.is_set():
                    time.sleep(0.05)
                    self._clock = time.perf_counter()  # paused time is not spent budget
                    continue
                progress = self._progress(total, budget)
                if progress >= 1.0:
                    break
                lr = learning_rate(config, self.step, progress)
                started = self._clock
                stats = task.train_step(batches[self.batch_index], lr)
                if not (math.isfinite(stats.loss) and math.isfinite(stats.grad_norm)):
                    yield from self._fail(stats)
                    return
                self.step += 1
                self.batch_index += 1
                self.tokens += stats.tokens
                now = self._account()
                meter.add(stats, now - started)
                if now - last_log >= config.log_every_s:
                    yield self._record(self._step_event(meter, lr, total, budget))
                    meter, last_log = _Meter(), now
                if now - last_eval >= config.eval_every_s:
                    metrics = task.evaluate(quick=True)
                    yield self._record(EvalDone(self.step, self.epoch, metrics, full=False))
                    last_eval = self._account()
                if self.save_requested.is_set():
                    self.save_requested.clear()
                    yield self._save("last.pt", "manual")
                    self._account()
            if stopped or self.batch_index < len(batches):
                break
            self.epoch += 1
            self.batch_index = 0
            # A task may check itself after each epoch (sentiment: validation, early stopping).
            end_epoch = getattr(task, "end_epoch", None)
            converged = bool(end_epoch(self.epoch)) if end_epoch is not None else False
            if budget is None:  # under a time budget, evaluate fully once, at the end
                yield from self._full_eval()
            yield self._save("last.pt", "epoch")
            self._account()
            if converged:
                break
        if meter.steps:
            yield self._record(self._step_event(meter, lr, total, budget))
        if stopped:
            yield self._save("last.pt", "stop")
        elif self.metrics.get("_step") != self.step:  # not evaluated at this step yet
            yield from self._full_eval()
            yield self._save("last.pt", "final")
        self._account()
        self._write_summary("stopped" if stopped else "finished")
        yield self._record(
            Finished(
                run_dir=str(self.run_dir),
                checkpoint=str(self.run_dir / "last.pt"),
                metrics=self._public_metrics(),
                stopped=stopped,
            )
        )

    # -- pieces -----------------------------------------------------------------------------

    def _progress(self, total: int | None, budget: float | None) -> float:
        fractions = [self.step / total] if total else []
        if budget:
            fractions.append(self.elapsed_s / budget)
        return max(fractions)

    def _step_event(
        self, meter: _Meter, lr: float, total: int | None, budget: float | None
    ) -> StepLogged:
        progress = min(self._progress(total, budget), 1.0)
        eta = self.elapsed_s * (1 - progress) / progress if progress > 0 else None
        return StepLogged(
            step=self.step,
            epoch=self.epoch,
            progress=progress,
            loss=meter.loss,
            lr=lr,
            grad_norm=meter.grad_norm,
            tokens_per_s=meter.tokens_per_s,
            elapsed_s=self.elapsed_s,
            eta_s=eta,
            gradients=self._gradient_profile(),
        )

    def _gradient_profile(self) -> dict[str, Any] | None:
        """The task's newest gradient-flow profile, if it records them (`pop_gradient_profile`)."""
        pop = getattr(self.task, "pop_gradient_profile", None)
        return pop() if pop is not None else None

    def _account(self) -> float:
        """Add the wall-clock time since the last call to the spent budget; returns now."""
        now = time.perf_counter()
        self.elapsed_s += now - self._clock
        self._clock = now
        return now

    def _full_eval(self) -> Iterator[TrainEvent]:
        metrics = self.task.evaluate(quick=False)
        self.metrics = {**metrics, "_step": self.step}
        yield self._record(EvalDone(self.step, self.epoch, metrics, full=True))
        value = metrics.get(self.task.primary_metric)
        if value is not None and self._improves(value):
            self.best = value
            yield self._save("best.pt", "best")

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best if self.task.lower_is_better else value > self.best

    def _fail(self, stats: Any) -> Iterator[TrainEvent]:
        last = self.run_dir / "last.pt"
        what = "loss" if not math.isfinite(stats.loss) else "gradient norm"
        reason = (
            f"{what} became {stats.loss if what == 'loss' else stats.grad_norm} at step "
            f"{self.step + 1}; training stopped (try a lower --lr or a --clip value)"
        )
        self._write_summary("failed", reason=reason)
        yield self._record(Failed(self.step, reason, str(last) if last.exists() else None))

    def _save(self, name: str, reason: str) -> CheckpointSaved:
        import torch

        path = save_checkpoint(
            self.run_dir / name,
            {
                "task": self.task.name,
                "arch": self.config.arch,
                "config": self.config.to_dict(),
                "step": self.step,
                "epoch": self.epoch,
                "batch_index": self.batch_index,
                "elapsed_s": self.elapsed_s,
                "tokens": self.tokens,
                "best": self.best,
                "metrics": self._public_metrics(),
                "task_state": self.task.state_dict(),
                "rng": torch.get_rng_state(),
                "started": self.started,
            },
        )
        return self._record(CheckpointSaved(self.step, str(path), reason))

    def _restore(self, state: dict[str, Any]) -> None:
        import torch

        self.task.load_state_dict(state["task_state"])
        torch.set_rng_state(state["rng"])
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_index, self.elapsed_s = state["batch_index"], state["elapsed_s"]
        self.tokens = state["tokens"]
        self.best, self.started = state["best"], state.get("started", self.started)
        self.metrics = {**state.get("metrics", {}), "_step": self.step}

    def _public_metrics(self) -> dict[str, float]:
        metrics = {k: v for k, v in self.metrics.items() if not k.startswith("_")}
        metrics["wall_s"] = round(self.elapsed_s, 2)
        if self.elapsed_s > 0:
            metrics["train_tokens_per_s"] = round(self.tokens / self.elapsed_s, 1)
        return metrics

    def _record(self, event: TrainEvent) -> TrainEvent:
        if not isinstance(event, Started):
            append_history(self.run_dir, {"event": event.kind, **event.__dict__})
        return event

    def _write_summary(self, status: str, reason: str | None = None) -> None:
        write_json(
            self.run_dir / SUMMARY,
            {
                "task": self.task.name,
                "arch": self.config.arch,
                "dataset": self.config.dataset,
                "status": status,
                "reason": reason,
                "step": self.step,
                "epoch": self.epoch,
                "metrics": self._public_metrics(),
                "primary_metric": self.task.primary_metric,
                "started": self.started,
                "config": self.config.to_dict(),
            },
        )


class _Meter:
    """Averages step statistics between two step events."""

    def __init__(self) -> None:
        self.steps = 0
        self.loss_sum = self.norm_sum = self.seconds = 0.0
        self.tokens = 0

    def add(self, stats: Any, seconds: float) -> None:
        self.steps += 1
        self.loss_sum += stats.loss
        self.norm_sum += stats.grad_norm
        self.tokens += stats.tokens
        self.seconds += seconds

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.steps, 1)

    @property
    def grad_norm(self) -> float:
        return self.norm_sum / max(self.steps, 1)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0
