"""The training engine: a generator of events around any `Task`, with no UI in it.

    trainer = Trainer(task, run_dir)
    for event in trainer.run(stop_event):
        print(event.to_json())

It seeds everything, schedules the learning rate (warm-up, cosine decay over epochs or over the
wall-clock budget), clips gradients, stops on NaN/inf keeping the last good checkpoint, throttles
step events by time, evaluates, writes checkpoints atomically, and stops cooperatively within one
batch when `stop` is set. Resuming from a checkpoint continues exactly as if never stopped.
One process at a time trains a run folder (`tasks.engine.run_lock`), and a checkpoint that
cannot be written (a full disk) ends the run as failed with the previous checkpoint intact.

Several processes (torchrun; `tasks.engine.distributed`): every rank builds the same task and
runs this same loop, each on its shard of every global batch (`Task.shard`), the model in DDP,
so an epoch has the steps of one process. Rank 0 alone writes the history, checkpoints and the
summary, and only its `run` yields events; the others run silently. What steers the loop (stop,
pause, a save asked for, the budget's progress, when to evaluate, early stopping, a new best) is
rank 0's, shared with every rank at each step, and a stop on any rank stops them all. A step's
loss is the ranks' mean and its tokens their sum (tokens/s counts every rank). A checkpoint
holds every rank's RNG state (each rank draws its own dropout noise) and the task's whole state
(the char LM gathers every stream's carried state), so a run resumes exactly under the same
number of processes; under another it goes on with the same global batches split another way,
and a `Note` says so.
"""

from __future__ import annotations

import contextlib
import errno
import math
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tasks.engine.base import StepStats, Task, seed_everything
from tasks.engine.checkpoint import load_checkpoint, remove_partial_writes, save_checkpoint
from tasks.engine.distributed import (
    SINGLE,
    ShardError,
    World,
    barrier,
    gather_objects,
    init_world,
    share,
    world,
)
from tasks.engine.events import (
    CheckpointSaved,
    EvalDone,
    Failed,
    Finished,
    Note,
    Started,
    StepLogged,
    TrainEvent,
)
from tasks.engine.run_lock import RunBusy, RunLock
from tasks.engine.runs import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    append_history,
    last_checkpoint,
    write_summary,
)
from tasks.engine.settings import ConfigError, TrainConfig

