"""Sweeps: Optuna trials over a task's settings, each trial an ordinary training run.

    for event in run_sweep("sentiment", "rt-polarity", trials=20, minutes_per_trial=2):
        print(event.to_json())

`--trials N` means N finished (complete or pruned) trials in the study in all, so the same
command resumes a sweep. Each trial takes its settings from the sampler (`space.suggest`), gets
a run folder (`tasks.engine.runs.new_run_dir`; its summary gains ``"sweep": {"study",
"storage", "trial"}``) and trains with the task's `Trainer`. The trainer's evaluations feed the
pruner: the primary metric at step ``round(elapsed_s / eval_every_s)``, so steps line up across
trials by wall time; a pruned trial's trainer is stopped through its stop event and finishes
(its checkpoint saved). A stop of the sweep (Ctrl+C) stops the running trial the same way,
marks it failed (user attribute `interrupted`) and queues its settings again; an exception
inside a trial does the same before it propagates. Trial user attributes: `pid`, `host`,
`run_dir`, `test_metrics` (the Finished event's test_* metrics), `pruned_step`, `reason`.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.engine.runs import new_run_dir, read_summary, write_summary
from tasks.engine.settings import ConfigError, TrainConfig
from tasks.experiments.events import (
    SweepEvent,
    SweepFinished,
    SweepStarted,
    TrialDone,
    TrialProgress,
    TrialStarted,
)
from tasks.experiments.space import Space, SweepError, checked_space, suggest
from tasks.experiments.study import (
    best_trial,
    default_storage,
    failure_reason,
    importances,
    open_study,
    owner,
    recover_orphans,
    requeue,
    study_space,
    trials_table,
)
from tasks.registry import TaskInfo, create_task, default_config, get_task, task_defaults

if TYPE_CHECKING:
    import optuna

__all__ = [
    "Sweep",
    "SweepEvent",
    "SweepFinished",
    "SweepStarted",
    "TrialDone",
    "TrialProgress",
    "TrialStarted",
    "importances",
    "prepare_sweep",
    "run_sweep",
    "trial_config",
    "trials_table",
]

REPORTS_PER_TRIAL = 10
"""With a time budget per trial, evaluations come at least this often in a trial (the task's
`eval_every_s` shortened to fit), so the pruner has steps to compare."""
FAILURES_IN_A_ROW = 5
"""Failed trials in a row that end a sweep (a space whose settings cannot train)."""


def run_sweep(
    task: str,
    dataset: str | None = None,
    *,
    trials: int,
    minutes_per_trial: float | None = None,
    epochs_per_trial: int | None = None,
    space: Space | None = None,
    storage: str | None = None,
    study: str | None = None,
    pruner: str = "median",
    seed: int = 0,
    stop: threading.Event | None = None,
    worker: int | None = None,
) -> Iterator[SweepEvent]:
    """Run trials until the study holds `trials` finished ones; see the module docstring.

    space: None for the task's default (a new study) or the study's own (a resumed one).
    stop: set it to stop after the running trial's current batch (that trial is queued again).
    worker: one of several processes on the study (`--jobs`): it yields only its trials'
    events, the parent announces the sweep, recovers orphans and sums it up.
    """
    sweep = prepare_sweep(
        task, dataset, trials=trials, minutes_per_trial=minutes_per_trial,
        epochs_per_trial=epochs_per_trial, space=space, storage=storage, study=study,
        pruner=pruner, seed=seed, worker=worker,
    )  # fmt: skip
    stop = stop or threading.Event()
    if worker is None:
        yield sweep.started()
    yield from sweep.run_trials(stop)
    if worker is None and not stop.is_set():
        yield sweep.summary()


def prepare_sweep(
    task: str,
    dataset: str | None = None,
    *,
    trials: int,
    minutes_per_trial: float | None = None,
    epochs_per_trial: int | None = None,
    space: Space | None = None,
    storage: str | None = None,
    study: str | None = None,
    pruner: str = "median",
    seed: int = 0,
    worker: int | None = None,
) -> Sweep:
    """Open (or resume) the study and check what every trial shares; `SweepError` or
    `ConfigError` for bad input, before any trial. Not a worker: orphans are recovered."""
    if trials < 1:
        raise SweepError(f"--trials must be a positive integer (got {trials})")
    info = get_task(task)
    dataset = dataset or info.default_dataset
    if space is not None:
        space = checked_space(info, space, "the space")
    # the budget checked before the study is touched
    trial_config(info, dataset, _budget(info, space or {}, minutes_per_trial, epochs_per_trial), {})
    opened = open_study(task, dataset, storage, study, pruner, seed, space=space,
                        worker=worker or 0)  # fmt: skip
    if worker is None:
        recover_orphans(opened)
    space = study_space(opened)
    return Sweep(
        info=info,
        dataset=dataset,
        storage=storage or default_storage(),
        study=opened,
        space=space,
        trials=trials,
        base=_budget(info, space, minutes_per_trial, epochs_per_trial),
    )


def trial_config(
    info: TaskInfo, dataset: str, base: dict[str, Any], params: dict[str, Any]
) -> TrainConfig:
    """A trial's config: the task's defaults for its architecture, then `base` (the budget),
    then the trial's `params` (None included: an optional setting left empty)."""
    values = {**base, **params}
    arch = values.pop("arch", None)
    config = default_config(info.name, arch, dataset=dataset, **values)  # None values ignored
    empty = {name: None for name, value in values.items() if value is None}
    return dataclasses.replace(config, **empty).validate() if empty else config


