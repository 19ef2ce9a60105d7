"""Sweeps on Optuna over tiny names runs: trials as run folders, pruning, a stopped or crashed
sweep resumed with no finished trial lost or run twice, and the study's bad input.

Deterministic throughout: pruning by a pruner that always prunes, interruptions from the
consumer of the events (a stop event, an exception thrown into the generator) and a dead
process's id, never a timer.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from engine_fixtures import names_data

from tasks.engine.runs import read_summary, resumable_checkpoint
from tasks.engine.settings import Search
from tasks.experiments import study as study_module
from tasks.experiments.events import (
    SweepFinished,
    SweepStarted,
    TrialDone,
    TrialProgress,
    TrialStarted,
    sweep_event_from_json,
)
from tasks.experiments.space import SweepError
from tasks.experiments.study import importances, open_study, owner_alive, trials_table
from tasks.experiments.sweep import run_sweep

TINY_SPACE = {
    "hidden": Search.among(8, 16),
    "embed": Search.among(8),
    "layers": Search.among(1),
    "batch": Search.among(4),
    "threads": Search.among(1),
    "lr": Search.range(1e-3, 1e-2, log=True),
}
"""Tiny names models: an epoch is a few dozen steps."""


@pytest.fixture
def names(tmp_path: Path) -> str:
    return names_data(tmp_path)


def sweep(names: str, tmp_path: Path, **options: Any) -> Any:
    """`run_sweep` of names on its tiny data, one epoch a trial, a study in tmp_path."""
    defaults = {"trials": 3, "epochs_per_trial": 1, "space": TINY_SPACE, "pruner": "none",
                "storage": f"sqlite:///{tmp_path / 'sweeps.db'}"}  # fmt: skip
    return run_sweep("names", names, **(defaults | options))


def load(tmp_path: Path, names: str) -> Any:
    return open_study("names", names, f"sqlite:///{tmp_path / 'sweeps.db'}", None, "none", 0)


def of(kind: type, events: list[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_each_trial_is_a_run_folder_and_the_best_is_reported(names: str, tmp_path: Path) -> None:
    events = list(sweep(names, tmp_path))
    started, last = events[0], events[-1]
    assert isinstance(started, SweepStarted) and isinstance(last, SweepFinished)
    assert (started.study, started.metric) == ("names-names", "val_accuracy")
    assert started.trials_target == 3 and started.finished_before == 0
    assert started.space["lr"]["log"] is True
    done = of(TrialDone, events)
    assert [d.number for d in done] == [0, 1, 2] and {d.state for d in done} == {"complete"}
    assert [s.run_dir for s in of(TrialStarted, events)] == [d.run_dir for d in done]
    for trial in done:
        summary = read_summary(Path(trial.run_dir))
        assert summary["status"] == "finished" and summary["config"]["hidden"] in (8, 16)
        assert summary["sweep"] == {"study": "names-names", "storage": started.storage,
                                    "trial": trial.number}  # fmt: skip
        assert summary["config"]["lr"] == trial.params["lr"]
        assert 0.0 <= trial.value <= 1.0 and "test_accuracy" in trial.test_metrics
    best = max(done, key=lambda d: d.value)
    assert last.best_value == best.value and last.best_run_dir == best.run_dir
    assert last.best_test_metrics == best.test_metrics and last.importances is None
    for event in events:
        assert sweep_event_from_json(event.to_json()) == event
    rows = trials_table(load(tmp_path, names))
    assert [(r["number"], r["state"], r["run_dir"]) for r in rows] == [
        (d.number, "complete", d.run_dir) for d in done
    ]
    again = list(sweep(names, tmp_path))  # the study holds its 3 trials: nothing to run
    assert again[0].finished_before == 3 and not of(TrialStarted, again)
    assert again[-1] == last


def test_a_pruned_trial_stops_its_run_with_a_checkpoint(
    names: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optuna

    class Always(optuna.pruners.BasePruner):
        """Prunes at the first report (deterministic, unlike a median of timings)."""

        def prune(self, study: Any, trial: Any) -> bool:
            return True

    monkeypatch.setitem(study_module.PRUNERS, "always", Always)
    events = list(sweep(names, tmp_path, trials=2, epochs_per_trial=3, pruner="always"))
    done = of(TrialDone, events)
    assert [d.state for d in done] == ["pruned", "pruned"]  # pruned trials count as finished
    for trial in done:
        (report,) = [p for p in of(TrialProgress, events) if p.number == trial.number]
        assert (trial.pruned_step, trial.value) == (report.step, report.value)
        summary = read_summary(Path(trial.run_dir))
        assert summary["status"] == "stopped" and summary["epoch"] == 1  # of 3
        assert resumable_checkpoint(Path(trial.run_dir)) is not None
    rows = trials_table(load(tmp_path, names))
    assert [(r["state"], r["pruned_step"]) for r in rows] == [
        ("pruned", d.pruned_step) for d in done
    ]


def finished_trials(tmp_path: Path, names: str) -> dict[int, tuple[Any, ...]]:
    """Complete trials: number -> (value, params, run folder)."""
    return {
        r["number"]: (r["value"], r["params"], r["run_dir"])
        for r in trials_table(load(tmp_path, names))
        if r["state"] == "complete"
    }


def check_resumed(names: str, tmp_path: Path, interrupted: TrialStarted) -> None:
    """The study after the interruption of `interrupted`: resume it and check nothing finished
    was lost or run again, and that the interrupted settings ran."""
    before = finished_trials(tmp_path, names)
    rows = {r["number"]: r for r in trials_table(load(tmp_path, names))}
    assert rows[interrupted.number]["state"] == "failed"
    assert rows[interrupted.number]["reason"].startswith("interrupted")
    (queued,) = [r for r in rows.values() if r["state"] == "waiting"]
    events = list(sweep(names, tmp_path, space=None))  # the study's own space
    assert events[0].finished_before == len(before)
    started = of(TrialStarted, events)
    assert started[0].number == queued["number"] and started[0].params == interrupted.params
    after = finished_trials(tmp_path, names)
    assert len(after) == 3 and all(after[n] == before[n] for n in before)  # nothing lost
    assert not {s.run_dir for s in started} & {r[2] for r in before.values()}  # none re-run
    assert len({r[2] for r in after.values()}) == 3


def test_a_stopped_sweep_queues_the_running_trial_and_resumes(names: str, tmp_path: Path) -> None:
    stop = threading.Event()
    events = []
    for event in sweep(names, tmp_path, stop=stop):
        events.append(event)
        if isinstance(event, TrialStarted) and event.number == 1:
            stop.set()  # Ctrl+C: the trainer stops before its next batch
    assert not of(SweepFinished, events)
    interrupted = of(TrialStarted, events)[-1]
    last = events[-1]
    assert isinstance(last, TrialDone) and (last.number, last.state) == (1, "failed")
    summary = read_summary(Path(interrupted.run_dir))
    assert summary["status"] == "stopped" and summary["sweep"]["trial"] == 1
    assert resumable_checkpoint(Path(interrupted.run_dir)) is not None
    check_resumed(names, tmp_path, interrupted)


def test_an_exception_inside_a_trial_queues_it_and_resumes(names: str, tmp_path: Path) -> None:
    events = sweep(names, tmp_path)
    started = None
    for event in events:
        if isinstance(event, TrialStarted):
            started = event
        if isinstance(event, TrialProgress) and event.number == 1:  # inside the trainer's loop
            with pytest.raises(KeyboardInterrupt):
                events.throw(KeyboardInterrupt)
            break
    assert started is not None and started.number == 1
    assert read_summary(Path(started.run_dir))["sweep"]["trial"] == 1
    check_resumed(names, tmp_path, started)


def dead_pid() -> int:
    """The id of a process that has ended (started, waited for)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_trial_left_running_by_a_dead_process_runs_again(names: str, tmp_path: Path) -> None:
    from tasks.experiments.space import suggest

    study = open_study("names", names, f"sqlite:///{tmp_path / 'sweeps.db'}", None, "none", 0,
                       space=TINY_SPACE)  # fmt: skip
    crashed = study.ask()
    crashed.set_user_attr("pid", dead_pid())
    crashed.set_user_attr("host", socket.gethostname())
    params = suggest(crashed, TINY_SPACE)
    events = list(sweep(names, tmp_path, trials=2, space=None))
    rows = {r["number"]: r for r in trials_table(load(tmp_path, names))}
    assert rows[0]["state"] == "failed" and rows[0]["reason"].startswith("its process ended")
    first = of(TrialStarted, events)[0]
    assert first.params == params and first.number == 1
    assert [d.state for d in of(TrialDone, events)] == ["complete", "complete"]


