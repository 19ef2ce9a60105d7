"""A sweep in a child process, `rnn-tui sweep TASK ... --json`, read back as sweep events; and a
saved study read for showing (no textual here).

As for training (`tui.train_process`), the app never runs trials in its own interpreter: the
child is the same command a script would run, and each JSON line it prints is one
`tasks.experiments.events.SweepEvent`. Stopping is the command's own Ctrl+C: SIGINT, after
which the running trial saves its checkpoint, is marked interrupted and queued again, and the
command exits 130; a child that has not ended `STOP_GRACE_S` later gets SIGTERM, then SIGKILL
(`tui.train_process`'s ender).
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.experiments.events import SweepEvent, sweep_event_from_json
from tui.train_process import (
    ERROR_LINES,
    EXIT_WAIT_S,
    POLL_S,
    _Ender,
    _last_error,
    _pump,
    child_environment,
    cli_command,
    lower_priority,
)

STOP_GRACE_S = 60.0
"""After SIGINT, how long the sweep has to stop its trial (a checkpoint is saved) and exit."""

DEFAULT_PRUNER = "median"
"""The pruner the form starts with (as `rnn-tui sweep`)."""


class SweepProcessError(RuntimeError):
    """The sweep ended without its final event and was not stopped; the message is its last
    error line (`rnn-tui: error: ...`)."""


@dataclass(frozen=True)
class SweepRequest:
    """What the Sweeps screen's form asks for: the options of `rnn-tui sweep`."""

    task: str
    """Task registry name."""
    dataset: str
    """Dataset registry name (or path)."""
    trials: int
    """Finished (complete or pruned) trials in the study, in all."""
    minutes: float
    """The time budget of each trial."""
    pruner: str = DEFAULT_PRUNER
    """One of `tasks.experiments.study.PRUNERS`: median, halving or none."""
    space: str | None = None
    """A TOML/JSON search-space file (None: the task's default space)."""
    storage: str | None = None
    """The study's storage URL (None: the sweeps database in the user data folder)."""
    study: str | None = None
    """The study's name (None: `<task>-<dataset>`)."""
    jobs: int = 1
    """Trials at once, each in its own worker process (`--jobs`)."""

    def args(self) -> list[str]:
        """The command after `rnn-tui`, with `--json`."""
        args = ["sweep", self.task, "--dataset", self.dataset, "--trials", str(self.trials),
                "--minutes-per-trial", f"{self.minutes:g}", "--pruner", self.pruner]  # fmt: skip
        if self.jobs != 1:
            args += ["--jobs", str(self.jobs)]
        for option, value in (("--space", self.space), ("--storage", self.storage),
                              ("--study", self.study)):  # fmt: skip
            if value:
                args += [option, value]
        return [*args, "--json"]


class SweepProcess:
    """One `rnn-tui sweep ... --json` in a child process; `run(stop)` yields its events."""

    def __init__(self, request: SweepRequest) -> None:
        self.request = request
        """What to sweep."""
        self.returncode: int | None = None
        """The child's exit status, once it has ended (130 after a stop)."""

    def run(self, stop: threading.Event) -> Iterator[SweepEvent]:
        """Start the child and yield its events until it ends; `stop` interrupts it (SIGINT).

        Raises `SweepProcessError` when it ends without `sweep_finished` unasked (a bad space
        file, a storage that cannot be opened, a crash), with its last error line.
        """
        child = subprocess.Popen(
            cli_command(*self.request.args()),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",  # a stray non-UTF-8 byte must not end the reader threads
            env=child_environment(),
        )
        lower_priority(child.pid)
        lines: queue.Queue[str | None] = queue.Queue()
        errors: deque[str] = deque(maxlen=ERROR_LINES)
        readers = [
            threading.Thread(target=_pump, args=(child.stdout, lines.put, True), daemon=True),
            threading.Thread(target=_pump, args=(child.stderr, errors.append, False), daemon=True),
        ]
        for reader in readers:
            reader.start()
        ender = _Ender(child)
        interrupted_at: float | None = None
        finished = closed = False
        try:
            while True:
                if stop.is_set() and interrupted_at is None:
                    interrupted_at = _interrupt(child)
                try:
                    line = lines.get(timeout=POLL_S)
                except queue.Empty:
                    waited = 0.0 if interrupted_at is None else time.monotonic() - interrupted_at
                    if waited > STOP_GRACE_S:
                        ender.step()  # SIGTERM once, SIGKILL if that is not enough
                    continue
                if line is None:
                    closed = True  # the child is exiting
                    break
                try:
                    event = sweep_event_from_json(line)
                except ValueError:
                    continue  # a stray print of a library; events are whole JSON lines
                finished = finished or event.kind == "sweep_finished"
                yield event
        finally:
            if not closed and interrupted_at is None:  # the reader went away mid-sweep
                interrupted_at = _interrupt(child)
            wait_s = EXIT_WAIT_S
            if interrupted_at is not None:
                wait_s = max(STOP_GRACE_S - (time.monotonic() - interrupted_at), 0.0)
            self.returncode = ender.finish(wait_s)
            readers[1].join(timeout=1.0)
        if not finished and not stop.is_set():
            raise SweepProcessError(_last_error(errors, self.returncode))


