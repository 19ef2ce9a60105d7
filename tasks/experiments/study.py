"""Optuna studies of sweeps: where they are stored, opening one for a task, the trials' owners.

A study belongs to one task and dataset (its user attributes `task`, `dataset`, `metric` and
`space`, the search space as JSON). Each trial records its owner (user attributes `pid` and
`host`); a running trial whose owner is gone (a crash, a killed process) is marked failed when
the study is next opened and its settings are queued again, so no finished trial is lost and
none runs twice. Optuna is imported inside the functions: `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.engine.runs import runs_root
from tasks.experiments.space import Space, SweepError, space_from_json, space_to_json

if TYPE_CHECKING:
    import optuna

    from tasks.registry import TaskInfo

STORAGE_FILE = "sweeps.db"
"""The default study database, beside the runs folder."""
STARTUP_TRIALS = 5
"""Trials TPE samples at random before it models the results."""
WARMUP_REPORTS = 3
"""The first step at which the median pruner may stop a trial (steps are evaluation times):
rt-polarity's first epochs say little about its last (a sweep pruning from the first report
stopped 9 of 15 trials at about 20 s, one of them at 80.0% validation accuracy)."""
SQLITE_TIMEOUT_S = 60.0
"""How long a worker waits for another's write to the SQLite file (`--jobs`)."""


def _median() -> Any:
    from optuna.pruners import MedianPruner

    return MedianPruner(n_startup_trials=4, n_warmup_steps=WARMUP_REPORTS)


def _halving() -> Any:
    from optuna.pruners import SuccessiveHalvingPruner

    return SuccessiveHalvingPruner()


def _no_pruning() -> Any:
    from optuna.pruners import NopPruner

    return NopPruner()


PRUNERS: dict[str, Callable[[], Any]] = {
    "median": _median,
    "halving": _halving,
    "none": _no_pruning,
}
"""Pruner name -> factory: median (a trial below the median of the others at the same step,
after 4 trials and from step `WARMUP_REPORTS`), successive halving, or none."""


def default_storage() -> str:
    """The default study database: ``sqlite:///<user data>/sweeps.db`` (RNN_TUI_HOME honoured)."""
    return f"sqlite:///{runs_root().parent / STORAGE_FILE}"


def default_study_name(task: str, dataset: str) -> str:
    """``<task>-<dataset>`` (a local dataset path by its file or folder name)."""
    stem = Path(dataset).stem if ("/" in dataset or os.sep in dataset) else dataset
    return f"{task}-{stem}"


def open_study(
    task: str,
    dataset: str,
    storage: str | None,
    name: str | None,
    pruner: str,
    seed: int,
    *,
    space: Space | None = None,
    worker: int = 0,
) -> optuna.Study:
    """The study `name` (default ``<task>-<dataset>``) in `storage` (default `default_storage`),
    created when missing with `space` (default: the task's) and resumed when present.

    A resumed study keeps its own space when `space` is None; another `space` is refused, as
    is a study of another task or dataset and a storage that cannot be opened (`SweepError`).
    The TPE sampler is seeded by (`seed`, the trials so far, `worker`), so a resumed sweep and
    parallel workers draw new settings rather than repeat the first ones.
    """
    import numpy as np
    import optuna

    from tasks.experiments.space import default_space
    from tasks.registry import get_task

    if pruner not in PRUNERS:
        raise SweepError(f"unknown pruner {pruner!r}; choose one of {', '.join(PRUNERS)}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    info = get_task(task)
    name = name or default_study_name(task, dataset)
    url = storage or default_storage()
    rdb = _open_storage(url, made=storage is None)
    study_id = _study_id(rdb, name)
    if study_id is None:
        space = space if space is not None else default_space(info, dataset)
        count = 0
    else:
        space = _resumed_space(rdb, study_id, name, info, dataset, space)
        count = len(rdb.get_all_trials(study_id, deepcopy=False))
    sampler_seed = int(np.random.SeedSequence([seed, count, worker]).generate_state(1)[0])
    sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=STARTUP_TRIALS)
    study = optuna.create_study(
        storage=rdb,
        study_name=name,
        sampler=sampler,
        pruner=PRUNERS[pruner](),
        direction="minimize" if info.lower_is_better else "maximize",
        load_if_exists=True,
    )
    if study_id is None:
        for key, value in (("task", task), ("dataset", dataset), ("metric", info.primary_metric),
                           ("space", space_to_json(space))):  # fmt: skip
            study.set_user_attr(key, value)
    return study


def study_space(study: optuna.Study) -> Space:
    """The search space a study was made with."""
    return space_from_json(study.user_attrs["space"])


def _open_storage(url: str, made: bool) -> Any:
    """Optuna's RDB storage at `url` (a SQLite file's folder is made for the default one)."""
    import optuna

    if made:
        runs_root().parent.mkdir(parents=True, exist_ok=True)
    engine: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine)
    except Exception as exc:  # SQLAlchemy's and the drivers' many errors: one line each
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SweepError(f"cannot open the study storage {url}: {reason}") from None