def _budget(
    info: TaskInfo, space: Space, minutes: float | None, epochs: int | None
) -> dict[str, Any]:
    """What every trial of the sweep shares: its budget, and evaluations often enough for the
    pruner under a time budget (unless the space sets `eval_every_s`)."""
    base: dict[str, Any] = {"minutes": minutes, "epochs": epochs}
    if minutes is not None and "eval_every_s" not in space:
        every = float(task_defaults(info.name)["eval_every_s"])
        base["eval_every_s"] = min(every, minutes * 60 / REPORTS_PER_TRIAL)
    return {key: value for key, value in base.items() if value is not None}


@dataclass
class Sweep:
    """An open sweep: its study and space, and what every trial shares."""

    info: TaskInfo
    dataset: str
    storage: str
    """The storage URL."""
    study: optuna.Study
    space: Space
    trials: int
    """Finished trials the study should hold in all."""
    base: dict[str, Any]
    """Settings every trial gets (the budget) under its own."""
    finished_before: int = field(init=False)
    """Finished trials when the sweep was opened."""

    def __post_init__(self) -> None:
        self.finished_before = self.finished_count()

    def finished_count(self) -> int:
        """Complete and pruned trials in the study."""
        from optuna.trial import TrialState

        states = (TrialState.COMPLETE, TrialState.PRUNED)
        return len(self.study.get_trials(deepcopy=False, states=states))

    def wanted(self) -> int:
        """Trials still to start: the target less the finished and the running ones."""
        from optuna.trial import TrialState

        running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        return self.trials - self.finished_count() - len(running)

    def started(self) -> SweepStarted:
        """The event that opens the sweep's output."""
        return SweepStarted(
            study=self.study.study_name,
            storage=self.storage,
            task=self.info.name,
            dataset=self.dataset,
            metric=self.info.primary_metric,
            lower_is_better=self.info.lower_is_better,
            trials_target=self.trials,
            finished_before=self.finished_before,
            space={name: search.to_dict() for name, search in self.space.items()},
        )

    def summary(self) -> SweepFinished:
        """The best complete trial and the importances, from the study as it is now."""
        best = best_trial(self.study)
        if best is None:
            return SweepFinished(None, None, None, None, None, importances(self.study))
        return SweepFinished(
            best_number=best.number,
            best_value=best.value,
            best_params=dict(best.params),
            best_run_dir=best.user_attrs.get("run_dir"),
            best_test_metrics=dict(best.user_attrs.get("test_metrics", {})),
            importances=importances(self.study),
        )

    def run_trials(self, stop: threading.Event) -> Iterator[SweepEvent]:
        """Trials one after another until enough are finished or `stop` is set."""
        failed = 0
        while self.wanted() > 0 and not stop.is_set():
            done, stopped = yield from _TrialRun(self, stop).run()
            yield done
            if stopped:  # the trial is queued again
                return
            failed = failed + 1 if done.state == "failed" else 0
            if failed >= FAILURES_IN_A_ROW:
                raise SweepError(
                    f"{failed} trials in a row failed, the last: {done.reason}; check the space"
                )


class _Halt(threading.Event):
    """A trial's trainer stop: set to prune the trial; also set while the sweep's is."""

    def __init__(self, sweep_stop: threading.Event) -> None:
        super().__init__()
        self.sweep_stop = sweep_stop

    def is_set(self) -> bool:
        return super().is_set() or self.sweep_stop.is_set()


_Outcome = tuple[TrialDone, bool]
"""A trial's `TrialDone`, and whether the sweep was stopped during it."""


