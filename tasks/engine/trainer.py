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
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tasks.engine.base import Task, seed_everything
from tasks.engine.checkpoint import load_checkpoint, save_checkpoint
from tasks.engine.events import (
    CheckpointSaved,
    EvalDone,
    Failed,
    Finished,
    Started,
    StepLogged,
    TrainEvent,
)
from tasks.engine.runs import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    append_history,
    last_checkpoint,
    write_summary,
)
from tasks.engine.settings import TrainConfig


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
        self.config.validate()  # every rule, "epochs or minutes" included, lives in the settings
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
        from tasks.registry import config_from_dict, create_task

        state = load_checkpoint(last_checkpoint(Path(run_dir)))
        config = config_from_dict(state["config"])
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
        loop = yield from self._start()
        outcome: _Outcome = "spent"
        while self.config.epochs is None or self.epoch < self.config.epochs:
            outcome = yield from self._run_batches(stop, loop)
            if outcome == "failed":
                return
            if outcome != "epoch":
                break
            converged = yield from self._end_epoch(loop)
            if converged:
                break
        yield from self._finish(loop, stopped=outcome == "stopped")

    def _start(self) -> Generator[TrainEvent, None, _Loop]:
        """Announce the run (`Started`), mark it running; returns the loop's state."""
        task, config = self.task, self.config
        steps_per_epoch = len(task.batches(self.epoch))
        total = config.epochs * steps_per_epoch if config.epochs else None
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
        now = self._clock = time.perf_counter()
        budget = config.minutes * 60 if config.minutes else None
        return _Loop(total=total, budget=budget, last_log=now, last_eval=now)

    def _run_batches(
        self, stop: threading.Event, loop: _Loop
    ) -> Generator[TrainEvent, None, _Outcome]:
        """Train on the rest of the current epoch's batches; returns why it ended."""
        batches = self.task.batches(self.epoch)
        if self.batch_index == 0:
            self.task.start_epoch(self.epoch)
        while self.batch_index < len(batches):
            halt = self._halt(stop, loop)
            if halt is not None:
                return halt
            trained = yield from self._step(batches[self.batch_index], loop)
            if not trained:
                return "failed"
        return "epoch"

    def _halt(self, stop: threading.Event, loop: _Loop) -> _Outcome | None:
        """Before a batch: wait while paused, then say whether to halt, or None to train on.

        "stopped" when `stop` is set, "spent" once the epochs or the budget are used up.
        """
        while not stop.is_set() and self.pause.is_set():
            time.sleep(0.05)
            self._clock = time.perf_counter()  # paused time is not spent budget
        if stop.is_set():
            return "stopped"
        if self._progress(loop) >= 1.0:
            return "spent"
        return None

    def _step(self, batch: Any, loop: _Loop) -> Generator[TrainEvent, None, bool]:
        """One optimisation step and what is due after it; False when the run failed.

        It fails when the loss or the gradient norm is not finite (`Failed` is then yielded).
        """
        lr = learning_rate(self.config, self.step, self._progress(loop))
        started = self._clock
        stats = self.task.train_step(batch, lr)
        if not (math.isfinite(stats.loss) and math.isfinite(stats.grad_norm)):
            yield from self._fail(stats)
            return False
        self.step += 1
        self.batch_index += 1
        self.tokens += stats.tokens
        now = self._account()
        loop.meter.add(stats, now - started)
        loop.lr = lr
        yield from self._after_step(now, loop)
        return True

    def _after_step(self, now: float, loop: _Loop) -> Iterator[TrainEvent]:
        """The throttled step event and quick evaluation, and a save if one was asked for."""
        if now - loop.last_log >= self.config.log_every_s:
            yield self._record(self._step_event(loop))
            loop.meter, loop.last_log = _Meter(), now
        if now - loop.last_eval >= self.config.eval_every_s:
            metrics = self.task.evaluate(quick=True)
            yield self._record(EvalDone(self.step, self.epoch, metrics, full=False))
            loop.last_eval = self._account()
        if self.save_requested.is_set():
            self.save_requested.clear()
            yield self._save(LAST_CHECKPOINT, "manual")
            self._account()

    def _end_epoch(self, loop: _Loop) -> Generator[TrainEvent, None, bool]:
        """Count the epoch, let the task check itself, evaluate and checkpoint.

        Returns True when the task's `end_epoch` asks to stop (sentiment: early stopping).
        """
        self.epoch += 1
        self.batch_index = 0
        converged = self.task.end_epoch(self.epoch)
        if loop.budget is None:  # under a time budget, evaluate fully once, at the end
            yield from self._full_eval()
        yield self._save(LAST_CHECKPOINT, "epoch")
        self._account()
        return converged

    def _finish(self, loop: _Loop, stopped: bool) -> Iterator[TrainEvent]:
        """The last step event, the final evaluation and checkpoint, the summary, `Finished`."""
        if loop.meter.steps:
            yield self._record(self._step_event(loop))
        if stopped:
            yield self._save(LAST_CHECKPOINT, "stop")
        elif self.metrics.get("_step") != self.step:  # not evaluated at this step yet
            yield from self._full_eval()
            yield self._save(LAST_CHECKPOINT, "final")
        self._account()
        self._write_summary("stopped" if stopped else "finished")
        yield self._record(
            Finished(
                run_dir=str(self.run_dir),
                checkpoint=str(last_checkpoint(self.run_dir)),
                metrics=self._public_metrics(),
                stopped=stopped,
            )
        )

    # -- pieces -----------------------------------------------------------------------------

    def _progress(self, loop: _Loop) -> float:
        """The larger of the fractions of the steps and of the budget spent."""
        fractions = [self.step / loop.total] if loop.total else []
        if loop.budget:
            fractions.append(self.elapsed_s / loop.budget)
        return max(fractions)

    def _step_event(self, loop: _Loop) -> StepLogged:
        meter = loop.meter
        progress = min(self._progress(loop), 1.0)
        eta = self.elapsed_s * (1 - progress) / progress if progress > 0 else None
        return StepLogged(
            step=self.step,
            epoch=self.epoch,
            progress=progress,
            loss=meter.loss,
            lr=loop.lr,
            grad_norm=meter.grad_norm,
            tokens_per_s=meter.tokens_per_s,
            elapsed_s=self.elapsed_s,
            eta_s=eta,
            gradients=self.task.pop_gradient_profile(),
        )

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
            yield self._save(BEST_CHECKPOINT, "best")

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best if self.task.lower_is_better else value > self.best

    def _fail(self, stats: Any) -> Iterator[TrainEvent]:
        last = last_checkpoint(self.run_dir)
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
        write_summary(
            self.run_dir,
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


_Outcome = Literal["epoch", "stopped", "spent", "failed"]
"""Why a stretch of batches ended: the epoch is done, `stop` was set, the epochs or the budget
are used up, or the loss or the gradient norm was not finite."""


@dataclass
class _Loop:
    """What one `Trainer.run` carries from batch to batch."""

    total: int | None
    """Steps in all (with --epochs)."""
    budget: float | None
    """Seconds of training in all (with --minutes)."""
    last_log: float
    """`perf_counter` time of the last step event."""
    last_eval: float
    """`perf_counter` time of the last quick evaluation."""
    meter: _Meter = field(default_factory=_Meter)
    """Step statistics since the last step event."""
    lr: float = 0.0
    """The learning rate of the last step."""
