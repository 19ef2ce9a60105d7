"""`rnn-tui sweep`: search a task's settings with Optuna, one ordinary training run per trial.

Text output: a line for the sweep, a line per trial, the best trial at the end; ``--json``: one
event per line (`tasks.experiments.events`). Ctrl+C (or SIGTERM) stops the running trial after
its current batch (its checkpoint saved), queues its settings again and exits 130; the same
command resumes the study. ``--jobs J`` runs J worker processes (this command with
``--worker``, each with cores / J threads) on the same study and prints their merged events.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tasks.engine.settings import Search
from tasks.experiments.study import PRUNERS
from tasks.registry import TASKS
from tui.cli.common import EXIT_INTERRUPTED, fmt_metrics, fmt_number, positive_int

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""Where `tui` and `tasks` are imported from: the workers import the same code."""


def register(sub: Any) -> None:
    """Add the `sweep` parser."""
    p = sub.add_parser(
        "sweep",
        help="search a task's settings with Optuna (a run folder per trial)",
        description="Hyperparameter sweep on Optuna: TPE over the task's search space, "
        "pruning fed by the trainer's evaluations, a resumable study in SQLite; each trial "
        "is an ordinary run (Runs, Play, resume and report work on it).",
    )
    p.add_argument("task", choices=list(TASKS), metavar="TASK", help=", ".join(TASKS))
    p.add_argument("--dataset", metavar="NAME|PATH", help="the dataset (default: the task's)")
    p.add_argument(
        "--trials", type=positive_int, required=True, metavar="N",
        help="finished (complete or pruned) trials the study holds in all: run again, the "
        "same command resumes it",
    )  # fmt: skip
    budget = p.add_argument_group("each trial's budget (default: the task's epochs)")
    budget.add_argument(
        "--minutes-per-trial", type=_positive_float, metavar="M",
        help="wall-clock minutes per trial (evaluations at least every M/10 minutes)",
    )  # fmt: skip
    budget.add_argument("--epochs-per-trial", type=positive_int, metavar="E",
                        help="epochs per trial")  # fmt: skip
    study = p.add_argument_group("study")
    study.add_argument(
        "--space", metavar="FILE",
        help="the search space, a TOML or JSON file (default: the task's declared ranges; a "
        "resumed study keeps its own)",
    )  # fmt: skip
    study.add_argument(
        "--storage", metavar="URL",
        help="an Optuna storage URL (default: sqlite:///<user data>/sweeps.db)",
    )  # fmt: skip
    study.add_argument("--study", metavar="NAME", help="the study (default: TASK-DATASET)")
    study.add_argument("--pruner", choices=list(PRUNERS), default="median",
                       help="median (default), successive halving, or none")  # fmt: skip
    study.add_argument("--seed", type=int, default=0, help="seeds the sampler (default: 0)")
    p.add_argument(
        "--jobs", type=positive_int, default=1, metavar="J",
        help="trials at once, each in a worker process with cores/J threads (default: 1)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # one of --jobs' processes
    p.set_defaults(func=cmd_sweep)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text})")
    return value


def cmd_sweep(args: argparse.Namespace) -> int:
    from tasks.experiments.space import load_space

    space = load_space(Path(args.space), TASKS[args.task]) if args.space else None
    options: dict[str, Any] = {
        "trials": args.trials,
        "minutes_per_trial": args.minutes_per_trial,
        "epochs_per_trial": args.epochs_per_trial,
        "space": space,
        "storage": args.storage,
        "study": args.study,
        "pruner": args.pruner,
        "seed": args.seed,
    }
    printer = _JsonPrinter() if args.json else _TextPrinter()
    if args.jobs > 1 and args.worker is None:
        return _run_workers(args, options, printer)
    from tasks.experiments.sweep import run_sweep

    stop = threading.Event()
    with _on_stop_signals(lambda: _stop_here(stop, args.worker is None)):
        for event in run_sweep(args.task, args.dataset, stop=stop, worker=args.worker, **options):
            printer(event)
    return EXIT_INTERRUPTED if stop.is_set() else 0


def _stop_here(stop: threading.Event, say: bool) -> None:
    """The first Ctrl+C: stop after the running trial's batch; the next one aborts."""
    stop.set()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if say:
        print("rnn-tui: stopping the sweep after this batch; its trial runs again on resume "
              "(Ctrl+C again to abort)", file=sys.stderr)  # fmt: skip