def _study_id(rdb: Any, name: str) -> int | None:
    try:
        return rdb.get_study_id_from_name(name)
    except KeyError:
        return None


def _resumed_space(
    rdb: Any, study_id: int, name: str, info: TaskInfo, dataset: str, space: Space | None
) -> Space:
    """The stored study's space after checking the study is this task's on this dataset."""
    attrs = rdb.get_study_user_attrs(study_id)
    if "task" not in attrs or "space" not in attrs:
        raise SweepError(f"study {name} is not an rnn-tui sweep; choose another --study")
    if (attrs["task"], attrs.get("dataset")) != (info.name, dataset):
        raise SweepError(
            f"study {name} is a sweep of {attrs['task']} on {attrs.get('dataset')}, not of "
            f"{info.name} on {dataset}; choose another --study"
        )
    stored = space_from_json(attrs["space"])
    if space is not None and space != stored:
        differ = sorted(set(space) ^ set(stored) | {k for k in space if stored.get(k) != space[k]})
        raise SweepError(
            f"study {name} searches another space (it differs in {', '.join(differ)}); leave "
            "out --space to resume it, or choose another --study"
        )
    return stored


# -- owners ------------------------------------------------------------------------------------


def owner() -> dict[str, Any]:
    """This process as a trial's owner (its user attributes `pid` and `host`)."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


def owner_alive(attrs: dict[str, Any]) -> bool:
    """Whether the process that owns a running trial still runs: a trial of another machine
    counts as alive (it cannot be told from here); one never claimed, or claimed by this very
    process (which is only now opening the study), does not."""
    pid, host = attrs.get("pid"), attrs.get("host")
    if pid is None:
        return False
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def recover_orphans(study: optuna.Study) -> list[int]:
    """Mark failed every running trial whose owner is gone (user attribute `orphaned`) and queue
    its settings again; the trial numbers recovered."""
    from optuna.trial import TrialState

    recovered = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if owner_alive(trial.user_attrs):
            continue
        requeue(study, trial.number, trial.params, {"orphaned": True})
        recovered.append(trial.number)
    return recovered


def requeue(
    study: optuna.Study, number: int, params: dict[str, Any], attrs: dict[str, Any]
) -> None:
    """End running trial `number` as failed with user attributes `attrs` (why it ended), and
    queue `params` again (the new trial's user attribute `retry_of` names this one)."""
    from optuna.trial import TrialState

    # a finished trial takes no attributes, and Optuna sets them only through a live `Trial`
    # or the storage: the storage, for a trial another process left behind
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    for key, value in attrs.items():
        study._storage.set_trial_user_attr(trial_id, key, value)
    study.tell(number, state=TrialState.FAIL)
    if params:
        study.enqueue_trial(params, user_attrs={"retry_of": number})


# -- reading a study ---------------------------------------------------------------------------

IMPORTANCE_MIN_TRIALS = 4
"""Complete trials before importances are computed."""

_STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
           "WAITING": "waiting"}  # fmt: skip


def trials_table(study: optuna.Study) -> list[dict[str, Any]]:
    """Every trial in number order: number, state (complete, pruned, failed, running, waiting),
    value (a pruned trial's: its last reported one), params, run_dir, pruned_step,
    test_metrics, duration_s, and the reason a failed trial failed."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        rows.append(
            {
                "number": trial.number,
                "state": _STATES[trial.state.name],
                "value": trial.value,
                "params": dict(trial.params),
                "run_dir": attrs.get("run_dir"),
                "pruned_step": attrs.get("pruned_step"),
                "test_metrics": dict(attrs.get("test_metrics", {})),
                "duration_s": trial.duration.total_seconds() if trial.duration else None,
                "reason": failure_reason(attrs),
            }
        )
    return rows


def failure_reason(attrs: dict[str, Any]) -> str | None:
    """Why a trial failed, from its user attributes (None when none is recorded)."""
    if attrs.get("interrupted"):
        return "interrupted (its settings were queued again)"
    if attrs.get("orphaned"):
        return "its process ended while it ran (its settings were queued again)"
    return attrs.get("reason")


def importances(study: optuna.Study) -> dict[str, float] | None:
    """Optuna's default importance evaluator over the settings that varied, once
    `IMPORTANCE_MIN_TRIALS` trials completed; None before (or when nothing varied)."""
    import json
    import warnings

    from optuna.importance import get_param_importances
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < IMPORTANCE_MIN_TRIALS:
        return None
    names = dict.fromkeys(name for trial in complete for name in trial.params)
    varied = [n for n in names if len({json.dumps(t.params.get(n)) for t in complete}) > 1]
    if not varied:
        return None
    with warnings.catch_warnings():  # "too few trials" notes: the numbers say as much
        warnings.simplefilter("ignore")
        found = get_param_importances(study, params=varied)
    return {name: float(value) for name, value in found.items()}


def best_trial(study: optuna.Study) -> Any:
    """The best complete trial (chosen on the validation metric), or None when none completed."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    return study.best_trial