def test_who_owns_a_running_trial() -> None:
    import os

    here = socket.gethostname()
    assert owner_alive({"pid": os.getppid(), "host": here})
    assert not owner_alive({"pid": dead_pid(), "host": here})
    assert not owner_alive({"pid": os.getpid(), "host": here})  # this process only now opens it
    assert not owner_alive({})  # asked for but never claimed
    assert owner_alive({"pid": dead_pid(), "host": here + "-elsewhere"})  # cannot tell: alive


def test_settings_that_cannot_train_fail_their_trials_and_end_the_sweep(
    names: str, tmp_path: Path
) -> None:
    space = {**TINY_SPACE, "arch": Search.among("mlstm"), "hidden": Search.among(10)}
    events = []
    with pytest.raises(SweepError, match=r"5 trials in a row failed, the last: .*heads"):
        for event in sweep(names, tmp_path, trials=2, space=space):
            events.append(event)
    done = of(TrialDone, events)
    assert len(done) == 5 and {d.state for d in done} == {"failed"}
    assert all(d.run_dir is None for d in done) and not of(TrialStarted, events)


def test_a_storage_that_cannot_be_opened_is_one_line(names: str, tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 's.db'}", "nosuchdb://x"):
        with pytest.raises(SweepError) as error:
            list(sweep(names, tmp_path, storage=url))
        message = str(error.value)
        assert message.startswith(f"cannot open the study storage {url}: ") and "\n" not in message