PAUSE_POLL_S = 0.05
"""While paused, how often rank 0 looks at the controls again (and tells the other ranks)."""


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
        self.world = _join(self.config)
        """This process's place among the training processes (`World()` alone)."""
        if self.world.main:
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
        self._notes: list[str] = []
        """Lines for the log, yielded as `Note` events after `Started`."""
        self._resumed = checkpoint is not None
        if checkpoint is not None:
            self._restore(checkpoint)
        else:
            seed_everything(self.config.seed + self.world.rank)  # each rank its own noise
        if self.world.size > 1:
            self._check_shards()

    @classmethod
    def resume(
        cls,
        run_dir: str | Path,
        epochs: int | None = None,
        minutes: float | None = None,
        nproc: int | None = None,
    ) -> Trainer:
        """Rebuild the task from a run's last checkpoint and continue it.

        epochs: train to this many epochs in all; minutes: this much more wall-clock time;
        nproc: the processes per machine it now runs under (the config records it). Under
        several processes every rank reads the checkpoint (the run folder must be at the same
        path on every machine).
        """
        from tasks.registry import config_from_dict, create_task

        state = load_checkpoint(last_checkpoint(Path(run_dir)))
        config = config_from_dict(state["config"])
        if nproc is not None:
            config.nproc = nproc
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
        """Train until the epochs or the budget are spent, `stop` is set, or the loss is NaN.

        Under several processes only rank 0 yields events; every rank returns once rank 0 has
        written the run's last files. Rank 0 holds the run's lock (`tasks.engine.run_lock`)
        meanwhile: when another process trains the run, every rank raises its `RunBusy`
        before anything is written.
        """
        with self._locked():
            events = self._events(stop or threading.Event())
            if self.world.main:
                yield from events
            else:
                for _ in events:
                    pass
            barrier()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the run's lock (rank 0) while the body runs, on every way out of it; a lock
        that could not be taken stops every rank. A stale lock taken over, and checkpoint temp
        files a killed process left (removed), are noted."""
        lock: RunLock | None = None
        refusal: Exception | None = None
        if self.world.main:
            try:
                lock = RunLock.acquire(self.run_dir)
            except (RunBusy, OSError) as exc:
                refusal = exc
        (refused,) = self._agree(refusal is not None)
        if refused:
            raise refusal or RunBusy(f"run {self.run_dir} is already training (said rank 0)")
        try:
            if lock is not None:
                self._note_recovery(lock)
            yield
        finally:
            if lock is not None:
                lock.release()

    def _note_recovery(self, lock: RunLock) -> None:
        """Rank 0, holding the lock: note a stale lock taken over; remove (and note) the temp
        files of checkpoint writes that a kill interrupted."""
        taken = lock.note()
        if taken:
            self._notes.append(taken)
        removed = remove_partial_writes(self.run_dir)
        if removed:
            self._notes.append(
                f"removed {removed} partly written checkpoint file{'s' if removed > 1 else ''} "
                "left by a process killed while saving (the checkpoints themselves are whole)"
            )

    def _events(self, stop: threading.Event) -> Iterator[TrainEvent]:
        try:
            yield from self._train(stop)
        except _SaveFailed as failure:  # on every rank (`_save`)
            yield from self._failed(failure.reason)

    def _train(self, stop: threading.Event) -> Iterator[TrainEvent]:
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
        """Announce the run (`Started`, then any notes), mark it running; returns the loop's
        state."""
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
                world_size=self.world.size,
            )
        )
        for text in self._notes:
            yield self._record(Note(self.step, text))
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
            batch = batches[self.batch_index]
            if self.world.size > 1:
                try:
                    batch = self.task.shard(batch, self.world)
                except ShardError:  # fewer rows than processes: every rank skips it
                    self.batch_index += 1
                    continue
            trained = yield from self._step(batch, loop)
            if not trained:
                return "failed"
        return "epoch"

    def _halt(self, stop: threading.Event, loop: _Loop) -> _Outcome | None:
        """Before a batch: wait while paused, then say whether to halt, or None to train on.

        "stopped" when `stop` is set (on any rank), "spent" once the epochs or the budget are
        used up (by rank 0's clock). Sets the progress the step's learning rate follows.
        """
        control = self._control(stop, loop)
        while control.pause and not control.stop:
            time.sleep(PAUSE_POLL_S)
            self._clock = time.perf_counter()  # paused time is not spent budget
            control = self._control(stop, loop)
        if control.stop:
            return "stopped"
        loop.progress = control.progress
        if control.progress >= 1.0:
            return "spent"
        return None

    def _control(self, stop: threading.Event, loop: _Loop) -> _Control:
        """Stop, pause and progress as rank 0 has them, a stop on any rank included (one
        collective under several processes)."""
        stopping = float(stop.is_set())
        main, each = share([stopping, float(self.pause.is_set()), self._progress(loop)], [stopping])
        return _Control(stop=bool(main[0] or each[0]), pause=bool(main[1]), progress=main[2])

    def _step(self, batch: Any, loop: _Loop) -> Generator[TrainEvent, None, bool]:
        """One optimisation step and what is due after it; False when the run failed.

        It fails when the loss or the gradient norm is not finite (`Failed` is then yielded).
        """
        lr = learning_rate(self.config, self.step, loop.progress)
        started = self._clock
        stats = self.task.train_step(batch, lr)
        if self.world.size > 1:
            stats = self._over_ranks(stats)
        if not (math.isfinite(stats.loss) and math.isfinite(stats.grad_norm)):
            yield from self._fail(stats)
            return False
        self.step += 1
        self.batch_index += 1
        self.tokens += stats.tokens
        now = self._account()
        if self.config.compile and not loop.compiled:
            # the cold step compiles the model: its time goes to `compile_s`, not to tokens/s
            loop.compiled, loop.compile_s = True, now - started
            loop.meter.add(StepStats(stats.loss, stats.grad_norm, 0), 0.0)
        else:
            loop.meter.add(stats, now - started)
        loop.lr = lr
        yield from self._after_step(now, loop)
        return True

    def _over_ranks(self, stats: StepStats) -> StepStats:
        """The step as all ranks took it: their mean loss, their tokens together, and rank 0's
        gradient norm (DDP averaged the gradients, so every rank clipped the same norm); the
        norm is NaN when a rank's loss or norm was not finite."""
        bad = not (math.isfinite(stats.loss) and math.isfinite(stats.grad_norm))
        (norm,), (loss, tokens, bad_ranks) = share(
            [stats.grad_norm], [stats.loss, float(stats.tokens), float(bad)]
        )
        if bad_ranks and math.isfinite(loss) and math.isfinite(norm):
            norm = math.nan
        return StepStats(loss / self.world.size, norm, int(tokens))

    def _after_step(self, now: float, loop: _Loop) -> Iterator[TrainEvent]:
        """The throttled step event, and the quick evaluation and a save asked for when due
        (rank 0 decides both)."""
        if now - loop.last_log >= self.config.log_every_s:
            yield self._record(self._step_event(loop))
            loop.meter, loop.last_log = _Meter(), now
        evaluate, save = self._agree(
            now - loop.last_eval >= self.config.eval_every_s, self.save_requested.is_set()
        )
        if evaluate:
            metrics = self._evaluate(quick=True)
            yield self._record(EvalDone(self.step, self.epoch, metrics, full=False))
            loop.last_eval = self._account()
        if save:
            self.save_requested.clear()
            yield self._save(LAST_CHECKPOINT, "manual")
            self._account()

    def _end_epoch(self, loop: _Loop) -> Generator[TrainEvent, None, bool]:
        """Count the epoch, let the task check itself, evaluate and checkpoint.

        Returns True when the task's `end_epoch` asks to stop (sentiment: early stopping).
        """
        self.epoch += 1
        self.batch_index = 0
        (converged,) = self._agree(self._evaluates and self.task.end_epoch(self.epoch))
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
        compile_s, loop.compile_s = loop.compile_s, None  # told once
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
            compile_s=compile_s,
        )

    def _account(self) -> float:
        """Add the wall-clock time since the last call to the spent budget; returns now."""
        now = time.perf_counter()
        self.elapsed_s += now - self._clock
        self._clock = now
        return now

    def _agree(self, *flags: bool) -> list[bool]:
        """Rank 0's `flags` on every rank (one collective; alone, the flags themselves)."""
        main, _ = share([float(flag) for flag in flags])
        return [value != 0.0 for value in main]

    @property
    def _evaluates(self) -> bool:
        """Whether this rank evaluates: alone, on rank 0, or when the task shards evaluation."""
        return self.world.main or self.task.evaluates_in_shards

    def _evaluate(self, quick: bool) -> dict[str, float]:
        """The task's metrics; {} on a rank that leaves evaluation to rank 0."""
        return self.task.evaluate(quick=quick) if self._evaluates else {}

    def _full_eval(self) -> Iterator[TrainEvent]:
        metrics = self._evaluate(quick=False)
        self.metrics = {**metrics, "_step": self.step}
        yield self._record(EvalDone(self.step, self.epoch, metrics, full=True))
        value = metrics.get(self.task.primary_metric)
        (improved,) = self._agree(value is not None and self._improves(value))
        if improved:
            self.best = value  # rank 0's; the other ranks never save it
            yield self._save(BEST_CHECKPOINT, "best")

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best if self.task.lower_is_better else value > self.best

    def _check_shards(self) -> None:
        """Several processes: a `ConfigError` when no batch of an epoch splits among them, a
        note when some do not (every rank skips those)."""
        batches = self.task.batches(self.epoch)
        whole = 0
        for batch in batches:
            try:
                self.task.shard(batch, self.world)
            except ShardError:
                whole += 1
        n = self.world.size
        if batches and whole == len(batches):
            raise ConfigError(
                f"{n} is more than the rows of any batch (--batch {self.config.batch})",
                "nproc",
                message=f"{n} processes are more than the rows of any batch of this data "
                f"(--batch {self.config.batch}): each process needs a row of every batch; use "
                "fewer processes or a larger --batch",
            )
        if whole:
            self._notes.append(
                f"{whole} of the {len(batches)} batches of an epoch have fewer rows than the {n} "
                "processes; every process skips them"
            )

    def _fail(self, stats: Any) -> Iterator[TrainEvent]:
        what = "loss" if not math.isfinite(stats.loss) else "gradient norm"
        reason = (
            f"{what} became {stats.loss if what == 'loss' else stats.grad_norm} at step "
            f"{self.step + 1}; training stopped (try a lower --lr or a --clip value)"
        )
        yield from self._failed(reason)

    def _failed(self, reason: str) -> Iterator[TrainEvent]:
        """Mark the run failed with `reason` (summary and history; rank 0) and yield `Failed`
        with the last good checkpoint. On a full disk those small writes may fail too: the
        event still goes out."""
        last = last_checkpoint(self.run_dir)
        event = Failed(self.step, reason, str(last) if last.exists() else None)
        with contextlib.suppress(OSError):
            self._write_summary("failed", reason=reason)
        with contextlib.suppress(OSError):
            self._record(event)
        yield event

    def _save(self, name: str, reason: str) -> CheckpointSaved:
        """Write a checkpoint (rank 0). Every rank calls this at the same point: the task may
        gather its state from the ranks, and every rank's RNG state is kept.

        When the write fails (an OSError: a full disk, a folder gone read-only) the previous
        checkpoint is left as it was and every rank raises `_SaveFailed` with rank 0's reason:
        the run ends as failed (`_events`)."""
        import torch

        path = self.run_dir / name
        task_state = self.task.state_dict()
        rng = gather_objects(torch.get_rng_state())
        failure: str | None = None
        if self.world.main:
            payload = {
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
                "task_state": task_state,
                "rng": rng[0],
                "started": self.started,
                "world_size": self.world.size,
            }
            if self.world.size > 1:
                payload["rng_ranks"] = rng
            try:
                path = save_checkpoint(path, payload)
            except OSError as exc:
                failure = self._save_failure(name, exc)
        (failed,) = self._agree(failure is not None)
        if failed:
            raise _SaveFailed(failure or f"rank 0 could not write checkpoint {name}")
        return self._record(CheckpointSaved(self.step, str(path), reason))

    def _save_failure(self, name: str, exc: OSError) -> str:
        """Why checkpoint `name` was not written, as one line, and what is left."""
        full = exc.errno == errno.ENOSPC
        why = "the disk is full" if full else (exc.strerror or str(exc) or type(exc).__name__)
        if not last_checkpoint(self.run_dir).is_file():
            left = "no checkpoint had been written yet"
        elif full:
            left = "the previous checkpoint is kept: free some space and resume"
        else:
            left = "the previous checkpoint is kept"
        return (
            f"could not write checkpoint {name} at step {self.step}: {why}; training stopped "
            f"({left})"
        )

    def _restore(self, state: dict[str, Any]) -> None:
        import torch

        self.task.load_state_dict(state["task_state"])
        torch.set_rng_state(self._rng_state(state))
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_index, self.elapsed_s = state["batch_index"], state["elapsed_s"]
        self.tokens = state["tokens"]
        self.best, self.started = state["best"], state.get("started", self.started)
        self.metrics = {**state.get("metrics", {}), "_step": self.step}
        saved = int(state.get("world_size", 1))
        if saved != self.world.size:
            self._notes.append(
                f"resumed under {_processes(self.world.size)}, saved under "
                f"{_processes(saved)}: the same batches are split among the processes another "
                "way (other shards, dropout noise and rounding), so the run goes on but will "
                f"not repeat one that kept {saved} exactly"
            )

    def _rng_state(self, state: dict[str, Any]) -> Any:
        """This rank's RNG state to resume with: its own under as many processes as saved
        it; otherwise rank 0's for rank 0 and a fresh stream (seed, rank, step) for the rest."""
        ranks = state.get("rng_ranks")
        if ranks is not None and len(ranks) == self.world.size:
            return ranks[self.world.rank]
        if self.world.main:
            return state["rng"]
        import numpy as np
        import torch

        seed = np.random.SeedSequence([self.config.seed, self.world.rank, state["step"]])
        return torch.Generator().manual_seed(int(seed.generate_state(1)[0])).get_state()

    def _public_metrics(self) -> dict[str, float]:
        metrics = {k: v for k, v in self.metrics.items() if not k.startswith("_")}
        metrics["wall_s"] = round(self.elapsed_s, 2)
        if self.elapsed_s > 0:
            metrics["train_tokens_per_s"] = round(self.tokens / self.elapsed_s, 1)
        return metrics

    def _record(self, event: TrainEvent) -> TrainEvent:
        """Append `event` to the run's history (rank 0; `Started` is not kept)."""
        if self.world.main and not isinstance(event, Started):
            append_history(self.run_dir, {"event": event.kind, **event.__dict__})
        return event

    def _write_summary(self, status: str, reason: str | None = None) -> None:
        if not self.world.main:
            return
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
                "world_size": self.world.size,
            },
        )


def _join(config: TrainConfig) -> World:
    """This process's world: alone, `World()`; under torchrun, the process group joined on the
    config's device (once; the task may have joined it already)."""
    if world().size == 1:
        return SINGLE
    from tasks.engine.base import torch_device

    return init_world(torch_device(config))


def _processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


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


class _SaveFailed(Exception):
    """A checkpoint could not be written (`Trainer._save`); `reason` is rank 0's one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_Outcome = Literal["epoch", "stopped", "spent", "failed"]
"""Why a stretch of batches ended: the epoch is done, `stop` was set, the epochs or the budget
are used up, or the loss or the gradient norm was not finite."""


@dataclass(frozen=True)
class _Control:
    """What rank 0 decided before a batch (`Trainer._control`)."""

    stop: bool
    """`stop` was set (on any rank)."""
    pause: bool
    """The run is paused."""
    progress: float
    """The fraction of the steps or the budget spent (the larger)."""


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
    progress: float = 0.0
    """Rank 0's progress before the current step (its learning rate follows it)."""
    compiled: bool = False
    """--compile: the first (cold, compiling) step of this run is done."""
    compile_s: float | None = None
    """That step's seconds, until a step event has reported them."""