def _interrupt(child: subprocess.Popen[str]) -> float:
    """Send the sweep its Ctrl+C (SIGINT) if it still runs; when it was sent."""
    if child.poll() is None:
        with contextlib.suppress(OSError):
            child.send_signal(signal.SIGINT)
    return time.monotonic()


# -- trials and saved studies ------------------------------------------------------------------


@dataclass
class Trial:
    """One trial as the screen shows it (from a trial event or a saved study's row)."""

    number: int
    """Optuna's trial number (from 0)."""
    state: str = "running"
    """running, complete, pruned, failed or waiting."""
    params: dict[str, Any] = field(default_factory=dict)
    """The sampled settings."""
    value: float | None = None
    """The final metric (a pruned trial's last reported one); while it runs, the latest."""
    step: int | None = None
    """The step of the latest reported value (pruning's step, aligned by wall time)."""
    run_dir: str | None = None
    """Its run folder, once the trial has one."""
    pruned_step: int | None = None
    """The step at which it was pruned."""
    test_metrics: dict[str, float] = field(default_factory=dict)
    """Its test metrics, when the run measured them."""
    duration_s: float | None = None
    """How long it took."""
    reason: str | None = None
    """Why a failed trial failed."""


def trial_from(record: dict[str, Any] | SweepEvent) -> Trial:
    """A trial from a `TrialStarted`/`TrialDone` event or a `trials_table` row."""
    if isinstance(record, SweepEvent):
        record = dataclasses.asdict(record)
    value = record.get("value")
    return Trial(
        number=int(record["number"]),
        state=str(record.get("state", "running")),
        params=dict(record.get("params") or {}),
        value=None if value is None else float(value),
        run_dir=record.get("run_dir") or None,
        pruned_step=record.get("pruned_step"),
        test_metrics=dict(record.get("test_metrics") or {}),
        duration_s=record.get("duration_s"),
        reason=record.get("reason"),
    )


def best_trial(trials: Iterable[Trial], lower_is_better: bool) -> Trial | None:
    """The complete trial with the best value (the lowest number on a tie), None before one."""
    done = [t for t in trials if t.state == "complete" and t.value is not None]
    if not done:
        return None
    sign = 1.0 if lower_is_better else -1.0
    return min(done, key=lambda t: (sign * (t.value or 0.0), t.number))


@dataclass(frozen=True)
class StudyView:
    """A saved study, read for showing: its trials, space and importances; nothing run."""

    name: str
    storage: str
    task: str
    dataset: str
    metric: str
    lower_is_better: bool
    trials: list[Trial]
    importances: dict[str, float] | None
    space: dict[str, Any] = field(default_factory=dict)
    """The search space it was made with (setting -> `Search`)."""


def read_study(storage: str | None, name: str) -> StudyView:
    """The study `name` in `storage` (None: the default sweeps database); `SweepError` (one
    line) when the storage cannot be opened or has no such study. Imports optuna: call it off
    the UI thread."""
    import optuna

    from tasks.experiments.space import SweepError
    from tasks.experiments.study import default_storage, importances, study_space, trials_table

    url = storage or default_storage()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise SweepError(f"no study database at {url.removeprefix('sqlite:///')}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=name, storage=url)
    except KeyError:
        raise SweepError(f"there is no study {name!r} in {url}") from None
    except Exception as exc:  # SQLAlchemy's and the drivers' many errors: one line each
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SweepError(f"cannot open the study storage {url}: {reason}") from None
    attrs = study.user_attrs
    return StudyView(
        name=name,
        storage=url,
        task=str(attrs.get("task", "")),
        dataset=str(attrs.get("dataset", "")),
        metric=str(attrs.get("metric", "value")),
        lower_is_better=study.direction == optuna.study.StudyDirection.MINIMIZE,
        trials=[trial_from(row) for row in trials_table(study)],
        importances=importances(study),
        space=study_space(study) if "space" in attrs else {},
    )