def test_a_study_of_another_task_or_space_is_refused(names: str, tmp_path: Path) -> None:
    list(sweep(names, tmp_path, trials=1, study="shared"))
    storage = f"sqlite:///{tmp_path / 'sweeps.db'}"
    with pytest.raises(SweepError, match=r"study shared is a sweep of names on .*, not of charlm"):
        list(run_sweep("charlm", names, trials=1, storage=storage, study="shared"))
    with pytest.raises(SweepError, match=r"searches another space .*hidden"):
        list(sweep(names, tmp_path, trials=2, study="shared",
                   space={**TINY_SPACE, "hidden": Search.among(12)}))  # fmt: skip
    with pytest.raises(SweepError, match="unknown pruner 'sometimes'"):
        list(sweep(names, tmp_path, pruner="sometimes"))
    with pytest.raises(SweepError, match="trials must be a positive integer"):
        list(sweep(names, tmp_path, trials=0))


def test_importances_come_once_enough_trials_completed(names: str, tmp_path: Path) -> None:
    import optuna

    study = open_study("names", names, f"sqlite:///{tmp_path / 'sweeps.db'}", None, "none", 0,
                       space=TINY_SPACE)  # fmt: skip
    lr = optuna.distributions.FloatDistribution(1e-3, 1e-2, log=True)
    hidden = optuna.distributions.CategoricalDistribution([8, 16])
    batch = optuna.distributions.CategoricalDistribution([4])

    def add(count: int) -> None:
        for i in range(count):
            rate, size = 1e-3 * (1 + 9 * i / 11), (8, 16)[i % 2]
            study.add_trial(optuna.trial.create_trial(
                params={"lr": rate, "hidden": size, "batch": 4},
                distributions={"lr": lr, "hidden": hidden, "batch": batch}, value=rate * 50,
            ))  # fmt: skip

    add(3)
    assert importances(study) is None  # fewer than 4 complete
    add(9)
    found = importances(study)
    assert found is not None and set(found) == {"lr", "hidden"}  # batch never varied
    assert all(value >= 0 for value in found.values())


def test_each_finished_trial_brings_the_importances_once_four_completed(
    names: str, tmp_path: Path
) -> None:
    events = list(sweep(names, tmp_path, trials=5))
    done = of(TrialDone, events)
    assert [d.state for d in done] == ["complete"] * 5
    assert [d.importances is None for d in done] == [True, True, True, False, False]
    assert set(done[-1].importances) <= {"hidden", "lr"}  # only what varied
    assert events[-1].importances == done[-1].importances  # as the sweep ends
    for event in done:
        assert sweep_event_from_json(event.to_json()) == event