class _TrialRun:
    """One trial: ask, configure, train with pruning, tell."""

    def __init__(self, sweep: Sweep, stop: threading.Event) -> None:
        self.sweep = sweep
        self.stop = stop
        self.trial = sweep.study.ask()
        for key, value in owner().items():
            self.trial.set_user_attr(key, value)
        self.params = suggest(self.trial, sweep.space)
        self.began = time.monotonic()
        self.run_dir: Path | None = None
        self.running = True
        """The trial is not told yet (it is RUNNING in the study)."""

    def run(self) -> Generator[SweepEvent, None, _Outcome]:
        """The trial's started and progress events; how it ended.

        While it runs, a Ctrl+C (or the consumer closing the events) or an error ends it as
        failed and queues its settings again before propagating.
        """
        try:
            try:
                config = trial_config(self.sweep.info, self.sweep.dataset, self.sweep.base,
                                      self.params)  # fmt: skip
                task = create_task(config)
            except ConfigError as exc:  # these settings cannot train: the trial fails
                return self._fail(str(exc)), False
            self.run_dir = new_run_dir(config.task, config.arch, config.dataset)
            self.trial.set_user_attr("run_dir", str(self.run_dir))
            yield TrialStarted(self.trial.number, self.params, str(self.run_dir))
            return (yield from self._train(task))
        except (KeyboardInterrupt, GeneratorExit):
            self._requeue({"interrupted": True})
            raise
        except Exception as exc:
            text = str(exc).strip()
            self._requeue({"reason": text.splitlines()[0] if text else type(exc).__name__})
            raise
        finally:
            self._mark_run()

    def _train(self, task: Any) -> Generator[SweepEvent, None, _Outcome]:
        from tasks.engine.trainer import Trainer

        trainer = Trainer(task, self.run_dir)
        halt = _Halt(self.stop)
        primary = self.sweep.info.primary_metric
        reported, pruned_step, finished, failed = -1, None, None, None
        for event in trainer.run(halt):
            if event.kind == "eval" and pruned_step is None:
                value = event.metrics.get(primary)
                step = round(trainer.elapsed_s / task.config.eval_every_s)
                if value is None or not math.isfinite(value) or step <= reported:
                    continue
                self.trial.report(float(value), step)
                reported = step
                yield TrialProgress(self.trial.number, step, float(value))
                if self.trial.should_prune():
                    pruned_step = step
                    halt.set()
            elif event.kind == "finished":
                finished = event
            elif event.kind == "failed":
                failed = event
        if failed is not None or finished is None:
            return self._fail(failed.reason if failed else "the run ended without a result"), False
        tests = {k: v for k, v in finished.metrics.items() if k.startswith("test_")}
        self.trial.set_user_attr("test_metrics", tests)
        if pruned_step is not None:
            self.trial.set_user_attr("pruned_step", pruned_step)
            return self._tell(None, pruned_step, tests), False
        if finished.stopped:  # the sweep was stopped: these settings run again on resume
            self._requeue({"interrupted": True})
            reason = failure_reason({"interrupted": True})
            return self._done("failed", None, None, tests, reason), True
        value = finished.metrics.get(primary)
        if value is None or not math.isfinite(value):
            return self._fail(f"the run ended without a finite {primary} ({value})"), False
        return self._tell(float(value), None, tests), False

    def _tell(self, value: float | None, pruned_step: int | None, tests: dict) -> TrialDone:
        """Complete the trial with `value`, or prune it (`value` None) at `pruned_step`."""
        from optuna.trial import TrialState

        study, self.running = self.sweep.study, False
        if value is None:
            frozen = study.tell(self.trial, state=TrialState.PRUNED)
            return self._done("pruned", frozen.value, pruned_step, tests)
        frozen = study.tell(self.trial, value)
        return self._done("complete", frozen.value, None, tests)

    def _fail(self, reason: str) -> TrialDone:
        from optuna.trial import TrialState

        self.trial.set_user_attr("reason", reason)
        self.running = False
        self.sweep.study.tell(self.trial, state=TrialState.FAIL)
        return self._done("failed", None, None, {}, reason)

    def _requeue(self, attrs: dict[str, Any]) -> None:
        """End the trial as failed (`attrs` say why) and queue its settings again, unless it
        ended already."""
        if self.running:
            self.running = False
            requeue(self.sweep.study, self.trial.number, self.params, attrs)

    def _done(
        self,
        state: Any,
        value: float | None,
        pruned_step: int | None,
        tests: dict[str, float],
        reason: str | None = None,
    ) -> TrialDone:
        return TrialDone(
            number=self.trial.number,
            state=state,
            value=value,
            params=self.params,
            run_dir=str(self.run_dir) if self.run_dir else None,
            pruned_step=pruned_step,
            test_metrics=tests,
            duration_s=round(time.monotonic() - self.began, 2),
            reason=reason,
            importances=importances(self.sweep.study) if state != "failed" else None,
        )

    def _mark_run(self) -> None:
        """Say in the run folder's summary which sweep and trial it belongs to."""
        if self.run_dir is None:
            return
        summary = read_summary(self.run_dir)
        if summary:
            sweep = {"study": self.sweep.study.study_name, "storage": self.sweep.storage,
                     "trial": self.trial.number}  # fmt: skip
            write_summary(self.run_dir, summary | {"sweep": sweep})