@contextlib.contextmanager
def _on_stop_signals(handler: Any) -> Iterator[None]:
    """Call `handler()` on SIGINT and SIGTERM while inside; the previous handlers after."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: handler())
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# -- several workers -------------------------------------------------------------------------


def _run_workers(args: argparse.Namespace, options: dict[str, Any], printer: Any) -> int:
    """Open the study here (checks, orphans), then `args.jobs` workers on it; their events
    merged in the order they come, the summary once all have ended."""
    from tasks.experiments.events import sweep_event_from_json
    from tasks.experiments.sweep import prepare_sweep
    from tui.cli.launch import cpu_cores, thread_env

    sweep = prepare_sweep(args.task, args.dataset, **options)
    printer(sweep.started())
    env = thread_env(os.environ, args.jobs, cpu_cores())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PROJECT_ROOT), env.get("PYTHONPATH"))))
    workers = [
        subprocess.Popen(
            _worker_command(args, sweep, index),
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # Ctrl+C reaches this process alone, which passes it on
        )
        for index in range(args.jobs)
    ]
    lines: queue.Queue[str | None] = queue.Queue()
    for worker in workers:
        threading.Thread(target=_read_lines, args=(worker.stdout, lines), daemon=True).start()
    stop = threading.Event()

    def forward() -> None:
        stop.set()
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGINT)

    with _on_stop_signals(forward):
        open_streams = len(workers)
        while open_streams:
            line = lines.get()
            if line is None:
                open_streams -= 1
                continue
            try:
                printer(sweep_event_from_json(line))
            except ValueError:  # not an event: pass it on
                print(line, end="", file=sys.stderr)
        statuses = [worker.wait() for worker in workers]
    if stop.is_set() or EXIT_INTERRUPTED in statuses:
        return EXIT_INTERRUPTED
    failed = [status for status in statuses if status != 0]
    if failed:  # each worker printed its own error line
        return failed[0]
    printer(sweep.summary())
    return 0


def _worker_command(args: argparse.Namespace, sweep: Any, index: int) -> list[str]:
    command = [sys.executable, "-m", "tui.cli", "sweep", args.task, "--dataset", sweep.dataset,
               "--trials", str(args.trials), "--storage", sweep.storage, "--study",
               sweep.study.study_name, "--pruner", args.pruner, "--seed", str(args.seed),
               "--json", "--worker", str(index)]  # fmt: skip
    if args.minutes_per_trial is not None:
        command += ["--minutes-per-trial", str(args.minutes_per_trial)]
    if args.epochs_per_trial is not None:
        command += ["--epochs-per-trial", str(args.epochs_per_trial)]
    return command  # the space: the study's own


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


# -- output ----------------------------------------------------------------------------------


class _JsonPrinter:
    def __call__(self, event: Any) -> None:
        print(event.to_json(), flush=True)


class _TextPrinter:
    """A line for the sweep and its space, one per finished trial, the best at the end."""

    def __init__(self) -> None:
        self.metric = "value"

    def __call__(self, event: Any) -> None:
        if event.kind == "sweep_started":
            self.metric = event.metric
            print(_started(event))
            print("space: " + " · ".join(_search(n, s) for n, s in event.space.items()))
        elif event.kind == "trial_done":
            print(self._trial(event))
        elif event.kind == "sweep_finished":
            self._best(event)
        sys.stdout.flush()

    def _trial(self, event: Any) -> str:
        head = f"trial {event.number} {event.state}"
        if event.state == "failed":
            return f"{head}: {event.reason} · {_params(event.params)}"
        if event.state == "pruned":
            head += f" at step {event.pruned_step}"
        value = "?" if event.value is None else fmt_number(event.value)
        parts = [head, f"{self.metric} {value}", f"{event.duration_s:.0f}s", _params(event.params)]
        return " · ".join([*parts, str(event.run_dir)])

    def _best(self, event: Any) -> None:
        if event.best_number is None:
            print("no trial completed")
        else:
            best = f"{self.metric} {fmt_number(event.best_value)}"
            parts = [f"best: trial {event.best_number}", best]
            if event.best_test_metrics:
                parts.append(fmt_metrics(event.best_test_metrics))
            print(" · ".join([*parts, _params(event.best_params)]))
            print(f"best run folder: {event.best_run_dir}")
        if event.importances:
            shown = (f"{name} {value:.2f}" for name, value in event.importances.items())
            print("importances: " + " · ".join(shown))


def _started(event: Any) -> str:
    better = "lower" if event.lower_is_better else "higher"
    before = f", {event.finished_before} finished before" if event.finished_before else ""
    return (
        f"sweep {event.study} in {event.storage}: {event.task} on {event.dataset}, "
        f"{event.metric} ({better} is better), {event.trials_target} trials{before}"
    )


def _search(name: str, search: dict[str, Any]) -> str:
    return f"{name} {Search.from_dict(search).describe()}"


def _params(params: dict[str, Any]) -> str:
    """`lr 0.003123, hidden 128, arch gru`."""
    return ", ".join(f"{name} {_value(value)}" for name, value in params.items())


def _value(value: Any) -> str:
    return "none" if value is None else fmt_number(value)
